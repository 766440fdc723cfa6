"""Content's settings: ``GUILD_CONTENT_*``, falling back to ``GUILD_*``."""

from typing import ClassVar

from shared.settings import GuildSettings


class ContentSettings(GuildSettings):
    SERVICE: ClassVar[str] = "content"
    SERVICE_PREFIX: ClassVar[str] = "GUILD_CONTENT_"
