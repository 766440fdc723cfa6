"""Reactions to the HR directory: hires, changes, departures and erasure requests.

A hire makes three kinds of writes, each step confirmed before the next starts, so that a
redelivery after a crash at any point completes what the crash left and repeats nothing:

1. the HR link (person -> member id): a create, so the member id is drawn once however many
   deliveries race; the link and an earlier record under the HR id are read in one round trip;
2. the member record: a create for someone new (no read needed: a member id drawn just now has
   no record), else a compare-and-set over the record read, so a hire and a change handled at
   once do not undo each other (the loser decides again from what is stored). Its revision is
   in the events, so it goes before them;
3. ``member_registered`` (or ``member_updated``), ``member_contact`` and
   ``member_confidential``, pipelined (:func:`shared.tasks.pipelined`): ids derived from the
   member and the revision, so a redelivery publishes the same events, which JetStream keeps once.

The org chart (managers' chains) reads the member writes from memory at once
(:mod:`shared.own_writes`): nothing here waits for a bucket's follower.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from nats.js import JetStreamContext

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
    consumer_name,
    dead_letter_original_subject,
    ingest_filter,
    ingest_purpose,
)
from shared.publishers import HR, sending
from shared.storage import erase_dead_letters, erase_messages

log = logging.getLogger("guild.membership.hr")


def member_from_hire(
    hire: PersonHiredV1, member_id: str, manager_id: str | None, *, home_region: str, at: datetime
) -> Member:
    """The member ``hire`` describes, under Guild's ids (``member_id`` for the person,
    ``manager_id`` for their manager), never the HR ones."""
    return Member(
        member_id=member_id,
        person_id=hire.person_id,
        home_region=home_region,
        region=hire.region,
        timezone=hire.timezone,
        display_name=hire.display_name,
        email=hire.email,
        skills=tuple(Skill(s.name, s.level.value) for s in hire.skills),
        languages=tuple(hire.languages),
        title=hire.title,
        manager_id=manager_id,
        registered_at=at,
        team=hire.team,
        legal_entity=hire.legal_entity,
    )


async def when_person_hired_register_member(event: Envelope[PersonHiredV1], deps: Deps) -> None:
    """Store the new member, then publish their public profile and (privately) their contact.

    Writes, in this order, each step confirmed before the next (see the module doc): the HR
    link (drawn once), the member record (a create, or compare-and-set over what is stored),
    then the three events pipelined. Re-running for the same event stores nothing new and
    publishes the same event ids (``member_registered`` too: the record's ``registered_at``
    is this hire's), so a crash anywhere heals on redelivery.
    """
    hire, store = event.data, deps.store
    link, manager_id = await asyncio.gather(
        store.people.link(hire.person_id, likely_new=True), _member_for(hire.manager_id, deps)
    )
    candidate = member_from_hire(
        hire, link.member_id, manager_id, home_region=deps.region, at=event.time or deps.clock()
    )
    existing = None if link.drawn else await store.member(link.member_id)
    member = register(existing.value if existing else None, candidate)
    changed = existing.value.changed_fields(member) if existing else []
    revision = existing.revision if existing else None
    if revision is None or changed:
        revision = await store.write(store.members, member.member_id, member, revision=revision)
        if revision is None:  # written meanwhile (the same hire delivered twice): decide again
            await when_person_hired_register_member(event, deps)
            return
    registers = existing is None or existing.value.registered_at == candidate.registered_at
    await publish_member(member, revision, deps, new=registers, changed=changed)


async def _member_for(person_id: str | None, deps: Deps) -> str | None:
    return await deps.store.people.member_for(person_id) if person_id else None


async def when_person_changed_update_member(event: Envelope[PersonChangedV1], deps: Deps) -> None:
    """Apply what HR changed; if their manager changed, the chains below them changed too."""
    change, store = event.data, deps.store
    found = await store.member_of_person(change.person_id)
    if found is None:  # the HR person id is not said: it is personal data, logs carry ids
        raise MemberNotKnownYet("the person this HR change names is not registered (yet)")
    changes = hr_changes(change)
    if change.manager_id is not None:
        changes["manager_id"] = await store.people.member_for(change.manager_id)
    member = replace(found.value, **changes)
    changed = found.value.changed_fields(member)
    revision: int | None = found.revision
    if changed:
        revision = await store.write(store.members, member.member_id, member, revision=revision)
        if revision is None:  # changed meanwhile: apply this change to what is stored now
            await when_person_changed_update_member(event, deps)
            return
    await publish_member(member, revision, deps, new=False, changed=changed)
    if "manager_id" in changed:  # the org chart holds the new manager already
        for report_id in store.org.everyone_under(member.member_id):
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
    revision = found.value.published_revision(found.revision)
    await deps.events.publish(
        public.member_confidential(found.value, chain, revision),
        event_id=derived_id(
            "member_confidential", deps.region, member_id, str(revision), ",".join(chain)
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
    departed, people = event.data, deps.store.people
    found = await deps.store.member_of_person(departed.person_id)
    if found is None:
        return  # never a member: nothing to undo
    member = found.value
    successor = await people.member_of(departed.successor_id) if departed.successor_id else None
    for community_id in sorted(deps.store.index.by_member.get(member.member_id, set())):
        await remove_from_community(
            community_id,
            public.ref(member),
            LeaveReason.DEPARTED,
            deps,
            successor=successor,
        )
    for request in await deps.store.requests_of(member.member_id):
        await deps.store.join_requests.delete(request.key)
    inactive = replace(member, status=DEPARTED)
    revision: int | None = found.revision
    if member.status != DEPARTED:
        store = deps.store
        revision = await store.write(store.members, member.member_id, inactive, revision=revision)
        if revision is None:  # changed meanwhile: what is done above is done again as a no-op
            await when_person_departed_deactivate_member(event, deps)
            return
    await publish_member(inactive, revision, deps, new=False, changed=["status"])
    await deps.events.publish(
        public.member_deactivated(inactive, deps.clock()),
        event_id=derived_id(
            "member_deactivated", member.member_id, str(inactive.published_revision(revision))
        ),
        subject=member.member_id,
    )


async def when_erasure_requested_erase_member(
    event: Envelope[ErasureRequestedV1], deps: Deps
) -> None:
    """Remove the person's personal data from everything membership holds, securely (no
    bytes left on disk), tell the other services to do the same, and last erase the link
    from their HR person id to their member id. Safe to run again: a run after the link
    went finds no member and erases only what names the HR id (nothing by then)."""
    person_id, report = event.data.person_id, ErasureReport()
    member_id = await deps.store.people.member_of(person_id)
    if member_id is not None:
        await _erase_member(member_id, report, deps)
    await erase_hr_traces(person_id, report, deps)
    if member_id is not None:
        await deps.events.publish(
            public.member_erased(member_id, deps.region, deps.clock(), event.data.request_ref),
            event_id=derived_id("member_erased", member_id, event.data.request_ref),
            subject=member_id,
            cause=event,
        )
        await deps.store.people.forget(person_id)
    log.info("member erased", extra={"request_ref": event.data.request_ref, **report.__dict__})


async def erase_hr_traces(person_id: str, report: ErasureReport, deps: Deps) -> None:
    """The HR events about the person (and those naming them that membership has handled),
    their dead letters, and the copies of those dead-lettered events."""
    js, streams = deps.store.members.js, Streams(deps.region)
    for publisher in sending(HR):
        report.hr_events += await _erase_hr_events(js, deps.region, publisher, person_id)
    report.dead_letters += await erase_messages(
        js, streams.dead_letters, f"dlq.{deps.region}.membership.>", about_person(person_id)
    )
    for publisher in sending(HR):
        copies = dead_letter_original_subject(deps.region, streams.ingest_of(publisher))
        report.dead_letters += await erase_messages(
            js, streams.dead_letter_originals, copies, about_person(person_id)
        )


async def _erase_hr_events(
    js: JetStreamContext, region: str, publisher: str, person_id: str
) -> int:
    """``publisher``'s HR events about the person, and those naming them as someone's manager
    or successor that membership has handled."""
    stream, events = Streams(region).ingest_of(publisher), ingest_filter(region, publisher, HR)
    erased = await erase_messages(js, stream, events, about_person(person_id))
    handled = await js.consumer_info(
        stream, consumer_name(Service.MEMBERSHIP, ingest_purpose(publisher))
    )
    return erased + await erase_messages(
        js, stream, events, naming(person_id), up_to=handled.ack_floor.stream_seq
    )


async def _erase_member(member_id: str, report: ErasureReport, deps: Deps) -> None:
    """Everything membership keeps under the member id: memberships, requests, their record,
    contact messages, dead letters and stored replies that name them."""
    ref = public.ref_of(member_id, deps.region)
    for community_id in sorted(deps.store.index.by_member.get(member_id, set())):
        await remove_from_community(community_id, ref, LeaveReason.ERASED, deps)
        report.memberships += 1
    for request in await deps.store.requests_of(member_id):
        await deps.store.join_requests.erase(request.key)
        report.join_requests += 1
    await _leave_org_chart(member_id, deps)
    # their contact and confidential messages, and others' chains that named them before
    await erase_member_records(member_id, report, deps, personal=f"personal.{deps.region}.>")


async def erase_member_records(
    member_id: str, report: ErasureReport, deps: Deps, *, personal: str
) -> None:
    """Their record, the personal messages on ``personal`` that name them, the dead letters
    and the stored replies that name them."""
    report.member_records = int(await deps.store.member(member_id) is not None)
    await deps.store.members.erase(member_id)  # a purge marker: the org chart forgets them
    js = deps.store.members.js
    report.contact_messages = await erase_messages(
        js, Streams(deps.region).personal, personal, naming(member_id)
    )
    report.dead_letters += await erase_dead_letters(  # of its other consumers: by id
        js, deps.region, Service.MEMBERSHIP, mentions_id(member_id)
    )
    ledger = bucket_name(Service.MEMBERSHIP, "requests", deps.region)
    report.stored_replies = await erase_messages(
        js, f"KV_{ledger}", f"$KV.{ledger}.>", naming(member_id)
    )


async def _leave_org_chart(member_id: str, deps: Deps) -> None:
    """Their reports have no manager in Guild until HR names one, and nobody's manager chain
    names them any more (each chain below them is published again without them)."""
    store = deps.store
    below = store.org.everyone_under(member_id)
    for report_id in sorted(store.org.reports.get(member_id, ())):
        found = await store.member(report_id)
        if found is not None and found.value.manager_id == member_id:
            await store.put(store.members, report_id, replace(found.value, manager_id=None))
    for report_id in below:  # the org chart holds the changes above already
        await republish_confidential(report_id, deps)


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


def naming(person_id: str) -> Callable[[str, dict[str, str], bytes], bool]:
    """A message predicate: the message names ``person_id`` anywhere (as an id)."""
    mentions = mentions_id(person_id)
    return lambda _subject, _headers, data: mentions(data)


def _json(data: bytes) -> object:
    try:
        return load_json(data)
    except UnreadableJson:
        return None
