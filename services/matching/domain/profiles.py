"""What matching knows of a member: their public profile, and when they are at work."""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

LEVEL_WEIGHT = {"beginner": 0.5, "intermediate": 1.0, "advanced": 2.0, "expert": 4.0}
"""A declared skill counts as this many answers on the topic (an expert as four)."""


@dataclass(frozen=True)
class Hours:
    """Working hours in the member's own timezone; ``days`` are ISO weekdays (1 = Monday)."""

    start: time = time(9)
    end: time = time(17)
    days: tuple[int, ...] = (1, 2, 3, 4, 5)


DEFAULT_HOURS = Hours()
"""What is assumed for a member who did not say: Monday to Friday, 09:00 to 17:00."""


@dataclass(frozen=True)
class MentoringOffer:
    topics: tuple[str, ...]
    capacity: int


_T = TypeVar("_T")
_REPEATED: dict[object, object] = {}


def _one_copy(value: _T) -> _T:
    """The first equal value seen: regions, timezones, (skill, level) pairs and language
    lists repeat across thousands of profiles, and need to be held once."""
    return _REPEATED.setdefault(value, value)  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
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
    working_hours: Hours | None = None
    interests: tuple[str, ...] = ()
    mentoring_offer: MentoringOffer | None = None
    mentoring_wish: tuple[str, ...] = ()
    legal_entity: str | None = None
    open_to_intros: bool = True

    def __post_init__(self) -> None:
        """Share what profiles repeat: the read model holds every member's profile."""
        shared = object.__setattr__
        for name in ("home_region", "region", "timezone"):
            shared(self, name, sys.intern(getattr(self, name)))
        shared(self, "skills", tuple(_one_copy(pair) for pair in self.skills))
        for name in ("languages", "communities", "interests", "mentoring_wish"):
            shared(self, name, _one_copy(getattr(self, name)))

    def available_on(self, today: date) -> bool:
        return self.snoozed_until is None or self.snoozed_until <= today

    @property
    def levels(self) -> dict[str, str]:
        return dict(self.skills)

    def level_of(self, skill: str) -> str | None:
        return next((level for name, level in self.skills if name == skill), None)

    @property
    def hours(self) -> Hours:
        return self.working_hours or DEFAULT_HOURS

    def newer_than(self, other: Profile) -> bool:
        return self.revision >= other.revision

    def with_community(self, community_id: str, member: bool) -> Profile:
        communities = (
            self.communities | {community_id} if member else self.communities - {community_id}
        )
        return replace(self, communities=communities)


def local_time(profile: Profile, moment: datetime) -> datetime:
    return moment.astimezone(ZoneInfo(profile.timezone))


def at_work(profile: Profile, moment: datetime) -> bool:
    """Whether ``moment`` falls in the member's working hours, in their timezone."""
    local = local_time(profile, moment)
    hours = profile.hours
    return local.isoweekday() in hours.days and hours.start <= local.time() < hours.end


def next_at_work(profile: Profile, moment: datetime) -> datetime:
    """The start of the member's next working period at or after ``moment`` (UTC)."""
    if at_work(profile, moment):
        return moment
    local, hours = local_time(profile, moment), profile.hours
    for offset in range(8):
        day = local.date() + timedelta(days=offset)
        if day.isoweekday() not in hours.days:
            continue
        start = datetime.combine(day, hours.start, tzinfo=local.tzinfo)
        if start >= local:
            return start.astimezone(UTC)
    return moment + timedelta(days=7)  # no working day at all: never sooner than a week


def working_periods(
    profile: Profile, start: datetime, days: int
) -> list[tuple[datetime, datetime]]:
    """The member's working periods (UTC) from ``start``'s local day for ``days`` days."""
    local, hours = local_time(profile, start), profile.hours
    periods = []
    for offset in range(days):
        day = local.date() + timedelta(days=offset)
        if day.isoweekday() in hours.days:
            begin = datetime.combine(day, hours.start, tzinfo=local.tzinfo).astimezone(UTC)
            end = datetime.combine(day, hours.end, tzinfo=local.tzinfo).astimezone(UTC)
            periods.append((begin, end))
    return periods
