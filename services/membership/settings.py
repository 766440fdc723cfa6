"""Membership's settings: ``GUILD_MEMBERSHIP_*``, falling back to ``GUILD_*``."""

from typing import ClassVar

from shared.settings import GuildSettings


class MembershipSettings(GuildSettings):
    SERVICE: ClassVar[str] = "membership"
    SERVICE_PREFIX: ClassVar[str] = "GUILD_MEMBERSHIP_"
