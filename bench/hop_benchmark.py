"""One hop of each service, Guild's process against a bare nats-py loop, in the same run.

The hops (each service's main consumer):

=============  ==================================  ========================================
membership     ``person_hired`` (ingest)           ``member_registered`` (+ contact, ...)
content        ``question_asked`` (ingest)         ``question_posted``
matching       ``question_posted``                 ``experts_suggested`` (10 people each)
notifications  ``question_posted``,                inbox items (the 10 routed, and whoever
               ``experts_suggested``               watches the community)
=============  ==================================  ========================================

One Guild (nats-server and the four services as processes) gets a company (``--members`` in
``--communities`` communities, hired and joined pipelined) and settles; then content, matching
and notifications are paused (SIGSTOP). For each hop in turn a backlog is put in front of the
paused service: ``--events`` hires or questions published by a plain nats-py client with
``publish_async``; matching's and notifications' backlogs are what content and matching
published in the hops before. The service is resumed (SIGCONT) and timed until its consumers
on the input stream have nothing pending and nothing unacknowledged (for notifications, then
also its bulk consumer on ``FANOUT_<R>``, where the audience of each question is routed); it
stays up, idle (the next hops' services ask it questions), except that the other three are
paused again for membership's hop (the hires' events would keep them busy beside it). The
same backlog (the same stored messages, from the same stream sequence) is then drained by
the hop's bare loop (:mod:`bench.bare_loops`, its own process, fetch 100, the same contract
validation and the same domain code, ``publish_async`` with the whole batch's PubAcks in
flight, then ack), timed the same way. Matching's bare loop runs twice: without and with
Guild's durable records (question, routing state, one per person asked) written pipelined.

Printed per hop: events/s for Guild and for each bare loop, and the ratio (the goal is at
least 0.5); RSS of each process.

    .venv/bin/python -m bench.hop_benchmark
    .venv/bin/python -m bench.hop_benchmark --events 300 --members 200
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nats.aio.client import Client

from bench.guild import GuildProcesses, RssSampler, running_guild, settled, until
from bench.harness import ROOT, rss_line, run_main, table
from bench.population import Company, ask, cloudevent, hire, publish_all, question_data, set_up
from guild_cli.processes import die_with_parent
from services.notifications.delivery.fanout import fanout_stream
from shared.naming import Streams

NAME = "hop"
ORDER = ("content", "matching", "notifications", "membership")
"""Content's questions are matching's backlog, matching's suggestions notifications'; the
hires come last, so that their profiles are in no other hop's backlog. A service stays up
after its hop, idle: the next ones ask it questions."""
INTERNAL_STREAMS: dict[str, tuple[Callable[[str], str], ...]] = {
    "notifications": (fanout_stream,),
}
"""Streams a service hands its own work on to: notifications routes a question's audience in
parts on its bulk consumer, so its hop ends when those parts are routed too."""
QUIET_DURING = {"membership": ("content", "matching", "notifications")}
"""Services paused during a hop besides its own: the hires' events would keep them busy
beside membership (membership asks none of them anything)."""


async def lags_of(nc: Client, stream: str, prefix: str) -> dict[str, int]:
    """Pending + ack pending of the durable consumers on ``stream`` named ``prefix...``."""
    return {
        info.name: info.num_pending + info.num_ack_pending
        for info in await nc.jetstream().consumers_info(stream)
        if info.config.durable_name and info.name.startswith(prefix)
    }


async def drain_time(
    nc: Client,
    stream: str,
    prefix: str,
    deadline: float,
    go: Callable[[], None],
    gone: Callable[[], bool] = lambda: False,
) -> tuple[float, int]:
    """The backlog of the ``prefix`` consumers on ``stream``; ``go()``; seconds until they have
    drained it, and the backlog. Raises at once if ``gone()`` (the process draining it
    exited: its error is on stderr)."""
    backlog = sum((await lags_of(nc, stream, prefix)).values())
    started = time.monotonic()
    go()

    async def drained() -> bool:
        if gone():
            raise RuntimeError(f"the {prefix} consumer's process on {stream} exited")
        return not any((await lags_of(nc, stream, prefix)).values())

    await until(drained, f"{prefix} consumers on {stream} to drain", deadline, every=0.01)
    return time.monotonic() - started, backlog


async def last_seq(nc: Client, stream: str) -> int:
    return int((await nc.jetstream().stream_info(stream)).state.last_seq)


async def backlog(nc: Client, hop: str, region: str, company: Company, events: int) -> None:
    """Publish the hop's input (for content and membership; the others drain what the hop
    before them published)."""
    if hop == "content":
        messages, names = [], sorted(company.communities)
        for n in range(events):
            community_id = names[n % len(names)]
            members = company.communities[community_id]
            asker = members[n % len(members)]
            data = question_data(f"hop-{n}", community_id, asker, company.skills[asker][:2])
            messages.append(ask(region, data))
        await publish_all(nc, messages)
    elif hop == "membership":
        rng = random.Random(3)
        subject = f"ingest.{region}.hr-directory.hr.person_hired.v1"
        await publish_all(
            nc,
            [
                (
                    subject,
                    *cloudevent(
                        "guild.ingest.hr.person_hired.v1",
                        hire(f"h{n:06d}", region, ["skill01"], rng),
                        "/hr-directory",
                    ),
                )
                for n in range(events)
            ],
        )


def input_stream(hop: str, region: str) -> str:
    streams = Streams(region)
    if hop == "content":
        return streams.ingest_of("portal")
    return streams.ingest_of("hr-directory") if hop == "membership" else streams.events


def start_bare(command: list[str]) -> subprocess.Popen[str]:
    """The bare loop's process, talking over its stdin and stdout."""
    return subprocess.Popen(
        command,
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=die_with_parent(),
    )


async def run_bare(
    nc: Client,
    hop: str,
    region: str,
    url: str,
    start: int,
    records: bool,
    deadline: float,
    rss: RssSampler,
    label: str,
    credentials: Path | None,
) -> tuple[float, int]:
    stream = input_stream(hop, region)
    command = [
        sys.executable,
        "-m",
        "bench.bare_loops",
        hop,
        "--url",
        url,
        "--region",
        region,
        "--stream",
        stream,
        "--start",
        str(start),
        *(["--records"] if records else []),
        *(["--credentials", str(credentials)] if credentials else []),
    ]
    process = start_bare(command)
    extra = rss.pids
    rss.pids = lambda: {**extra(), label: process.pid} if process.poll() is None else extra()
    try:
        assert process.stdout is not None
        line = await asyncio.get_running_loop().run_in_executor(None, process.stdout.readline)
        if line.strip() != "ready":
            raise RuntimeError(f"the bare {hop} loop did not start: {line!r}")

        def go() -> None:
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()

        def exited() -> bool:
            return process.poll() is not None

        return await drain_time(nc, stream, "bare-", deadline, go, gone=exited)
    finally:
        rss.sample_now()
        rss.pids = extra
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        with contextlib.suppress(Exception):
            await nc.jetstream().delete_consumer(stream, f"bare-{hop}")


async def one_hop(
    nc: Client,
    guild: GuildProcesses,
    hop: str,
    company: Company,
    args: argparse.Namespace,
    rss: RssSampler,
) -> dict[str, Any]:
    region, stream = guild.region, input_stream(hop, guild.region)
    guild.pause(hop, *QUIET_DURING.get(hop, ()))
    start = await last_seq(nc, stream) + 1 if hop in ("content", "membership") else None
    await backlog(nc, hop, region, company, args.events)
    if start is None:  # the first input is the first of the hop before's outputs
        start = args._first_seq[hop]
    deadline = 120 + args.events * args.members / args.communities / 50
    if hop == "content":
        args._first_seq["matching"] = args._first_seq["notifications"] = (
            await last_seq(nc, Streams(region).events) + 1
        )
    seconds, events = await drain_time(nc, stream, f"{hop}-", deadline, lambda: guild.resume(hop))
    for internal in INTERNAL_STREAMS.get(hop, ()):  # its work is done when these drain too
        more, _ = await drain_time(nc, internal(region), f"{hop}-", deadline, lambda: None)
        seconds += more
    result: dict[str, Any] = {
        "events": events,
        "guild_seconds": seconds,
        "guild_per_second": events / seconds,
    }
    variants = [("bare", False)] + ([("bare_records", True)] if hop == "matching" else [])
    for name, records in variants:
        bare_seconds, bare_events = await run_bare(
            nc,
            hop,
            region,
            guild.url,
            start,
            records,
            deadline,
            rss,
            f"bare {hop}",
            guild.server.admin_credentials,
        )
        result[f"{name}_events"] = bare_events
        result[f"{name}_seconds"] = bare_seconds
        result[f"{name}_per_second"] = bare_events / bare_seconds
        result[f"ratio_{name}"] = result["guild_per_second"] / result[f"{name}_per_second"]
    return result


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    region, args._first_seq = "hop", {}
    with tempfile.TemporaryDirectory(prefix="guild-bench-hop-") as folder:
        async with running_guild(Path(folder), region) as (guild, nc):
            company = await set_up(nc, region, members=args.members, communities=args.communities)
            await settled(nc, region)
            guild.pause("content", "matching", "notifications")
            hops = {}
            with RssSampler(guild.pids) as rss:
                for hop in ORDER:
                    if hop in args.hops:
                        hops[hop] = await one_hop(nc, guild, hop, company, args, rss)
    return {"hops": hops, "rss": rss.figures(), "setup_seconds": company.seconds}


def report(figures: dict[str, Any]) -> str:
    rows = []
    for hop, r in figures["hops"].items():
        rows.append(
            (
                hop,
                r["events"],
                r["guild_per_second"],
                r["bare_per_second"],
                r["ratio_bare"],
                r.get("bare_records_per_second"),
                r.get("ratio_bare_records"),
            )
        )
    return "\n".join(
        [
            table(
                "one hop per service: Guild's process against a bare nats-py loop (events/s)",
                ["hop", "backlog", "guild", "bare", "ratio", "bare+records", "ratio"],
                rows,
            ),
            "goal: ratio >= 0.5; the backlog counts every input the service's consumers held",
            rss_line("RSS", figures["rss"]),
        ]
    )


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=3000, help="hires or questions per hop")
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--communities", type=int, default=20)
    parser.add_argument(
        "--hops",
        nargs="+",
        default=list(ORDER),
        choices=ORDER,
        help="matching and notifications drain content's questions: choose content with them",
    )
    return parser


QUICK = ["--events", "200", "--members", "200", "--communities", "20"]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    return run_main(NAME, parser(), lambda args: asyncio.run(measure(args)), report, argv)


if __name__ == "__main__":
    main()
