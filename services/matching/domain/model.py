"""Who knows what, and who should meet whom.

The index holds every member's public profile (skills with levels, region, timezone,
communities). It ranks experts for a question by declared skills matching the question's tags
and text, and proposes people to meet across regions.
"""

from __future__ import annotations

import heapq
import re
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date
from functools import cached_property

LEVEL_WEIGHT = {"beginner": 1.0, "intermediate": 2.0, "advanced": 3.0, "expert": 4.0}
MENTION_FACTOR = 0.5
"""A skill mentioned in the question's text counts half as much as one in its tags."""

_WORD = re.compile(r"[a-z0-9][a-z0-9+#.-]*")


@dataclass(frozen=True)
class Profile:
    member_id: str
    home_region: str
    region: str
    timezone: str
    skills: tuple[tuple[str, str], ...]
    """(skill, level) pairs."""
    languages: tuple[str, ...]
    revision: int
    communities: frozenset[str] = frozenset()
    snoozed_until: date | None = None
    """Not to be asked or introduced before this day."""

    def available_on(self, today: date) -> bool:
        return self.snoozed_until is None or self.snoozed_until <= today

    @cached_property
    def levels(self) -> dict[str, str]:
        return dict(self.skills)

    def level_of(self, skill: str) -> str | None:
        return self.levels.get(skill)


@dataclass(frozen=True)
class Suggestion:
    member_id: str
    home_region: str
    score: float
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Intro:
    member_id: str
    home_region: str
    region: str
    timezone: str
    reasons: tuple[str, ...]


def words(text: str) -> set[str]:
    return {w.rstrip(".") for w in _WORD.findall(text.lower())}


class ExpertiseIndex:
    """Every known member's profile, indexed by skill."""

    def __init__(self) -> None:
        self.profiles: dict[str, Profile] = {}
        self._holders: dict[str, dict[str, float]] = defaultdict(dict)
        """skill -> {member id: weight of their level}"""

    def __len__(self) -> int:
        return len(self.profiles)

    def upsert(self, profile: Profile) -> Profile:
        """Take ``profile`` unless an equal or newer revision is held; communities are kept."""
        held = self.profiles.get(profile.member_id)
        if held is not None:
            if profile.revision < held.revision:
                return held
            profile = replace(profile, communities=held.communities | profile.communities)
            for skill, _ in held.skills:
                self._holders[skill].pop(held.member_id, None)
        self.profiles[profile.member_id] = profile
        for skill, level in profile.skills:
            self._holders[skill][profile.member_id] = LEVEL_WEIGHT[level]
        return profile

    def join(self, snapshot: Profile, community_id: str) -> Profile:
        """Record that a member joined ``community_id``. ``snapshot`` (the profile as the join
        event carried it) is used only if the member is not known yet."""
        held = self.profiles.get(snapshot.member_id) or self.upsert(snapshot)
        joined = replace(held, communities=held.communities | {community_id})
        self.profiles[joined.member_id] = joined
        return joined

    def leave(self, member_id: str, community_id: str) -> Profile | None:
        held = self.profiles.get(member_id)
        if held is None:
            return None
        left = replace(held, communities=held.communities - {community_id})
        self.profiles[member_id] = left
        return left

    def remove(self, member_id: str) -> None:
        held = self.profiles.pop(member_id, None)
        for skill, _ in held.skills if held else ():
            self._holders[skill].pop(member_id, None)

    def rank_experts(
        self,
        *,
        tags: list[str],
        text: str,
        asker_id: str,
        home_region: str,
        limit: int,
        today: date,
        only_community: str | None = None,
    ) -> list[Suggestion]:
        """The members homed in ``home_region`` who best fit a question, best first; never
        the asker, nobody snoozed, and for a private community only its members. A reason
        names each skill that counted."""
        mentioned = words(text) - set(tags)
        scores: dict[str, float] = defaultdict(float)
        for skills, factor in ((tags, 1.0), (mentioned, MENTION_FACTOR)):
            for skill in skills:
                for member_id, weight in self._holders.get(skill, {}).items():
                    scores[member_id] += factor * weight
        eligible = (
            (-score, member_id)
            for member_id, score in scores.items()
            if member_id != asker_id
            and self._eligible(member_id, home_region, today, only_community)
        )
        best = heapq.nsmallest(limit, eligible)
        return [
            Suggestion(
                member_id,
                home_region,
                -negative_score,
                _reasons(self.profiles[member_id], tags, sorted(mentioned)),
            )
            for negative_score, member_id in best
        ]

    def _eligible(
        self, member_id: str, home_region: str, today: date, only_community: str | None
    ) -> bool:
        profile = self.profiles[member_id]
        return (
            profile.home_region == home_region
            and profile.available_on(today)
            and (only_community is None or only_community in profile.communities)
        )

    def propose_intros(
        self, *, member_id: str, community_id: str, limit: int, today: date
    ) -> list[Intro]:
        """People in the same community for ``member_id`` to meet (not snoozed): other regions
        first, then shared skills; each with the reasons."""
        newcomer = self.profiles.get(member_id)
        if newcomer is None:
            return []
        ranked = []
        for other in self.profiles.values():
            if (
                other.member_id == member_id
                or community_id not in other.communities
                or not other.available_on(today)
            ):
                continue
            weight, reasons = _affinity(newcomer, other)
            ranked.append(
                (
                    weight,
                    other.member_id,
                    Intro(
                        other.member_id, other.home_region, other.region, other.timezone, reasons
                    ),
                )
            )
        ranked.sort(key=lambda item: (-item[0], item[1]))
        return [intro for _, _, intro in ranked[:limit]]


def _reasons(profile: Profile, tags: list[str], mentioned: list[str]) -> tuple[str, ...]:
    tagged = [(skill, level) for skill in tags if (level := profile.level_of(skill))]
    named = [(skill, level) for skill in mentioned if (level := profile.level_of(skill))]
    reasons = []
    if tagged:
        reasons.append(f"knows {_listed(tagged)}: tagged on the question")
    if named:
        reasons.append(f"knows {_listed(named)}: mentioned in the question")
    return tuple(reasons)


def _listed(skills: list[tuple[str, str]]) -> str:
    return ", ".join(f"{skill} ({level})" for skill, level in skills)


def _affinity(newcomer: Profile, other: Profile) -> tuple[float, tuple[str, ...]]:
    shared = sorted(set(dict(newcomer.skills)) & set(dict(other.skills)))
    weight, reasons = float(len(shared)), []
    if other.region != newcomer.region:
        weight += 2.0
        reasons.append(f"works in {other.region} ({other.timezone})")
    if shared:
        reasons.append("also works with " + ", ".join(shared))
    if set(newcomer.languages) & set(other.languages):
        weight += 0.5
    return weight, tuple(reasons) or ("is in the same community",)
