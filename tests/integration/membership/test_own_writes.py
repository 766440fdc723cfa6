"""Membership's writes read from memory, over a real nats-server: hires and joins with every
bucket follower stopped (nothing waits for one, replies and manager chains read their own
writes); copies of one hire handled at once store one member and one ``member_registered``;
HR changes and joins racing on one record all count, once; a redelivery after a failure
half-way through a hire's writes leaves one member and one event."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import pytest
from nats.aio.client import Client

from services.membership.bootstrap import build_app
from services.membership.handlers import Deps
from services.membership.handlers.communities import create_community, join_community
from services.membership.handlers.hr import (
    when_person_changed_update_member,
    when_person_hired_register_member,
)
from services.membership.settings import MembershipSettings
from services.membership.store.buckets import MembershipStore
from shared.contracts import membership as m
from shared.contracts.base import Contract
from shared.contracts.ingest import PersonChangedV1, PersonHiredV1
from shared.envelope import Envelope, new_envelope
from shared.naming import Streams
from tests import access
from tests.fakes import KilledBeforePublishing
from tests.helpers import events_of_type, running, settings_for, settled

HIRED_AT = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@dataclass
class Membership:
    nc: Client
    region: str
    deps: Deps

    @property
    def store(self) -> MembershipStore:
        return self.deps.store

    async def stored(self, contract: type[Contract]) -> list[dict[str, Any]]:
        """The data of every event of ``contract`` stored so far."""
        await settled(self.nc, self.region)
        stream = Streams(self.region).for_scope(contract.SCOPE)
        return [e["data"] for e in await events_of_type(self.nc, stream, contract.TYPE)]

    async def member_id(self, person_id: str) -> str:
        found = await self.store.people.member_of(person_id)
        assert found is not None, f"{person_id} has no member id"
        return found

    async def hire(self, person_id: str, manager_id: str | None = None) -> str:
        await when_person_hired_register_member(_hired(self, person_id, manager_id), self.deps)
        return await self.member_id(person_id)


@pytest.fixture
async def membership(nc: Client, nats_url: str, region: str) -> AsyncIterator[Membership]:
    """Membership in this process; its handlers are called directly."""
    settings = settings_for(MembershipSettings, region, nats_url)
    store = MembershipStore.for_region(region, access.KEYRING)
    app = build_app(settings, store=store)
    async with running(app):
        yield Membership(nc, region, Deps(store=store, events=app.events, region=region))


def _hired(
    membership: Membership, person_id: str, manager_id: str | None = None
) -> Envelope[PersonHiredV1]:
    """A ``person_hired`` as the HR directory publishes it (each copy its own envelope id)."""
    data = PersonHiredV1.model_validate(
        {
            "person_id": person_id,
            "display_name": f"Person {person_id}",
            "email": f"{person_id}@example.com",
            "region": "eu",
            "timezone": "Europe/Berlin",
            "manager_id": manager_id,
            "skills": [{"name": "go", "level": "advanced"}],
        }
    )
    return _envelope(membership, data)


def _changed(membership: Membership, **changes: Any) -> Envelope[PersonChangedV1]:
    return _envelope(membership, PersonChangedV1.model_validate(changes))


def _envelope(membership: Membership, data: Any) -> Envelope[Any]:
    return new_envelope(
        event_id=str(uuid.uuid4()),
        source="/hr-directory",
        event_type=data.TYPE,
        data=data,
        region=membership.region,
        time=HIRED_AT,
    )


async def test_hires_and_joins_are_stored_with_every_follower_stopped(membership):
    for follower in membership.store.followers:
        await follower.stop()  # nothing follows the buckets any more: a wait would never end

    # the deadlines bound a hang (a wait for a follower), they are not speed requirements
    boss = await asyncio.wait_for(membership.hire("boss"), 15)
    report = await asyncio.wait_for(membership.hire("report", manager_id="boss"), 15)
    create = m.CreateCommunity(actor_id=boss, community_id="golang", name="Gophers")
    view = await asyncio.wait_for(create_community(create, membership.deps), 15)
    joined = await asyncio.wait_for(
        join_community(m.JoinCommunity(member_id=report, community_id="golang"), membership.deps),
        15,
    )

    assert view.member_count == 1  # the reply reads the facilitator's join, from memory
    assert joined.already_member is False
    assert membership.store.index.is_member("golang", report)
    assert membership.store.org.manager_of(report) == boss
    (chain,) = [
        e["manager_chain"]
        for e in await membership.stored(m.MemberConfidentialV1)
        if e["member_id"] == report
    ]
    assert chain == [boss]
    registered = await membership.stored(m.MemberRegisteredV1)
    assert sorted(e["member"]["member_id"] for e in registered) == sorted([boss, report])


async def test_copies_of_one_hire_handled_at_once_store_one_member_and_one_event(membership):
    copies = [_hired(membership, "ana") for _ in range(5)]

    await asyncio.gather(*(when_person_hired_register_member(e, membership.deps) for e in copies))
    await when_person_hired_register_member(copies[0], membership.deps)  # a redelivery later

    ana = await membership.member_id("ana")
    stored = await membership.store.member(ana)
    assert stored is not None
    registered = await membership.stored(m.MemberRegisteredV1)
    assert [e["member"]["member_id"] for e in registered] == [ana]
    assert {e["member_id"] for e in await membership.stored(m.MemberContactV1)} == {ana}


async def test_hr_changes_racing_on_one_member_both_stay(membership):
    ana = await membership.hire("ana")

    await asyncio.gather(
        when_person_changed_update_member(
            _changed(membership, person_id="ana", title="Staff engineer"), membership.deps
        ),
        when_person_changed_update_member(
            _changed(membership, person_id="ana", team="Platform"), membership.deps
        ),
    )

    stored = await membership.store.member(ana)
    assert stored is not None
    assert (stored.value.title, stored.value.team) == ("Staff engineer", "Platform")


async def test_joins_of_one_member_racing_store_one_membership_and_one_event(membership):
    boss, ana = await membership.hire("boss"), await membership.hire("ana")
    create = m.CreateCommunity(actor_id=boss, community_id="golang", name="Gophers")
    await create_community(create, membership.deps)

    join = m.JoinCommunity(member_id=ana, community_id="golang")
    results = await asyncio.gather(*(join_community(join, membership.deps) for _ in range(5)))

    assert sorted(r.already_member for r in results) == [False, True, True, True, True]
    assert membership.store.index.count("golang") == 2
    joins = [
        e for e in await membership.stored(m.MemberJoinedV1) if e["member"]["member_id"] == ana
    ]
    assert len(joins) == 1


async def test_a_redelivery_after_the_events_failed_registers_the_stored_member_once(membership):
    event = _hired(membership, "ana")
    crashing = replace(membership.deps, events=KilledBeforePublishing(membership.deps.events))
    with pytest.raises(ConnectionError):
        await when_person_hired_register_member(event, crashing)
    ana = await membership.member_id("ana")
    stored = await membership.store.member(ana)
    assert stored is not None  # the member goes first
    assert await membership.stored(m.MemberRegisteredV1) == []

    await when_person_hired_register_member(event, membership.deps)  # the redelivery
    await when_person_hired_register_member(event, membership.deps)  # and one more, once done

    (registered,) = await membership.stored(m.MemberRegisteredV1)
    assert registered["member"]["member_id"] == ana
    assert registered["revision"] == stored.revision
    assert await membership.store.member(ana) == stored


async def test_a_redelivery_after_the_member_failed_stores_it_and_registers_once(
    membership, monkeypatch
):
    async def no_puback(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("no PubAck for the member")

    event = _hired(membership, "boss")
    monkeypatch.setattr(membership.store.members, "create", no_puback)
    with pytest.raises(ConnectionError):
        await when_person_hired_register_member(event, membership.deps)
    monkeypatch.undo()
    boss = await membership.member_id("boss")  # the link went first
    assert await membership.store.member(boss) is None
    assert await membership.stored(m.MemberRegisteredV1) == []

    await when_person_hired_register_member(event, membership.deps)  # the redelivery

    assert await membership.store.member(boss) is not None
    registered = await membership.stored(m.MemberRegisteredV1)
    assert [e["member"]["member_id"] for e in registered] == [boss]
    assert await membership.member_id("boss") == boss  # drawn once
