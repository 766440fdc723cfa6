"""Membership's public events, commands and queries."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from shared.contracts.base import Contract, Payload, Request
from shared.contracts.values import (
    Identifier,
    MemberRef,
    Region,
    Skill,
    Tag,
    Timezone,
    Visibility,
)
from shared.naming import Scope


class Role(StrEnum):
    """A member's role in one community."""

    MEMBER = "member"
    FACILITATOR = "facilitator"


class MemberProfile(Payload):
    """What any region may know about a member: no name, no e-mail."""

    member_id: Identifier = Field(description="The member's id (the HR person id).")
    home_region: Region = Field(description="Region that holds their data and delivers to them.")
    region: Region = Field(description="Region they work in.")
    timezone: Timezone = Field(description="IANA timezone.")
    skills: list[Skill] = Field(default_factory=list, description="Declared skills and levels.")
    languages: list[str] = Field(default_factory=list, description="Languages (ISO 639-1).")


class MemberRegisteredV1(Contract):
    """A person became a Guild member (or their public profile changed)."""

    TYPE = "guild.membership.member_registered.v1"
    SCOPE = Scope.PUBLIC

    member: MemberProfile = Field(description="Their public profile.")
    revision: int = Field(
        ge=1, description="Increases with every change; apply only if newer than what you hold."
    )
    registered_at: datetime = Field(description="When they were first registered.")


class MemberContactV1(Contract):
    """Personal contact data of a member. Stays in their home region; latest value per member."""

    TYPE = "guild.membership.member_contact.v1"
    SCOPE = Scope.PERSONAL

    member_id: Identifier = Field(description="The member's id.")
    display_name: str = Field(description="Name to show.")
    email: str = Field(description="Work e-mail address.")
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


class CreateCommunity(Request):
    """Command: create a community."""

    community_id: Identifier = Field(description="Id to create it under.")
    name: str = Field(min_length=1, max_length=120, description="Display name.")
    description: str = Field(default="", max_length=2_000, description="What it is about.")
    visibility: Visibility = Field(default=Visibility.PUBLIC, description="Who may see it.")
    topics: list[Tag] = Field(default_factory=list, max_length=30, description="Topics.")
    facilitator_ids: list[Identifier] = Field(
        min_length=1, max_length=20, description="Members who facilitate it (must exist)."
    )


class JoinCommunity(Request):
    """Command: a member joins a community."""

    community_id: Identifier = Field(description="The community to join.")
    member_id: Identifier = Field(description="The member joining.")


class GetMember(Request):
    """Query: one member, with contact data and communities."""

    member_id: Identifier = Field(description="The member.")


class GetCommunity(Request):
    """Query: one community with its members."""

    community_id: Identifier = Field(description="The community.")


class ListCommunities(Request):
    """Query: every community, newest first."""


class MemberView(BaseModel):
    """Reply to :class:`GetMember`."""

    profile: MemberProfile
    display_name: str
    email: str
    communities: list[Identifier]


class CommunityView(BaseModel):
    """Reply to :class:`GetCommunity` and items of :class:`ListCommunities`."""

    community_id: Identifier
    name: str
    description: str
    visibility: Visibility
    topics: list[str]
    facilitator_ids: list[Identifier]
    member_ids: list[Identifier]


class JoinResult(BaseModel):
    """Reply to :class:`JoinCommunity`."""

    community_id: Identifier
    member_id: Identifier
    already_member: bool = Field(description="True if they were a member before this request.")
