"""From domain objects to public contracts. The only place membership builds its events."""

from __future__ import annotations

from datetime import datetime

from services.membership.domain.model import Community, Hours, Member, Membership
from shared.contracts.membership import (
    CommunityCreatedV1,
    CommunityUpdatedV1,
    JoinRequestDecidedV1,
    JoinRequestedV1,
    LeaveReason,
    MemberConfidentialV1,
    MemberContactV1,
    MemberDeactivatedV1,
    MemberErasedV1,
    MemberJoinedV1,
    MemberLeftV1,
    MemberProfile,
    MemberRegisteredV1,
    MemberUpdatedV1,
    Role,
    RoleChangedV1,
)
from shared.contracts.values import (
    Access,
    MemberRef,
    MemberStatus,
    MentoringOffer,
    Skill,
    SkillLevel,
    Visibility,
    WorkingHours,
)
from shared.ids import drawn_pseudonym

PROFILE_FIELDS = {
    "region",
    "timezone",
    "skills",
    "languages",
    "working_hours",
    "interests",
    "mentoring_offer",
    "mentoring_wish",
    "status",
    "snoozed_until",
    "legal_entity",
}
"""Member fields that appear (some partly) in the public profile."""


def ref(member: Member) -> MemberRef:
    return MemberRef(member_id=member.member_id, home_region=member.home_region)


def ref_of(member_id: str, home_region: str) -> MemberRef:
    return MemberRef(member_id=member_id, home_region=home_region)


def _hours(hours: Hours | None) -> WorkingHours | None:
    if hours is None:
        return None
    return WorkingHours(start=hours.start, end=hours.end, days=list(hours.days))


def profile(member: Member) -> MemberProfile:
    offer = member.mentoring_offer
    return MemberProfile(
        member_id=member.member_id,
        home_region=member.home_region,
        region=member.region,
        timezone=member.timezone,
        skills=[Skill(name=s.name, level=SkillLevel(s.level)) for s in member.skills],
        languages=list(member.languages),
        working_hours=_hours(member.working_hours),
        interests=list(member.interests),
        mentoring_offer=MentoringOffer(topics=list(offer.topics), capacity=offer.capacity)
        if offer
        else None,
        mentoring_wish_topics=list(member.mentoring_wish.topics) if member.mentoring_wish else [],
        status=MemberStatus(member.status),
        snoozed_until=member.snoozed_until,
        legal_entity=member.legal_entity,
        open_to_intros=member.open_to_intros,
    )


def member_registered(member: Member, revision: int) -> MemberRegisteredV1:
    return MemberRegisteredV1(
        member=profile(member), revision=revision, registered_at=member.registered_at
    )


def member_updated(
    member: Member, revision: int, changed: list[str], at: datetime
) -> MemberUpdatedV1:
    return MemberUpdatedV1(
        member=profile(member), revision=revision, changed=sorted(changed), updated_at=at
    )


def member_contact(member: Member, revision: int) -> MemberContactV1:
    return MemberContactV1(
        member_id=member.member_id,
        person_id=member.person_id or member.member_id,
        display_name=member.display_name,
        email=member.email,
        revision=revision,
    )


def member_confidential(member: Member, chain: list[str], revision: int) -> MemberConfidentialV1:
    return MemberConfidentialV1(
        member_id=member.member_id,
        open_to_move=member.open_to_move,
        manager_chain=chain,
        revision=revision,
    )


def member_deactivated(member: Member, at: datetime) -> MemberDeactivatedV1:
    return MemberDeactivatedV1(member=ref(member), reason="departed", deactivated_at=at)


def member_erased(
    member_id: str, home_region: str, at: datetime, request_ref: str
) -> MemberErasedV1:
    return MemberErasedV1(
        member=MemberRef(member_id=member_id, home_region=home_region),
        erased_at=at,
        request_ref=request_ref,
        pseudonym=drawn_pseudonym(),
    )


def facilitators(community: Community) -> list[MemberRef]:
    """Facilitators are homed where their community is administered."""
    return [
        MemberRef(member_id=m, home_region=community.home_region) for m in community.facilitator_ids
    ]


def _community_facts(community: Community) -> dict[str, object]:
    return {
        "community_id": community.community_id,
        "visibility": Visibility(community.visibility),
    }


def community_created(community: Community) -> CommunityCreatedV1:
    return CommunityCreatedV1(
        **_community_facts(community),  # type: ignore[arg-type]
        name=community.name,
        description=community.description,
        topics=list(community.topics),
        facilitators=facilitators(community),
        home_region=community.home_region,
        created_at=community.created_at,
        access=Access(community.access),
        region_scope=list(community.region_scope),
    )


def community_updated(
    community: Community, revision: int, changed: list[str], at: datetime
) -> CommunityUpdatedV1:
    return CommunityUpdatedV1(
        **_community_facts(community),  # type: ignore[arg-type]
        name=community.name,
        description=community.description,
        access=Access(community.access),
        topics=list(community.topics),
        facilitators=facilitators(community),
        home_region=community.home_region,
        region_scope=list(community.region_scope),
        archived=community.archived,
        needs_facilitator=community.needs_facilitator,
        changed=sorted(changed),
        revision=revision,
        updated_at=at,
    )


def _about_community(community: Community) -> dict[str, object]:
    return {**_community_facts(community), "community_name": community.name}


def member_joined(community: Community, member: Member, membership: Membership) -> MemberJoinedV1:
    return MemberJoinedV1(
        **_about_community(community),  # type: ignore[arg-type]
        member=profile(member),
        role=Role(membership.role),
        facilitators=facilitators(community),
        joined_at=membership.joined_at,
        access=Access(community.access),
    )


def member_left(
    community: Community, member: MemberRef, reason: LeaveReason, at: datetime
) -> MemberLeftV1:
    return MemberLeftV1(
        **_about_community(community),  # type: ignore[arg-type]
        member=member,
        reason=reason,
        facilitators=facilitators(community),
        left_at=at,
    )


def join_requested(community: Community, member: Member, at: datetime) -> JoinRequestedV1:
    return JoinRequestedV1(
        **_about_community(community),  # type: ignore[arg-type]
        member=profile(member),
        facilitators=facilitators(community),
        requested_at=at,
    )


def join_request_decided(
    community: Community,
    member: MemberRef,
    approved: bool,
    actor: str,
    reason: str | None,
    at: datetime,
) -> JoinRequestDecidedV1:
    return JoinRequestDecidedV1(
        **_about_community(community),  # type: ignore[arg-type]
        member=member,
        approved=approved,
        decided_by=actor,
        reason=reason,
        decided_at=at,
    )


def role_changed(
    community: Community, member: MemberRef, role: str, actor: str, at: datetime
) -> RoleChangedV1:
    return RoleChangedV1(
        **_about_community(community),  # type: ignore[arg-type]
        member=member,
        role=Role(role),
        changed_by=actor,
        facilitators=facilitators(community),
        changed_at=at,
    )
