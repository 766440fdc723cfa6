"""Queries, answered over request-reply."""

from __future__ import annotations

from services.content.domain.model import UnknownPost
from services.content.events.public import post_view
from services.content.handlers import Deps
from shared.contracts.content import GetPost, PostView


async def get_post(query: GetPost, deps: Deps) -> PostView:
    """One post."""
    post = await deps.store.post(query.post_id)
    if post is None:
        raise UnknownPost(f"post {query.post_id!r} does not exist")
    return post_view(post)
