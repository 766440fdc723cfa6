"""Queries, answered over request-reply. A private community exists only for its members."""

from __future__ import annotations

from services.membership.domain import model
from services.membership.domain.model import Community, Member, NotAllowed, UnknownMember
from services.membership.events.public import profile
from services.membership.handlers import Deps
from shared.contracts.membership import (
    CommunityMembers,
    CommunityPage,
    CommunityView,
    FindMember,
    GetCommunity,
    GetMember,
    JoinRequests,
    JoinRequestView,
    ListCommunities,
    MemberCommunities,
    MemberEntry,
    MemberFound,
    MembersPage,
    MemberView,
    Role,
    SkillSuggestion,
)
from shared.contracts.values import Access, SkillLevel, Visibility
from shared.pagination import next_cursor, offset_of


def community_view(community: Community, viewer_id: str, deps: Deps) -> CommunityView:
    role = deps.store.index.role(community.community_id, viewer_id)
    return CommunityView(
        community_id=community.community_id,
        name=community.name,
        description=community.description,
        visibility=Visibility(community.visibility),
        access=Access(community.access),
        topics=list(community.topics),
        facilitator_ids=list(community.facilitator_ids),
        region_scope=list(community.region_scope),
        archived=community.archived,
        needs_facilitator=community.needs_facilitator,
        member_count=deps.store.index.count(community.community_id),
        viewer_role=Role(role) if role else None,
    )


def visible_to(viewer_id: str, deps: Deps) -> set[str]:
    """The communities ``viewer_id`` may see."""
    index = deps.store.index
    return {
        c.community_id
        for c in deps.store.directory.communities.values()
        if model.can_see(c, index.is_member(c.community_id, viewer_id))
    }


async def member_view(member: Member, viewer_id: str, deps: Deps) -> MemberView:
    """Everyone sees the public profile and name; only the member themselves sees the rest."""
    own = viewer_id == member.member_id
    member = member.awake_on(deps.clock().date())
    communities = sorted(
        deps.store.index.by_member.get(member.member_id, set()) & visible_to(viewer_id, deps)
    )
    view = MemberView(
        profile=profile(member), display_name=member.display_name, communities=communities
    )
    if not own:
        return view
    return view.model_copy(
        update={
            "email": member.email,
            "about": member.about,
            "mentoring_goals": member.mentoring_wish.goals if member.mentoring_wish else "",
            "open_to_move": member.open_to_move,
            "pending_skills": [
                SkillSuggestion(
                    skill=p.skill,
                    level=SkillLevel(p.level) if p.level else None,
                    reason=p.reason,
                    suggested_at=p.suggested_at,
                )
                for p in member.pending_skills
            ],
        }
    )


async def get_member(query: GetMember, deps: Deps) -> MemberView:
    """One member (departed members are not found)."""
    found = await deps.store.member(query.member_id)
    if found is None or not found.value.active:
        raise UnknownMember(f"member {query.member_id!r} does not exist")
    return await member_view(found.value, query.viewer_id, deps)


async def find_member(query: FindMember, deps: Deps) -> MemberFound:
    """The member id of an HR person (departed and erased people are not found)."""
    found = await deps.store.member_of_person(query.person_id)
    if found is None or not found.value.active:
        raise UnknownMember("no member has this HR person id")
    return MemberFound(member_id=found.value.member_id, home_region=found.value.home_region)


async def get_community(query: GetCommunity, deps: Deps) -> CommunityView:
    """One community (a private one only for its members)."""
    community = deps.store.directory.communities.get(query.community_id)
    if community is None or query.community_id not in visible_to(query.viewer_id, deps):
        raise model.UnknownCommunity(f"community {query.community_id!r} does not exist")
    return community_view(community, query.viewer_id, deps)


async def list_communities(query: ListCommunities, deps: Deps) -> CommunityPage:
    """Communities the viewer may see, newest first."""
    visible = visible_to(query.viewer_id, deps)
    communities = [
        c
        for c in deps.store.directory.newest_first()
        if c.community_id in visible and (query.include_archived or not c.archived)
    ]
    start = offset_of(query.cursor)
    page = communities[start : start + query.limit]
    return CommunityPage(
        items=[community_view(c, query.viewer_id, deps) for c in page],
        next_cursor=next_cursor(start + len(page), len(communities)),
    )


async def community_members(query: CommunityMembers, deps: Deps) -> MembersPage:
    """A community's members in the order they joined (a private one: members only)."""
    await get_community(
        GetCommunity(viewer_id=query.viewer_id, community_id=query.community_id), deps
    )
    members = deps.store.index.members(query.community_id)
    start = offset_of(query.cursor)
    page = members[start : start + query.limit]
    return MembersPage(
        items=[MemberEntry(member_id=m, role=Role(r), joined_at=j) for m, r, j in page],
        next_cursor=next_cursor(start + len(page), len(members)),
    )


async def member_communities(query: MemberCommunities, deps: Deps) -> list[CommunityView]:
    """The communities a member is in, that the viewer may see."""
    visible = visible_to(query.viewer_id, deps)
    ids = sorted(deps.store.index.by_member.get(query.member_id, set()) & visible)
    directory = deps.store.directory.communities
    return [community_view(directory[c], query.viewer_id, deps) for c in ids if c in directory]


async def join_requests(query: JoinRequests, deps: Deps) -> list[JoinRequestView]:
    """Pending requests to join, oldest first (facilitators only)."""
    community = await get_community(
        GetCommunity(viewer_id=query.viewer_id, community_id=query.community_id), deps
    )
    if query.viewer_id not in community.facilitator_ids:
        raise NotAllowed(f"only facilitators of {query.community_id!r} see its join requests")
    requests = sorted(
        await deps.store.requests_for(query.community_id), key=lambda r: r.requested_at
    )
    return [
        JoinRequestView(member_id=r.member_id, message=r.message, requested_at=r.requested_at)
        for r in requests
    ]
