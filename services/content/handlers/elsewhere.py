"""Posts held by other regions. Each post lives in the region whose content service took it,
which alone answers for it (reads, answers, comments, votes); every other region notes where
it is from its public events, so that a member alerted in their own region who asks their
region's content about it is told which region to ask (``wrong_region``, naming it) rather
than that it does not exist."""

from __future__ import annotations

from typing import Any

from services.content.handlers import Deps
from shared.contracts import content as c
from shared.envelope import Envelope, MalformedEvent


async def when_peer_post_published_note_where(event: Envelope[Any], deps: Deps) -> None:
    """A post published in another region: noted as held there."""
    region = event.region
    if region is None or region == deps.region:
        raise MalformedEvent(f"{event.type} {event.id} names no other region for its post")
    await deps.store.note_held_by(_post_id(event.data), region)


def _post_id(data: Any) -> str:
    if isinstance(data, c.QuestionPostedV1):
        return data.question_id
    if isinstance(data, c.AnswerPostedV1):
        return data.answer.post_id
    return str(data.post.post_id)


PEER_POSTS = (
    c.QuestionPostedV1, c.AnswerPostedV1, c.PracticePublishedV1, c.SoftwareAnnouncedV1,
    c.ResourceOfferedV1, c.ResourceRequestedV1, c.JobPostedV1,
)  # fmt: skip
"""The public events of another region that say it holds a new post."""
