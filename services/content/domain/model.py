"""Posts of every kind, who may see and change them, and the lifecycle of shared resources."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

PRACTICE, SOFTWARE, QUESTION, ANSWER = "practice", "software", "question", "answer"
RESOURCE_OFFER, RESOURCE_REQUEST, JOB, COMMENT = (
    "resource_offer",
    "resource_request",
    "job",
    "comment",
)
KINDS = (PRACTICE, SOFTWARE, QUESTION, ANSWER, RESOURCE_OFFER, RESOURCE_REQUEST, JOB, COMMENT)
PRIVATE, GATED = "private", "gated"
OPEN, HANDED_OVER, DECLINED = "open", "handed_over", "declined"


class ContentError(Exception):
    """A request that breaks a content rule."""


class UnknownCommunity(ContentError):
    pass


class UnknownPost(ContentError):
    pass


class HeldElsewhere(ContentError):
    """The post is held by another region, which alone answers for it: send it there."""


class NotAllowed(ContentError):
    pass


class InvalidChange(ContentError):
    pass


class Expired(ContentError):
    """The offer (or job) is past its date."""


@dataclass(frozen=True)
class CommunityInfo:
    """What content knows about a community (kept from membership's events)."""

    community_id: str
    name: str
    visibility: str
    access: str = "public"
    facilitator_ids: tuple[str, ...] = ()
    archived: bool = False
    revision: int = 0
    created_at: datetime | None = None

    @property
    def private(self) -> bool:
        return self.visibility == PRIVATE


@dataclass(frozen=True)
class MemberInfo:
    """What content knows about a member (kept from membership's events)."""

    member_id: str
    home_region: str
    region: str
    legal_entity: str | None = None
    active: bool = True
    revision: int = 0


@dataclass(frozen=True)
class Joined:
    """A member's membership of a community (for visibility, and the pulse)."""

    community_id: str
    member_id: str
    region: str
    joined_at: datetime


@dataclass(frozen=True)
class NoDetails:
    """Practices, questions, answers and comments: nothing beyond title, body and tags."""


@dataclass(frozen=True)
class SoftwareDetails:
    repository_url: str
    language: str
    licence: str
    maintainers: tuple[str, ...] = ()


@dataclass(frozen=True)
class OfferDetails:
    """A resource offer, and the one record of its hand-overs (a claim's state follows)."""

    resource_kind: str
    item: str
    quantity: int
    expires_at: datetime | None = None
    allowed_regions: tuple[str, ...] = ()
    allowed_legal_entities: tuple[str, ...] = ()
    handed_to: tuple[str, ...] = ()
    """The claims served so far, in order."""
    closed: str | None = None
    """Why it closed: 'handed_over', 'closed' (by the offerer) or 'expired'."""
    closed_at: datetime | None = None


@dataclass(frozen=True)
class RequestDetails:
    resource_kind: str
    item: str
    quantity: int
    needed_by: date | None = None


@dataclass(frozen=True)
class JobDetails:
    skills: tuple[str, ...]
    location: str
    closing_date: date


Details = SoftwareDetails | OfferDetails | RequestDetails | JobDetails | NoDetails
DETAILS_OF_KIND: dict[str, type[Details]] = {
    PRACTICE: NoDetails,
    SOFTWARE: SoftwareDetails,
    QUESTION: NoDetails,
    ANSWER: NoDetails,
    RESOURCE_OFFER: OfferDetails,
    RESOURCE_REQUEST: RequestDetails,
    JOB: JobDetails,
    COMMENT: NoDetails,
}


@dataclass(frozen=True)
class Post:
    post_id: str
    kind: str
    community_id: str
    author_id: str
    title: str
    body: str
    tags: tuple[str, ...]
    posted_at: datetime
    origin: str
    parent_id: str | None = None
    edited_at: datetime | None = None
    deleted: bool = False
    hidden: bool = False
    accepted_answer_id: str | None = None
    details: Details = field(default_factory=NoDetails)
    """The record of its kind (:data:`DETAILS_OF_KIND`)."""

    def __post_init__(self) -> None:
        expected = DETAILS_OF_KIND.get(self.kind)
        if expected is None or type(self.details) is not expected:
            raise ValueError(
                f"a {self.kind} post has {expected.__name__ if expected else 'no'} details, "
                f"not {type(self.details).__name__}"
            )

    @property
    def visible(self) -> bool:
        return not self.deleted and not self.hidden


@dataclass(frozen=True)
class Claim:
    """A member's place in the queue of an offer (its state follows from the offer)."""

    claim_id: str
    offer_id: str
    claimant_id: str
    claimed_at: datetime

    @property
    def key(self) -> str:
        return f"{self.offer_id}.{self.claim_id}"


@dataclass(frozen=True)
class Reaction:
    """One member's vote (-1, 0, +1) and endorsement of one post."""

    post_id: str
    member_id: str
    vote: int = 0
    endorsed: bool = False

    @property
    def key(self) -> str:
        return f"{self.post_id}.{self.member_id}"


# ------------------------------------------------------------------ who may do what


def can_see(community: CommunityInfo, is_member: bool) -> bool:
    """A private community's content exists only for its members."""
    return not community.private or is_member


def require_visible(
    community_id: str, community: CommunityInfo | None, *, viewer_is_member: bool
) -> CommunityInfo:
    """The community, if the viewer may know it exists; to anyone else it does not."""
    if community is None or not can_see(community, viewer_is_member):
        raise UnknownCommunity(f"community {community_id!r} does not exist")
    return community


def can_see_post(post: Post, community: CommunityInfo, viewer: str, is_member: bool) -> bool:
    if post.deleted or not can_see(community, is_member):
        return False
    return not post.hidden or viewer == post.author_id or viewer in community.facilitator_ids


def require_can_post(community: CommunityInfo, author: MemberInfo | None, is_member: bool) -> None:
    if author is None or not author.active:
        raise NotAllowed("only active members post")
    if community.archived:
        raise InvalidChange(f"community {community.community_id!r} is archived")
    if community.access in (PRIVATE, GATED) and not is_member:
        raise NotAllowed(f"only members of {community.name} post there")


def require_author_or_facilitator(post: Post, community: CommunityInfo, actor: str) -> None:
    if actor != post.author_id and actor not in community.facilitator_ids:
        raise NotAllowed("only its author or a facilitator of its community may do this")


def require_facilitator(community: CommunityInfo, actor: str) -> None:
    if actor not in community.facilitator_ids:
        raise NotAllowed(f"only facilitators of {community.name} may do this")


# ------------------------------------------------------------------ posts


def new_post(
    *,
    post_id: str,
    kind: str,
    community: CommunityInfo,
    author_id: str,
    title: str,
    body: str,
    tags: tuple[str, ...],
    now: datetime,
    origin: str,
    parent_id: str | None = None,
    details: Details | None = None,
) -> Post:
    """A post; duplicate tags are dropped, order kept."""
    return Post(
        post_id=post_id,
        kind=kind,
        community_id=community.community_id,
        author_id=author_id,
        title=title.strip(),
        body=body.strip(),
        tags=tuple(dict.fromkeys(tags)),
        posted_at=now,
        origin=origin,
        parent_id=parent_id,
        details=details or NoDetails(),
    )


def answer_to(question: Post, answer_id: str, author_id: str, body: str, now: datetime,
              community: CommunityInfo) -> Post:  # fmt: skip
    if question.kind != QUESTION or question.deleted:
        raise UnknownPost(f"question {question.post_id!r} does not exist")
    return new_post(post_id=answer_id, kind=ANSWER, community=community, author_id=author_id,
                    title="", body=body, tags=(), now=now, origin="guild",
                    parent_id=question.post_id)  # fmt: skip


def accept(question: Post, answer: Post, actor: str) -> Post:
    if answer.kind != ANSWER or answer.parent_id != question.post_id or answer.deleted:
        raise UnknownPost(f"answer {answer.post_id!r} does not exist")
    if actor != question.author_id:
        raise NotAllowed("only the asker accepts an answer")
    return replace(question, accepted_answer_id=answer.post_id)


def edited(post: Post, actor: str, changes: dict[str, object], now: datetime) -> Post:
    if actor != post.author_id:
        raise NotAllowed("only its author edits a post")
    if post.deleted:
        raise UnknownPost(f"post {post.post_id!r} does not exist")
    if "tags" in changes:
        changes = {**changes, "tags": tuple(dict.fromkeys(changes["tags"]))}  # type: ignore[arg-type]
    return replace(post, **changes, edited_at=now)  # type: ignore[arg-type]


# ------------------------------------------------------------------ resources


def offer_details(offer: Post) -> OfferDetails:
    if not isinstance(offer.details, OfferDetails) or offer.deleted:
        raise UnknownPost(f"offer {offer.post_id!r} does not exist")
    return offer.details


def handed_to(offer: Post) -> list[str]:
    """The claims served so far, in order. The offer is the one record of hand-overs, so a
    hand-over is one optimistic update of it, and a claim's state follows from it."""
    return list(offer_details(offer).handed_to)


def offer_remaining(offer: Post) -> int:
    details = offer_details(offer)
    return details.quantity - len(details.handed_to)


def claim_status(offer: Post, claim: Claim) -> str:
    if claim.claim_id in handed_to(offer):
        return HANDED_OVER
    return DECLINED if offer_closed(offer) else OPEN


def open_claims(offer: Post, claims: list[Claim]) -> list[Claim]:
    """Claims still waiting, first come first served."""
    return [c for c in claims if claim_status(offer, c) == OPEN]


def hand_over_next(offer: Post, claims: list[Claim], now: datetime) -> tuple[Post, Claim]:
    """The offer after handing a unit to the oldest open claim; closed when none is left."""
    if reason := offer_closed(offer):
        raise InvalidChange(f"the offer is closed ({reason})")
    if offer_expired(offer, now):
        raise Expired(f"the offer expired at {offer_details(offer).expires_at}")
    waiting = open_claims(offer, claims)
    if not waiting:
        raise InvalidChange("nobody is waiting for this offer")
    details = offer_details(offer)
    served = replace(details, handed_to=(*details.handed_to, waiting[0].claim_id))
    if served.quantity - len(served.handed_to) <= 0:
        served = replace(served, closed=HANDED_OVER, closed_at=now)
    return replace(offer, details=served), waiting[0]


def closed(offer: Post, reason: str, now: datetime) -> Post:
    if already := offer_closed(offer):
        raise InvalidChange(f"the offer is closed ({already})")
    return replace(offer, details=replace(offer_details(offer), closed=reason, closed_at=now))


DECLINE_REASONS = {
    "handed_over": "not possible: every unit of the offer was handed over to earlier claims",
    "closed": "not possible: the offerer closed the offer",
    "expired": "not possible: the offer expired before your claim was served",
}


def offer_closed(offer: Post) -> str | None:
    return offer_details(offer).closed


def offer_expired(offer: Post, now: datetime) -> bool:
    expires = offer_details(offer).expires_at
    return expires is not None and now >= expires


def require_claimable(offer: Post, claimant: MemberInfo | None, now: datetime) -> None:
    if offer.kind != RESOURCE_OFFER or offer.deleted:
        raise UnknownPost(f"offer {offer.post_id!r} does not exist")
    details = offer_details(offer)
    if claimant is None or not claimant.active:
        raise NotAllowed("only active members claim")
    if claimant.member_id == offer.author_id:
        raise InvalidChange("you cannot claim your own offer")
    if offer_expired(offer, now):
        raise Expired(f"the offer expired at {details.expires_at}")
    if closed := offer_closed(offer):
        raise InvalidChange(f"the offer is closed ({closed})")
    if details.allowed_regions and claimant.region not in details.allowed_regions:
        raise NotAllowed(f"the offer is for members in {', '.join(details.allowed_regions)}")
    entities = details.allowed_legal_entities
    if entities and claimant.legal_entity not in entities:
        raise NotAllowed(f"the offer is for members of {', '.join(entities)}")


def week_of(moment: datetime) -> str:
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def week_bounds(week: str) -> tuple[datetime, datetime]:
    """The (Monday 00:00 UTC, next Monday 00:00 UTC) of an ISO week like '2026-W48'."""
    year, number = week.split("-W")
    monday = date.fromisocalendar(int(year), int(number), 1)
    start = datetime(monday.year, monday.month, monday.day, tzinfo=UTC)
    return start, start + timedelta(days=7)
