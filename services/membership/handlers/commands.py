"""Commands, answered over request-reply."""

from __future__ import annotations

from services.membership.domain.model import (
    Community,
    UnknownCommunity,
    UnknownMember,
    found_community,
    join,
)
from services.membership.events import public
from services.membership.handlers import Deps
from services.membership.handlers.queries import community_view
from shared.contracts.membership import CommunityView, CreateCommunity, JoinCommunity, JoinResult
from shared.ids import derived_id


async def create_community(command: CreateCommunity, deps: Deps) -> CommunityView:
    """Create a community. Repeating the same request is harmless; a different one conflicts."""
    known = {m for m in command.facilitator_ids if await deps.store.member(m) is not None}
    candidate = Community(
        community_id=command.community_id,
        home_region=deps.region,
        name=command.name,
        description=command.description,
        visibility=command.visibility.value,
        topics=tuple(command.topics),
        facilitator_ids=tuple(command.facilitator_ids),
        created_at=deps.clock(),
    )
    existing = await deps.store.community(command.community_id)
    community = found_community(existing, candidate, known)
    if (
        existing is None
        and await deps.store.communities.create(community.community_id, community) is None
    ):
        return await create_community(command, deps)  # created concurrently: decide again
    await deps.events.publish(
        public.community_created(community),
        event_id=derived_id(
            "community_created", community.community_id, community.created_at.isoformat()
        ),
        subject=community.community_id,
    )
    return await community_view(community, deps)


async def join_community(command: JoinCommunity, deps: Deps) -> JoinResult:
    """A member joins a community; their facilitators hear about it downstream."""
    community = await deps.store.community(command.community_id)
    if community is None:
        raise UnknownCommunity(f"community {command.community_id!r} does not exist")
    found = await deps.store.member(command.member_id)
    if found is None:
        raise UnknownMember(f"member {command.member_id!r} does not exist")
    membership = await deps.store.membership(community.community_id, found.value.member_id)
    already_member = membership is not None
    if membership is None:
        membership = join(community, found.value, deps.clock())
        if await deps.store.memberships.create(membership.key, membership) is None:
            return await join_community(command, deps)  # joined concurrently: report that
    await deps.events.publish(
        public.member_joined(community, found.value, membership),
        event_id=derived_id("member_joined", membership.key, membership.joined_at.isoformat()),
        subject=membership.member_id,
    )
    return JoinResult(
        community_id=community.community_id,
        member_id=membership.member_id,
        already_member=already_member,
    )
