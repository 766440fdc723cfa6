"""Chores on the service's clock: pushes held for quiet hours go out when the window opens;
digests go out when due, one message per member listing what waited for it."""

from __future__ import annotations

from collections import defaultdict

from services.notifications.domain.model import Notification, Reason, Recipient
from services.notifications.domain.waiting import DigestEntry
from services.notifications.handlers import Deps
from services.notifications.handlers.delivery import Cause, push, send_to_inbox, template

DIGEST_TYPE = "guild.notifications.digest"


async def release_held_pushes(deps: Deps) -> int:
    """Send every held push whose window has opened; how many were released."""
    now, released = deps.clock(), 0
    async for key, held in deps.store.held.items():
        if held.value.due > now:
            continue
        member_id = key.partition(".")[0]
        await push(held.value.parcel, deps, await deps.store.preferences_of(member_id))
        await deps.store.held.delete(key)
        released += 1
    return released


async def send_due_digests(deps: Deps) -> int:
    """Send each member whose digest is due one message with everything kept for it."""
    now = deps.clock()
    due: dict[str, list[tuple[str, DigestEntry]]] = defaultdict(list)
    async for key, entry in deps.store.digest.items():
        if entry.value.due <= now:
            due[key.partition(".")[0]].append((key, entry.value))
    for member_id, entries in due.items():
        await _send_digest(member_id, sorted(entries, key=lambda e: e[1].at), deps)
    return len(due)


async def _send_digest(member_id: str, entries: list[tuple[str, DigestEntry]], deps: Deps) -> None:
    first_due = min(entry.due for _, entry in entries)
    cause = Cause(f"digest:{member_id}:{first_due.isoformat()}", DIGEST_TYPE)
    count = len(entries)
    lines = [_digest_line(entry) for _, entry in entries]
    digest = Notification(
        recipient=Recipient(member_id, deps.region),
        kind="digest",
        title=f"Your digest: {count} item{'s' if count != 1 else ''}",
        body="What happened since your last digest:\n" + "\n".join(lines),
        reasons=(Reason("kind:digest", "you get a digest of what did not interrupt you"),),
    )
    await send_to_inbox(cause, digest, deps)
    await push(template(cause, digest, deps), deps, await deps.store.preferences_of(member_id))
    for key, _ in entries:
        await deps.store.digest.delete(key)


def _digest_line(entry: DigestEntry) -> str:
    links = "".join(f"\n  {label}: {url}" for label, url in entry.links)
    return f"- {entry.title} ({'; '.join(entry.reasons)}){links}"


CHORES = (release_held_pushes, send_due_digests)
