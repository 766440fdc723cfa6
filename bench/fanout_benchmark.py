"""Fan-out: one post to a community whose every member watches it, until every inbox has it.

For each community size a fresh Guild (nats-server and the four services as processes) gets a
company: that many members in one community, each watching everything with no quiet hours
and a large budget (so the post reaches their inbox now), hired and joined pipelined, then let
settle. One question is asked through the portal's ingest subject; an ordered consumer on the
inbox stream times, from that publish, the stored time of the first inbox item of each member
(everyone but the asker). Beside it, in the same run, a bare loop does the same writes: one
inbox item per member (the same contract, to a stream configured as the inbox stream), with
``publish_async`` and thousands of PubAcks in flight.

    .venv/bin/python -m bench.fanout_benchmark                 # 5,000 and 50,000 members
    .venv/bin/python -m bench.fanout_benchmark --sizes 1000    # one size
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import tempfile
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nats.aio.client import Client
from nats.js.api import ConsumerConfig, DeliverPolicy

from bench.guild import RssSampler, running_guild
from bench.harness import rss_line, run_main, table
from bench.population import (
    WATCH_EVERYTHING,
    ask,
    publish_all,
    question_data,
    set_up,
    setup_lines,
)
from shared.contracts.notifications import InboxItem
from shared.naming import Streams

NAME = "fanout"


async def time_guild(
    nc: Client, region: str, members: list[str], asker: str, community_id: str, deadline: float
) -> dict[str, Any]:
    """Ask one question; seconds from the publish until each member's inbox has an item."""
    waiting, arrived, everyone = set(members) - {asker}, {}, asyncio.Event()
    prefix = f"inbox.{region}."

    async def on_item(msg: Any) -> None:
        member_id = msg.subject.removeprefix(prefix)
        if member_id in waiting and member_id not in arrived:
            arrived[member_id] = msg.metadata.timestamp.timestamp()
            if len(arrived) == len(waiting):
                everyone.set()

    js = nc.jetstream()
    sub = await js.subscribe(
        f"{prefix}>",
        cb=on_item,
        ordered_consumer=True,
        config=ConsumerConfig(deliver_policy=DeliverPolicy.NEW),
    )
    data = question_data(f"fan-{uuid.uuid4().hex[:8]}", community_id, asker, ["skill00"])
    published = time.time()
    await publish_all(nc, [ask(region, data)])
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(everyone.wait(), deadline)
    await sub.unsubscribe()
    times = sorted(at - published for at in arrived.values())
    return {
        "members": len(waiting),
        "reached": len(arrived),
        "all_seconds": times[-1] if len(arrived) == len(waiting) else None,
        "half_seconds": times[len(times) // 2] if times else None,
        "members_per_second": len(arrived) / times[-1] if times else 0.0,
    }


async def time_bare(nc: Client, region: str, members: list[str]) -> dict[str, Any]:
    """The same writes by a bare loop: one inbox item per member, all PubAcks in flight."""
    js = nc.jetstream()
    inbox = await js.stream_info(Streams(region).inbox)
    stream = f"BENCH_FANOUT_{region.upper()}"
    await js.add_stream(
        replace(
            inbox.config,
            name=stream,
            subjects=[f"bench.{region}.inbox.>"],
            sources=None,
            mirror=None,
        )
    )
    cause, now = str(uuid.uuid4()), datetime.now(UTC)
    started = time.monotonic()
    messages = []
    for member_id in members:
        item = InboxItem(
            notification_id=f"{cause}-{member_id}",
            member_id=member_id,
            kind="new_question",
            title="A new question in Community 0",
            body="How do we combine skill00?",
            reasons=["you watch Community 0"],
            reason_keys=["community:c0"],
            cause_id=cause,
            created_at=now,
        )
        messages.append(
            (
                f"bench.{region}.inbox.{member_id}",
                item.model_dump_json().encode(),
                {"Nats-Msg-Id": item.notification_id, "content-type": "application/json"},
            )
        )
    await publish_all(nc, messages)
    seconds = time.monotonic() - started
    await js.delete_stream(stream)
    return {
        "members": len(members),
        "all_seconds": seconds,
        "members_per_second": len(members) / seconds,
    }


async def one_size(size: int, folder: Path) -> dict[str, Any]:
    region = f"fan{size}"
    async with running_guild(folder / region, region) as (guild, nc):
        with RssSampler(guild.pids) as rss:
            company = await set_up(
                nc,
                region,
                members=size,
                communities=1,
                preferences=WATCH_EVERYTHING,
                at_work=False,
                pids=guild.pids_with_server,
            )
            members = company.communities["c0"]
            guild_side = await time_guild(
                nc, region, members, members[0], "c0", deadline=120 + size / 100
            )
        bare = await time_bare(nc, region, [m for m in members if m != members[0]])
    ratio = bare["all_seconds"] / guild_side["all_seconds"] if guild_side["all_seconds"] else 0.0
    return {
        "size": size,
        "setup_seconds": company.seconds,
        "setup_steps": company.steps,
        "guild": guild_side,
        "bare": bare,
        "ratio": ratio,
        "rss": rss.figures(),
    }


async def measure(sizes: list[int]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="guild-bench-fanout-") as folder:
        results = [await one_size(size, Path(folder)) for size in sizes]
    return {"sizes": results}


def run(args: argparse.Namespace) -> dict[str, Any]:
    return asyncio.run(measure(args.sizes))


def report(figures: dict[str, Any]) -> str:
    rows = [
        (
            r["size"],
            r["guild"]["reached"],
            r["guild"]["half_seconds"],
            r["guild"]["all_seconds"],
            r["guild"]["members_per_second"],
            r["bare"]["all_seconds"],
            r["bare"]["members_per_second"],
            r["ratio"],
            r["setup_seconds"]["total"],
        )
        for r in figures["sizes"]
    ]
    lines = [
        table(
            "fan-out: one post to a community whose members all watch it",
            [
                "members",
                "reached",
                "half s",
                "all s",
                "members/s",
                "bare s",
                "bare members/s",
                "ratio",
                "set-up s",
            ],
            rows,
        )
    ]
    for r in figures["sizes"]:
        lines.append(rss_line(f"RSS at {r['size']:,} members", r["rss"]))
        lines.extend(setup_lines(f"set-up at {r['size']:,} members", r["setup_steps"]))
    return "\n".join(lines)


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 50000])
    return parser


QUICK = ["--sizes", "300"]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    return run_main(NAME, parser(), run, report, argv)


if __name__ == "__main__":
    main()
