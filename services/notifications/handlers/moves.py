"""A member moving to another region: notifications hands over what it keeps of them.

On ``member_moved`` (their new region's membership took them in), the region they left
sends their channels (addresses and webhook secrets), preferences, what they follow, what
waits for them (held pushes, digest items, today's budget) and their inbox with its read
state to the new region, sealed, in parts that each fit in a message
(``notifications.member_handover``: :mod:`shared.contracts.handover`), then erases all of it
here as an erasure would (their contact too: the new region has it from membership).
Colleagues' items that quote their name or address now say "A colleague from <region>", as
they say of anyone homed in another region.

The new region stores each part, republishes the inbox items into its own inbox stream (in
their order, the same notification ids), says ``handover_taken`` for the part and erases its
copy; the region they left then erases the part it sent. Between ``member_moved`` and the
first part, what reaches them follows the defaults (a few seconds on a linked topology).
"""

from __future__ import annotations

import json
import logging

from services.notifications.handlers import Deps
from services.notifications.store.buckets import NotificationsStore
from shared.contracts.handover import HandoverEntry
from shared.contracts.membership import MemberMovedV1
from shared.contracts.notifications import NotificationsHandoverTakenV1, NotificationsHandoverV1
from shared.envelope import Envelope
from shared.ids import derived_id
from shared.moves import confirm, erase_sent_part, hand_over
from shared.naming import Streams, inbox_subject
from shared.storage import KvStore

log = logging.getLogger("guild.notifications.moves")

INBOX = "inbox"
"""The entries that are inbox items (their key: their place in the inbox, as a number)."""


def _buckets(store: NotificationsStore) -> dict[str, tuple[KvStore, bool]]:  # type: ignore[type-arg]
    """The buckets handed over, by the name a handover gives them, each with whether its
    entries are ``<member>.<...>`` (else one entry per member, keyed by their id)."""
    return {
        "endpoints": (store.endpoints, False),
        "preferences": (store.preferences, False),
        "audience": (store.audience, False),
        "digest-sent": (store.digest_sent, False),
        "held": (store.held, True),
        "digest": (store.digest, True),
        "inbox-state": (store.inbox_state, True),
        "budget": (store.budget, True),
    }


async def when_member_moved_hand_over(event: Envelope[MemberMovedV1], deps: Deps) -> None:
    """The member's data goes to their new region in parts, then is erased here."""
    moved = event.data
    member_id, to_region = moved.member.member_id, moved.member.home_region
    await deps.store.note_home(member_id, to_region)
    if moved.from_region != deps.region or to_region == deps.region:
        return
    parts = await hand_over(
        deps.events, NotificationsHandoverV1, await _records_of(member_id, deps), deps.moves,
        member_id=member_id, to_region=to_region, cause=event,
    )  # fmt: skip
    await deps.store.forget(member_id, shown_as=f"A colleague from {to_region}")
    log.info("moved member handed over and erased here",
             extra={"member_id": member_id, "to_region": to_region, "parts": parts})  # fmt: skip


async def _records_of(member_id: str, deps: Deps) -> list[HandoverEntry]:
    records = []
    for name, (kv, per_item) in _buckets(deps.store).items():
        async for key, held in kv.items(f"{member_id}.*" if per_item else member_id):
            records.append(HandoverEntry.of(name, key, kv.encode(held.value)))
    for place, item in await deps.store.inbox_items(member_id):
        records.append(HandoverEntry.of(INBOX, str(place), item.model_dump_json().encode()))
    return records


async def when_member_handed_over_take_in(
    event: Envelope[NotificationsHandoverV1], deps: Deps
) -> None:
    """One part of a member moving here: its records stored, its inbox items added to their
    inbox here; then confirmed, and this region's copy erased."""
    handover, store = event.data, deps.store
    entries = deps.moves.opened(handover, deps.region)
    await store.note_home(handover.member_id, deps.region)
    buckets = {name: kv for name, (kv, _) in _buckets(store).items()}
    for entry in entries:
        if entry.bucket == "audience" and entry.key == handover.member_id:
            brought = store.audience.decode(entry.value.encode())  # vs what we learned since
            await store.audience.change(entry.key, lambda held, b=brought: (
                b if held is None else held.merged(b)))  # fmt: skip
        elif entry.bucket in buckets and _belongs_to(entry.key, handover.member_id):
            await buckets[entry.bucket].put_raw(entry.key, entry.value.encode())
    inbox = Streams(deps.region).inbox
    for place, item in sorted((int(e.key), e) for e in entries if e.bucket == INBOX):
        notification_id = json.loads(item.value)["notification_id"]
        await deps.events.publisher.publish(
            item.value.encode(), inbox_subject(deps.region, handover.member_id), stream=inbox,
            msg_id=derived_id("moved", str(notification_id), str(place)),
            headers={"content-type": "application/json"},
        )  # fmt: skip
    assert store.js is not None, "the store is not bound"
    await confirm(deps.events, store.js, NotificationsHandoverTakenV1, event)


def _belongs_to(key: str, member_id: str) -> bool:
    return key == member_id or key.startswith(f"{member_id}.")


async def when_handover_taken_erase_the_part(
    event: Envelope[NotificationsHandoverTakenV1], deps: Deps
) -> None:
    """The new region has a part this region sent: its copy here goes."""
    assert deps.store.js is not None, "the store is not bound"
    await erase_sent_part(deps.store.js, deps.region, NotificationsHandoverV1, event.data)
