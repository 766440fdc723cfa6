"""Members, communities and memberships, and the rules that relate them."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime


class MembershipError(Exception):
    """A request that breaks a membership rule."""


class UnknownMember(MembershipError):
    pass


class UnknownCommunity(MembershipError):
    pass


class CommunityAlreadyExists(MembershipError):
    pass


@dataclass(frozen=True)
class Skill:
    name: str
    level: str


@dataclass(frozen=True)
class Member:
    member_id: str
    home_region: str
    region: str
    timezone: str
    display_name: str
    email: str
    skills: tuple[Skill, ...]
    languages: tuple[str, ...]
    title: str | None
    manager_id: str | None
    registered_at: datetime

    def updated_from(self, newer: Member) -> Member:
        """This member with ``newer``'s profile; they keep their original registration time."""
        return replace(newer, registered_at=self.registered_at)


@dataclass(frozen=True)
class Community:
    community_id: str
    home_region: str
    name: str
    description: str
    visibility: str
    topics: tuple[str, ...]
    facilitator_ids: tuple[str, ...]
    created_at: datetime

    def same_definition(self, other: Community) -> bool:
        """Equal in everything a creator chooses (not the creation time)."""
        return replace(self, created_at=other.created_at) == other

    def role_of(self, member_id: str) -> str:
        return "facilitator" if member_id in self.facilitator_ids else "member"


@dataclass(frozen=True)
class Membership:
    community_id: str
    member_id: str
    role: str
    joined_at: datetime

    @property
    def key(self) -> str:
        return membership_key(self.community_id, self.member_id)


def membership_key(community_id: str, member_id: str) -> str:
    return f"{community_id}.{member_id}"


def register(existing: Member | None, candidate: Member) -> Member:
    """The member to store when the HR directory reports ``candidate``."""
    return candidate if existing is None else existing.updated_from(candidate)


def found_community(
    existing: Community | None, candidate: Community, known_members: set[str]
) -> Community:
    """A new community; its facilitators must be members already. Asking again for the same
    community returns it unchanged; asking for a different one under the same id is refused."""
    if existing is not None:
        if existing.same_definition(candidate):
            return existing
        raise CommunityAlreadyExists(
            f"community {candidate.community_id!r} already exists with other settings"
        )
    unknown = sorted(set(candidate.facilitator_ids) - known_members)
    if unknown:
        raise UnknownMember(f"facilitators are not members: {', '.join(unknown)}")
    return candidate


def join(community: Community, member: Member, now: datetime) -> Membership:
    """``member`` joins ``community``; facilitators join with their role."""
    return Membership(
        community_id=community.community_id,
        member_id=member.member_id,
        role=community.role_of(member.member_id),
        joined_at=now,
    )
