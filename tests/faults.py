"""The fault suite: Guild under a steady stream of hires, joins and questions while its
processes are killed, and a count of what was lost or duplicated.

The four services run as processes on a nats-server of their own (the embedded binary, on
a fixed loopback port so that a restarted server is found again). A plain nats-py client plays
the HR directory and the portal; every publish carries a ``Nats-Msg-Id`` and every command a
``request_id``, and each is retried until it is accepted, as a careful publisher would. Meanwhile
random services are killed with SIGKILL and restarted, one is stopped with SIGSTOP for a while,
and nats-server is killed and restarted once. Then everything is let settle and the checker
compares what was published with what Guild stored and delivered:

* every person hired is one member (one ``member_registered``), every join one ``member_joined``;
* every question asked is one post (one ``question_posted``) with one first wave of
  ``experts_suggested``;
* every member suggested in a wave has one inbox item for it, and no inbox holds two items for
  the same (event, kind);
* a few members have a webhook (quiet hours off, a large budget): each question they were
  suggested for reached it under one webhook id (a retry repeats the id; a second id would be
  a second message).

It prints ``lost=... duplicated=...`` with the counts of events, kills and restarts.

    .venv/bin/python -m tests.faults            # the short form CI runs (about a minute)
    .venv/bin/python -m tests.faults --full     # longer, more kills
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nats
from nats.aio.client import Client

from guild_cli.nats_server import EmbeddedNats
from guild_cli.receivers import HttpReceiver
from shared.naming import Streams, ingest_subject
from tests import access
from tests.e2e.test_standalone_services import SERVICES, free_port, ready, start_service
from tests.helpers import FAST_RETRIES, cloudevent, events_of_type, settled
from tests.slice import AROUND_THE_CLOCK, hire_data

REGION = "faults"
COMMUNITY = "k8s"
SKILLS = {"kubernetes": "expert"}


@dataclass(frozen=True)
class Plan:
    """How long the load runs and how often things are killed."""

    seconds: float
    people: int
    question_every: float
    hire_every: float
    kill_every: float
    seed: int


SHORT = Plan(seconds=40, people=10, question_every=0.5, hire_every=4.0, kill_every=4.0, seed=7)
FULL = Plan(seconds=300, people=20, question_every=0.25, hire_every=2.0, kill_every=4.0, seed=11)


@dataclass
class Report:
    checked: dict[str, int] = field(default_factory=dict)
    """How many of each kind of fact were expected (so that 0 lost is not 0 looked at)."""
    lost: dict[str, int] = field(default_factory=dict)
    duplicated: dict[str, int] = field(default_factory=dict)
    evidence: list[str] = field(default_factory=list)
    """What each duplicate was (ids, sequences), so that a failed run can be explained."""
    events: int = 0
    kills: int = 0
    restarts: int = 0
    stops: int = 0
    server_restarts: int = 0

    def line(self) -> str:
        return (f"lost={sum(self.lost.values())} duplicated={sum(self.duplicated.values())} "
                f"events={self.events} kills={self.kills} restarts={self.restarts} "
                f"stops={self.stops} nats_restarts={self.server_restarts} "
                f"checked={self.checked} lost_by_kind={dict(self.lost)} "
                f"duplicated_by_kind={dict(self.duplicated)}"
                + (f" evidence={self.evidence}" if self.evidence else ""))  # fmt: skip


class Guild:
    """nats-server and the four services as processes this harness owns (by pid)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.server = EmbeddedNats(
            folder / "nats", port=free_port(), die_with_parent=True, authority=access.AUTHORITY
        )
        self.ports = {name: free_port() for name in SERVICES}
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.starts: Counter[str] = Counter()
        self.identities: dict[str, dict[str, str]] = {}
        """Each service's credential (and provisioning off): the region is provisioned by
        the admin before anything starts, as ``guild up`` does."""

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.server.port}"

    def start(self, name: str) -> None:
        self.starts[name] += 1
        log = self.folder / f"{name}.{self.starts[name]}.log"
        self.processes[name] = start_service(
            name, self.url, REGION, log, self.ports[name], self.identities.get(name)
        )

    def kill(self, name: str) -> None:
        self.processes[name].send_signal(signal.SIGKILL)
        self.processes[name].wait()

    async def ready(self) -> bool:
        return all([await ready(port) for port in self.ports.values()])

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGCONT)
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        self.server.stop()


async def until(probe: Callable[[], Awaitable[Any]], what: str, deadline: float = 120) -> Any:
    end = time.monotonic() + deadline
    while True:
        try:
            if value := await probe():
                return value
        except (TimeoutError, nats.errors.Error, OSError):
            pass
        if time.monotonic() > end:
            raise AssertionError(f"{what}: not within {deadline} s")
        await asyncio.sleep(0.2)


class World:
    """The HR directory and the portal: every message retried until it is accepted."""

    def __init__(self, nc: Client) -> None:
        self.nc = nc
        self.people: dict[str, str] = {}  # HR id -> member id
        self.asked: dict[str, str] = {}  # question ref -> title
        self.joined: set[str] = set()
        self.events = 0

    async def publish(self, event_type: str, data: dict[str, Any], source: str) -> None:
        event = cloudevent(event_type, data, source=source, event_id=str(uuid.uuid4()))
        subject = ingest_subject(REGION, source.split("/")[1], event_type)
        body, headers = json.dumps(event).encode(), {"Nats-Msg-Id": event["id"]}

        async def accepted() -> bool:
            await self.nc.jetstream().publish(subject, body, headers=headers, timeout=2)
            return True

        await until(accepted, f"publish {event_type}")
        self.events += 1

    async def call(self, kind: str, service: str, name: str, payload: dict[str, Any]) -> dict:
        subject = f"{kind}.{REGION}.{service}.{name}"
        body = json.dumps({**payload, "request_id": str(uuid.uuid4())} if kind == "cmd"
                          else payload).encode()  # fmt: skip

        async def answered() -> dict | None:
            reply = json.loads((await self.nc.request(subject, body, timeout=3)).data)
            retry = not reply["ok"] and reply["error"]["code"] in ("unavailable", "in_progress")
            return None if retry else reply  # in_progress: the same request still runs

        reply = await until(answered, f"{kind} {service}.{name}")
        assert reply["ok"], reply
        return reply["result"]

    async def member_of(self, person_id: str) -> str | None:
        subject = f"qry.{REGION}.membership.find_member"
        reply = json.loads((await self.nc.request(
            subject, json.dumps({"person_id": person_id}).encode(), timeout=3)).data)  # fmt: skip
        return reply["result"]["member_id"] if reply["ok"] else None

    async def hire_and_join(self, person_id: str) -> None:
        data = hire_data(person_id, f"Person {person_id}", "eu", "Europe/Berlin", SKILLS)
        await self.publish("guild.ingest.hr.person_hired.v1", data, "/hr-directory")
        member_id = await until(lambda: self.member_of(person_id), f"{person_id} registered")
        self.people[person_id] = member_id
        await self.call("cmd", "membership", "update_profile",
                        {"member_id": member_id, "working_hours": AROUND_THE_CLOCK})  # fmt: skip
        await self.call("cmd", "membership", "join_community",
                        {"community_id": COMMUNITY, "member_id": member_id})  # fmt: skip
        self.joined.add(member_id)

    async def ask(self, number: int, asker: str) -> None:
        ref = f"fault-{number}"
        title = f"How do we rotate certificates ({ref})?"
        data = {"question_ref": ref, "community_id": COMMUNITY, "asker_id": asker,
                "title": title, "text": "Our certificates expire soon.",
                "tags": ["kubernetes"]}  # fmt: skip
        await self.publish("guild.ingest.content.question_asked.v1", data, "/portal")
        self.asked[ref] = title


async def company(world: World, people: int) -> None:
    data = hire_data("fac", "Facilitator", "eu", "Europe/Berlin", SKILLS)
    await world.publish("guild.ingest.hr.person_hired.v1", data, "/hr-directory")
    fac = await until(lambda: world.member_of("fac"), "fac registered")
    world.people["fac"] = fac
    created = {"actor_id": fac, "community_id": COMMUNITY, "name": "Kubernetes"}
    await world.call("cmd", "membership", "create_community", created)
    world.joined.add(fac)
    for number in range(people):
        await world.hire_and_join(f"p{number:04d}")


async def hook(world: World, receiver: HttpReceiver) -> list[str]:
    """The first people get a webhook, with quiet hours off and a large budget, so that
    every question they are suggested for is pushed at once; their member ids."""
    hooked = [world.people[f"p{number:04d}"] for number in range(HOOKED)]
    for member_id in hooked:
        who = {"member_id": member_id}
        await world.call("cmd", "notifications", "add_endpoint", {
            **who, "kind": "webhook", "address": f"{receiver.url}/{member_id}"})  # fmt: skip
        preferences = await world.call("qry", "notifications", "preferences", who)
        changed = {**preferences, "quiet_hours": None, "daily_budget": 1000}
        await world.call("cmd", "notifications", "set_preferences",
                         {**who, "preferences": changed})  # fmt: skip
    return hooked


async def load(world: World, plan: Plan, rng: random.Random, done: asyncio.Event) -> None:
    """Questions and hires at the plan's pace, until the plan's time is up."""
    end, number, hired = time.monotonic() + plan.seconds, 0, plan.people
    next_hire = time.monotonic() + plan.hire_every
    while time.monotonic() < end:
        asker = rng.choice(sorted(world.joined))
        await world.ask(number, asker)
        number += 1
        if time.monotonic() >= next_hire:
            await world.hire_and_join(f"p{hired:04d}")
            hired, next_hire = hired + 1, time.monotonic() + plan.hire_every
        await asyncio.sleep(plan.question_every)
    done.set()


async def chaos(guild: Guild, plan: Plan, rng: random.Random, report: Report,
                done: asyncio.Event) -> None:  # fmt: skip
    """SIGKILL a random service and start it again; once SIGSTOP one for a while; once kill
    nats-server and start it again, halfway through."""
    started, restarted_server, stopped = time.monotonic(), False, False
    while not done.is_set():
        await asyncio.sleep(plan.kill_every * rng.uniform(0.5, 1.5))
        if done.is_set():
            return
        name = rng.choice(SERVICES)
        if not restarted_server and time.monotonic() - started > plan.seconds / 2:
            server = guild.server.process
            assert server is not None, "nats-server was started"
            server.send_signal(signal.SIGKILL)
            server.wait()
            await asyncio.sleep(2)
            guild.server.start()
            restarted_server, report.server_restarts = True, report.server_restarts + 1
        elif not stopped:
            guild.processes[name].send_signal(signal.SIGSTOP)
            await asyncio.sleep(4)
            guild.processes[name].send_signal(signal.SIGCONT)
            stopped, report.stops = True, report.stops + 1
        else:
            guild.kill(name)
            report.kills += 1
            await asyncio.sleep(rng.uniform(0.2, 2.0))
            guild.start(name)
            report.restarts += 1


async def check(world: World, report: Report, receiver: HttpReceiver, hooked: list[str]) -> None:
    """What was published against what Guild stored and delivered."""
    nc, events = world.nc, Streams(REGION).events
    registered = await events_of_type(nc, events, "guild.membership.member_registered.v1")
    members = Counter(e["data"]["member"]["member_id"] for e in registered)
    for member_id in world.people.values():
        _count(report, "member", members.get(member_id, 0))
    _add(report.duplicated, "member", len(members) - len(world.people))

    joins = Counter(e["data"]["member"]["member_id"]
                    for e in await events_of_type(nc, events, "guild.membership.member_joined.v1")
                    if e["data"]["community_id"] == COMMUNITY)  # fmt: skip
    for member_id in world.joined:
        _count(report, "join", joins.get(member_id, 0))

    posted = await events_of_type(nc, events, "guild.content.question_posted.v1")
    by_title: dict[str, set[str]] = {}
    for event in posted:
        by_title.setdefault(event["data"]["title"], set()).add(event["data"]["question_id"])
    waves = Counter()
    suggested: list[dict[str, Any]] = []
    first_waves: dict[str, list[str]] = {}
    for event in await events_of_type(nc, events, "guild.matching.experts_suggested.v1"):
        if event["data"]["wave"] == 1:
            waves[event["data"]["question_id"]] += 1
            suggested.append(event)
            data = event["data"]
            first_waves.setdefault(data["question_id"], []).append(
                f"{event['id']} at {event.get('time')} asking {len(data['suggestions'])}, "
                f"waiting {len(data.get('waiting', []))}"
            )
    report.evidence += [f"first waves of {q}: {w}" for q, w in first_waves.items() if len(w) > 1]
    for title in world.asked.values():
        questions = by_title.get(title, set())
        _count(report, "question", len(questions))
        for question_id in questions:
            _count(report, "first_wave", waves.get(question_id, 0))

    inboxes = {m: await inbox(world, m) for m in set(world.people.values())}
    for event in suggested:
        for suggestion in event["data"]["suggestions"]:
            items = inboxes.get(suggestion["member"]["member_id"], [])
            _count(report, "inbox", sum(1 for i in items if i["cause_id"] == event["id"]))
    for items in inboxes.values():
        same = Counter((i["cause_id"], i["kind"]) for i in items)
        _add(report.duplicated, "inbox_item", sum(n - 1 for n in same.values() if n > 1))
    ids = webhook_ids(receiver)
    for event in suggested:
        for suggestion in event["data"]["suggestions"]:
            member_id = suggestion["member"]["member_id"]
            if member_id in hooked:
                question = event["data"]["question_id"]
                _count(report, "webhook", len(ids.get((member_id, question), set())))
    report.events = world.events


def _count(report: Report, kind: str, found: int) -> None:
    """One of ``kind`` expected, ``found`` there."""
    _add(report.checked, kind, 1)
    _add(report.lost, kind, 1 if found == 0 else 0)
    _add(report.duplicated, kind, found - 1 if found > 1 else 0)


def _add(counts: dict[str, int], kind: str, number: int) -> None:
    if number > 0:
        counts[kind] = counts.get(kind, 0) + number


def webhook_ids(receiver: HttpReceiver) -> dict[tuple[str, str], set[str]]:
    """The webhook ids each (member, question) arrived under; the question from the link to
    it (the portal URL ends in its post id)."""
    found: dict[tuple[str, str], set[str]] = {}
    for request in receiver.requests:
        data = json.loads(request.body)["data"]
        for link in data["links"]:
            if link["label"] == "Open the question":
                key = (request.path.strip("/"), link["url"].rstrip("/").rsplit("/", 1)[-1])
                found.setdefault(key, set()).add(request.headers["webhook-id"])
    return found


async def inbox(world: World, member_id: str) -> list[dict[str, Any]]:
    items, before = [], None
    while True:
        page = await world.call("qry", "notifications", "inbox",
                                {"member_id": member_id, "limit": 200, "view": "all",
                                 **({"before": before} if before else {})})  # fmt: skip
        items += page["items"]
        before = page["next_before"]
        if before is None:
            return items


HOOKED = 3
"""How many of the first people get a webhook."""


def fast_retries() -> dict[str, str]:
    """The services' settings for the suite: the tests' short retry delays, and webhooks to
    the suite's receiver on loopback."""
    return {**{f"GUILD_{name.upper()}": str(value) for name, value in FAST_RETRIES.items()},
            "GUILD_NOTIFICATIONS_ALLOW_LOOPBACK_RECEIVERS": "true"}  # fmt: skip


async def run(plan: Plan, folder: Path) -> Report:
    """The services take their settings from the environment: set :func:`fast_retries`."""
    guild, report, rng = Guild(folder), Report(), random.Random(plan.seed)
    guild.server.start()
    guild.identities = await access.service_environments(guild.url, REGION, own_server=True)
    for name in SERVICES:
        guild.start(name)
    nc = await access.connect(
        guild.url, max_reconnect_attempts=-1, reconnect_time_wait=0.2, own_server=True
    )
    receiver = await HttpReceiver().start()
    try:
        await until(guild.ready, "services ready")
        world = World(nc)
        await company(world, plan.people)
        hooked = await hook(world, receiver)
        done = asyncio.Event()
        await asyncio.gather(load(world, plan, rng, done), chaos(guild, plan, rng, report, done))
        await until(guild.ready, "services ready after the faults")
        await settled(nc, REGION, deadline=180)
        await check(world, report, receiver, hooked)
    finally:
        await receiver.stop()
        await nc.close()
        guild.stop_all()
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true", help="the long form")
    arguments = parser.parse_args()
    os.environ.update(fast_retries())
    with tempfile.TemporaryDirectory(prefix="guild-faults-") as folder:
        report = asyncio.run(run(FULL if arguments.full else SHORT, Path(folder)))
    print(report.line())
    raise SystemExit(0 if not sum(report.lost.values()) + sum(report.duplicated.values()) else 1)


if __name__ == "__main__":
    main()
