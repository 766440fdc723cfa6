"""The benchmarks in bench/ still run, at a small size (their figures are for docs, not tests):
a benchmark that rots is a figure nobody can reproduce."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


def run_bench(module: str, *args: str, nats_url: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        env={**os.environ, "NATS_URL": nats_url},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_the_restart_benchmark_restarts_from_snapshots(nats_server):
    out = run_bench(
        "bench.restart_benchmark",
        "--members", "600", "--posts", "4000", "--communities", "12",
        "--tail", "200", "--queries", "20", "--first-seconds", "0.5",
        nats_url=nats_server.url,
    )  # fmt: skip
    assert "restart (snapshot + tail): ready in" in out
    assert "did not start from its snapshot" not in out
    for query in ("membership.get_member", "content.get_post", "content.search_posts"):
        assert query in out


def test_the_hop_benchmark_compares_guild_with_a_bare_consumer(nats_server):
    out = run_bench(
        "bench.hop_benchmark", "--events", "200", "--rate", "400",
        nats_url=nats_server.url,
    )  # fmt: skip
    assert "guild" in out
    assert "bare" in out


def test_the_matching_benchmark_rebuilds_restarts_and_ranks(nats_server):
    out = run_bench(
        "bench.matching_benchmark", "--members", "1000", "--posts", "8000", "--queries", "50",
        nats_url=nats_server.url,
    )  # fmt: skip
    assert "rank one question p99 (ms)" in out
    assert "restart loaded snapshots: True" in out
