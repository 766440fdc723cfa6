"""Notifications' settings: ``GUILD_NOTIFICATIONS_*``, falling back to ``GUILD_*``."""

from typing import ClassVar, Literal

from pydantic import Field

from shared.settings import GuildSettings


class NotificationsSettings(GuildSettings):
    SERVICE: ClassVar[str] = "notifications"
    SERVICE_PREFIX: ClassVar[str] = "GUILD_NOTIFICATIONS_"

    channels: list[Literal["inbox", "console"]] = Field(
        default_factory=lambda: ["inbox", "console"],
        description="Channels every member gets (JSON list); per-member choices come later.",
    )
