"""Matching's settings: ``GUILD_MATCHING_*``, falling back to ``GUILD_*``."""

from typing import ClassVar

from pydantic import Field

from shared.settings import GuildSettings


class MatchingSettings(GuildSettings):
    SERVICE: ClassVar[str] = "matching"
    SERVICE_PREFIX: ClassVar[str] = "GUILD_MATCHING_"

    experts_per_question: int = Field(
        default=3, ge=1, le=50, description="How many people to alert about a new question."
    )
    intros_per_newcomer: int = Field(
        default=3, ge=0, le=20, description="How many people to propose a newcomer meets."
    )
