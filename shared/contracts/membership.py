"""Membership's public events, commands and queries.

Public events carry ids, regions, timezones and skills: never a name, an e-mail address, a
free-text profile or the confidential "open to a move" flag. Those travel only as personal
events (``personal.<r>...``) in the member's home region, and are erasable.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from shared.contracts.base import Contract, Payload, Request
from shared.contracts.handover import Handover
from shared.contracts.values import (
    Access,
    Identifier,
    MemberRef,
    MemberStatus,
    MentoringOffer,
    Page,
    Region,
    Skill,
    SkillLevel,
    Tag,
    Timezone,
    Visibility,
    WorkingHours,
)
from shared.naming import Scope


class Role(StrEnum):
    """A member's role in one community."""

    MEMBER = "member"
    FACILITATOR = "facilitator"


class LeaveReason(StrEnum):
    LEFT = "left"
    """They left."""
    REMOVED = "removed"
    """Their join request was withdrawn or they were removed by a facilitator."""
    DEPARTED = "departed"
    """They left the company."""
    ERASED = "erased"
    """Their personal data was erased."""


class MemberProfile(Payload):
    """What any region may know about a member: no name, no e-mail, no free text."""

    member_id: Identifier = Field(description="The member's id (Guild's own; not the HR id).")
    home_region: Region = Field(description="Region that holds their data and delivers to them.")
    region: Region = Field(description="Region they work in.")
    timezone: Timezone = Field(description="IANA timezone.")
    skills: list[Skill] = Field(default_factory=list, description="Declared skills and levels.")
    languages: list[str] = Field(default_factory=list, description="Languages (ISO 639-1).")
    working_hours: WorkingHours | None = Field(
        default=None, description="When they usually work, in their timezone."
    )
    interests: list[Tag] = Field(default_factory=list, description="Topics they follow.")
    mentoring_offer: MentoringOffer | None = Field(
        default=None, description="What they offer to mentor, and their capacity."
    )
    mentoring_wish_topics: list[Tag] = Field(
        default_factory=list, description="Topics they would like a mentor for."
    )
    status: MemberStatus = Field(default=MemberStatus.ACTIVE, description="Active or snoozed.")
    snoozed_until: date | None = Field(
        default=None, description="While snoozed: the first day they are available again."
    )
    legal_entity: str | None = Field(
        default=None, description="The company's legal entity that employs them."
    )
    open_to_intros: bool = Field(
        default=True, description="False: never proposed to meet people (they opted out)."
    )


class MemberRegisteredV1(Contract):
    """A person became a Guild member."""

    TYPE = "guild.membership.member_registered.v1"
    SCOPE = Scope.PUBLIC

    member: MemberProfile = Field(description="Their public profile.")
    revision: int = Field(
        ge=1, description="Increases with every change; apply only if newer than what you hold."
    )
    registered_at: datetime = Field(description="When they were first registered.")


class MemberUpdatedV1(Contract):
    """A member's public profile changed (skills, hours, status, region, ...)."""

    TYPE = "guild.membership.member_updated.v1"
    SCOPE = Scope.PUBLIC

    member: MemberProfile = Field(description="Their whole public profile, as it is now.")
    revision: int = Field(ge=1, description="Apply only if newer than what you hold.")
    changed: list[str] = Field(description="Which profile fields changed.")
    updated_at: datetime = Field(description="When.")


class MemberDeactivatedV1(Contract):
    """A member left the company: they leave every community and are never matched again."""

    TYPE = "guild.membership.member_deactivated.v1"
    SCOPE = Scope.PUBLIC

    member: MemberRef = Field(description="Who.")
    reason: str = Field(description="Why, e.g. 'departed'.")
    deactivated_at: datetime = Field(description="When.")


class MemberErasedV1(Contract):
    """A member's personal data was erased. Every service removes what it holds of them."""

    TYPE = "guild.membership.member_erased.v1"
    SCOPE = Scope.PUBLIC

    member: MemberRef = Field(description="Whose data to erase.")
    erased_at: datetime = Field(description="When membership finished erasing.")
    request_ref: str | None = Field(
        default=None, description="The privacy request's reference, for its records."
    )
    pseudonym: str | None = Field(
        default=None,
        pattern=r"^erased-[0-9a-f]{16,64}$",
        description="What stands for the member where records of theirs stay (posts, "
        "questions): drawn at random, so nobody can recompute it from their id. Absent from "
        "notices of older publishers: then each service keys one with a secret of its own.",
    )


class MemberHandoverV1(Handover):
    """Membership hands a moving member's record, memberships and requests to join to their
    new home region (sealed; see :mod:`shared.contracts.handover`)."""

    TYPE = "guild.membership.member_handover.v1"
    SCOPE = Scope.HANDOVER


class MemberMovedV1(Contract):
    """A member's new home region took them in: it holds their data and delivers to them from
    now on. The region they left erases what it held of them; every region notes where they
    are homed."""

    TYPE = "guild.membership.member_moved.v1"
    SCOPE = Scope.PUBLIC

    member: MemberRef = Field(description="Who moved, with their new home region.")
    from_region: Region = Field(description="The home region they left.")
    moved_at: datetime = Field(description="When the new region took them in.")


class MemberContactV1(Contract):
    """Personal contact data of a member. Stays in their home region; latest value per member."""

    TYPE = "guild.membership.member_contact.v1"
    SCOPE = Scope.PERSONAL

    member_id: Identifier = Field(description="The member's id.")
    display_name: str = Field(description="Name to show.")
    email: str = Field(description="Work e-mail address.")
    revision: int = Field(ge=1, description="Increases with every change.")
    person_id: Identifier | None = Field(
        default=None,
        description="Their HR person id, by which sign-in (the company's identity provider) "
        "names them; personal data like the rest of this event.",
    )


class MemberConfidentialV1(Contract):
    """Confidential career data: whether a member is open to a move, and who must never learn
    it (their manager chain). Home region only; for matching's job matcher."""

    TYPE = "guild.membership.member_confidential.v1"
    SCOPE = Scope.PERSONAL

    member_id: Identifier = Field(description="The member's id.")
    open_to_move: bool = Field(description="Open to an internal move.")
    manager_chain: list[Identifier] = Field(
        description="Their manager, their manager's manager, ... (from the HR directory)."
    )
    revision: int = Field(ge=1, description="Increases with every change.")


class CommunityCreatedV1(Contract):
    """A Community of Practice was created."""

    TYPE = "guild.membership.community_created.v1"
    SCOPE = Scope.PUBLIC

    community_id: Identifier = Field(description="The community's id.")
    name: str = Field(description="Display name, e.g. 'Kubernetes Operators'.")
    description: str = Field(description="What the community is about.")
    visibility: Visibility = Field(description="Who may see it and its content.")
    topics: list[Tag] = Field(description="Topics (tags) the community covers.")
    facilitators: list[MemberRef] = Field(description="Who facilitates it.")
    created_at: datetime = Field(description="When it was created.")
    home_region: Region | None = Field(
        default=None, description="The region that administers it (runs its rounds)."
    )
    access: Access = Field(default=Access.PUBLIC, description="How people get in.")
    region_scope: list[Region] = Field(
        default_factory=list, description="Regions it is for; empty means global."
    )


class CommunityUpdatedV1(Contract):
    """A community changed: settings, facilitators, archived, or left without a facilitator."""

    TYPE = "guild.membership.community_updated.v1"
    SCOPE = Scope.PUBLIC

    community_id: Identifier = Field(description="The community's id.")
    name: str = Field(description="Display name.")
    description: str = Field(description="What it is about.")
    visibility: Visibility = Field(description="Who may see it and its content.")
    access: Access = Field(description="How people get in.")
    topics: list[Tag] = Field(description="Topics.")
    facilitators: list[MemberRef] = Field(description="Who facilitates it now.")
    home_region: Region | None = Field(
        default=None, description="The region that administers it (runs its rounds)."
    )
    region_scope: list[Region] = Field(description="Regions it is for; empty means global.")
    archived: bool = Field(description="Archived communities take no new members or posts.")
    needs_facilitator: bool = Field(description="True when nobody facilitates it any more.")
    changed: list[str] = Field(description="Which fields changed.")
    revision: int = Field(ge=1, description="Apply only if newer than what you hold.")
    updated_at: datetime = Field(description="When.")


class MemberJoinedV1(Contract):
    """A member joined a community. Carries what downstream services need to react."""

    TYPE = "guild.membership.member_joined.v1"
    SCOPE = Scope.PUBLIC

    community_id: Identifier = Field(description="The community joined.")
    community_name: str = Field(description="Its display name.")
    visibility: Visibility = Field(description="The community's visibility.")
    member: MemberProfile = Field(description="The member's public profile.")
    role: Role = Field(description="Their role in the community.")
    facilitators: list[MemberRef] = Field(description="The community's facilitators.")
    joined_at: datetime = Field(description="When they joined.")
    access: Access = Field(default=Access.PUBLIC, description="How people get in.")


class MemberLeftV1(Contract):
    """A member is no longer in a community."""

    TYPE = "guild.membership.member_left.v1"
    SCOPE = Scope.PUBLIC

    community_id: Identifier = Field(description="The community.")
    community_name: str = Field(description="Its display name.")
    visibility: Visibility = Field(description="The community's visibility.")
    member: MemberRef = Field(description="Who left.")
    reason: LeaveReason = Field(description="Why.")
    facilitators: list[MemberRef] = Field(description="The community's facilitators now.")
    left_at: datetime = Field(description="When.")


class JoinRequestedV1(Contract):
    """A member asked to join an approval-gated community; its facilitators decide."""

    TYPE = "guild.membership.join_requested.v1"
    SCOPE = Scope.PUBLIC

    community_id: Identifier = Field(description="The community.")
    community_name: str = Field(description="Its display name.")
    visibility: Visibility = Field(description="The community's visibility.")
    member: MemberProfile = Field(description="Who asks, as any region may know them.")
    facilitators: list[MemberRef] = Field(description="Who decides.")
    requested_at: datetime = Field(description="When.")


class JoinRequestDecidedV1(Contract):
    """A facilitator approved or denied a request to join."""

    TYPE = "guild.membership.join_request_decided.v1"
    SCOPE = Scope.PUBLIC

    community_id: Identifier = Field(description="The community.")
    community_name: str = Field(description="Its display name.")
    visibility: Visibility = Field(description="The community's visibility.")
    member: MemberRef = Field(description="Who asked.")
    approved: bool = Field(description="Approved (they are now a member) or denied.")
    decided_by: Identifier = Field(description="The facilitator who decided.")
    reason: str | None = Field(default=None, description="What the facilitator said.")
    decided_at: datetime = Field(description="When.")


class RoleChangedV1(Contract):
    """A member's role in a community changed."""

    TYPE = "guild.membership.role_changed.v1"
    SCOPE = Scope.PUBLIC

    community_id: Identifier = Field(description="The community.")
    community_name: str = Field(description="Its display name.")
    visibility: Visibility = Field(description="The community's visibility.")
    member: MemberRef = Field(description="Whose role changed.")
    role: Role = Field(description="Their role now.")
    changed_by: Identifier = Field(description="Who changed it.")
    facilitators: list[MemberRef] = Field(description="The community's facilitators now.")
    changed_at: datetime = Field(description="When.")


# ----------------------------------------------------------------- commands


class CreateCommunity(Request):
    """Command: create a community. The creator must be a member; facilitators must exist."""

    actor_id: Identifier = Field(description="Who creates it.")
    community_id: Identifier = Field(description="Id to create it under.")
    name: str = Field(min_length=1, max_length=120, description="Display name.")
    description: str = Field(default="", max_length=2_000, description="What it is about.")
    access: Access = Field(default=Access.PUBLIC, description="public, gated or private.")
    topics: list[Tag] = Field(default_factory=list, max_length=30, description="Topics.")
    facilitator_ids: list[Identifier] = Field(
        default_factory=list,
        max_length=20,
        description="Who facilitates it; the creator if empty.",
    )
    region_scope: list[Region] = Field(
        default_factory=list, description="Regions it is for; empty means global."
    )


class UpdateCommunity(Request):
    """Command (facilitators): change a community's settings. Omitted fields stay as they are."""

    actor_id: Identifier = Field(description="A facilitator of the community.")
    community_id: Identifier = Field(description="The community.")
    name: str | None = Field(default=None, min_length=1, max_length=120)
    description: str | None = Field(default=None, max_length=2_000)
    access: Access | None = Field(default=None)
    topics: list[Tag] | None = Field(default=None, max_length=30)
    region_scope: list[Region] | None = Field(default=None)


class ArchiveCommunity(Request):
    """Command (facilitators): archive a community; it takes no new members or posts."""

    actor_id: Identifier = Field(description="A facilitator of the community.")
    community_id: Identifier = Field(description="The community.")


class JoinCommunity(Request):
    """Command: a member joins a public community (gated ones: request_to_join)."""

    member_id: Identifier = Field(description="The member joining.")
    community_id: Identifier = Field(description="The community to join.")


class LeaveCommunity(Request):
    """Command: a member leaves a community."""

    member_id: Identifier = Field(description="The member leaving.")
    community_id: Identifier = Field(description="The community.")


class RequestToJoin(Request):
    """Command: ask to join an approval-gated community."""

    member_id: Identifier = Field(description="Who asks.")
    community_id: Identifier = Field(description="The community.")
    message: str = Field(default="", max_length=500, description="A word to the facilitators.")


class DecideJoinRequest(Request):
    """Command (facilitators): approve or deny a request to join."""

    actor_id: Identifier = Field(description="A facilitator of the community.")
    community_id: Identifier = Field(description="The community.")
    member_id: Identifier = Field(description="Who asked.")
    approve: bool = Field(description="True to let them in.")
    reason: str | None = Field(default=None, max_length=500, description="Told to the member.")


class AddMember(Request):
    """Command (facilitators): add a member to a community (how private ones grow)."""

    actor_id: Identifier = Field(description="A facilitator of the community.")
    community_id: Identifier = Field(description="The community.")
    member_id: Identifier = Field(description="Who to add.")


class ChangeRole(Request):
    """Command (facilitators): make a member a facilitator, or a facilitator a member."""

    actor_id: Identifier = Field(description="A facilitator of the community.")
    community_id: Identifier = Field(description="The community.")
    member_id: Identifier = Field(description="Whose role changes.")
    role: Role = Field(description="The new role.")


class MentoringWish(Payload):
    """What someone would like a mentor for."""

    topics: list[Tag] = Field(max_length=20, description="Topics.")
    goals: str = Field(default="", max_length=1_000, description="In their words (private).")


class UpdateProfile(Request):
    """Command (the member themselves): change their profile. Omitted fields stay."""

    member_id: Identifier = Field(description="Whose profile (the caller's own).")
    about: str | None = Field(default=None, max_length=2_000, description="Free text (private).")
    working_hours: WorkingHours | None = Field(default=None)
    languages: list[str] | None = Field(default=None, max_length=20)
    skills: list[Skill] | None = Field(default=None, max_length=100)
    interests: list[Tag] | None = Field(default=None, max_length=50)
    mentoring_offer: MentoringOffer | None = Field(default=None)
    mentoring_wish: MentoringWish | None = Field(default=None)
    open_to_move: bool | None = Field(
        default=None,
        description="Confidential: never shown to anyone else, least of all their manager chain.",
    )
    open_to_intros: bool | None = Field(
        default=None, description="False: opt out of being proposed to meet people."
    )


class Snooze(Request):
    """Command: not to be asked or introduced until a date (inclusive of the day before)."""

    member_id: Identifier = Field(description="Who.")
    until: date = Field(description="The first day they are available again.")


class Resume(Request):
    """Command: end a snooze now."""

    member_id: Identifier = Field(description="Who.")


class DecideSkill(Request):
    """Command: confirm or reject a skill another service suggested."""

    member_id: Identifier = Field(description="Whose suggestion (the caller's own).")
    skill: Tag = Field(description="The suggested skill.")
    confirm: bool = Field(description="True adds it to their skills; false rejects it.")
    level: SkillLevel | None = Field(
        default=None, description="Level to declare; the suggested one if omitted."
    )


# ----------------------------------------------------------------- queries


class GetMember(Request):
    """Query: one member. Others see the public profile and name; only the member sees their
    e-mail, free text, pending skills and the confidential flag."""

    viewer_id: Identifier = Field(description="Who is asking.")
    member_id: Identifier = Field(description="The member.")


class FindMember(Request):
    """Query: the member id of a person the HR directory names, for the systems that know
    people by their HR id (the portal after sign-in, a code catalogue, a chat bot) and send
    Guild member ids. Departed and erased people are not found."""

    person_id: Identifier = Field(description="HR person id.")


class MemberFound(BaseModel):
    """Reply to :class:`FindMember`."""

    member_id: Identifier = Field(description="Guild's id of the member.")
    home_region: Region = Field(description="Where they are homed.")


class GetCommunity(Request):
    """Query: one community (a private one only for its members)."""

    viewer_id: Identifier = Field(description="Who is asking.")
    community_id: Identifier = Field(description="The community.")


class ListCommunities(Request):
    """Query: communities the viewer may see, newest first."""

    viewer_id: Identifier = Field(description="Who is asking.")
    include_archived: bool = Field(default=False)
    cursor: str | None = Field(default=None, description="From the previous page.")
    limit: int = Field(default=20, ge=1, le=100)


class CommunityMembers(Request):
    """Query: a community's members, in the order they joined."""

    viewer_id: Identifier = Field(description="Who is asking.")
    community_id: Identifier = Field(description="The community.")
    cursor: str | None = Field(default=None)
    limit: int = Field(default=50, ge=1, le=200)


class MemberCommunities(Request):
    """Query: the communities a member is in (those the viewer may see)."""

    viewer_id: Identifier = Field(description="Who is asking.")
    member_id: Identifier = Field(description="The member.")


class JoinRequests(Request):
    """Query (facilitators): pending requests to join, oldest first."""

    viewer_id: Identifier = Field(description="A facilitator of the community.")
    community_id: Identifier = Field(description="The community.")


# ----------------------------------------------------------------- replies


class SkillSuggestion(BaseModel):
    skill: str
    level: SkillLevel | None
    reason: str
    suggested_at: datetime


class MemberView(BaseModel):
    """Reply to :class:`GetMember`; the private fields only for the member themselves."""

    profile: MemberProfile
    display_name: str
    communities: list[Identifier]
    email: str | None = None
    about: str | None = None
    mentoring_goals: str | None = None
    open_to_move: bool | None = None
    pending_skills: list[SkillSuggestion] | None = None


class CommunityView(BaseModel):
    """A community as the viewer may see it."""

    community_id: Identifier
    name: str
    description: str
    visibility: Visibility
    access: Access
    topics: list[str]
    facilitator_ids: list[Identifier]
    region_scope: list[str]
    archived: bool
    needs_facilitator: bool
    member_count: int
    viewer_role: Role | None = Field(description="The viewer's role, if they are a member.")


class CommunityPage(Page):
    items: list[CommunityView]


class MemberEntry(BaseModel):
    member_id: Identifier
    role: Role
    joined_at: datetime


class MembersPage(Page):
    items: list[MemberEntry]


class JoinRequestView(BaseModel):
    member_id: Identifier
    message: str
    requested_at: datetime


class JoinResult(BaseModel):
    """Reply to :class:`JoinCommunity`, :class:`AddMember` and approvals."""

    community_id: Identifier
    member_id: Identifier
    already_member: bool = Field(description="True if they were a member before this request.")


class RequestResult(BaseModel):
    """Reply to :class:`RequestToJoin`."""

    community_id: Identifier
    member_id: Identifier
    status: str = Field(description="'pending' (or 'member' if they already are one).")
