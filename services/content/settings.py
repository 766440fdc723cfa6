"""Content's settings: ``GUILD_CONTENT_*``, falling back to ``GUILD_*``."""

from typing import ClassVar

from pydantic import Field

from shared.settings import GuildSettings


class ContentSettings(GuildSettings):
    SERVICE: ClassVar[str] = "content"
    SERVICE_PREFIX: ClassVar[str] = "GUILD_CONTENT_"

    housekeeping_interval: float = Field(
        default=60.0, gt=0, description="Seconds between sweeps: expired offers, weekly pulses."
    )
