"""Resource requests matched to offers (first requested, first served); internal openings
matched to people open to a move (confidentially); new articles and software recommended to
the members they fit."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from services.matching.domain.profiles import LEVEL_WEIGHT, Profile

# ------------------------------------------------------------------ resources


@dataclass(frozen=True)
class Offer:
    post_id: str
    community_id: str
    community_name: str
    private: bool
    offerer_id: str
    offerer_home: str
    kind: str
    item: str
    quantity: int
    offered_at: datetime
    expires_at: datetime | None = None
    allowed_regions: tuple[str, ...] = ()
    allowed_legal_entities: tuple[str, ...] = ()
    handed_over: int = 0
    closed: bool = False
    matched: tuple[str, ...] = ()
    """Requests already told about this offer, in order."""

    def remaining(self) -> int:
        return self.quantity - max(self.handed_over, len(self.matched))

    def open_at(self, now: datetime) -> bool:
        expired = self.expires_at is not None and self.expires_at <= now
        return not self.closed and not expired and self.remaining() > 0

    def with_match(self, request_id: str) -> Offer:
        return replace(self, matched=(*self.matched, request_id))


@dataclass(frozen=True)
class Need:
    """A resource request."""

    post_id: str
    community_id: str
    community_name: str
    private: bool
    requester_id: str
    requester_home: str
    kind: str
    item: str
    quantity: int
    requested_at: datetime
    matched_offer: str | None = None
    served: bool = False

    @property
    def open(self) -> bool:
        return self.matched_offer is None and not self.served


def offer_fits(offer: Offer, need: Need, requester: Profile | None, now: datetime) -> list[str]:
    """Why the offer fits the request; empty if it does not."""
    if not offer.open_at(now) or not need.open or offer.kind != need.kind:
        return []
    if requester is None or requester.member_id == offer.offerer_id:
        return []
    if offer.private and offer.community_id not in requester.communities:
        return []
    if offer.allowed_regions and requester.region not in offer.allowed_regions:
        return []
    if offer.allowed_legal_entities and requester.legal_entity not in offer.allowed_legal_entities:
        return []
    said = [f"{offer.item}: {offer.remaining()} of {offer.quantity} still available"]
    if offer.allowed_regions:
        said.append(f"offered to {', '.join(offer.allowed_regions)}, where you work")
    if offer.expires_at is not None:
        said.append(f"claim before {offer.expires_at:%Y-%m-%d %H:%M} UTC")
    return said


def requests_for(
    offer: Offer, needs: Iterable[Need], profiles: dict[str, Profile], now: datetime
) -> list[tuple[Need, list[str]]]:
    """The open requests an offer serves, first requested first, up to its units."""
    chosen: list[tuple[Need, list[str]]] = []
    for need in sorted(needs, key=lambda n: (n.requested_at, n.post_id)):
        if len(chosen) >= offer.remaining():
            break
        if said := offer_fits(offer, need, profiles.get(need.requester_id), now):
            chosen.append((need, said))
    return chosen


def offer_for(
    need: Need, offers: Iterable[Offer], requester: Profile | None, now: datetime
) -> tuple[Offer, list[str]] | None:
    """The oldest open offer that fits a request."""
    for offer in sorted(offers, key=lambda o: (o.offered_at, o.post_id)):
        if said := offer_fits(offer, need, requester, now):
            return offer, said
    return None


# ------------------------------------------------------------------ jobs


@dataclass(frozen=True)
class Confidential:
    """Home region only: whether a member is open to a move, and their manager chain."""

    member_id: str
    open_to_move: bool
    manager_chain: tuple[str, ...]
    revision: int


@dataclass(frozen=True)
class JobFit:
    member_id: str
    home_region: str
    skills: tuple[str, ...]
    score: float
    reasons: tuple[str, ...]


def job_fit(
    *,
    skills: Sequence[str],
    location: str,
    poster_id: str,
    community_id: str,
    private: bool,
    profile: Profile,
    confidential: Confidential | None,
    today: datetime,
) -> JobFit | None:
    """Whether an opening fits a member. Only members who said they are open to a move; never
    a posting by someone in their own manager chain (it would tell that manager); for a
    private community, only its members."""
    if confidential is None or not confidential.open_to_move:
        return None
    if profile.member_id == poster_id or poster_id in confidential.manager_chain:
        return None
    if private and community_id not in profile.communities:
        return None
    if not profile.available_on(today.date()):
        return None
    levels = profile.levels
    have = [s for s in skills if s in levels]
    if not have:
        return None
    score = sum(LEVEL_WEIGHT[levels[s]] for s in have) / len(skills)
    said = ["you know " + ", ".join(f"{s} ({levels[s]})" for s in have)]
    said.append("remote" if location == "remote" else f"based in {location}")
    said.append("only you see this: you said you are open to a move")
    return JobFit(profile.member_id, profile.home_region, tuple(have), score, tuple(said))


# ------------------------------------------------------------------ content


@dataclass(frozen=True)
class Interest:
    member_id: str
    home_region: str
    score: float
    reasons: tuple[str, ...]


def content_fit(tags: Sequence[str], profile: Profile) -> Interest | None:
    """How well a new article or announcement fits a member: topics they follow count most,
    then skills they work with."""
    levels = profile.levels
    followed = [t for t in tags if t in profile.interests]
    known = [t for t in tags if t in levels]
    if not followed and not known:
        return None
    score = 2.0 * len(followed) + sum(LEVEL_WEIGHT[levels[t]] for t in known) / 4
    said = []
    if followed:
        said.append("you follow " + ", ".join(followed))
    if known:
        said.append("you work with " + ", ".join(known))
    return Interest(profile.member_id, profile.home_region, score, tuple(said))
