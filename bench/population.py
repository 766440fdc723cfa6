"""A company for the benchmarks, set up through Guild's front doors and pipelined.

The HR directory's hires go in as ingest events with ``publish_async`` (thousands in flight);
the member ids membership drew are asked for with ``find_member``, and the profile changes,
joins and preference changes go as commands, many in flight at once
(:func:`shared.tasks.pipelined`). Everything is then let settle, so that no benchmark times
the set-up's tail.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from nats.aio.client import Client

from bench.guild import call, settled, until
from guild_cli.client import cloudevent as structured
from shared.contracts.membership import MemberRegisteredV1
from shared.naming import Streams
from shared.tasks import pipelined

AROUND_THE_CLOCK = {"start": "00:00", "end": "23:59:59.999999", "days": [1, 2, 3, 4, 5, 6, 7]}
SKILLS = [f"skill{i:02d}" for i in range(40)]
LEVELS = ["intermediate", "advanced", "expert"]
WINDOW = 50
"""Commands in flight at once during set-up. A service answers each command subject one
request at a time (a FastStream core subscriber with one worker): more in flight only wait
longer in its queue, past the request timeout."""
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


async def publish_all(nc: Client, messages: list[tuple[str, bytes, dict[str, str]]]) -> None:
    """Publish with many PubAcks in flight (nats-py's ``publish_async``), then wait for all."""
    js = nc.jetstream()
    futures = [
        await js.publish_async(subject, body, headers=headers)
        for subject, body, headers in messages
    ]
    await asyncio.gather(*futures)


async def stored_count(nc: Client, stream: str, subject: str) -> int:
    info = await nc.jetstream().stream_info(stream, subjects_filter=subject)
    return sum((info.state.subjects or {}).values())


@dataclass
class Company:
    """Who was set up: member ids by community, each member's skills, the facilitator."""

    region: str
    facilitator: str = ""
    communities: dict[str, list[str]] = field(default_factory=dict)
    skills: dict[str, list[str]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    """How long each step of the set-up took (hire, join, settle, total)."""


async def hire_people(
    nc: Client, region: str, people: dict[str, list[str]], rng: random.Random
) -> dict[str, str]:
    """Hire every person (HR id -> skills) pipelined; their member ids, once registered."""
    subject = f"ingest.{region}.hr.person_hired.v1"
    before = await stored_count(nc, Streams(region).events, MemberRegisteredV1.subject_in(region))
    await publish_all(
        nc,
        [
            (
                subject,
                *cloudevent(
                    "guild.ingest.hr.person_hired.v1", hire(p, region, s, rng), "/hr-directory"
                ),
            )
            for p, s in people.items()
        ],
    )

    async def all_registered() -> bool:
        subject = MemberRegisteredV1.subject_in(region)
        return await stored_count(nc, Streams(region).events, subject) >= before + len(people)

    await until(all_registered, f"{len(people)} hires registered", deadline=60 + len(people) / 20)

    async def member_id(person_id: str) -> tuple[str, str]:
        found = await call(nc, "qry", region, "membership", "find_member", {"person_id": person_id})
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
) -> Company:
    """``members`` people, each with three skills, spread over ``communities`` public
    communities one facilitator created; at work around the clock (unless not ``at_work``:
    then in the default working hours, one command fewer each); with ``preferences`` (the
    defaults if None). Returns once the region has settled."""
    rng, company = random.Random(seed), Company(region)
    started = time.monotonic()
    (company.facilitator,) = (await hire_people(nc, region, {"fac": SKILLS[:3]}, rng)).values()
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
    ids = await hire_people(nc, region, people, rng)
    company.seconds["hire"] = time.monotonic() - started
    names = sorted(company.communities)
    for number, (person_id, member_id) in enumerate(sorted(ids.items())):
        company.communities[names[number % communities]].append(member_id)
        company.skills[member_id] = people[person_id]
    step = time.monotonic()
    await pipelined(
        (
            _join(nc, region, m, c, preferences, at_work)
            for c, ids_ in company.communities.items()
            for m in ids_
        ),
        window=WINDOW,
    )
    company.seconds["join"] = time.monotonic() - step
    step = time.monotonic()
    await settled(nc, region, deadline=300 + members / 20)
    company.seconds["settle"] = time.monotonic() - step
    company.seconds["total"] = time.monotonic() - started
    return company


async def _join(
    nc: Client,
    region: str,
    member_id: str,
    community_id: str,
    preferences: dict[str, Any] | None,
    at_work: bool,
) -> None:
    who = {"member_id": member_id}
    if at_work:
        hours = {**who, "working_hours": AROUND_THE_CLOCK}
        await call(nc, "cmd", region, "membership", "update_profile", hours)
    joined = {**who, "community_id": community_id}
    await call(nc, "cmd", region, "membership", "join_community", joined)
    if preferences is not None:
        chosen = {**who, "preferences": preferences}
        await call(nc, "cmd", region, "notifications", "set_preferences", chosen)


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
    return f"ingest.{region}.content.question_asked.v1", body, headers
