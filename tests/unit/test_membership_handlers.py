"""Membership's handlers on in-memory fakes of its store and publisher: what they store and
publish for a hire and a join, without a server."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from services.membership.domain.model import UnknownCommunity
from services.membership.handlers import Deps
from services.membership.handlers.communities import create_community, join_community
from services.membership.handlers.hr import (
    when_person_changed_update_member,
    when_person_hired_register_member,
)
from shared.contracts import membership as m
from shared.contracts.ingest import PersonChangedV1, PersonHiredV1
from shared.envelope import new_envelope
from tests import fakes

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@pytest.fixture
def deps() -> Deps:
    return Deps(
        store=fakes.membership_store(),
        events=fakes.FakePublisher(),  # type: ignore[arg-type]
        region="eu",
        clock=lambda: NOW,
    )


def hired(person_id: str, name: str = "Ana Example", event_id: str | None = None):
    data = PersonHiredV1.model_validate(
        {
            "person_id": person_id,
            "display_name": name,
            "email": f"{person_id}@example.com",
            "region": "eu",
            "timezone": "Europe/Berlin",
            "skills": [{"name": "go", "level": "advanced"}],
        }
    )
    return new_envelope(
        event_id=event_id or f"hire-{person_id}-{name}",
        source="/hr-directory",
        event_type=PersonHiredV1.TYPE,
        data=data,
        region="eu",
        time=NOW,
    )


async def member_id(deps: Deps, person_id: str) -> str:
    """The member id membership drew for the HR person ``person_id``."""
    found = await deps.store.people.member_of(person_id)
    assert found is not None, f"{person_id} has no member id"
    return found


async def test_a_hire_stores_the_member_and_publishes_profile_contact_and_confidential(deps):
    await when_person_hired_register_member(hired("ana"), deps)

    ana = await member_id(deps, "ana")
    assert ana != "ana"  # Guild's own id, not the HR one
    stored = await deps.store.member(ana)
    assert stored is not None
    assert (stored.value.display_name, stored.value.timezone) == ("Ana Example", "Europe/Berlin")
    published = deps.events
    (registered,) = published.of(m.MemberRegisteredV1)
    assert registered.member.member_id == ana
    assert "Ana Example" not in registered.model_dump_json()  # the public event holds no name
    assert [c.display_name for c in published.of(m.MemberContactV1)] == ["Ana Example"]
    assert len(published.of(m.MemberConfidentialV1)) == 1


async def test_the_same_hire_twice_stores_and_publishes_nothing_new(deps):
    await when_person_hired_register_member(hired("ana"), deps)
    revision = deps.store.members.revision
    count = len(deps.events.published)

    await when_person_hired_register_member(hired("ana"), deps)

    assert deps.store.members.revision == revision
    assert len(deps.events.published) == count


async def test_a_changed_hire_updates_the_member_and_publishes_the_new_contact(deps):
    await when_person_hired_register_member(hired("ana"), deps)
    await when_person_hired_register_member(hired("ana", name="Ana B. Example"), deps)

    stored = await deps.store.member(await member_id(deps, "ana"))
    assert stored is not None
    assert stored.value.display_name == "Ana B. Example"
    assert len(deps.events.of(m.MemberRegisteredV1)) == 1
    assert [c.display_name for c in deps.events.of(m.MemberContactV1)] == [
        "Ana Example",
        "Ana B. Example",
    ]


async def test_a_member_from_before_drawn_ids_keeps_their_id_and_hr_changes_still_reach_them(deps):
    """Stored under their HR id with no link (as before member ids were drawn)."""
    await when_person_hired_register_member(hired("ana"), deps)
    drawn = await member_id(deps, "ana")
    earlier = await deps.store.member(drawn)
    assert earlier is not None
    await deps.store.members.delete(drawn)
    # as an older membership stored it: under the HR id, naming no person id, not linked
    await deps.store.members.put("e77", replace(earlier.value, member_id="e77", person_id=None))

    change = new_envelope(
        event_id="change-e77", source="/hr-directory", event_type=PersonChangedV1.TYPE,
        data=PersonChangedV1(person_id="e77", display_name="Ana Renamed"), region="eu", time=NOW,
    )  # fmt: skip
    await when_person_changed_update_member(change, deps)

    assert await deps.store.people.member_of("e77") == "e77"
    stored = await deps.store.member("e77")
    assert stored is not None
    assert stored.value.display_name == "Ana Renamed"
    await when_person_hired_register_member(hired("e77", name="Ana Renamed"), deps)
    assert await deps.store.people.member_of("e77") == "e77"  # a re-sent hire: the same member


async def test_a_new_hire_reads_nothing_before_drawing_and_linking_their_id(deps, monkeypatch):
    reads: list[str] = []
    for kv in (deps.store.people.links, deps.store.members):
        read = kv.get

        async def counted(key: str, read=read, bucket=kv):
            reads.append(f"{type(bucket).__name__}:{key}")
            return await read(key)

        monkeypatch.setattr(kv, "get", counted)
    await when_person_hired_register_member(hired("ana"), deps)
    assert reads == []  # its link created, then its record: no lookup in between
    assert (await member_id(deps, "ana")) != "ana"


async def test_a_manager_named_before_their_hire_keeps_the_id_drawn_for_them(deps):
    drawn = await deps.store.people.member_for("boss")  # as a report's hire names its manager
    await when_person_hired_register_member(hired("boss", name="Bo Boss"), deps)
    assert await member_id(deps, "boss") == drawn
    stored = await deps.store.member(drawn)
    assert stored is not None
    assert stored.value.display_name == "Bo Boss"


async def _community(deps: Deps, access: str) -> str:
    """fac's community ``k8s``; ana is hired too: her member id."""
    for person in ("fac", "ana"):
        await when_person_hired_register_member(hired(person), deps)
    await create_community(
        m.CreateCommunity(
            actor_id=await member_id(deps, "fac"),
            community_id="k8s",
            name="Kubernetes Operators",
            access=access,
        ),
        deps,
    )
    return await member_id(deps, "ana")


async def test_joining_a_public_community_publishes_one_join_however_often_it_is_asked(deps):
    ana = await _community(deps, "public")

    first = await join_community(m.JoinCommunity(community_id="k8s", member_id=ana), deps)
    again = await join_community(m.JoinCommunity(community_id="k8s", member_id=ana), deps)

    assert (first.already_member, again.already_member) == (False, True)
    joined = [e.member.member_id for e in deps.events.of(m.MemberJoinedV1)]
    assert joined.count(ana) == 1
    assert deps.store.index.is_member("k8s", ana)


async def test_joining_a_private_community_from_outside_finds_no_community(deps):
    ana = await _community(deps, "private")

    with pytest.raises(UnknownCommunity):
        await join_community(m.JoinCommunity(community_id="k8s", member_id=ana), deps)
    assert not deps.store.index.is_member("k8s", ana)
