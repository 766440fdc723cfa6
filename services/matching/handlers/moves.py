"""A member moving to another region: matching hands over what it learned of them.

Each region ranks and routes the members homed in it, from the evidence of expertise and the
routing history it keeps of them (``<member>.e.*`` and ``<member>.r.*`` in its members
bucket; every region keeps everyone's public profile). On ``member_moved``, the region they
left sends those records to their new region (``matching.member_handover``, sealed, in
parts: :mod:`shared.moves`) and erases them here with their confidential data and job
matches; their new region stores each part, so they are ranked there on what they answered
and asked within their budget as they were, and confirms it; the part sent is then erased.
"""

from __future__ import annotations

import logging

from services.matching.handlers import Deps
from services.matching.handlers.personal import erase_dead_letters_about, erase_personal_events
from shared.contracts.handover import HandoverEntry
from shared.contracts.matching import MatchingHandoverTakenV1, MatchingHandoverV1
from shared.contracts.membership import MemberMovedV1
from shared.envelope import Envelope
from shared.moves import confirm, erase_sent_part, hand_over

log = logging.getLogger("guild.matching.moves")

MEMBERS = "members"
KEPT_PER_MEMBER = ("e", "r")
"""What a region keeps of the members homed in it: evidence, routes (not the profile)."""


async def when_member_moved_hand_over(event: Envelope[MemberMovedV1], deps: Deps) -> None:
    """A member homed here moved: what matching learned of them goes to their new region;
    here, that and their confidential data and job matches are erased (their new region has
    those from its own membership)."""
    moved, store = event.data, deps.store
    member_id, to_region = moved.member.member_id, moved.member.home_region
    if moved.from_region != deps.region or to_region == deps.region:
        return
    records = [
        HandoverEntry.of(MEMBERS, key, data)
        for kind in KEPT_PER_MEMBER
        async for key, data in store.members.raw_items(f"{member_id}.{kind}.>")
    ]
    parts = await hand_over(
        deps.events, MatchingHandoverV1, records, deps.moves,
        member_id=member_id, to_region=to_region, cause=event,
    )  # fmt: skip
    for kind in KEPT_PER_MEMBER:
        await store.members.erase_prefix(f"{member_id}.{kind}.")
    if store.secrets.get(member_id) is not None:
        await store.erase("confidential", store.confidential, member_id)
    await erase_personal_events(member_id, deps)
    await erase_dead_letters_about(member_id, deps)
    log.info("moved member handed over and erased here",
             extra={"member_id": member_id, "to_region": to_region, "records": len(records),
                    "parts": parts})  # fmt: skip


async def when_member_handed_over_take_in(event: Envelope[MatchingHandoverV1], deps: Deps) -> None:
    """One part of a member moving here: their evidence and routes stored (each once: a
    redelivery adds nothing), then confirmed, and this region's copy erased."""
    handover, members = event.data, deps.store.members
    for entry in deps.moves.opened(handover, deps.region):
        if entry.bucket == MEMBERS and _kept_of(entry.key, handover.member_id):
            await members.create_raw(entry.key, entry.value.encode())
    await confirm(deps.events, members.js, MatchingHandoverTakenV1, event)


def _kept_of(key: str, member_id: str) -> bool:
    owner, _, rest = key.partition(".")
    return owner == member_id and rest.split(".", 1)[0] in KEPT_PER_MEMBER


async def when_handover_taken_erase_the_part(
    event: Envelope[MatchingHandoverTakenV1], deps: Deps
) -> None:
    """The new region has a part this region sent: its copy here goes."""
    await erase_sent_part(deps.store.members.js, deps.region, MatchingHandoverV1, event.data)
