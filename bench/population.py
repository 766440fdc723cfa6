"""A company for the benchmarks, set up through Guild's front doors and pipelined.

The HR directory's hires go in as ingest events with ``publish_async`` (at most
``PUBLISH_WINDOW`` PubAcks in flight); the member ids membership drew are asked for with
``find_member``, and the profile changes, joins and preference changes go as commands, at most
``WINDOW`` members' commands in flight at once (:func:`shared.tasks.pipelined`). Everything is
then let settle, so that no benchmark times the set-up's tail.

Each step (hire, ids, join, settle) is a :class:`Step`: it says on stderr every ~10 s how many
of how many are done and at what rate (over the last interval and overall), and keeps its
figures in :attr:`Company.steps`: seconds, rate, the CPU seconds each process spent in it
(nats-server and each service: which one the step waits for), each command's latency (p50,
p99), and per interval the rate, the CPU milliseconds each process spent per item done and the
commands' p50 (do joins slow as the community grows, and in which process?).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from nats.aio.client import Client

from bench.guild import API_TIMEOUT, answered, call, cpu_seconds, say, settled, until
from bench.harness import percentile
from guild_cli.client import cloudevent as structured
from shared.contracts.membership import MemberRegisteredV1
from shared.naming import Streams
from shared.tasks import pipelined

AROUND_THE_CLOCK = {"start": "00:00", "end": "23:59:59.999999", "days": [1, 2, 3, 4, 5, 6, 7]}
SKILLS = [f"skill{i:02d}" for i in range(40)]
LEVELS = ["intermediate", "advanced", "expert"]
WINDOW = 50
"""Members whose commands are in flight at once during set-up (one command each at a time).
A service answers up to 16 requests of a subject at once (``GUILD_REQUEST_WORKERS``): more in
flight only wait longer in its queue, towards the request timeout."""
PUBLISH_WINDOW = 1000
"""Hires whose PubAcks are awaited at once: enough to keep the ingest stream busy, few enough
that a slow server times none of them out."""
REPORT_EVERY = 10.0
"""Seconds between two progress lines of a set-up step on stderr."""
T = TypeVar("T")
WATCH_EVERYTHING = {"default_watch": "everything", "quiet_hours": None, "daily_budget": 1000}
"""Preferences under which every new post in a community reaches the member's inbox and
endpoints now: they watch everything, have no quiet hours and a budget beyond any run."""


def cloudevent(event_type: str, data: dict[str, Any], source: str) -> tuple[bytes, dict[str, str]]:
    """A structured CloudEvent as another system writes it, and its ``Nats-Msg-Id``."""
    event_id = str(uuid.uuid4())
    return structured(event_type, data, source=source, event_id=event_id), {"Nats-Msg-Id": event_id}


def hire(person_id: str, region: str, skills: list[str], rng: random.Random) -> dict[str, Any]:
    return {
        "person_id": person_id,
        "display_name": f"Person {person_id}",
        "email": f"{person_id}@example.com",
        "region": region,
        "timezone": "Europe/Berlin",
        "skills": [{"name": s, "level": rng.choice(LEVELS)} for s in skills],
    }


async def publish_all(
    nc: Client,
    messages: list[tuple[str, bytes, dict[str, str]]],
    *,
    window: int = 4000,
) -> None:
    """Publish with up to ``window`` PubAcks in flight (nats-py's ``publish_async``; its own
    limit is 4,000), then wait for all."""
    js = nc.jetstream()

    async def stored(subject: str, body: bytes, headers: dict[str, str]) -> None:
        await (await js.publish_async(subject, body, headers=headers))

    await pipelined((stored(*message) for message in messages), window=window)


async def stored_count(nc: Client, stream: str, subject: str) -> int:
    js = nc.jetstream(timeout=API_TIMEOUT)
    info = await answered(
        lambda: js.stream_info(stream, subjects_filter=subject), f"{stream} {subject}"
    )
    return sum((info.state.subjects or {}).values())


@dataclass
class Step:
    """One step of the set-up: ``done`` of ``total``, said on stderr every ``REPORT_EVERY``
    s while it runs (:meth:`running`), and its figures once it is over."""

    name: str
    total: int
    pids: Callable[[], dict[str, int]] = dict
    done: int = 0
    started: float = field(default_factory=time.monotonic)
    intervals: list[dict[str, float]] = field(default_factory=list)
    latencies: dict[str, list[float]] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)

    async def timed(self, kind: str, request: Awaitable[T]) -> T:
        """``request``'s result; how long it took is kept under ``kind``."""
        sent = time.monotonic()
        result = await request
        self.latencies.setdefault(kind, []).append(time.monotonic() - sent)
        return result

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Step]:
        cpu_before = self._cpu()
        self.started = time.monotonic()
        reporter = asyncio.get_running_loop().create_task(
            self._report() if self.total else asyncio.sleep(0)  # nothing to count: no lines
        )
        try:
            yield self
        finally:
            reporter.cancel()
        seconds = time.monotonic() - self.started
        cpu_after = self._cpu()
        self.figures = {
            "count": self.done,
            "seconds": round(seconds, 1),
            "per_second": round(self.done / seconds, 1) if seconds else 0.0,
            "intervals": self.intervals,
            "cpu_seconds": {
                name: round(cpu_after[name] - cpu_before[name], 1)
                for name in cpu_after
                if name in cpu_before
            },
            "latency_ms": {
                kind: {
                    "p50": round(1000 * (percentile(samples, 50) or 0), 1),
                    "p99": round(1000 * (percentile(samples, 99) or 0), 1),
                }
                for kind, samples in self.latencies.items()
            },
        }
        say(f"set-up {step_line(self.name, self.figures)}")

    def _cpu(self) -> dict[str, float]:
        found = {name: cpu_seconds(pid) for name, pid in self.pids().items()}
        return {name: seconds for name, seconds in found.items() if seconds is not None}

    async def _report(self) -> None:
        last_at, last_done, last_cpu = self.started, 0, self._cpu()
        seen: dict[str, int] = {}
        while True:
            await asyncio.sleep(REPORT_EVERY)
            now, done, cpu = time.monotonic(), self.done, self._cpu()
            rate, items = (done - last_done) / (now - last_at), max(1, done - last_done)
            cpu_ms = {
                name: round(1000 * (cpu[name] - last_cpu[name]) / items, 1)
                for name in cpu
                if name in last_cpu
            }
            p50_ms = {}
            for kind, samples in self.latencies.items():
                recent, seen[kind] = samples[seen.get(kind, 0) :], len(samples)
                if recent:
                    p50_ms[kind] = round(1000 * (percentile(recent, 50) or 0), 1)
            self.intervals.append(
                {
                    "at_seconds": round(now - self.started, 1),
                    "done": done,
                    "per_second": round(rate, 1),
                    "cpu_ms_each": cpu_ms,
                    "latency_p50_ms": p50_ms,
                }
            )
            say(
                f"set-up {self.name}: {done:,}/{self.total:,} after {now - self.started:.0f} s "
                f"({rate:,.0f}/s now, {done / (now - self.started):,.0f}/s overall); "
                f"CPU ms each {cpu_ms}; p50 ms {p50_ms}"
            )
            last_at, last_done, last_cpu = now, done, cpu


@dataclass
class Company:
    """Who was set up: member ids by community, each member's skills, the facilitator."""

    region: str
    facilitator: str = ""
    communities: dict[str, list[str]] = field(default_factory=dict)
    skills: dict[str, list[str]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    """How long each step of the set-up took (hire, ids, join, settle, total)."""
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Each step's figures (see :class:`Step`)."""


async def hire_people(
    nc: Client,
    region: str,
    people: dict[str, list[str]],
    rng: random.Random,
    step: Step | None = None,
) -> None:
    """Hire every person (HR id -> skills), ``PUBLISH_WINDOW`` in flight, until membership
    has registered them all (each registration counts as done in ``step``)."""
    subject = MemberRegisteredV1.subject_in(region)
    before = await stored_count(nc, Streams(region).events, subject)
    await publish_all(
        nc,
        [
            (
                f"ingest.{region}.hr-directory.hr.person_hired.v1",
                *cloudevent(
                    "guild.ingest.hr.person_hired.v1", hire(p, region, s, rng), "/hr-directory"
                ),
            )
            for p, s in people.items()
        ],
        window=PUBLISH_WINDOW,
    )

    async def all_registered() -> bool:
        registered = await stored_count(nc, Streams(region).events, subject) - before
        if step is not None:
            step.done = registered
        return registered >= len(people)

    await until(
        all_registered, f"{len(people)} hires registered", deadline=60 + len(people) / 20, every=0.2
    )


async def member_ids(
    nc: Client, region: str, people: list[str], step: Step | None = None
) -> dict[str, str]:
    """The member id membership drew for each person (HR id), ``WINDOW`` queries in flight."""

    async def member_id(person_id: str) -> tuple[str, str]:
        query = call(nc, "qry", region, "membership", "find_member", {"person_id": person_id})
        found = await (step.timed("find_member", query) if step else query)
        if step is not None:
            step.done += 1
        return person_id, str(found["member_id"])

    return dict(await pipelined((member_id(p) for p in people), window=WINDOW))


async def set_up(
    nc: Client,
    region: str,
    *,
    members: int,
    communities: int,
    preferences: dict[str, Any] | None = None,
    at_work: bool = True,
    seed: int = 1,
    pids: Callable[[], dict[str, int]] = dict,
) -> Company:
    """``members`` people, each with three skills, spread over ``communities`` public
    communities one facilitator created; at work around the clock (unless not ``at_work``:
    then in the default working hours, one command fewer each); with ``preferences`` (the
    defaults if None). Returns once the region has settled. ``pids`` names the processes
    whose CPU time each step reports (none if not given)."""
    rng, company = random.Random(seed), Company(region)
    started = time.monotonic()
    await hire_people(nc, region, {"fac": SKILLS[:3]}, rng)
    company.facilitator = (await member_ids(nc, region, ["fac"]))["fac"]
    for number in range(communities):
        community_id = f"c{number}"
        await call(
            nc,
            "cmd",
            region,
            "membership",
            "create_community",
            {
                "actor_id": company.facilitator,
                "community_id": community_id,
                "name": f"Community {number}",
            },
        )
        company.communities[community_id] = []
    people = {f"p{n:06d}": rng.sample(SKILLS, 3) for n in range(members)}
    async with Step("hire", members, pids).running() as step:
        await hire_people(nc, region, people, rng, step)
    company.steps["hire"] = step.figures
    async with Step("ids", members, pids).running() as step:
        ids = await member_ids(nc, region, sorted(people), step)
    company.steps["ids"] = step.figures
    names = sorted(company.communities)
    for number, (person_id, member_id) in enumerate(sorted(ids.items())):
        company.communities[names[number % communities]].append(member_id)
        company.skills[member_id] = people[person_id]
    async with Step("join", members, pids).running() as step:
        await pipelined(
            (
                _join(nc, region, m, c, preferences, at_work, step)
                for c, ids_ in company.communities.items()
                for m in ids_
            ),
            window=WINDOW,
        )
    company.steps["join"] = step.figures
    async with Step("settle", 0, pids).running() as step:
        await settled(nc, region, deadline=300 + members / 20)
    company.steps["settle"] = step.figures
    company.seconds = {name: figures["seconds"] for name, figures in company.steps.items()}
    company.seconds["total"] = round(time.monotonic() - started, 1)
    return company


async def _join(
    nc: Client,
    region: str,
    member_id: str,
    community_id: str,
    preferences: dict[str, Any] | None,
    at_work: bool,
    step: Step,
) -> None:
    who = {"member_id": member_id}
    if at_work:
        hours = {**who, "working_hours": AROUND_THE_CLOCK}
        await step.timed(
            "update_profile", call(nc, "cmd", region, "membership", "update_profile", hours)
        )
    joined = {**who, "community_id": community_id}
    await step.timed(
        "join_community", call(nc, "cmd", region, "membership", "join_community", joined)
    )
    if preferences is not None:
        chosen = {**who, "preferences": preferences}
        await step.timed(
            "set_preferences", call(nc, "cmd", region, "notifications", "set_preferences", chosen)
        )
    step.done += 1


def step_line(name: str, figures: dict[str, Any]) -> str:
    """A set-up step's figures on one line: count and rate (if it counts anything), seconds,
    CPU seconds per process, command latencies."""
    cpu = ", ".join(f"{p} {s:.1f}" for p, s in sorted(figures["cpu_seconds"].items()))
    latency = ", ".join(
        f"{kind} {v['p50']:.0f}/{v['p99']:.0f}" for kind, v in figures["latency_ms"].items()
    )
    counted = (
        f"{figures['count']:,} in {figures['seconds']:,.1f} s ({figures['per_second']:,.0f}/s)"
        if figures["count"]
        else f"{figures['seconds']:,.1f} s"
    )
    return (
        f"{name}: {counted}"
        + (f"; CPU s {cpu}" if cpu else "")
        + (f"; p50/p99 ms {latency}" if latency else "")
    )


def setup_lines(title: str, steps: dict[str, dict[str, Any]]) -> list[str]:
    """Each set-up step on a line (:func:`step_line`)."""
    return [f"{title}:", *(f"  {step_line(name, figures)}" for name, figures in steps.items())]


def question_data(ref: str, community_id: str, asker_id: str, skills: list[str]) -> dict[str, Any]:
    """A question another system asks on a member's behalf, about ``skills``."""
    return {
        "question_ref": ref,
        "community_id": community_id,
        "asker_id": asker_id,
        "title": f"How do we combine {' and '.join(skills)} ({ref})?",
        "text": f"We need {', '.join(skills)} in production; what is the safe order?",
        "tags": skills,
    }


def ask(region: str, data: dict[str, Any]) -> tuple[str, bytes, dict[str, str]]:
    """The ingest message for one question (subject, body, headers)."""
    body, headers = cloudevent("guild.ingest.content.question_asked.v1", data, "/portal")
    return f"ingest.{region}.portal.content.question_asked.v1", body, headers
