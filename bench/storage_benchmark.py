"""Storage: messages and bytes stored per question, by community size.

For each community size a fresh Guild (nats-server and the four services as processes) gets
one community of that many members with the default preferences (what is not for a member
waits for their digest), at work around the clock; the region is let settle. Then
``--questions`` questions are asked one at a time through the portal's ingest subject, the
region is let settle again, and the state of every stream of the region (events, ingest,
personal, inbox, outbox, dead letters, snapshots, and every KV bucket, which are streams too)
is compared with the state before. Printed: messages and bytes per question in each stream
and in all, and the inbox items per question (the people pushed at once, each routed
question's 10 experts), which the stored messages per question should stay within a small
constant of.

    .venv/bin/python -m bench.storage_benchmark                    # 100 and 10,000 members
    .venv/bin/python -m bench.storage_benchmark --sizes 100 --questions 20
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path
from typing import Any

from bench.guild import RssSampler, running_guild, settled, stream_state
from bench.harness import rss_line, run_main, table
from bench.population import ask, publish_all, question_data, set_up
from shared.naming import Streams

NAME = "storage"


async def one_size(size: int, questions: int, folder: Path) -> dict[str, Any]:
    region = f"st{size}"
    async with running_guild(folder / region, region) as (guild, nc):
        with RssSampler(guild.pids) as rss:
            company = await set_up(
                nc, region, members=size, communities=1, pids=guild.pids_with_server
            )
            members = company.communities["c0"]
            before = await stream_state(nc, region)
            for number in range(questions):
                asker = members[number % len(members)]
                data = question_data(f"st-{number}", "c0", asker, company.skills[asker][:2])
                await publish_all(nc, [ask(region, data)])
            await settled(nc, region, deadline=120 + size / 50)
            after = await stream_state(nc, region)
    return {
        "size": size,
        "questions": questions,
        "rss": rss.figures(),
        **per_question(before, after, questions, Streams(region).inbox),
    }


def per_question(
    before: dict[str, dict[str, int]], after: dict[str, dict[str, int]], questions: int, inbox: str
) -> dict[str, Any]:
    streams = {}
    for name, state in sorted(after.items()):
        held = before.get(name, {"messages": 0, "bytes": 0})
        messages, size = state["messages"] - held["messages"], state["bytes"] - held["bytes"]
        if messages or size:
            streams[name] = {"messages": messages / questions, "bytes": size / questions}
    return {
        "streams": streams,
        "messages_per_question": sum(s["messages"] for s in streams.values()),
        "bytes_per_question": sum(s["bytes"] for s in streams.values()),
        "inbox_items_per_question": streams.get(inbox, {}).get("messages", 0.0),
    }


async def measure(sizes: list[int], questions: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="guild-bench-storage-") as folder:
        return {"sizes": [await one_size(size, questions, Path(folder)) for size in sizes]}


def run(args: argparse.Namespace) -> dict[str, Any]:
    return asyncio.run(measure(args.sizes, args.questions))


def report(figures: dict[str, Any]) -> str:
    lines = []
    for result in figures["sizes"]:
        rows = [(stream, s["messages"], s["bytes"]) for stream, s in result["streams"].items()]
        rows.append(("all streams", result["messages_per_question"], result["bytes_per_question"]))
        lines.append(
            table(
                f"storage per question, community of {result['size']:,} members "
                f"({result['questions']} questions; inbox items per question "
                f"{result['inbox_items_per_question']:.1f})",
                ["stream", "messages/question", "bytes/question"],
                rows,
            )
        )
        lines.append(rss_line("RSS", result["rss"]))
    return "\n".join(lines)


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 10000])
    parser.add_argument("--questions", type=int, default=50)
    return parser


QUICK = ["--sizes", "100", "--questions", "10"]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    return run_main(NAME, parser(), run, report, argv)


if __name__ == "__main__":
    main()
