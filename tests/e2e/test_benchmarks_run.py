"""The benchmarks in bench/ still run, at a small size (their figures are for docs, not tests):
a benchmark that rots is a figure nobody can reproduce."""

from __future__ import annotations

import json
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


def test_python_m_bench_quick_writes_well_formed_results():
    """``python -m bench --quick storage``: the table printed, and a JSON result with the
    command, the machine and a figure per stream (a shape, never a speed)."""
    results = ROOT / "bench" / "results" / "storage.json"
    results.unlink(missing_ok=True)
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "storage"],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "storage per question, community of 100 members" in result.stdout
    document = json.loads(results.read_text())
    assert document["benchmark"] == "storage"
    assert "bench --quick storage" in document["command"]
    assert {"nproc", "cpu", "ram_gb", "python", "nats_server", "faststream", "nats_py"} <= set(
        document["machine"]
    )
    (size,) = document["figures"]["sizes"]
    assert size["size"] == 100
    assert size["questions"] == 10
    assert size["messages_per_question"] > 0
    assert size["inbox_items_per_question"] > 0
    assert set(size["rss"]) == {"membership", "content", "matching", "notifications"}
    for stream, figures in size["streams"].items():
        assert stream.lower().endswith("_st100"), stream
        assert set(figures) == {"messages", "bytes"}


def test_the_matching_benchmark_rebuilds_restarts_and_ranks(nats_server):
    out = run_bench(
        "bench.matching_benchmark", "--members", "1000", "--posts", "8000", "--queries", "50",
        nats_url=nats_server.url,
    )  # fmt: skip
    assert "rank one question p99 (ms)" in out
    assert "restart loaded snapshots: True" in out
