"""The benchmarks in bench/ still run, at a small size (their figures are for docs, not tests):
a benchmark that rots is a figure nobody can reproduce."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import nats
import pytest
from nats.aio.client import Client

from bench.end_to_end_benchmark import knee, limiting
from bench.guild import answered, settled
from shared.naming import Streams
from tests import access

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


def run_bench(module: str, *args: str, nats_url: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        env={**os.environ, "NATS_URL": nats_url, "GUILD_NATS_CREDENTIALS": str(access.ADMIN)},
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


def run_quick(name: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    """``python -m bench --quick <name>``, which must succeed; its output and results file."""
    results = ROOT / "bench" / "results" / f"{name}.json"
    results.unlink(missing_ok=True)
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", name],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return result, results


def test_python_m_bench_quick_writes_well_formed_results():
    """``python -m bench --quick storage``: the table printed, and a JSON result with the
    command, the machine and a figure per stream (a shape, never a speed)."""
    result, results = run_quick("storage")
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


async def test_a_jetstream_request_that_times_out_is_sent_again_a_bounded_number_of_times():
    """Under load nats-server answers its API late: the harness asks again, then gives up
    naming what it asked."""
    sent: list[int] = []

    async def late_twice() -> str:
        sent.append(1)
        if len(sent) <= 2:
            raise nats.errors.TimeoutError
        return "stream info"

    assert await answered(late_twice, "streams info", pause=0.01) == "stream info"
    assert len(sent) == 3

    async def never() -> str:
        sent.append(1)
        raise nats.errors.TimeoutError

    sent.clear()
    with pytest.raises(TimeoutError, match="streams info: no answer in 4 attempts"):
        await answered(never, "streams info", attempts=4, pause=0.01)
    assert len(sent) == 4


async def _backlog(nc: Client, region: str, messages: int) -> Any:
    """An events stream of ``region`` with ``messages`` waiting for a durable consumer."""
    js = nc.jetstream()
    await js.add_stream(name=Streams(region).events, subjects=[f"evt.{region}.>"])
    for number in range(messages):
        await js.publish(f"evt.{region}.pub.bench.tick.v1", str(number).encode())
    return await js.pull_subscribe(f"evt.{region}.>", durable="bench-slow")


async def test_settled_waits_for_a_region_that_is_slow_but_progressing(nc, region):
    """A consumer that takes one message at a time, longer in all than ``stall``: the region
    keeps moving, so settled waits for it instead of failing."""
    consumer = await _backlog(nc, region, 12)

    async def slowly() -> None:
        for _ in range(12):
            await asyncio.sleep(0.25)
            for msg in await consumer.fetch(1, timeout=5):
                await msg.ack_sync()

    draining = asyncio.create_task(slowly())
    await settled(nc, region, stall=2, deadline=60)
    assert draining.done()
    await draining


async def test_settled_gives_up_on_a_region_where_nothing_moves_naming_the_lagging_consumer(
    nc, region
):
    await _backlog(nc, region, 3)
    with pytest.raises(TimeoutError, match=r"nothing moved for 1 s; lags .*bench-slow 3"):
        await settled(nc, region, stall=1, deadline=60)


def _step(
    rate: float, completed: int, sustained: float, lags: dict[str, int], growth: dict[str, float]
) -> dict[str, Any]:
    return {
        "offered_per_second": rate,
        "questions": 100,
        "completed": completed,
        "sustained_per_second": sustained,
        "inbox_p99_ms": 200.0,
        "limited_by": limiting(lags, growth),
    }


def test_the_knee_is_the_first_step_left_behind_and_names_the_consumer_whose_lag_grew():
    """Not the consumer with the largest lag (a bulk one drains a burst), the one falling
    behind while questions were offered."""
    lags = {"EVENTS/notifications-bulk": 900, "EVENTS/notifications-alerts": 400}
    growth = {"EVENTS/notifications-bulk": -20.0, "EVENTS/notifications-alerts": 35.5}
    steps = [
        _step(50, 100, 49.0, {"EVENTS/matching-content": 3}, {}),
        _step(100, 100, 61.0, lags, growth),
        _step(200, 40, 20.0, lags, growth),
    ]
    assert steps[0]["limited_by"]["consumer"] == "EVENTS/matching-content"
    assert knee(steps) == {
        "per_second": 100,
        "limited_by": {
            "consumer": "EVENTS/notifications-alerts",
            "largest_lag": 400,
            "lag_growth_per_second": 35.5,
        },
    }
    assert knee(steps[:1]) is None
    assert limiting({"EVENTS/content-ingest": 0}, {"EVENTS/content-ingest": 0.0}) is None


def test_the_regions_benchmark_reaches_every_regions_inboxes():
    """``python -m bench --quick regions``: three regions behind a hub, questions asked in
    one; every region's first-wave inboxes reached for every question (a shape, not a speed)."""
    _, results = run_quick("regions")
    figures = json.loads(results.read_text())["figures"]
    assert figures["asked_in"] == "eu"
    assert set(figures["regions"]) == {"eu", "us", "apac"}
    for region in figures["regions"].values():
        assert region["questions"] == 5
        assert region["p50_ms"] > 0
        assert region["p99_ms"] >= region["p50_ms"]
