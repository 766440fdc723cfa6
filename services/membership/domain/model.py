"""Members, communities and memberships, and the rules that relate them."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import date, datetime, time

PUBLIC, GATED, PRIVATE = "public", "gated", "private"
MEMBER, FACILITATOR = "member", "facilitator"
ACTIVE, SNOOZED, DEPARTED = "active", "snoozed", "departed"


class MembershipError(Exception):
    """A request that breaks a membership rule."""


class UnknownMember(MembershipError):
    pass


class UnknownCommunity(MembershipError):
    pass


class CommunityAlreadyExists(MembershipError):
    pass


class NotAllowed(MembershipError):
    """The actor may not do this (e.g. only facilitators approve requests)."""


class ApprovalRequired(MembershipError):
    """The community is gated: ask to join instead."""


class InvalidChange(MembershipError):
    """The change makes no sense (e.g. archiving twice, leaving a community one is not in)."""


class AdministeredElsewhere(MembershipError):
    """The community is homed in another region, which alone changes it: send it there."""


@dataclass(frozen=True)
class Skill:
    name: str
    level: str


@dataclass(frozen=True)
class Hours:
    start: time
    end: time
    days: tuple[int, ...]


@dataclass(frozen=True)
class MentoringOffer:
    topics: tuple[str, ...]
    capacity: int


@dataclass(frozen=True)
class MentoringWish:
    topics: tuple[str, ...]
    goals: str


@dataclass(frozen=True)
class SkillSuggestion:
    skill: str
    level: str | None
    reason: str
    source: str
    suggested_at: datetime


PERSONAL_FIELDS = ("person_id", "display_name", "email", "about", "mentoring_wish")
"""Personal data: never in a public event, erased on request."""
CONFIDENTIAL_FIELDS = ("open_to_move",)


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
    team: str | None = None
    legal_entity: str | None = None
    about: str = ""
    working_hours: Hours | None = None
    interests: tuple[str, ...] = ()
    mentoring_offer: MentoringOffer | None = None
    mentoring_wish: MentoringWish | None = None
    open_to_move: bool = False
    open_to_intros: bool = True
    status: str = ACTIVE
    snoozed_until: date | None = None
    pending_skills: tuple[SkillSuggestion, ...] = ()
    rejected_skills: tuple[str, ...] = ()
    person_id: str | None = None
    """Their HR person id (what the HR directory and sign-in name them by); ``member_id`` is
    Guild's own, drawn at random. None: a record from before the two were told apart."""
    revision_base: int = 0
    """Added to the record's revision in the events about them: the last revision their
    previous home region published, for a member who moved here, so that every region's
    "newer revision wins" still holds across the move."""

    def published_revision(self, stored: int) -> int:
        """The revision events carry for the record stored at revision ``stored``."""
        return self.revision_base + stored

    @property
    def active(self) -> bool:
        return self.status != DEPARTED

    def changed_fields(self, other: Member) -> list[str]:
        return [f.name for f in fields(self) if getattr(self, f.name) != getattr(other, f.name)]

    def with_hr_data(self, newer: Member) -> Member:
        """This member with the HR directory's latest data; what they said themselves stays."""
        return replace(
            self,
            region=newer.region,
            timezone=newer.timezone,
            display_name=newer.display_name,
            email=newer.email,
            title=newer.title,
            manager_id=newer.manager_id,
            team=newer.team,
            legal_entity=newer.legal_entity,
            person_id=newer.person_id,
            skills=self.skills or newer.skills,
            languages=self.languages or newer.languages,
            status=ACTIVE if self.status == DEPARTED else self.status,
        )

    def suggest(self, suggestion: SkillSuggestion) -> Member:
        """Keep a suggested skill pending, unless they have it, or rejected it, or it waits."""
        known = {s.name for s in self.skills} | set(self.rejected_skills)
        if suggestion.skill in known or any(
            p.skill == suggestion.skill for p in self.pending_skills
        ):
            return self
        return replace(self, pending_skills=(*self.pending_skills, suggestion))

    def decide_skill(self, skill: str, confirm: bool, level: str | None) -> Member:
        pending = next((p for p in self.pending_skills if p.skill == skill), None)
        if pending is None:
            raise InvalidChange(f"no pending suggestion of {skill!r}")
        remaining = tuple(p for p in self.pending_skills if p.skill != skill)
        if not confirm:
            return replace(
                self, pending_skills=remaining, rejected_skills=(*self.rejected_skills, skill)
            )
        declared = Skill(skill, level or pending.level or "intermediate")
        return replace(self, pending_skills=remaining, skills=(*self.skills, declared))

    def snooze(self, until: date, today: date) -> Member:
        if until <= today:
            raise InvalidChange("snooze until a day after today")
        return replace(self, status=SNOOZED, snoozed_until=until)

    def resume(self) -> Member:
        return replace(self, status=ACTIVE, snoozed_until=None)

    def awake_on(self, today: date) -> Member:
        """A snooze that has run out ends by itself."""
        if self.status == SNOOZED and self.snoozed_until and self.snoozed_until <= today:
            return self.resume()
        return self


@dataclass(frozen=True)
class Community:
    community_id: str
    home_region: str
    name: str
    description: str
    access: str
    topics: tuple[str, ...]
    facilitator_ids: tuple[str, ...]
    created_at: datetime
    region_scope: tuple[str, ...] = ()
    archived: bool = False
    updated_at: datetime | None = None

    @property
    def visibility(self) -> str:
        return PRIVATE if self.access == PRIVATE else PUBLIC

    @property
    def needs_facilitator(self) -> bool:
        return not self.facilitator_ids

    def same_definition(self, other: Community) -> bool:
        """Equal in everything a creator chooses (not the creation time)."""
        return replace(self, created_at=other.created_at, updated_at=other.updated_at) == other

    def role_of(self, member_id: str) -> str:
        return FACILITATOR if member_id in self.facilitator_ids else MEMBER

    def require_facilitator(self, actor_id: str) -> None:
        if actor_id not in self.facilitator_ids:
            raise NotAllowed(f"only facilitators of {self.community_id!r} may do this")

    def require_home(self, region: str) -> None:
        if self.home_region != region:
            raise AdministeredElsewhere(
                f"community {self.community_id!r} is administered in region "
                f"{self.home_region!r}: send this to {self.home_region}'s membership service"
            )

    def require_open(self) -> None:
        if self.archived:
            raise InvalidChange(f"community {self.community_id!r} is archived")

    def changed_fields(self, other: Community) -> list[str]:
        return [
            f.name
            for f in fields(self)
            if f.name != "updated_at" and getattr(self, f.name) != getattr(other, f.name)
        ]

    def with_facilitator(self, member_id: str, on: bool) -> Community:
        others = tuple(m for m in self.facilitator_ids if m != member_id)
        return replace(self, facilitator_ids=(*others, member_id) if on else others)


@dataclass(frozen=True)
class Membership:
    community_id: str
    member_id: str
    role: str
    joined_at: datetime
    home_region: str | None = None
    """The member's home region when it is not this one (a replica of their membership)."""

    @property
    def key(self) -> str:
        return membership_key(self.community_id, self.member_id)


@dataclass(frozen=True)
class JoinRequest:
    community_id: str
    member_id: str
    message: str
    requested_at: datetime
    home_region: str | None = None
    """The requester's home region when it is not this one (a replica of their request)."""

    @property
    def key(self) -> str:
        return membership_key(self.community_id, self.member_id)


def membership_key(community_id: str, member_id: str) -> str:
    return f"{community_id}.{member_id}"


def register(existing: Member | None, candidate: Member) -> Member:
    """The member to store when the HR directory reports ``candidate`` as hired."""
    return candidate if existing is None else existing.with_hr_data(candidate)


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


def can_see(community: Community, viewer_is_member: bool) -> bool:
    """A private community exists only for its members."""
    return community.access != PRIVATE or viewer_is_member


def require_visible(
    community_id: str, community: Community | None, *, viewer_is_member: bool
) -> Community:
    """The community, if the viewer may know it exists; to anyone else it does not."""
    if community is None or not can_see(community, viewer_is_member):
        raise UnknownCommunity(f"community {community_id!r} does not exist")
    return community


def join(community: Community, member: Member, now: datetime) -> Membership:
    """``member`` joins ``community``; facilitators join with their role."""
    community.require_open()
    if not member.active:
        raise InvalidChange(f"member {member.member_id!r} has left the company")
    return Membership(
        community.community_id, member.member_id, community.role_of(member.member_id), now
    )


def join_directly(community: Community, member: Member, now: datetime) -> Membership:
    """Joining on one's own: only public communities (gated ones need approval; a private
    one does not exist for anyone outside it: its facilitators add its members)."""
    require_visible(community.community_id, community, viewer_is_member=False)
    if community.access == GATED:
        raise ApprovalRequired(
            f"{community.name} is approval-gated: send request_to_join; a facilitator decides"
        )
    return join(community, member, now)


def request_to_join(
    community: Community, member: Member, message: str, now: datetime
) -> JoinRequest:
    community.require_open()
    if community.access != GATED:
        raise InvalidChange(f"{community.name} is not approval-gated; join it directly")
    if not member.active:
        raise InvalidChange(f"member {member.member_id!r} has left the company")
    return JoinRequest(community.community_id, member.member_id, message, now)


def updated(community: Community, changes: dict[str, object], now: datetime) -> Community:
    community.require_open()
    return replace(community, **changes, updated_at=now)  # type: ignore[arg-type]


def archived(community: Community, now: datetime) -> Community:
    community.require_open()
    return replace(community, archived=True, updated_at=now)


def after_leaving(
    community: Community, leaving: str, successor: str | None, now: datetime
) -> Community:
    """The community after ``leaving`` leaves. If they facilitated it, ``successor`` (who must
    be a member of it) takes over; without one it may be left without a facilitator."""
    if leaving not in community.facilitator_ids:
        return community
    after = community.with_facilitator(leaving, on=False)
    if successor and successor != leaving and successor not in after.facilitator_ids:
        after = after.with_facilitator(successor, on=True)
    return replace(after, updated_at=now)


@dataclass
class ErasureReport:
    """What an erasure removed, for the log (counts only, no personal data)."""

    member_records: int = 0
    contact_messages: int = 0
    hr_events: int = 0
    dead_letters: int = 0
    join_requests: int = 0
    memberships: int = 0
    stored_replies: int = 0
