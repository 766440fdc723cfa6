"""Value types shared by the contracts."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints

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

    member_id: Identifier = Field(description="The member's id (the HR person id).")
    home_region: Region = Field(description="The region that holds their data and channels.")
