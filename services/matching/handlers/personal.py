"""What matching erases of a member beyond their profile: their personal events (job matches
are a member's own), and their id on the questions they asked, which stay for others."""

from __future__ import annotations

from dataclasses import replace

from services.matching.handlers import Deps
from shared.ids import mentions_id
from shared.naming import Service, Streams, personal_key_filter
from shared.storage import erase_dead_letters, erase_messages


async def erase_personal_events(member_id: str, deps: Deps) -> int:
    """Securely delete the personal events matching published about a member."""
    return await erase_messages(
        deps.store.members.js,
        Streams(deps.region).personal,
        personal_key_filter(deps.region, "matching", member_id),
    )


async def erase_dead_letters_about(member_id: str, deps: Deps) -> int:
    """Securely delete matching's dead letters that hold the member's id (an event about them
    it could not read, their confidential data included), with the copies of the originals."""
    return await erase_dead_letters(
        deps.store.members.js, deps.region, Service.MATCHING, mentions_id(member_id)
    )


async def pseudonymise_questions(member_id: str, alias: str, deps: Deps) -> int:
    """The questions they asked stay (similar questions, routing) under their pseudonym
    ``alias``, the revisions with their id securely deleted; returns how many."""
    questions = deps.store.questions
    asked = f'"asker_id":"{member_id}"'.encode()

    def by_alias(data: bytes) -> bytes | None:
        if asked not in data:
            return None
        record = questions.decode(data)
        return (
            questions.encode(replace(record, asker_id=alias))
            if record.asker_id == member_id
            else None
        )

    return await questions.rewrite_all(by_alias)
