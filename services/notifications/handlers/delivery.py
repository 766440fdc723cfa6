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

Nothing reaches an erased member, not even from an event that comes after their erasure (a
redelivery, a delayed event, a fan-out part still pending): the erasure marks them erased
(:meth:`~services.notifications.store.buckets.NotificationsStore.mark_erased`, in memory at
once, then in the ``erased`` bucket that every replica follows) *before* it erases what is
kept of them, and a delivery skips every member so marked (counted suppressed, why
:data:`~services.notifications.domain.model.ERASED`; nothing stored). A delivery already
decided when the erasure starts (handlers run concurrently) may still write after the erasure
erased their inbox; so, once its writes are confirmed, a delivery looks at the mark again for
the members it wrote to, and erases again what it wrote for any marked meanwhile. Within one
instance this closes the race, both sides doing "write, then look" on one event loop: if the
delivery's look finds no mark, the mark was set after it, so the erasure's erasing began
after the delivery's writes were confirmed, and erases them; if it finds the mark, the
delivery erases them itself. Another replica sees the mark once its follower brings it (a
delivery there in the follower's lag is not caught by the look, only by the next erasure).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cached_property
from typing import Any

from services.notifications.channels import Channel
from services.notifications.domain.bulletins import Bulletin
from services.notifications.domain.endpoints import Endpoint, Message, Parcel
from services.notifications.domain.model import (
    ALREADY_TOLD,
    ERASED,
    TOLD,
    Delivery,
    Dispatch,
    Notification,
    PartRecord,
    Status,
    budget_key,
    day_key,
    delivery_key,
    one_per_member,
    part_key,
    tell_once,
    turn_offs,
    verdict_for,
)
from services.notifications.domain.preferences import (
    Action,
    Preferences,
    Priority,
    Verdict,
)
from services.notifications.domain.waiting import DigestEntry, Held
from services.notifications.events import public
from services.notifications.handlers import Deps
from shared.contracts.notifications import NotificationsRoutedV1, RoutedOutcome
from shared.envelope import Envelope
from shared.ids import derived_id
from shared.tasks import pipelined


@dataclass(frozen=True)
class Cause:
    """The event a notification comes from (a digest is its own cause)."""

    id: str
    type: str
    envelope: Envelope[Any] | None = None
    bulletin: Bulletin | None = None
    """What the event tells its whole audience, kept once for their digests: members it
    merely waits for in a digest, or who do not get it, have nothing stored of their own."""
    part: int = 0
    """The part of the event's recipients being routed: 0 the people it names itself (the
    experts suggested, the asker, those mentioned), then 1, 2, ... the parts of a large
    fan-out. Each part's ledger entries are one
    :class:`~services.notifications.domain.model.PartRecord`."""

    @classmethod
    def of(cls, event: Envelope[Any], bulletin: Bulletin | None = None) -> Cause:
        return cls(event.id, event.type, event, bulletin)

    @cached_property
    def part_key(self) -> str | None:
        """Its part record's key (None: not an event's, a digest); asked for each member's
        decision."""
        return part_key(self.id, self.part) if self.envelope is not None or self.part else None

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
    mine = [homed(n, deps) for n in one_per_member(notifications)]
    mine = [n for n in mine if n.recipient.home_region == deps.region]
    await tally(routed, await route_all(routed, mine, deps), deps)


def homed(notification: Notification, deps: Deps) -> Notification:
    """``notification`` for its recipient where they are homed now (an event written before
    they moved names their old home region)."""
    recipient = notification.recipient
    home = deps.store.home_of(recipient.member_id, recipient.home_region)
    if home == recipient.home_region:
        return notification
    return replace(notification, recipient=replace(recipient, home_region=home))


async def tally(cause: Cause, plans: list[Plan], deps: Deps, part: int = 0) -> None:
    """One ``notifications_routed`` event for what ``plans`` came to (none if there are
    none, or only confidential ones: only their recipient may learn they exist)."""
    outcomes = Counter((p.verdict.action, p.verdict.why) for p in plans
                       if not p.notification.confidential)  # fmt: skip
    if not outcomes:
        return
    counted = [RoutedOutcome(action=action.value, why=why, count=count)
               for (action, why), count in sorted(outcomes.items())]  # fmt: skip
    routed = NotificationsRoutedV1(cause_id=cause.id, cause_type=cause.type, part=part,
                                   recipients=outcomes.total(), outcomes=counted,
                                   at=deps.clock())  # fmt: skip
    event_id = derived_id(routed.TYPE, cause.id, deps.region, str(part))
    await deps.events.publish(routed, event_id=event_id, cause=cause.envelope)


async def route(cause: Cause, notification: Notification, deps: Deps) -> Verdict:
    """One member's notification (see :func:`route_all`)."""
    (plan,) = await route_all(cause, [notification], deps)
    return plan.verdict


# ------------------------------------------------------------------ decide in memory


@dataclass(frozen=True)
class Plan:
    """What was decided for one member's notification, and what the ledger must be told
    for it before anything is sent (each None: nothing)."""

    notification: Notification
    prefs: Preferences
    verdict: Verdict
    decision: tuple[str, Delivery] | None = None
    """The routing decision to create (the first time it is made)."""
    spent: tuple[str, int] | None = None
    """The day's count of interruptions it makes (budget key, new count)."""
    told: tuple[str, Delivery, Delivery | None] | None = None
    """The 'told' entry it makes (key, record, the one known before: if none, created)."""
    superseded: str | None = None
    """The member's own digest item of another event that it takes the place of."""
    counted: str | None = None
    """The day key (:func:`day_key`) of the interruption it makes, counted by its part."""
    by_part: bool = False
    """Its ledger entries go into its part's record, not one by one."""

    @property
    def member_id(self) -> str:
        return self.notification.recipient.member_id

    @property
    def for_erased(self) -> bool:
        """Decided for a member already erased: nothing is carried out."""
        return self.verdict.why == ERASED


async def route_all(cause: Cause, notifications: list[Notification], deps: Deps) -> list[Plan]:
    """Decide every member's notification in memory, tell the ledger (pipelined), then make
    every delivery (pipelined); returns once all are confirmed, so that the event is acked
    only then. The ledger is the authority: a decision or 'told' entry another copy of the
    event stored meanwhile is found when ours cannot be created, and that member is decided
    again from it. A redelivery after a crash finds in memory (the ledger's read model, fed
    by the bucket) what was decided and delivered, and sends nothing twice (the inbox and the
    outbox also deduplicate by notification id).

    A part of a large fan-out (``cause.part``) tells the ledger in one record for all its
    members (:class:`~services.notifications.domain.model.PartRecord`) instead of five
    records each; the same guarantees, argued in :func:`_recorded` and :func:`_part_delivered`."""
    moment = Moment(deps.clock())
    plans = {p.member_id: p for p in (plan(cause, n, deps, moment) for n in notifications)}
    pending, created = list(plans.values()), None
    while True:
        conflicts, record = await _recorded(cause, pending, deps)
        created = created or record
        if not conflicts:
            break
        moment = Moment(deps.clock())
        pending = [plan(cause, p.notification, deps, moment) for p in conflicts]
        plans.update((p.member_id, p) for p in pending)
    await pipelined(carry_out(cause, p, deps) for p in plans.values() if _carried_out(cause, p))
    await _part_delivered(cause, list(plans.values()), created, deps)
    await _erase_again(plans.values(), deps)
    return list(plans.values())


async def _erase_again(plans: Iterable[Plan], deps: Deps) -> None:
    """What was just delivered to members erased meanwhile, erased again (their erasure may
    have erased their inbox before these writes landed; see the module doc)."""
    store = deps.store
    for member_id in {
        p.member_id for p in plans if not p.for_erased and store.is_erased(p.member_id)
    }:
        await store.erase_deliveries(member_id)


class Moment:
    """When one event's recipients are decided, and what follows from that moment for each
    set of preferences: its local day, and the verdict for a notification alike in all that
    :func:`decide` reads (priority, community, for whom, today's count, and its reasons if
    the member turned any off: else they decide nothing). Members who keep the defaults in
    one timezone share one preferences object (:meth:`~services.notifications.store.buckets
    .NotificationsStore.preferences_of`), so a community of thousands is decided a handful of
    times, not once per member. Lives for one routing (the objects its keys name by ``id``
    are held in its values)."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self._days: dict[int, tuple[Preferences, str]] = {}
        self._verdicts: dict[tuple[Any, ...], tuple[Preferences, Verdict]] = {}

    def day(self, prefs: Preferences) -> str:
        """The member's local date now (ISO)."""
        held = self._days.get(id(prefs))
        if held is None:
            held = self._days[id(prefs)] = (
                prefs,
                self.now.astimezone(prefs.zone).date().isoformat(),
            )
        return held[1]

    def verdict(self, prefs: Preferences, notification: Notification, today: int) -> Verdict:
        """:func:`verdict_for` the notification now, with ``today`` interruptions so far."""
        reasons = tuple(r.key for r in notification.reasons) if prefs.reasons_off else ()
        key = (id(prefs), notification.priority, notification.community_id, notification.for_me,
               reasons, today)  # fmt: skip
        held = self._verdicts.get(key)
        if held is None:
            verdict = verdict_for(prefs, notification, now=self.now, interruptions_today=today)
            held = self._verdicts[key] = (prefs, verdict)
        return held[1]


def plan(
    cause: Cause, notification: Notification, deps: Deps, moment: Moment | None = None
) -> Plan:
    """The member's verdict, from memory only (preferences, the ledger's decisions and 'told'
    entries, the day's count), noted in memory at once so that the next decision (another
    event handled meanwhile) sees it. Keeps :func:`decide`'s rules and :func:`tell_once`'s.
    Decided at ``moment`` (now if not given), shared by every recipient of the event.

    In a part of a large fan-out (``by_part``) the member's entries go into the part's
    record, made once: while it is not made, every new entry; once it is (a redelivered
    part, another copy of it), none, only their deliveries, the decisions and 'told'
    entries being reused from it. What is still to decide then (a member it did not
    decide), and a 'told' entry replacing another event's (the record creates, it never
    replaces), are recorded one by one."""
    store, member_id = deps.store, notification.recipient.member_id
    moment = moment or Moment(deps.clock())
    prefs = store.preferences_of(member_id)
    if store.is_erased(member_id):
        return Plan(notification, prefs, Verdict(Action.SUPPRESS, ERASED))
    notification = notification.without(prefs.reasons_off)
    told_key = _told_key(notification.topic, notification) if notification.topic else None
    told = store.facts.decided.get(told_key) if told_key else None
    if told_key is not None and not tell_once(told, cause.id, Action.NOW)[0]:
        return Plan(notification, prefs, Verdict(Action.SUPPRESS, ALREADY_TOLD))
    in_part = cause.part_key is not None and (told is None or told.cause_id == cause.id)
    fresh = in_part and cause.part_key not in store.facts.parts
    route_key = delivery_key(cause.id, member_id, "route")
    held = store.facts.decided.get(route_key)
    if held is not None:
        verdict, decision, spent, counted = _verdict_of(held), None, None, None
    else:
        verdict, decision, spent, counted = _decided(cause, notification, prefs, route_key,
                                                     deps, fresh, moment)  # fmt: skip
    if cause.keeps_quiet(verdict):  # decided again, alike, if the event comes again
        return Plan(notification, prefs, verdict)
    claimed, digest_item = None, None
    if told_key is not None and verdict.action is not Action.SUPPRESS:
        goes_on, superseded = tell_once(told, cause.id, verdict.action)
        if not goes_on:
            return Plan(notification, prefs, Verdict(Action.SUPPRESS, ALREADY_TOLD),
                        decision, spent, counted=counted, by_part=fresh)  # fmt: skip
        if told is None or told.cause_id != cause.id:
            record = Delivery(verdict.action, moment.now.isoformat(), cause_id=cause.id)
            store.facts.note(told_key, record)
            claimed = (told_key, record, told)
        digest_item = _digest_key(superseded, member_id) if superseded else None
    by_part = fresh or (in_part and decision is None and claimed is None)
    return Plan(notification, prefs, verdict, decision, spent, claimed, digest_item,
                counted=counted, by_part=by_part)  # fmt: skip


def _decided(
    cause: Cause,
    notification: Notification,
    prefs: Preferences,
    key: str,
    deps: Deps,
    by_part: bool,
    moment: Moment,
) -> tuple[Verdict, tuple[str, Delivery] | None, tuple[str, int] | None, str | None]:
    """Decide with today's count; count it if it interrupts: in the budget bucket (the
    member's own count, one more), or, ``by_part``, in the part's record (a day key the
    ledger's read model adds up). (Two replicas deciding for one member at the same moment
    may count one interruption fewer: the count is written as this replica knows it.)"""
    now, member_id, store = moment.now, notification.recipient.member_id, deps.store
    day = moment.day(prefs)
    counted = day_key(member_id, day)
    today = store.interruptions(member_id, day, counted)
    verdict = moment.verdict(prefs, notification, today)
    if cause.keeps_quiet(verdict):
        return verdict, None, None, None
    until = verdict.until.isoformat() if verdict.until else ""
    record = Delivery(verdict.action, now.isoformat(), why=verdict.why, until=until)
    store.facts.note(key, record)
    if not (verdict.action.interrupts and notification.priority < Priority.CRITICAL):
        return verdict, (key, record), None, None
    if by_part:
        store.facts.count((counted,), 1)
        return verdict, (key, record), None, counted
    own_key = budget_key(member_id, day)
    own = (store.spent.get(own_key) or 0) + 1
    store.spent.items[own_key] = own
    return verdict, (key, record), (own_key, own), None


# ------------------------------------------------------------------ write in bulk


async def _recorded(
    cause: Cause, plans: list[Plan], deps: Deps
) -> tuple[list[Plan], PartRecord | None]:
    """Tell the ledger what the plans decided, then the budget what they count, each
    pipelined; the plans whose decision or 'told' entry could not be created because one
    was stored meanwhile (by another copy of the event), with the stored one now in memory,
    to be decided again (counting nothing); and the part record created, if any.

    The plans of a part (``by_part``) are told in one record, created (only if none is
    stored) beside the others' entries and before anything is sent. Created: it stands for
    every entry it holds, as they would have (the ledger's read model reads it so, here at
    once and after a restart). Found stored instead (another copy of the part, or a
    redelivery that did not know it yet): it is taken into memory and its members are
    decided again from it, reusing its decisions, 'told' entries and counts; what is still
    to decide then is recorded one by one. Failed: nothing of it is kept in memory, and the
    part is redelivered."""
    ledger, facts, key = deps.store.ledger, deps.store.facts, cause.part_key
    grouped = [p for p in plans if p.by_part]
    fresh = key is not None and key not in facts.parts
    record = _part_record(cause, grouped, deps) if grouped and fresh else None
    writes: list[tuple[Plan | None, Awaitable[int | None]]] = []
    for p in plans:
        if p.by_part:
            continue
        if p.decision is not None:
            writes.append((p, ledger.create(*p.decision)))
        if p.told is not None:
            told_key, told, before = p.told
            writes.append((p, ledger.create(told_key, told) if before is None
                           else ledger.put(told_key, told)))  # fmt: skip
    if record is not None and key is not None:
        facts.parts.add(key)  # its counts are in memory already: the bucket's copy adds none
        writes.append((None, deps.store.parts.create(key, record)))
    try:
        created = await pipelined(write for _, write in writes)
    except BaseException:
        _unnoted(plans, deps)
        if record is not None and key is not None:
            facts.parts.discard(key)
        raise
    lost = {id(p): p for (p, _), revision in zip(writes, created, strict=True)
            if revision is None and p is not None}  # fmt: skip
    _unnoted(list(lost.values()), deps)
    for p in lost.values():
        for entry in (p.decision[0] if p.decision else None, p.told[0] if p.told else None):
            if entry is not None:
                found = await ledger.get(entry)
                facts.note(entry, found.value if found else None)
    if record is not None and key is not None and created[-1] is None:
        _unnoted(grouped, deps)
        facts.parts.discard(key)
        stored = await deps.store.parts.get(key)
        if stored is not None:
            facts.note_part(key, stored.value)
        lost.update((id(p), p) for p in grouped)
        record = None
    budget = deps.store.budget
    await pipelined(budget.put(*p.spent) for p in plans if p.spent and id(p) not in lost)
    return list(lost.values()), record


def _part_record(cause: Cause, plans: list[Plan], deps: Deps) -> PartRecord | None:
    """The record of what ``plans`` (one part's) decided, told and counted (None: none)."""
    at, decisions = deps.clock().isoformat(), dict[Delivery, int]()

    def decision(status: Action | Status, why: str = "", until: str = "") -> int:
        return decisions.setdefault(Delivery(status, at, why=why, until=until), len(decisions))

    routes: list[str] = []
    decided: list[int] = []
    told: list[str] = []
    told_as: list[int] = []
    counted: list[str] = []
    for p in plans:
        if p.decision is not None:
            route, record = p.decision
            routes.append(route)
            decided.append(decision(record.status, record.why, record.until))
        if p.told is not None:
            key, record, _ = p.told
            told.append(key)
            told_as.append(decided[-1] if p.decision is not None else decision(record.status))
        if p.counted is not None:
            counted.append(p.counted)
    if not (routes or told or counted):
        return None
    return PartRecord(cause_id=cause.id, number=cause.part, at=at,
                      decisions=tuple(decisions), routes=tuple(routes), decided=tuple(decided),
                      told=tuple(told), told_as=tuple(told_as),
                      counted=tuple(counted))  # fmt: skip


async def _part_delivered(
    cause: Cause, plans: list[Plan], created: PartRecord | None, deps: Deps
) -> None:
    """Once every inbox item of the part is confirmed, its record says so: the items it
    delivered (``sent``) and when. Until then a redelivered part sends its items again with
    the same ``Nats-Msg-Id`` (JetStream keeps one within its duplicate window, 10 minutes);
    after, it sends none of them (they are delivered in the ledger's read model). The record
    is the one this routing created, or the one stored (a redelivery); if there is none yet
    (another copy is creating it, or nothing needed one), each delivery is recorded alone."""
    part = cause.part_key
    if part is None:
        return
    delivered = deps.store.facts.delivered
    sent = [key for p in plans if p.by_part and _reaches_inbox(cause, p)
            for key in _inbox_keys(cause, p, deps) if key not in delivered]  # fmt: skip
    if not sent:
        return
    now, base = deps.clock().isoformat(), created
    if base is None:
        stored = await deps.store.parts.get(part)
        base = stored.value if stored else None
    if base is None:
        each = Delivery(Status.DELIVERED, now)
        await pipelined(deps.store.ledger.put(done, each) for done in sent)
        for done in sent:
            deps.store.facts.note(done, each)
        return
    record = replace(base, sent=tuple(dict.fromkeys((*base.sent, *sent))), delivered_at=now)
    await deps.store.parts.put(part, record)
    deps.store.facts.note_part(part, record)


def _reaches_inbox(cause: Cause, p: Plan) -> bool:
    return _carried_out(cause, p) and p.verdict.action.to_inbox


def _inbox_keys(cause: Cause, p: Plan, deps: Deps) -> list[str]:
    """The keys of the member's deliveries through the built-in channels."""
    return [delivery_key(cause.id, p.member_id, channel.name) for channel in deps.channels]


def _unnoted(plans: list[Plan], deps: Deps) -> None:
    """Take out of memory what the plans noted, their writes having failed (some may have
    been stored: deciding again, the ledger says so)."""
    facts, spent = deps.store.facts, deps.store.spent.items
    for p in plans:
        if p.decision is not None:
            facts.note(p.decision[0], None)
        if p.told is not None:
            facts.note(p.told[0], p.told[2])
        if p.spent is not None:
            key, count = p.spent
            spent[key] = count - 1
        if p.counted is not None:
            facts.count((p.counted,), -1)


def _carried_out(cause: Cause, p: Plan) -> bool:
    """Whether the plan makes a delivery (none for what the bulletin says, nor for an erased
    member): most of a large audience's plans make none, and are not even started."""
    return not (cause.keeps_quiet(p.verdict) or p.for_erased)


async def carry_out(cause: Cause, p: Plan, deps: Deps) -> None:
    """Make the member's delivery as decided (a plan that makes one: :func:`_carried_out`)."""
    verdict, notification = p.verdict, p.notification
    if p.superseded is not None:
        await deps.store.digest.delete(p.superseded)
    if verdict.action.to_inbox:
        await send_to_inbox(cause, notification, deps, recorded_by_part=p.by_part)
    if verdict.action is Action.NOW:
        if wanted_endpoints(p.member_id, notification.kind, p.prefs, deps):  # most have none
            await push(template(cause, notification, deps), deps, p.prefs)
    elif verdict.action is Action.DEFER:
        await _hold(cause, notification, verdict, deps, p.prefs)
    elif verdict.action in (Action.DIGEST, Action.OVERFLOW) and verdict.until is not None:
        await _keep_for_digest(cause, notification, verdict, deps)
    else:
        await _announce(cause, notification, "none", verdict, deps)


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


# ------------------------------------------------------------------ the inbox (built-in)


async def send_to_inbox(
    cause: Cause, notification: Notification, deps: Deps, *, recorded_by_part: bool = False
) -> None:
    """Through every built-in channel (the inbox, the console), once each."""
    for channel in deps.channels:
        await _deliver_once(cause, notification, channel, deps, recorded_by_part)


async def _deliver_once(
    cause: Cause,
    notification: Notification,
    channel: Channel,
    deps: Deps,
    recorded_by_part: bool = False,
) -> None:
    """Sent, then recorded delivered (so a crash in between sends it again, and the inbox
    keeps one: its message id is the notification id): one by one, or, for a member of a
    part (``recorded_by_part``), by the part's record once all its items are confirmed
    (:func:`_part_delivered`). A ``notification_delivered`` status per member, except for
    a post to a whole audience (a bulletin's): its parts' ``notifications_routed`` count
    those it reached, and a status per member would make a post to 50,000 write 50,000
    events more."""
    key = delivery_key(cause.id, notification.recipient.member_id, channel.name)
    if key in deps.store.facts.delivered:
        return
    dispatch = Dispatch(key, cause.id, cause.type, channel.name, notification)
    await channel.send(dispatch)
    delivered_at = deps.clock()
    writes = [] if recorded_by_part else [
        deps.store.ledger.put(key, Delivery(Status.DELIVERED, delivered_at.isoformat()))
    ]  # fmt: skip
    if not notification.confidential and cause.bulletin is None:
        writes.append(deps.events.publish(
            public.notification_delivered(dispatch, delivered_at),
            event_id=derived_id("notification_delivered", dispatch.notification_id),
            subject=notification.recipient.member_id,
            cause=cause.envelope,
        ))  # fmt: skip
    await pipelined(writes)
    if not recorded_by_part:
        deps.store.facts.note(key, Delivery(Status.DELIVERED, delivered_at.isoformat()))


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


def wanted_endpoints(member_id: str, kind: str, prefs: Preferences, deps: Deps) -> list[Endpoint]:
    """The member's endpoints that are on and take this kind (from memory: ids and switches,
    without addresses)."""
    held = deps.store.reach.get(member_id)
    endpoints = held.endpoints if held else ()
    return [e for e in endpoints if e.enabled and prefs.wants(kind, e.endpoint_id)]


async def push(parcel: Parcel, deps: Deps, prefs: Preferences) -> int:
    """Queue ``parcel`` for each endpoint the member wants this kind on; how many."""
    assert deps.outbox is not None, "the outbox is not wired"
    outbox = deps.outbox
    endpoints = wanted_endpoints(parcel.member_id, parcel.message.kind, prefs, deps)
    await pipelined(outbox.put(for_endpoint(parcel, endpoint, deps)) for endpoint in endpoints)
    return len(endpoints)


async def _hold(
    cause: Cause, notification: Notification, verdict: Verdict, deps: Deps, prefs: Preferences
) -> None:
    """Keep the pushes until the window opens (the release chore sends them then)."""
    assert verdict.until is not None
    parcel = template(cause, notification, deps)
    member_id = notification.recipient.member_id
    key = f"{member_id}.{delivery_key(cause.id, member_id, 'held')}"
    await deps.store.held.create(key, Held(verdict.until, verdict.why, parcel))  # once
    if notification.confidential:
        return
    for endpoint in wanted_endpoints(member_id, notification.kind, prefs, deps):
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
    await deps.store.digest.create(_digest_key(cause.id, member_id), entry)  # once
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
