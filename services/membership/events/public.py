"""From domain objects to public contracts. The only place membership builds its events."""

from __future__ import annotations

from services.membership.domain.model import Community, Member, Membership
from shared.contracts.membership import (
    CommunityCreatedV1,
    MemberContactV1,
    MemberJoinedV1,
    MemberProfile,
    MemberRegisteredV1,
    Role,
)
from shared.contracts.values import MemberRef, Skill, SkillLevel, Visibility


def profile(member: Member) -> MemberProfile:
    return MemberProfile(
        member_id=member.member_id,
        home_region=member.home_region,
        region=member.region,
        timezone=member.timezone,
        skills=[Skill(name=s.name, level=SkillLevel(s.level)) for s in member.skills],
        languages=list(member.languages),
    )


def member_registered(member: Member, revision: int) -> MemberRegisteredV1:
    return MemberRegisteredV1(
        member=profile(member), revision=revision, registered_at=member.registered_at
    )


def member_contact(member: Member, revision: int) -> MemberContactV1:
    return MemberContactV1(
        member_id=member.member_id,
        display_name=member.display_name,
        email=member.email,
        revision=revision,
    )


def facilitators(community: Community) -> list[MemberRef]:
    """Facilitators are homed where their community is administered."""
    return [
        MemberRef(member_id=m, home_region=community.home_region) for m in community.facilitator_ids
    ]


def community_created(community: Community) -> CommunityCreatedV1:
    return CommunityCreatedV1(
        community_id=community.community_id,
        name=community.name,
        description=community.description,
        visibility=Visibility(community.visibility),
        topics=list(community.topics),
        facilitators=facilitators(community),
        created_at=community.created_at,
    )


def member_joined(community: Community, member: Member, membership: Membership) -> MemberJoinedV1:
    return MemberJoinedV1(
        community_id=community.community_id,
        community_name=community.name,
        visibility=Visibility(community.visibility),
        member=profile(member),
        role=Role(membership.role),
        facilitators=facilitators(community),
        joined_at=membership.joined_at,
    )
