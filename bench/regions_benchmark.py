"""Cross-region fan-out: a question asked in one region, to the inboxes of the experts it
alerts in that region and in two others, same run.

    .venv/bin/python -m bench.regions_benchmark [--experts 10] [--questions 100] [--pace 0.2]

Three regions on loopback as ``guild up --regions`` runs them (``guild_cli.regions``: a hub,
one nats-server per region, each its own JetStream domain, authorization on), the four
services of each region as processes. Each region has ``--experts`` members who know
Kubernetes, at work around the clock; one community in the first region. Questions are asked
there, one every ``--pace`` seconds. For each question and region: the time from its publish
to the last inbox item of the first wave that region's matching sent (its suggestion and its
notifications' inbox writes), as stored by JetStream. The first region's figure is the
same-region path; the others add the hub (the question's public event sourced into their
``EVENTS`` stream). Reported: p50 and p99 per region, and each region's p50 over the first's.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import nats

from bench.end_to_end_benchmark import Question, Watcher
from bench.guild import GuildProcesses, call, settled, until
from bench.harness import percentile, run_main
from bench.population import (
    AROUND_THE_CLOCK,
    ask,
    hire_people,
    member_ids,
    publish_all,
    question_data,
)
from guild_cli.identities import Identities
from guild_cli.provisioning import provision_streams
from guild_cli.regions import LoopbackRegions
from shared.credentials import connection_options

NAME = "regions"
QUICK = ["--experts", "3", "--questions", "5", "--pace", "0.1"]
REGIONS = ("eu", "us", "apac")
SKILL = "kubernetes"


async def _experts(nc: Any, region: str, count: int, rng: random.Random) -> list[str]:
    people = {f"{region}-x{n:04d}": [SKILL] for n in range(count)}
    await hire_people(nc, region, people, rng)
    ids = await member_ids(nc, region, sorted(people))
    for member_id in ids.values():
        hours = {"member_id": member_id, "working_hours": AROUND_THE_CLOCK}
        await call(nc, "cmd", region, "membership", "update_profile", hours)
    return sorted(ids.values())


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="guild-regions-bench-"))
    identities = Identities(folder / "identities")
    topology = LoopbackRegions(folder / "regions", REGIONS, identities.authority,
                               die_with_parent=True).start()  # fmt: skip
    guilds = {
        r: GuildProcesses(folder / r, r, region_server=(topology.servers[r], identities),
                          peers=[p for p in REGIONS if p != r])
        for r in REGIONS
    }  # fmt: skip
    clients: dict[str, Any] = {}
    try:
        for r in REGIONS:  # every region's streams before any region sources another's
            await provision_streams(topology.url(r), r, topology.admin_credentials(r))
        for guild in guilds.values():
            await guild.start_server()
            guild.start()
        for guild in guilds.values():
            await guild.ready()
        for r in REGIONS:
            options = connection_options(topology.admin_credentials(r))
            clients[r] = await nats.connect(topology.url(r), **options)
        rng, home = random.Random(7), REGIONS[0]
        experts = {r: await _experts(clients[r], r, args.experts, rng) for r in REGIONS}
        asker = experts[home][0]
        community = {"actor_id": asker, "community_id": "k8s", "name": "Kubernetes"}
        await call(clients[home], "cmd", home, "membership", "create_community", community)
        for r in REGIONS:
            await settled(clients[r], r, deadline=300)
        watchers = {r: Watcher(clients[r], r) for r in REGIONS}
        for watcher in watchers.values():
            await watcher.start()
        questions: dict[str, list[Question]] = {r: [] for r in REGIONS}
        started = time.monotonic()
        for n in range(args.questions):
            ref = f"x{n:05d}"
            for r in REGIONS:
                question = Question(ref, published=0.0)  # set once stored, below
                watchers[r].by_ref[ref] = question
                questions[r].append(question)
            data = question_data(ref, "k8s", asker, [SKILL])
            await publish_all(clients[home], [ask(home, data)])
            for r in REGIONS:
                questions[r][-1].published = time.time()
            await asyncio.sleep(args.pace)

        async def every_inbox_reached() -> bool:
            return all(q.to_inboxes is not None for qs in questions.values() for q in qs)

        await until(every_inbox_reached, "every region's inboxes", deadline=args.timeout)
        for watcher in watchers.values():
            await watcher.stop()
        return _figures(questions, home, time.monotonic() - started, args)
    finally:
        for client in clients.values():
            await client.close()
        for guild in guilds.values():
            guild.stop_all()
        topology.stop()
        shutil.rmtree(folder, ignore_errors=True)


def _figures(
    questions: dict[str, list[Question]], home: str, seconds: float, args: argparse.Namespace
) -> dict[str, Any]:
    regions = {}
    for region, asked in questions.items():
        latencies = sorted(q.to_inboxes * 1000 for q in asked if q.to_inboxes is not None)
        regions[region] = {
            "questions": len(latencies),
            "p50_ms": round(percentile(latencies, 50), 1),
            "p99_ms": round(percentile(latencies, 99), 1),
        }
    same = regions[home]["p50_ms"]
    for figures in regions.values():
        figures["p50_over_same_region"] = round(figures["p50_ms"] / same, 2) if same else None
    return {"asked_in": home, "regions": regions, "seconds": round(seconds, 1),
            "experts_per_region": args.experts}  # fmt: skip


def report(figures: dict[str, Any]) -> str:
    lines = [f"questions asked in {figures['asked_in']}, to the first wave's inboxes:"]
    for region, f in figures["regions"].items():
        kind = "same region" if region == figures["asked_in"] else "across the hub"
        lines.append(
            f"  {region:5} ({kind}): p50 {f['p50_ms']} ms, p99 {f['p99_ms']} ms, "
            f"{f['questions']} questions, p50 x{f['p50_over_same_region']} the same region's"
        )
    return "\n".join(lines)


def parser() -> argparse.ArgumentParser:
    found = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    found.add_argument("--experts", type=int, default=10, help="members per region who know")
    found.add_argument("--questions", type=int, default=100)
    found.add_argument("--pace", type=float, default=0.2, help="seconds between questions")
    found.add_argument("--timeout", type=float, default=300.0)
    return found


def main(argv: list[str] | None = None) -> dict[str, Any]:
    return run_main(NAME, parser(), lambda args: asyncio.run(measure(args)), report, argv)


if __name__ == "__main__":
    main()
