"""Commands, answered over request-reply."""

from __future__ import annotations

from services.content.domain.model import UnknownCommunity, ask
from services.content.events import public
from services.content.handlers import Deps
from shared.contracts.content import PostQuestion, PostView
from shared.ids import derived_id, new_id


async def post_question(command: PostQuestion, deps: Deps) -> PostView:
    """Post a question to a community and publish it."""
    community = await deps.store.community(command.community_id)
    if community is None:
        raise UnknownCommunity(f"community {command.community_id!r} does not exist")
    post = ask(
        post_id=new_id(),
        community=community,
        asker_id=command.asker_id,
        title=command.title,
        text=command.text,
        tags=tuple(command.tags),
        now=deps.clock(),
        origin="guild",
    )
    await deps.store.posts.create(post.post_id, post)
    await deps.events.publish(
        public.question_posted(post, community, deps.region),
        event_id=derived_id("question_posted", post.post_id),
        subject=post.post_id,
    )
    return public.post_view(post)
