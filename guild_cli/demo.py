"""The demo: seed a small company, then show what happens to a new member and a new question.

Seeding is idempotent (fixed event ids, repeatable commands), so it can run on every start.
Each run then brings in the next newcomer and asks the next question, and prints who was
alerted, through which channel, and why, from the delivery events notifications publishes.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table

from guild_cli.client import GuildClient, GuildError, cloudevent
from guild_cli.demo_data import COMMUNITIES, NEWCOMERS, PEOPLE, QUESTIONS, Person, QuestionSeed
from shared.contracts.base import Contract
from shared.contracts.ingest import PersonHiredV1, QuestionAskedV1
from shared.contracts.matching import ExpertsSuggestedV1, IntrosProposedV1
from shared.contracts.membership import MemberJoinedV1
from shared.contracts.notifications import NotificationDeliveredV1
from shared.naming import Service, ingest_subject, publisher_source

HR_DIRECTORY, PORTAL = "hr-directory", "portal"
"""The publishing systems the demo speaks as (see shared.publishers)."""
HR_SOURCE = f"{publisher_source(HR_DIRECTORY)}/demo"
PORTAL_SOURCE = f"{publisher_source(PORTAL)}/demo"


def hire_event(person: Person) -> tuple[bytes, str]:
    data = {
        "person_id": person.person_id,
        "display_name": person.name,
        "email": person.email,
        "region": person.region,
        "timezone": person.timezone,
        "skills": [{"name": name, "level": level} for name, level in person.skills],
        "languages": list(person.languages),
        "title": person.title,
    }
    event_id = f"demo-hire-{person.person_id}"
    return cloudevent(PersonHiredV1.TYPE, data, source=HR_SOURCE, event_id=event_id), event_id


class DemoRegions:
    """The demo's clients, one per region: a person is hired, joins and is configured through
    their home region (a person of a region not running here lives in the first one)."""

    def __init__(self, clients: Mapping[str, GuildClient]) -> None:
        self.clients = dict(clients)
        self.first = next(iter(self.clients.values()))
        self.people = {p.person_id: p for p in (*PEOPLE, *(n for n, _ in NEWCOMERS))}

    def home(self, person: Person | str) -> GuildClient:
        if isinstance(person, str):
            if person not in self.people:
                return self.first
            person = self.people[person]
        return self.clients.get(person.region, self.first)


async def hire(regions: DemoRegions, person: Person) -> None:
    body, event_id = hire_event(person)
    client = regions.home(person)
    subject = ingest_subject(client.region, HR_DIRECTORY, PersonHiredV1.TYPE)
    await client.publish(subject, body, msg_id=event_id)


async def member_of(client: GuildClient, person_id: str) -> str | None:
    """The member id membership gave the HR person, if they are a member."""
    try:
        found = await client.query(Service.MEMBERSHIP, "find_member", {"person_id": person_id})
    except GuildError as error:
        if str(error).startswith("not_found"):
            return None
        raise
    return str(found["member_id"])


async def wait_for_members(
    regions: DemoRegions, person_ids: list[str], timeout: float = 30
) -> dict[str, str]:
    """Until each HR person is a member (in their home region); their member ids by HR id."""
    deadline, ids = time.monotonic() + timeout, {}
    pending = list(person_ids)
    while pending:
        for person_id in pending:
            if (member_id := await member_of(regions.home(person_id), person_id)) is not None:
                ids[person_id] = member_id
        pending = [p for p in pending if p not in ids]
        if pending and time.monotonic() > deadline:
            raise GuildError(f"members not registered after {timeout:.0f}s: {pending[:5]}")
        if pending:
            await asyncio.sleep(0.1)
    return ids


async def until_known(attempt: Callable[[], Awaitable[Any]], what: str, timeout: float = 30) -> Any:
    """``attempt`` again while it is refused for what another region has not told this one
    yet (a community created there, a membership recorded there)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return await attempt()
        except GuildError as error:
            if error.code not in {"not_found", "conflict"} or time.monotonic() > deadline:
                raise GuildError(f"{what}: {error}", error.code) from error
        await asyncio.sleep(0.2)


async def join(regions: DemoRegions, community_id: str, person_id: str, member_id: str) -> None:
    """Join through the member's home region, once it knows the community."""
    client = regions.home(person_id)
    payload = {"community_id": community_id, "member_id": member_id}
    await until_known(lambda: client.command(Service.MEMBERSHIP, "join_community", payload),
                      f"{person_id} joining {community_id}")  # fmt: skip


async def seed(regions: DemoRegions) -> None:
    """The company: everyone hired in their home region, each community created in its first
    facilitator's, members joined through their own; facilitators homed elsewhere get their
    role from the community's region. Safe to repeat."""
    for person in PEOPLE:
        await hire(regions, person)
    ids = await wait_for_members(regions, [p.person_id for p in PEOPLE])
    for community in COMMUNITIES:
        home = regions.home(community.facilitators[0])
        local = [f for f in community.facilitators if regions.home(f) is home]
        await home.command(
            Service.MEMBERSHIP,
            "create_community",
            {
                "actor_id": ids[local[0]],
                "community_id": community.community_id,
                "name": community.name,
                "description": community.description,
                "topics": list(community.topics),
                "facilitator_ids": [ids[f] for f in local],
            },
        )
        for person_id in community.members:
            await join(regions, community.community_id, person_id, ids[person_id])
        for person_id in (f for f in community.facilitators if f not in local):
            role = {"actor_id": ids[local[0]], "community_id": community.community_id,
                    "member_id": ids[person_id], "role": "facilitator"}  # fmt: skip
            await until_known(partial(home.command, Service.MEMBERSHIP, "change_role", role),
                              f"{person_id} facilitating {community.community_id}")  # fmt: skip


def synthetic_newcomer(number: int) -> tuple[Person, str]:
    first = ("Nia", "Oskar", "Yuki", "Mateo", "Leila", "Finn", "Sana", "Ivan")[number % 8]
    last = ("Berg", "Costa", "Ito", "Khan", "Novak", "Reyes", "Sato", "Weber")[(number // 8) % 8]
    community = COMMUNITIES[number % len(COMMUNITIES)]
    skills = tuple((topic, "intermediate") for topic in community.topics[:2])
    person = Person(f"e49{number:03d}", f"{first} {last}", "eu", "Europe/Lisbon", skills)
    return person, community.community_id


async def next_newcomer(regions: DemoRegions) -> tuple[int, Person, str]:
    """The first newcomer not hired yet, and the community they join."""
    number = 0
    while True:
        person, community_id = (
            NEWCOMERS[number] if number < len(NEWCOMERS) else synthetic_newcomer(number)
        )
        if await member_of(regions.home(person), person.person_id) is None:
            return number, person, community_id
        number += 1


@dataclass
class Watch:
    """What Guild publishes while the demo runs: deliveries, and the events that caused them
    (to tell this run's deliveries from any others)."""

    deliveries: list[NotificationDeliveredV1] = field(default_factory=list)
    joins: dict[str, str] = field(default_factory=dict)
    """member id -> id of the event saying they joined"""
    suggestions: dict[str, list[tuple[str, ExpertsSuggestedV1]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    """question title -> (event id, event) of each region that routed it to its members"""
    intros: dict[str, tuple[str, IntrosProposedV1]] = field(default_factory=dict)
    """member id -> (event id, event)"""

    async def start(self, regions: DemoRegions) -> None:
        """Listen in every region (each publishes its own deliveries and suggestions)."""
        for client in regions.clients.values():
            await self._listen(client)

    async def _listen(self, client: GuildClient) -> None:
        def keep(contract: type[Contract], store: Callable[[str, Any], None]) -> Any:
            async def on_event(msg: Any) -> None:
                document = json.loads(msg.data)
                store(document["id"], contract.model_validate(document["data"]))

            return client.nc.subscribe(contract.subject_in(client.region), cb=on_event)

        await keep(NotificationDeliveredV1, lambda _, e: self.deliveries.append(e))
        await keep(MemberJoinedV1, lambda i, e: self.joins.__setitem__(e.member.member_id, i))
        await keep(ExpertsSuggestedV1, lambda i, e: self.suggestions[e.title].append((i, e)))
        await keep(
            IntrosProposedV1, lambda i, e: self.intros.__setitem__(e.member.member_id, (i, e))
        )

    def caused_by(self, cause_ids: set[str]) -> list[NotificationDeliveredV1]:
        return [d for d in self.deliveries if d.cause_id in cause_ids]

    def delivered(self, member_id: str, kind: str, cause_ids: set[str]) -> list[str]:
        return [
            d.channel
            for d in self.caused_by(cause_ids)
            if d.recipient.member_id == member_id and d.kind == kind
        ]


@dataclass
class DemoRun:
    newcomer: Person
    community_id: str
    question: QuestionSeed
    ids: dict[str, str] = field(default_factory=dict)
    """Member ids by HR person id (the demo's data names people by their HR ids)."""

    @property
    def newcomer_id(self) -> str:
        return self.ids[self.newcomer.person_id]

    def names(self) -> dict[str, str]:
        """'Name (HR id)' by member id, in the order of HR ids (the order rows are shown in)."""
        people = {p.person_id: p for p in (*PEOPLE, self.newcomer)}
        return {m: f"{people[p].name} ({p})" for p, m in sorted(self.ids.items()) if p in people}


async def run_once(regions: DemoRegions, console: Console, timeout: float = 30) -> Watch:
    """Bring in a newcomer and ask a question; return what was delivered."""
    watch = Watch()
    await watch.start(regions)
    number, newcomer, community_id = await next_newcomer(regions)
    question = QUESTIONS[number % len(QUESTIONS)]
    run = DemoRun(newcomer, community_id, question)
    run.ids = await wait_for_members(regions, [p.person_id for p in PEOPLE])
    console.print(f"[bold]A new member:[/] HR publishes that {newcomer.name} was hired ...")
    regions.people.setdefault(newcomer.person_id, newcomer)
    await hire(regions, newcomer)
    run.ids |= await wait_for_members(regions, [newcomer.person_id])
    await join(regions, community_id, newcomer.person_id, run.newcomer_id)
    console.print(f"[bold]A new question:[/] the intranet portal posts “{question.title}” ...")
    asked = {
        "question_ref": f"demo-{uuid.uuid4().hex[:12]}",
        "community_id": question.community_id,
        "asker_id": run.ids[question.asker_id],
        "title": question.title,
        "text": question.text,
        "tags": list(question.tags),
    }
    event_id = str(uuid.uuid4())
    body = cloudevent(QuestionAskedV1.TYPE, asked, source=PORTAL_SOURCE, event_id=event_id)
    client = regions.home(question.asker_id)  # the portal of the asker's region
    subject = ingest_subject(client.region, PORTAL, QuestionAskedV1.TYPE)
    await client.publish(subject, body, msg_id=event_id)
    await _wait_for_outcome(watch, run, timeout)
    report(console, watch, run)
    return watch


def _newcomer_causes(watch: Watch, run: DemoRun) -> set[str]:
    member_id = run.newcomer_id
    intros = watch.intros.get(member_id)
    return {watch.joins.get(member_id, "?"), intros[0] if intros else "?"}


def _question_causes(watch: Watch, run: DemoRun) -> set[str]:
    return {event_id for event_id, _ in watch.suggestions.get(run.question.title, [])}


def _expected(watch: Watch, run: DemoRun) -> list[tuple[str, str, set[str]]]:
    community = next(c for c in COMMUNITIES if c.community_id == run.community_id)
    newcomer, causes = run.newcomer_id, _newcomer_causes(watch, run)
    expected = [(newcomer, "welcome", causes), (newcomer, "people_to_meet", causes)]
    expected += [(run.ids[f], "member_joined", causes) for f in community.facilitators]
    routed = watch.suggestions.get(run.question.title)
    if not routed:
        expected.append(("?", "experts_suggested", set()))
    for event_id, suggested in routed or []:
        expected += [
            (s.member.member_id, "question_for_you", {event_id}) for s in suggested.suggestions
        ]
    return expected


QUIET = 1.0
"""Seconds without a new delivery after which the other channels are taken to be done."""


async def _wait_for_outcome(watch: Watch, run: DemoRun, timeout: float) -> None:
    """Until everyone expected got something, and no delivery came for :data:`QUIET` seconds
    (the other channels of the last ones: mail and webhooks come a little later)."""
    deadline = time.monotonic() + timeout
    seen, quiet_since = -1, time.monotonic()
    while time.monotonic() < deadline:
        if len(watch.deliveries) != seen:
            seen, quiet_since = len(watch.deliveries), time.monotonic()
        everyone = all(watch.delivered(*item) for item in _expected(watch, run))
        if everyone and time.monotonic() - quiet_since >= QUIET:
            return
        await asyncio.sleep(0.1)


def report(console: Console, watch: Watch, run: DemoRun) -> None:
    names = run.names()
    community = next(c for c in COMMUNITIES if c.community_id == run.community_id)
    skills = ", ".join(f"{n} ({lvl})" for n, lvl in run.newcomer.skills)
    newcomer_rows = watch.caused_by(_newcomer_causes(watch, run))
    console.print(
        Panel(
            Group(_table(newcomer_rows, names), _intros_table(watch, run, names)),
            title=f"{run.newcomer.name} joined {community.name}",
            subtitle=f"works in {run.newcomer.region} ({run.newcomer.timezone}); skills: {skills}",
        )
    )
    question_rows = watch.caused_by(_question_causes(watch, run))
    asker = next(p.name for p in PEOPLE if p.person_id == run.question.asker_id)
    console.print(
        Panel(
            _table(question_rows, names),
            title=f"{asker} asked: {run.question.title}",
            subtitle=f"tags: {', '.join(run.question.tags)} · the asker is never alerted",
        )
    )
    routed = [suggested for _, suggested in watch.suggestions.get(run.question.title, [])]
    if routed and not any(suggested.suggestions for suggested in routed):
        waiting = ", ".join(
            f"{names.get(w.member.member_id, w.member.member_id)} from {w.not_before:%a %H:%M} UTC"
            for w in [w for suggested in routed for w in suggested.waiting][:5]
        )
        console.print(
            f"[bold]Nobody who fits is at work right now[/] (follow the sun): the question "
            f"waits for {waiting or 'the next people who fit'}."
        )
    missing = [item for item in _expected(watch, run) if not watch.delivered(*item)]
    if missing:
        console.print(f"[yellow]Still on its way after the wait:[/] {missing}")


def _intros_table(watch: Watch, run: DemoRun, names: dict[str, str]) -> Table:
    table = Table(title="people matching proposed to meet", expand=True)
    table.add_column("who")
    table.add_column("why")
    proposed = watch.intros.get(run.newcomer_id)
    for proposal in proposed[1].proposals if proposed else []:
        member_id = proposal.member.member_id
        table.add_row(names.get(member_id, member_id), "; ".join(proposal.reasons))
    return table


def channel_kind(channel: str) -> str:
    """'email' for 'email:<endpoint id>': which kind of channel, not which of the member's."""
    return channel.split(":", 1)[0]


def _table(deliveries: list[NotificationDeliveredV1], names: dict[str, str]) -> Table:
    table = Table(expand=True)
    table.add_column("who was alerted")
    table.add_column("channels")
    table.add_column("what")
    table.add_column("why")
    grouped: dict[tuple[str, str], list[NotificationDeliveredV1]] = defaultdict(list)
    for delivery in deliveries:
        grouped[(delivery.recipient.member_id, delivery.kind)].append(delivery)
    order = {member_id: place for place, member_id in enumerate(names)}
    for (member_id, _), group in sorted(
        grouped.items(), key=lambda row: (order.get(row[0][0], len(order)), row[0])
    ):
        first = group[0]
        table.add_row(
            names.get(member_id, member_id),
            ", ".join(sorted({channel_kind(d.channel) for d in group})),
            first.title,
            "; ".join(first.reasons),
        )
    if not grouped:
        table.add_row("(nobody yet)", "", "", "")
    return table
