"""Reactions to membership's events and to content other systems publish into Guild."""

from __future__ import annotations

from services.content.domain.model import CommunityInfo, ask
from services.content.events import public
from services.content.handlers import Deps
from shared.contracts.ingest import QuestionAskedV1
from shared.contracts.membership import CommunityCreatedV1
from shared.envelope import Envelope
from shared.ids import derived_id


class CommunityNotKnownYet(Exception):
    """Transient: the community's creation may not have reached content yet. Retried, then
    dead-lettered if it never arrives."""


async def when_community_created_remember_it(
    event: Envelope[CommunityCreatedV1], deps: Deps
) -> None:
    """Keep what content needs to know about the community."""
    created = event.data
    info = CommunityInfo(created.community_id, created.name, created.visibility.value)
    await deps.store.communities.put(info.community_id, info)


async def when_question_asked_publish_it(event: Envelope[QuestionAskedV1], deps: Deps) -> None:
    """Store a question another system submitted, and publish it. The question id comes from
    the publisher's source and reference, so a re-sent question is stored once."""
    asked = event.data
    community = await deps.store.community(asked.community_id)
    if community is None:
        raise CommunityNotKnownYet(f"community {asked.community_id!r} is not known")
    post_id = derived_id("question", event.source, asked.question_ref)
    post = await deps.store.post(post_id)
    if post is None:
        post = ask(
            post_id=post_id,
            community=community,
            asker_id=asked.asker_id,
            title=asked.title,
            text=asked.text,
            tags=tuple(asked.tags),
            now=event.time or deps.clock(),
            origin=event.source,
        )
        await deps.store.posts.create(post_id, post)
    await deps.events.publish(
        public.question_posted(post, community, deps.region),
        event_id=derived_id("question_posted", post.post_id),
        subject=post.post_id,
        cause=event,
    )
