"""Routing and delivering notifications: one message per event per member, at the right time,
through the channels they chose, each (cause, member, channel) at most once.

For each member homed here, the notifications an event gives them become one (listing every
reason), and their preferences decide (see :func:`~services.notifications.domain.preferences
.decide`): *now* (the inbox and their endpoints), *defer* (the inbox now, their endpoints when
quiet hours end), *digest* (kept for their next digest) or *suppress* (not sent, and why). The
decision is kept in the ledger, so a redelivered or replayed event is decided once, counted
against the day's budget once, and delivered once per channel (the inbox deduplicates by
notification id, the outbox by its message id and the ledger).

What is stored is bounded by what happens now. An event to a whole audience (a question to
its community and its tags' followers) comes with its :class:`~services.notifications.domain
.bulletins.Bulletin`, kept once: a member for whom it merely waits in a digest, or who does
not get it, has nothing stored (no decision, no digest item, no status); their digest is made
from the bulletin when it is due (see :mod:`~services.notifications.handlers.schedule`).
Every event's outcomes are counted in one ``notifications_routed`` event; members it reached
have their ledger entries, inbox item and statuses as well.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from services.notifications.channels import Channel
from services.notifications.domain.bulletins import Bulletin
from services.notifications.domain.endpoints import Endpoint, Message, Parcel
from services.notifications.domain.model import (
    ALREADY_TOLD,
    TOLD,
    Contact,
    Delivery,
    Dispatch,
    Notification,
    Status,
    delivery_key,
    one_per_member,
    tell_once,
    turn_offs,
)
from services.notifications.domain.preferences import (
    Action,
    Preferences,
    Priority,
    Verdict,
    decide,
)
from services.notifications.domain.waiting import DigestEntry, Held
from services.notifications.events import public
from services.notifications.handlers import Deps
from shared.contracts.notifications import NotificationsRoutedV1, RoutedOutcome
from shared.envelope import Envelope
from shared.ids import derived_id


@dataclass(frozen=True)
class Cause:
    """The event a notification comes from (a digest is its own cause)."""

    id: str
    type: str
    envelope: Envelope[Any] | None = None
    bulletin: Bulletin | None = None
    """What the event tells its whole audience, kept once for their digests: members it
    merely waits for in a digest, or who do not get it, have nothing stored of their own."""

    @classmethod
    def of(cls, event: Envelope[Any], bulletin: Bulletin | None = None) -> Cause:
        return cls(event.id, event.type, event, bulletin)

    def keeps_quiet(self, verdict: Verdict) -> bool:
        """Whether nothing is stored for a member with ``verdict`` (the bulletin says it)."""
        return self.bulletin is not None and verdict.action in (Action.DIGEST, Action.SUPPRESS)


def bulletin_key(cause_id: str) -> str:
    return delivery_key(cause_id, "", "bulletin")


async def deliver(
    cause: Envelope[Any],
    notifications: Iterable[Notification],
    deps: Deps,
    bulletin: Bulletin | None = None,
) -> None:
    """Route each member's notification (members homed here only: each region delivers to
    its own), ``bulletin`` kept first for the digests of its audience; then say what came of
    them all in one event."""
    if bulletin is not None:
        await deps.store.keep_bulletin(bulletin_key(cause.id), bulletin)
    routed = Cause.of(cause, bulletin)
    outcomes: Counter[tuple[Action, str]] = Counter()
    for notification in one_per_member(notifications):
        if notification.recipient.home_region == deps.region:
            verdict = await route(routed, notification, deps)
            if not notification.confidential:  # only its recipient may learn it exists
                outcomes[verdict.action, verdict.why] += 1
    if outcomes:
        await _tally(routed, outcomes, deps)


async def _tally(cause: Cause, outcomes: Counter[tuple[Action, str]], deps: Deps) -> None:
    counted = [RoutedOutcome(action=action.value, why=why, count=count)
               for (action, why), count in sorted(outcomes.items())]  # fmt: skip
    routed = NotificationsRoutedV1(cause_id=cause.id, cause_type=cause.type,
                                   recipients=outcomes.total(), outcomes=counted,
                                   at=deps.clock())  # fmt: skip
    await deps.events.publish(routed, event_id=derived_id(routed.TYPE, cause.id, deps.region),
                              cause=cause.envelope)  # fmt: skip


async def route(cause: Cause, notification: Notification, deps: Deps) -> Verdict:
    member_id = notification.recipient.member_id
    prefs = deps.store.preferences_of(member_id)
    notification = notification.without(prefs.reasons_off)
    verdict = await _told_already(cause, notification, deps)
    if verdict is None:
        verdict = await _decided_once(cause, notification, prefs, deps)
        verdict = await _claim_topic(cause, notification, verdict, deps)
    if cause.keeps_quiet(verdict):
        return verdict
    if verdict.action.to_inbox:
        await send_to_inbox(cause, notification, deps)
    if verdict.action is Action.NOW:
        await push(template(cause, notification, deps), deps, prefs)
    elif verdict.action is Action.DEFER:
        await _hold(cause, notification, verdict, deps, prefs)
    elif verdict.action in (Action.DIGEST, Action.OVERFLOW) and verdict.until is not None:
        await _keep_for_digest(cause, notification, verdict, deps)
    else:
        await _announce(cause, notification, "none", verdict, deps)
    return verdict


async def _decided_once(
    cause: Cause, notification: Notification, prefs: Preferences, deps: Deps
) -> Verdict:
    """The decision for (cause, member), made the first time and kept in the ledger. (Two
    copies of one event handled at the same moment may count twice against the budget;
    they still deliver once.)"""
    key = delivery_key(cause.id, notification.recipient.member_id, "route")
    held = await deps.store.ledger.get(key)
    if held is not None:
        return _verdict_of(held.value)
    now = deps.clock()
    decided: list[Verdict] = []

    def decide_and_count(spent: int | None) -> int | None:
        """Decide with today's count; count it if it interrupts (compare-and-set, so that
        concurrent notifications cannot all slip under the budget)."""
        verdict = decide(
            prefs,
            now=now,
            priority=notification.priority,
            community_id=notification.community_id,
            for_me=notification.for_me,
            reasons=frozenset(reason.key for reason in notification.reasons),
            interruptions_today=spent or 0,
        )
        decided[:] = [verdict]
        counted = verdict.action.interrupts and notification.priority < Priority.CRITICAL
        return (spent or 0) + 1 if counted else None

    budget_key = _budget_key(notification.recipient.member_id, prefs, now)
    await deps.store.budget.change(budget_key, decide_and_count)
    verdict = decided[0]
    if cause.keeps_quiet(verdict):  # decided again, alike, if the event comes again
        return verdict
    until = verdict.until.isoformat() if verdict.until else ""
    record = Delivery(verdict.action, now.isoformat(), why=verdict.why, until=until)
    if await deps.store.ledger.create(key, record) is None:  # decided meanwhile (a redelivery)
        found = await deps.store.ledger.get(key)
        return _verdict_of(found.value) if found else verdict
    return verdict


async def _told_already(cause: Cause, notification: Notification, deps: Deps) -> Verdict | None:
    """Not sent if another event's notification of the same topic reached the member's inbox
    already (known before deciding, so that it is not counted against their budget)."""
    if notification.topic is None:
        return None
    told = await deps.store.ledger.get(_told_key(notification.topic, notification))
    goes_on, _ = tell_once(told.value if told else None, cause.id, Action.NOW)
    return None if goes_on else Verdict(Action.SUPPRESS, ALREADY_TOLD)


async def _claim_topic(
    cause: Cause, notification: Notification, verdict: Verdict, deps: Deps
) -> Verdict:
    """Record that this notification tells the member of its topic, unless one that told
    them already stands (compare-and-set: two events handled at once agree); a digest item
    it takes the place of is taken out of their digest."""
    if notification.topic is None or verdict.action is Action.SUPPRESS:
        return verdict
    if cause.keeps_quiet(verdict):  # the digest, when it is built, asks what told them
        return verdict
    member_id = notification.recipient.member_id
    outcome: list[tuple[bool, str | None]] = []

    def claim(told: Delivery | None) -> Delivery | None:
        outcome[:] = [tell_once(told, cause.id, verdict.action)]
        goes_on = outcome[0][0]
        if not goes_on or (told is not None and told.cause_id == cause.id):
            return None
        return Delivery(verdict.action, deps.clock().isoformat(), cause_id=cause.id)

    await deps.store.ledger.change(_told_key(notification.topic, notification), claim)
    goes_on, superseded = outcome[0]
    if superseded is not None:
        await deps.store.digest.delete(_digest_key(superseded, member_id))
    return verdict if goes_on else Verdict(Action.SUPPRESS, ALREADY_TOLD)


def _told_key(topic: str, notification: Notification) -> str:
    return delivery_key(topic, notification.recipient.member_id, TOLD)


def _digest_key(cause_id: str, member_id: str) -> str:
    """A member's digest item of one cause."""
    return f"{member_id}.{delivery_key(cause_id, member_id, 'digest')}"


def _verdict_of(record: Delivery) -> Verdict:
    if record.decision is None:
        raise TypeError(f"the route entry holds a delivery status, not a decision: {record}")
    until = datetime.fromisoformat(record.until) if record.until else None
    return Verdict(record.decision, record.why, until)


def _budget_key(member_id: str, prefs: Preferences, now: datetime) -> str:
    return f"{member_id}.{now.astimezone(prefs.zone).date().isoformat()}"


# ------------------------------------------------------------------ the inbox (built-in)


async def send_to_inbox(cause: Cause, notification: Notification, deps: Deps) -> None:
    """Through every built-in channel (the inbox, the console), once each."""
    contact = await deps.store.contact(notification.recipient.member_id)
    for channel in deps.channels:
        await _deliver_once(cause, notification, channel, contact, deps)


async def _deliver_once(
    cause: Cause, notification: Notification, channel: Channel, contact: Contact | None, deps: Deps
) -> None:
    key = delivery_key(cause.id, notification.recipient.member_id, channel.name)
    held = await deps.store.ledger.get(key)
    if held is not None and held.value.status is Status.DELIVERED:
        return
    if held is None:
        await deps.store.ledger.create(key, Delivery(Status.CLAIMED, deps.clock().isoformat()))
    dispatch = Dispatch(key, cause.id, cause.type, channel.name, notification)
    await channel.send(dispatch, contact)
    delivered_at = deps.clock()
    if not notification.confidential:
        await deps.events.publish(
            public.notification_delivered(dispatch, delivered_at),
            event_id=derived_id("notification_delivered", dispatch.notification_id),
            subject=notification.recipient.member_id,
            cause=cause.envelope,
        )
    await deps.store.ledger.put(key, Delivery(Status.DELIVERED, delivered_at.isoformat()))


# ------------------------------------------------------------------ the member's endpoints


def template(cause: Cause, notification: Notification, deps: Deps) -> Parcel:
    """The notification as every endpoint gets it, before the endpoint's own id and links."""
    member_id = notification.recipient.member_id
    links = post_links(notification, deps) + tuple(
        (label, deps.links.turn_off(member_id, key))
        for key, label in turn_offs(notification.reasons)
    )
    message = Message(
        notification_id="",
        kind=notification.kind,
        title=notification.title,
        body=notification.body,
        reasons=tuple(notification.reason_texts),
        created_at=deps.clock(),
        links=links,
    )
    return Parcel(
        member_id=member_id,
        home_region=notification.recipient.home_region,
        endpoint_id="",
        message=message,
        cause_id=cause.id,
        cause_type=cause.type,
        headline=notification.public_title,
        confidential=notification.confidential,
    )


def post_links(notification: Notification, deps: Deps) -> tuple[tuple[str, str], ...]:
    """(label, URL) of each post the notification is about, in the portal."""
    return tuple((post.label, deps.links.post(post)) for post in notification.posts)


def for_endpoint(parcel: Parcel, endpoint: Endpoint, deps: Deps) -> Parcel:
    key = delivery_key(parcel.cause_id, parcel.member_id, endpoint.endpoint_id)
    unsubscribe = deps.links.unsubscribe(parcel.member_id, parcel.message.kind,
                                         endpoint.endpoint_id)  # fmt: skip
    message = replace(parcel.message, notification_id=key, unsubscribe_url=unsubscribe)
    return replace(parcel, endpoint_id=endpoint.endpoint_id, message=message)


async def wanted_endpoints(
    member_id: str, kind: str, prefs: Preferences, deps: Deps
) -> list[Endpoint]:
    endpoints = (await deps.store.member_endpoints(member_id)).endpoints
    return [e for e in endpoints if e.enabled and prefs.wants(kind, e.endpoint_id)]


async def push(parcel: Parcel, deps: Deps, prefs: Preferences) -> int:
    """Queue ``parcel`` for each endpoint the member wants this kind on; how many."""
    assert deps.outbox is not None, "the outbox is not wired"
    endpoints = await wanted_endpoints(parcel.member_id, parcel.message.kind, prefs, deps)
    for endpoint in endpoints:
        await deps.outbox.put(for_endpoint(parcel, endpoint, deps))
    return len(endpoints)


async def _hold(
    cause: Cause, notification: Notification, verdict: Verdict, deps: Deps, prefs: Preferences
) -> None:
    """Keep the pushes until the window opens (the release chore sends them then)."""
    assert verdict.until is not None
    parcel = template(cause, notification, deps)
    member_id = notification.recipient.member_id
    key = f"{member_id}.{delivery_key(cause.id, member_id, 'held')}"
    await deps.store.held.put(key, Held(verdict.until, verdict.why, parcel))
    if notification.confidential:
        return
    for endpoint in await wanted_endpoints(member_id, notification.kind, prefs, deps):
        routed = for_endpoint(parcel, endpoint, deps)
        status = public.parcel_deferred(routed, endpoint.shown(), verdict.why, deps.clock(),
                                        verdict.until, 0)  # fmt: skip
        await deps.events.publish(status, event_id=derived_id(status.TYPE, routed.key, "held"),
                                  subject=member_id, cause=cause.envelope)  # fmt: skip


# ------------------------------------------------------------------ digest and statuses


async def _keep_for_digest(
    cause: Cause, notification: Notification, verdict: Verdict, deps: Deps
) -> None:
    assert verdict.until is not None
    member_id = notification.recipient.member_id
    entry = DigestEntry(
        due=verdict.until,
        kind=notification.kind,
        title=notification.title,
        reasons=tuple(notification.reason_texts),
        at=deps.clock(),
        why=verdict.why,
        links=post_links(notification, deps),
    )
    await deps.store.digest.put(_digest_key(cause.id, member_id), entry)
    await _announce(cause, notification, "digest", verdict, deps)


async def _announce(
    cause: Cause, notification: Notification, channel: str, verdict: Verdict, deps: Deps
) -> None:
    """Say what became of it: kept for the digest (``verdict.until``), or not sent."""
    if notification.confidential:
        return
    parcel = template(cause, notification, deps)
    key = delivery_key(cause.id, parcel.member_id, channel)
    parcel = replace(parcel, message=replace(parcel.message, notification_id=key))
    now = deps.clock()
    status = (
        public.parcel_digested(parcel, channel, verdict.why, now, verdict.until)
        if verdict.until is not None
        else public.parcel_suppressed(parcel, channel, verdict.why, now)
    )
    await deps.events.publish(status, event_id=derived_id(status.TYPE, key),
                              subject=parcel.member_id, cause=cause.envelope)  # fmt: skip
