"""Chores on the service's clock: pushes held for quiet hours go out when the window opens;
digests go out when due, one message per member listing what waited for it.

A member's digest due at D lists what waited for it since their last digest (or, for their
first, since the digest before D): the bulletins they hear of (their communities, their tags,
their mentions) that their preferences of now keep for the digest and that no other event
told them of already (the ledger's 'told' entries), joined in memory, and the items kept for
them alone (what reached their inbox over the day's budget; and digest items stored per member
before bulletins, read until none is left). When it is sent, D is kept as their last digest
(one entry per member), so a digest is never sent twice for one slot."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from services.notifications.domain import model
from services.notifications.domain.bulletins import Bulletin, notification_for
from services.notifications.domain.model import (
    TOLD,
    Notification,
    Reason,
    Recipient,
    delivery_key,
    tell_once,
)
from services.notifications.domain.preferences import (
    Action,
    Preferences,
    Verdict,
    digest_covers,
    last_digest,
    next_digest,
)
from services.notifications.domain.waiting import DigestEntry
from services.notifications.handlers import Deps
from services.notifications.handlers.delivery import (
    Cause,
    bulletin_key,
    post_links,
    push,
    send_to_inbox,
    template,
)
from services.notifications.store.buckets import BULLETINS_KEPT, NotificationsStore

DIGEST_TYPE = "guild.notifications.digest"


async def release_held_pushes(deps: Deps) -> int:
    """Send every held push whose window has opened; how many were released."""
    now, released = deps.clock(), 0
    async for key, held in deps.store.held.items():
        if held.value.due > now:
            continue
        member_id = key.partition(".")[0]
        if deps.store.is_erased(member_id):  # their erasure erases it
            continue
        await push(held.value.parcel, deps, deps.store.preferences_of(member_id))
        await deps.store.held.delete(key)
        released += 1
    return released


async def send_due_digests(deps: Deps) -> int:
    """Send each member whose digest is due one message with everything kept for it; how
    many were sent."""
    now, store = deps.clock(), deps.store
    alone: dict[str, list[tuple[str, DigestEntry]]] = defaultdict(list)
    async for key, entry in store.digest.items():
        if entry.value.due <= now:
            alone[key.partition(".")[0]].append((key, entry.value))
    sent = 0
    for member_id in sorted(set(store.people.items) | set(alone)):
        prefs = store.preferences_of(member_id)
        if member_id not in alone and _looked_at(store, member_id, prefs, now):
            continue
        due = last_digest(prefs, now)
        since = _since(store, member_id, prefs, due)
        waiting = await bulletins_for(store, member_id, since, due) if due and since else []
        entries = alone.get(member_id, [])
        if waiting or entries:
            await _send_digest(member_id, waiting, entries, due or now, deps)
            sent += 1
            if due is not None:
                await store.note_digest_sent(member_id, due)
        if due is not None:
            store.digests_looked_at[member_id] = (prefs, due, next_digest(prefs, due))
    await _forget_old_bulletins(deps)
    return sent


def _looked_at(store: NotificationsStore, member_id: str, prefs: Preferences,
               now: datetime) -> bool:  # fmt: skip
    """Whether the member's digest slot of ``now`` was looked at already, with these
    preferences (what is routed later waits for a later slot)."""
    held = store.digests_looked_at.get(member_id)
    return (held is not None and (held[0] is prefs or held[0] == prefs)  # made once: the same
            and held[1] <= now < held[2])  # fmt: skip


def _since(
    store: NotificationsStore, member_id: str, prefs: Preferences, due: datetime | None
) -> datetime | None:
    """Since when the digest due at ``due`` lists bulletins (None: nothing to list)."""
    if due is None:
        return None
    last = store.last_digests.get(member_id)
    if last is not None and last >= due:
        return None  # sent already
    return last if last is not None else digest_covers(prefs, due)


def _heard_of(store: NotificationsStore, member_id: str) -> list[Bulletin]:
    person = store.people.get(member_id)
    return store.waiting.heard_of_by(person) if person else []


def _within(bulletin: Bulletin, since: datetime, due: datetime) -> bool:
    return since <= bulletin.at < due


async def bulletins_for(
    store: NotificationsStore, member_id: str, since: datetime, due: datetime
) -> list[tuple[Bulletin, Notification]]:
    """The bulletins routed between ``since`` and ``due`` that the member's digest lists,
    each with the member's notification of it, oldest first: those their preferences of now
    keep for the digest (not those that interrupt them: they were sent on their own), and
    that no other event told them of already."""
    listed = []
    for bulletin in sorted(_heard_of(store, member_id), key=lambda b: (b.at, b.cause_id)):
        if not _within(bulletin, since, due):
            continue
        found = verdict_for(store, member_id, bulletin)
        if found is None:
            continue
        notification, verdict = found
        if verdict.action is Action.DIGEST and _not_told(store, bulletin, member_id):
            listed.append((bulletin, notification))
    return listed


def verdict_for(
    store: NotificationsStore, member_id: str, bulletin: Bulletin
) -> tuple[Notification, Verdict] | None:
    """The member's notification of ``bulletin`` and what their preferences of now decide
    for it (None: they do not hear of it): why a member did or did not get a post, where
    nothing was stored for them. (Over the day's budget is not known here: the budget is
    spent by what interrupts, which the ledger records.)"""
    notification = notification_for(bulletin, store.people.get(member_id), store.region)
    if notification is None:
        return None
    prefs = store.preferences_of(member_id)
    notification = notification.without(prefs.reasons_off)
    return notification, model.verdict_for(prefs, notification, now=bulletin.at,
                                           interruptions_today=0)  # fmt: skip


async def next_digest_of(
    store: NotificationsStore, member_id: str, now: datetime
) -> tuple[datetime, list[tuple[Bulletin, Notification]]] | None:
    """When the member's next digest is due and the bulletins it lists so far (None: they
    have no digest)."""
    prefs = store.preferences_of(member_id)
    if last_digest(prefs, now) is None:
        return None
    due = next_digest(prefs, now)
    since = _since(store, member_id, prefs, due)
    return due, await bulletins_for(store, member_id, since, due) if since else []


def _not_told(store: NotificationsStore, bulletin: Bulletin, member_id: str) -> bool:
    """No other event told the member of it (the ledger's 'told' entries, in memory)."""
    told = store.facts.decided.get(delivery_key(bulletin.topic, member_id, TOLD))
    goes_on, _ = tell_once(told, bulletin.cause_id, Action.DIGEST)
    return goes_on


async def _send_digest(
    member_id: str,
    waiting: list[tuple[Bulletin, Notification]],
    entries: list[tuple[str, DigestEntry]],
    due: datetime,
    deps: Deps,
) -> None:
    first_due = min([due, *(entry.due for _, entry in entries)])
    cause = Cause(f"digest:{member_id}:{first_due.isoformat()}", DIGEST_TYPE)
    listed = sorted(
        [(bulletin.at, _bulletin_line(notification, deps)) for bulletin, notification in waiting]
        + [(entry.at, _digest_line(entry)) for _, entry in entries],
        key=lambda line: line[0],
    )
    count = len(listed)
    digest = Notification(
        recipient=Recipient(member_id, deps.region),
        kind="digest",
        title=f"Your digest: {count} item{'s' if count != 1 else ''}",
        body="What happened since your last digest:\n" + "\n".join(line for _, line in listed),
        reasons=(Reason("kind:digest", "you get a digest of what did not interrupt you"),),
    )
    await send_to_inbox(cause, digest, deps)
    await push(template(cause, digest, deps), deps, deps.store.preferences_of(member_id))
    for key, _ in entries:
        await deps.store.digest.delete(key)


def _bulletin_line(notification: Notification, deps: Deps) -> str:
    return _line(notification.title, notification.reason_texts, post_links(notification, deps))


def _digest_line(entry: DigestEntry) -> str:
    return _line(entry.title, entry.reasons, entry.links)


def _line(title: str, reasons: Sequence[str], links: tuple[tuple[str, str], ...]) -> str:
    shown = "".join(f"\n  {label}: {url}" for label, url in links)
    return f"- {title} ({'; '.join(reasons)}){shown}"


async def _forget_old_bulletins(deps: Deps) -> None:
    """Bulletins older than any digest can wait for (the bucket's age limit drops them too,
    but its read model learns of a delete only)."""
    oldest = deps.clock() - timedelta(seconds=BULLETINS_KEPT)
    for bulletin in [b for b in deps.store.waiting.items.values() if b.at < oldest]:
        await deps.store.forget_bulletin(bulletin_key(bulletin.cause_id))


CHORES = (release_held_pushes, send_due_digests)
