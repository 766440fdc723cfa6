"""What every content handler needs: who may see a community or a post, storing a post."""

from __future__ import annotations

from services.content.domain.model import (
    CommunityInfo,
    HeldElsewhere,
    MemberInfo,
    Post,
    UnknownPost,
    can_see_post,
    require_visible,
)
from services.content.handlers import Deps
from shared.contracts.base import Contract
from shared.ids import derived_id
from shared.storage import Versioned


def community_for(community_id: str, viewer_id: str, deps: Deps) -> CommunityInfo:
    """The community, if ``viewer_id`` may know it exists (a private one: only members)."""
    is_member = deps.store.is_member(community_id, viewer_id)
    return require_visible(
        community_id, deps.store.community(community_id), viewer_is_member=is_member
    )


async def post_for(
    post_id: str, viewer_id: str, deps: Deps
) -> tuple[Versioned[Post], CommunityInfo]:
    """The post and its community, if ``viewer_id`` may see it."""
    found = await deps.store.post(post_id)
    if found is None and (region := deps.store.region_holding(post_id)) is not None:
        raise HeldElsewhere(
            f"post {post_id!r} is held in region {region!r}: send this to {region}'s content "
            "service"
        )
    community = deps.store.community(found.value.community_id) if found else None
    if (
        found is None
        or community is None
        or not can_see_post(
            found.value,
            community,
            viewer_id,
            deps.store.is_member(community.community_id, viewer_id),
        )
    ):
        raise UnknownPost(f"post {post_id!r} does not exist")
    return found, community


def member_info(member_id: str, deps: Deps) -> MemberInfo | None:
    return deps.store.people.get(member_id)


class PostExists(UnknownPost):
    """A new post's id is taken (its create was refused)."""


async def save_post(post: Post, deps: Deps, *, revision: int | None = None) -> int:
    """Store ``post`` (new, or replacing ``revision``): in the index at once, so the reply and
    the next message read it from memory; returns once the bucket has confirmed it."""
    stored = await deps.store.save_post(post, revision=revision)
    if stored is None:
        raise PostExists(f"post {post.post_id!r} exists already")
    return stored


async def publish(event: Contract, deps: Deps, *parts: str, subject: str) -> None:
    """Publish with an id derived from the event type and ``parts`` (a retry publishes once)."""
    await deps.events.publish(event, event_id=derived_id(event.TYPE, *parts), subject=subject)
