"""A member moving to another region (an HR transfer): their data handed to their new home
region, and erased behind them.

1. The HR directory of their home region sends ``person_moved``. Membership there hands the
   member's record (with their new region and timezone), their memberships and their requests
   to join to the new region's membership, sealed (``member_handover``: see
   :mod:`shared.contracts.handover`). Only that region sources it.
2. The new region takes them in: it links the HR person to the same member id, stores the
   record, memberships and requests as its own, publishes the member (now homed there), their
   contact and their confidential data for its own services, then ``member_moved``, and
   erases its copy of the handover.
3. On ``member_moved`` the region they left erases what it held of them (their record, the
   link from their HR id, the HR events about them, their personal messages, dead letters and
   stored replies, its copy of the handover) and keeps their memberships as replicas, as for
   any other region's member; every other region notes their new home in its replicas.

The events about them carry revisions that keep growing across the move
(:attr:`~services.membership.domain.model.Member.revision_base`). Notifications and matching
hand over and erase what they hold of the member on ``member_moved``.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TypeVar

from services.membership.domain.model import ErasureReport, JoinRequest, Member, Membership
from services.membership.events import public
from services.membership.handlers import Deps
from services.membership.handlers.hr import (
    MemberNotKnownYet,
    erase_hr_traces,
    erase_member_records,
)
from services.membership.handlers.publishing import publish_member
from shared.contracts.handover import HandoverEntry
from shared.contracts.ingest import PersonMovedV1
from shared.contracts.membership import MemberHandoverV1, MemberMovedV1
from shared.envelope import Envelope
from shared.ids import derived_id
from shared.moves import MoveRefused
from shared.naming import Streams, handover_subject
from shared.storage import KvStore, erase_messages

log = logging.getLogger("guild.membership.moves")
T = TypeVar("T")

MEMBERS, MEMBERSHIPS, REQUESTS = "members", "memberships", "join_requests"


async def when_person_moved_hand_over(event: Envelope[PersonMovedV1], deps: Deps) -> None:
    """Hand the member's record, memberships and requests to their new home region."""
    moved, store = event.data, deps.store
    found = await store.member_of_person(moved.person_id)
    if found is None:  # the HR person id is not said: it is personal data, logs carry ids
        raise MemberNotKnownYet("the person this HR move names is not registered (yet)")
    if moved.to_region == deps.region:
        log.info("a move to the region that holds the member already: nothing to hand over",
                 extra={"event_id": event.id, "member_id": found.value.member_id})  # fmt: skip
        return
    keyring = deps.moves.keys_for(moved.to_region)
    member = replace(
        found.value,
        region=moved.to_region,
        timezone=moved.timezone or found.value.timezone,
        revision_base=found.value.published_revision(found.revision),
    )
    entries = [
        _entry(MEMBERS, member.member_id, store.members, member),
        *(_entry(MEMBERSHIPS, m.key, store.memberships, m) for m in await _own_memberships(
            member.member_id, deps)),
        *(_entry(REQUESTS, r.key, store.join_requests, r)
          for r in await store.requests_of(member.member_id) if r.home_region is None),
    ]  # fmt: skip
    handover = MemberHandoverV1.of(
        entries, keyring, member_id=member.member_id, from_region=deps.region,
        to_region=moved.to_region,
    )  # fmt: skip
    await deps.events.publish(
        handover,
        event_id=derived_id(event.source, event.id, "member_handover"),
        subject=member.member_id,
        cause=event,
    )


def _entry(bucket: str, key: str, store: KvStore[T], value: T) -> HandoverEntry:
    return HandoverEntry.of(bucket, key, store.encode(value))


async def _own_memberships(member_id: str, deps: Deps) -> list[Membership]:
    """The member's memberships this region administers (not replicas of another's)."""
    found = [
        await deps.store.membership(community_id, member_id)
        for community_id in sorted(deps.store.index.by_member.get(member_id, set()))
    ]
    return [m for m in found if m is not None and m.home_region is None]


async def when_member_handed_over_take_in(event: Envelope[MemberHandoverV1], deps: Deps) -> None:
    """A member moving here: their record, memberships and requests become this region's;
    the member is published as homed here, then ``member_moved``; the handover is erased."""
    handover, store = event.data, deps.store
    entries = deps.moves.opened(handover, deps.region)
    member = _taken_in_member(entries, handover.member_id, deps)
    if member.person_id is not None:
        await store.people.adopt(member.person_id, member.member_id)
    revision = await store.put(store.members, member.member_id, member)
    assert revision is not None, "a put always stores"
    for entry in entries:
        if entry.bucket == MEMBERSHIPS:
            membership = store.memberships.decode(entry.value.encode())
            await store.put(store.memberships, entry.key, replace(membership, home_region=None))
        elif entry.bucket == REQUESTS:
            request = store.join_requests.decode(entry.value.encode())
            await store.join_requests.put(entry.key, replace(request, home_region=None))
    await publish_member(member, revision, deps, new=False, changed=["region", "timezone"])
    await deps.events.publish(
        MemberMovedV1(member=public.ref(member), from_region=handover.from_region,
                      moved_at=deps.clock()),
        event_id=derived_id(event.id, "member_moved"),
        subject=member.member_id,
        cause=event,
    )  # fmt: skip
    await erase_messages(store.members.js, Streams(deps.region).handover, handover.subject)
    log.info("member moved here", extra={"member_id": member.member_id,
                                         "from_region": handover.from_region})  # fmt: skip


def _taken_in_member(entries: list[HandoverEntry], member_id: str, deps: Deps) -> Member:
    records = [e for e in entries if e.bucket == MEMBERS and e.key == member_id]
    if len(records) != 1:
        raise MoveRefused(f"the handover of {member_id} holds {len(records)} member records")
    member = deps.store.members.decode(records[0].value.encode())
    return replace(member, home_region=deps.region)


async def when_member_moved_follow_them(event: Envelope[MemberMovedV1], deps: Deps) -> None:
    """The region they left erases them; every other region notes their new home."""
    moved = event.data
    member_id, to_region = moved.member.member_id, moved.member.home_region
    if to_region == deps.region:
        return
    if moved.from_region == deps.region:
        await _erase_behind(member_id, to_region, deps)
    else:
        await _rehome_replicas(member_id, to_region, deps)


async def _erase_behind(member_id: str, to_region: str, deps: Deps) -> None:
    """What this region held of a member who moved to ``to_region``: their memberships stay
    as replicas (as every region keeps), a request to join one of this region's communities
    as a replica without its message; everything personal is securely erased."""
    store, report = deps.store, ErasureReport()
    await _rehome_replicas(member_id, to_region, deps)
    found = await store.member(member_id)
    await erase_member_records(
        member_id, report, deps, personal=f"personal.{deps.region}.membership.*.*.{member_id}"
    )
    if found is not None and found.value.person_id is not None:
        await erase_hr_traces(found.value.person_id, report, deps)
        await store.people.forget(found.value.person_id)
    sent = handover_subject(deps.region, to_region, MemberHandoverV1.TYPE, member_id)
    await erase_messages(store.members.js, Streams(deps.region).handover, sent)
    log.info("moved member erased here", extra={"member_id": member_id, "to_region": to_region,
                                                **report.__dict__})  # fmt: skip


async def _rehome_replicas(member_id: str, to_region: str, deps: Deps) -> None:
    """The member's memberships and requests known here say their new home region; a request
    stays only where its community is homed, and never with its message."""
    store = deps.store
    for community_id in sorted(store.index.by_member.get(member_id, set())):
        membership = await store.membership(community_id, member_id)
        if membership is not None and membership.home_region != to_region:
            await store.put(store.memberships, membership.key,
                            replace(membership, home_region=to_region))  # fmt: skip
    for request in await store.requests_of(member_id):
        await _rehome_request(request, to_region, deps)


async def _rehome_request(request: JoinRequest, to_region: str, deps: Deps) -> None:
    if request.home_region == to_region:
        return
    found = await deps.store.community(request.community_id)
    await deps.store.join_requests.erase(request.key)  # every revision: the message too
    if found is not None and found.value.home_region == deps.region:
        replica = replace(request, home_region=to_region, message="")
        await deps.store.join_requests.put(request.key, replica)
