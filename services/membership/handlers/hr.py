"""Reactions to the HR directory: hires, changes, departures and erasure requests."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from services.membership.domain.model import (
    DEPARTED,
    ErasureReport,
    Member,
    Skill,
    register,
)
from services.membership.events import public
from services.membership.handlers import Deps
from services.membership.handlers.communities import remove_from_community
from services.membership.handlers.publishing import manager_chain, publish_member
from shared.bounded_json import UnreadableJson, load_json
from shared.contracts.ingest import (
    ErasureRequestedV1,
    PersonChangedV1,
    PersonDepartedV1,
    PersonHiredV1,
)
from shared.contracts.membership import LeaveReason
from shared.envelope import Envelope
from shared.ids import derived_id, mentions_id
from shared.naming import (
    Service,
    Streams,
    bucket_name,
    dead_letter_original_subject,
    personal_key_filter,
)
from shared.storage import erase_dead_letters, erase_messages

log = logging.getLogger("guild.membership.hr")


def member_from_hire(hire: PersonHiredV1, *, home_region: str, at: datetime) -> Member:
    return Member(
        member_id=hire.person_id,
        home_region=home_region,
        region=hire.region,
        timezone=hire.timezone,
        display_name=hire.display_name,
        email=hire.email,
        skills=tuple(Skill(s.name, s.level.value) for s in hire.skills),
        languages=tuple(hire.languages),
        title=hire.title,
        manager_id=hire.manager_id,
        registered_at=at,
        team=hire.team,
        legal_entity=hire.legal_entity,
    )


async def when_person_hired_register_member(event: Envelope[PersonHiredV1], deps: Deps) -> None:
    """Store the new member, then publish their public profile and (privately) their contact.

    Re-running for the same event stores nothing new and publishes the same event ids, so a
    crash between storing and publishing heals on redelivery.
    """
    candidate = member_from_hire(event.data, home_region=deps.region, at=event.time or deps.clock())
    existing = await deps.store.member(candidate.member_id)
    member = register(existing.value if existing else None, candidate)
    changed = existing.value.changed_fields(member) if existing else []
    if existing is not None and not changed:
        revision = existing.revision
    else:
        revision = await deps.store.members.put(member.member_id, member)
    await publish_member(member, revision, deps, new=existing is None, changed=changed)


async def when_person_changed_update_member(event: Envelope[PersonChangedV1], deps: Deps) -> None:
    """Apply what HR changed; if their manager changed, the chains below them changed too."""
    change = event.data
    found = await deps.store.member(change.person_id)
    if found is None:
        raise MemberNotKnownYet(f"member {change.person_id!r} is not registered (yet)")
    member = replace(found.value, **hr_changes(change))
    changed = found.value.changed_fields(member)
    revision = found.revision
    if changed:
        revision = await deps.store.members.put(member.member_id, member)
    await publish_member(member, revision, deps, new=False, changed=changed)
    if "manager_id" in changed:
        await deps.store.followers_caught_up(revision)
        for report_id in deps.store.org.everyone_under(member.member_id):
            await republish_confidential(report_id, deps)


KEY_FIELD = "person_id"
"""The field of an HR change that names the member; every other one is a member field."""


def hr_changes(change: PersonChangedV1) -> dict[str, Any]:
    """What ``change`` sets: each field of its contract (read from the contract, so a field
    added there is not ignored here) that it gives a value. A null means unchanged (it is
    never stored: a member without a timezone could not be read)."""
    return {
        name: value
        for name in type(change).model_fields
        if name != KEY_FIELD and (value := getattr(change, name)) is not None
    }


async def republish_confidential(member_id: str, deps: Deps) -> None:
    found = await deps.store.member(member_id)
    if found is None:
        return
    chain = await manager_chain(found.value, deps)
    await deps.events.publish(
        public.member_confidential(found.value, chain, found.revision),
        event_id=derived_id(
            "member_confidential", deps.region, member_id, str(found.revision), ",".join(chain)
        ),
        key=member_id,
    )


class MemberNotKnownYet(Exception):
    """Transient: an HR change arrived before the hire it changes; retried."""


async def when_person_departed_deactivate_member(
    event: Envelope[PersonDepartedV1], deps: Deps
) -> None:
    """They leave every community (facilitation handed to the successor, or the community
    flagged without a facilitator), pending requests are dropped, and they are deactivated."""
    departed = event.data
    found = await deps.store.member(departed.person_id)
    if found is None:
        return  # never a member: nothing to undo
    member = found.value
    for community_id in sorted(deps.store.index.by_member.get(member.member_id, set())):
        await remove_from_community(
            community_id,
            public.ref(member),
            LeaveReason.DEPARTED,
            deps,
            successor=departed.successor_id,
        )
    for request in await deps.store.requests_of(member.member_id):
        await deps.store.join_requests.delete(request.key)
    inactive = replace(member, status=DEPARTED)
    revision = found.revision
    if member.status != DEPARTED:
        revision = await deps.store.members.put(member.member_id, inactive)
    await publish_member(inactive, revision, deps, new=False, changed=["status"])
    await deps.events.publish(
        public.member_deactivated(inactive, deps.clock()),
        event_id=derived_id("member_deactivated", member.member_id, str(revision)),
        subject=member.member_id,
    )


async def when_erasure_requested_erase_member(
    event: Envelope[ErasureRequestedV1], deps: Deps
) -> None:
    """Remove the person's personal data from everything membership holds, securely (no
    bytes left on disk), then tell the other services to do the same. Safe to run again."""
    person_id = event.data.person_id
    report = ErasureReport()
    ref = public.ref_of(person_id, deps.region)
    for community_id in sorted(deps.store.index.by_member.get(person_id, set())):
        await remove_from_community(community_id, ref, LeaveReason.ERASED, deps)
        report.memberships += 1
    for request in await deps.store.requests_of(person_id):
        await deps.store.join_requests.erase(request.key)
        report.join_requests += 1
    report.member_records = int(await deps.store.member(person_id) is not None)
    await deps.store.members.erase(person_id)  # a purge marker: the org chart forgets them
    streams, js = Streams(deps.region), deps.store.members.js
    report.contact_messages = await erase_messages(
        js, streams.personal, personal_key_filter(deps.region, "membership", person_id)
    )
    report.hr_events = await erase_messages(
        js, streams.ingest, f"ingest.{deps.region}.hr.>", about_person(person_id)
    )
    report.dead_letters = await erase_messages(
        js, streams.dead_letters, f"dlq.{deps.region}.membership.>", about_person(person_id)
    )
    copies = dead_letter_original_subject(deps.region, streams.ingest)
    report.dead_letters += await erase_messages(
        js, streams.dead_letter_originals, copies, about_person(person_id)
    )
    report.dead_letters += await erase_dead_letters(  # of its other consumers: by id
        js, deps.region, Service.MEMBERSHIP, mentions_id(person_id)
    )
    ledger = bucket_name(Service.MEMBERSHIP, "requests", deps.region)
    quoted = f'"{person_id}"'.encode()
    report.stored_replies = await erase_messages(
        js, f"KV_{ledger}", f"$KV.{ledger}.>", lambda _s, _h, data: quoted in data
    )
    await deps.events.publish(
        public.member_erased(person_id, deps.region, deps.clock(), event.data.request_ref),
        event_id=derived_id("member_erased", person_id, event.data.request_ref),
        subject=person_id,
        cause=event,
    )
    log.info("member erased", extra={"request_ref": event.data.request_ref, **report.__dict__})


def about_person(person_id: str) -> Callable[[str, dict[str, str], bytes], bool]:
    """A message predicate: an HR event, or a dead letter of one, about ``person_id``."""

    def holds(subject: str, headers: dict[str, str], data: bytes) -> bool:
        document = _json(data)
        if isinstance(document, dict) and "body" in document and "dead_lettered_at" in document:
            document = _json(document["body"].encode())  # a dead letter: look at the original
        if not isinstance(document, dict):
            return person_id.encode() in data
        payload = document.get("data", document)
        return isinstance(payload, dict) and payload.get("person_id") == person_id

    return holds


def _json(data: bytes) -> object:
    try:
        return load_json(data)
    except UnreadableJson:
        return None
