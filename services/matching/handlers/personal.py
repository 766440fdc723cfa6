"""Matching's personal events (job matches) are a member's own: erased with them."""

from __future__ import annotations

from services.matching.handlers import Deps
from shared.naming import Streams, personal_key_filter
from shared.storage import erase_messages


async def erase_personal_events(member_id: str, deps: Deps) -> int:
    """Securely delete the personal events matching published about a member."""
    return await erase_messages(
        deps.store.members.js,
        Streams(deps.region).personal,
        personal_key_filter(deps.region, "matching", member_id),
    )
