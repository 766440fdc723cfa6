"""Queries, answered over request-reply."""

from __future__ import annotations

from services.membership.domain.model import Community, UnknownCommunity, UnknownMember
from services.membership.events.public import profile
from services.membership.handlers import Deps
from shared.contracts.membership import (
    CommunityView,
    GetCommunity,
    GetMember,
    ListCommunities,
    MemberView,
)


async def community_view(community: Community, deps: Deps) -> CommunityView:
    members = await deps.store.members_of(community.community_id)
    return CommunityView(
        community_id=community.community_id,
        name=community.name,
        description=community.description,
        visibility=community.visibility,
        topics=list(community.topics),
        facilitator_ids=list(community.facilitator_ids),
        member_ids=sorted(m.member_id for m in members),
    )


async def get_member(query: GetMember, deps: Deps) -> MemberView:
    """One member with contact data and the communities they are in."""
    found = await deps.store.member(query.member_id)
    if found is None:
        raise UnknownMember(f"member {query.member_id!r} does not exist")
    member = found.value
    return MemberView(
        profile=profile(member),
        display_name=member.display_name,
        email=member.email,
        communities=sorted(await deps.store.communities_of(member.member_id)),
    )


async def get_community(query: GetCommunity, deps: Deps) -> CommunityView:
    """One community with its members."""
    community = await deps.store.community(query.community_id)
    if community is None:
        raise UnknownCommunity(f"community {query.community_id!r} does not exist")
    return await community_view(community, deps)


async def list_communities(query: ListCommunities, deps: Deps) -> list[CommunityView]:
    """Every community, newest first."""
    communities = [entry.value async for _, entry in deps.store.communities.items()]
    communities.sort(key=lambda c: c.created_at, reverse=True)
    return [await community_view(c, deps) for c in communities]
