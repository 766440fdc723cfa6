"""Value types shared by the contracts."""

from __future__ import annotations

from datetime import time
from enum import StrEnum
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints, model_validator

from shared.contracts.base import Payload
from shared.naming import REGION_PATTERN, TOKEN_PATTERN


def _known_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not an IANA timezone such as 'Europe/Berlin'") from None
    return name


def _slug(value: object) -> object:
    if isinstance(value, str):
        return "-".join(value.strip().lower().split())
    return value


Identifier = Annotated[str, StringConstraints(pattern=TOKEN_PATTERN)]
"""Ids of members, communities and posts: 1-64 letters, digits, '-' or '_'."""

Region = Annotated[str, StringConstraints(pattern=REGION_PATTERN)]
"""A region name such as 'eu', 'us' or 'apac'."""

Timezone = Annotated[str, AfterValidator(_known_timezone)]
"""An IANA timezone name such as 'Europe/Berlin'."""

Tag = Annotated[
    str,
    BeforeValidator(_slug),
    StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9+#.-]*$"),
]
"""A topic or skill name, normalised to lowercase with '-' for spaces ('Kubernetes' ->
'kubernetes', 'Machine Learning' -> 'machine-learning')."""


class SkillLevel(StrEnum):
    """How well someone says they know a skill."""

    BEGINNER = "beginner"
    INTERMEDIATE = "intermediate"
    ADVANCED = "advanced"
    EXPERT = "expert"


class Visibility(StrEnum):
    """Who may see a community and its content."""

    PUBLIC = "public"
    PRIVATE = "private"


class Skill(Payload):
    """A skill with the level its holder declared."""

    name: Tag = Field(description="The skill, e.g. 'kubernetes' or 'terraform'.")
    level: SkillLevel = Field(description="Self-declared level.")


class MemberRef(Payload):
    """Who a message is for, and which region holds their data and delivers to them."""

    member_id: Identifier = Field(description="The member's id (Guild's own; not the HR id).")
    home_region: Region = Field(description="The region that holds their data and channels.")


class Access(StrEnum):
    """How people get into a community."""

    PUBLIC = "public"
    """Anyone sees it and may join."""
    GATED = "gated"
    """Anyone sees it; joining needs a facilitator's approval."""
    PRIVATE = "private"
    """Only its members see it or its content; facilitators add members."""

    @property
    def visibility(self) -> Visibility:
        return Visibility.PRIVATE if self is Access.PRIVATE else Visibility.PUBLIC


class MemberStatus(StrEnum):
    ACTIVE = "active"
    SNOOZED = "snoozed"
    """Not to be asked or introduced until ``snoozed_until``."""
    DEPARTED = "departed"
    """Left the company."""


class WorkingHours(Payload):
    """When someone usually works, in their own timezone."""

    start: time = Field(description="Start of the working day, local time, e.g. '09:00'.")
    end: time = Field(description="End of the working day, local time, e.g. '17:30'.")
    days: list[int] = Field(
        default_factory=lambda: [1, 2, 3, 4, 5],
        description="Working days, ISO numbers (1 = Monday ... 7 = Sunday).",
    )

    @model_validator(mode="after")
    def _sensible(self) -> WorkingHours:
        if self.end <= self.start:
            raise ValueError("end must be after start (working hours within one day)")
        if not self.days or any(d < 1 or d > 7 for d in self.days):
            raise ValueError("days must be ISO weekday numbers 1..7")
        return self


class MentoringOffer(Payload):
    """What someone offers to mentor, and how many mentees they take at once."""

    topics: list[Tag] = Field(max_length=20, description="Topics they mentor on.")
    capacity: int = Field(ge=0, le=10, description="Mentees at once; 0 pauses the offer.")


class Page(Payload):
    """Where a paginated list goes on."""

    next_cursor: str | None = Field(
        default=None, description="Pass as 'cursor' for the next page; absent on the last page."
    )
