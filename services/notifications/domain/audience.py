"""Who is homed here and what they follow: enough to decide who hears of a new question."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Audience:
    """One member homed in this region, as notifications needs them."""

    member_id: str
    timezone: str = "UTC"
    interests: tuple[str, ...] = ()
    """Tags they follow (from their profile)."""
    communities: tuple[str, ...] = ()
    revision: int = 0
    """Of the profile last applied (joins carry a profile without one)."""

    def with_profile(self, timezone: str, interests: list[str], revision: int) -> Audience:
        """A profile carried by a join has no revision (0): it is used only until a
        revisioned one arrives."""
        if revision < self.revision:
            return self
        return replace(self, timezone=timezone, interests=tuple(interests), revision=revision)

    def merged(self, other: Audience) -> Audience:
        """What both say: the newer profile (by revision), the communities of either."""
        newer = self.with_profile(other.timezone, list(other.interests), other.revision)
        extra = tuple(c for c in other.communities if c not in newer.communities)
        return replace(newer, communities=(*newer.communities, *extra))

    def joined(self, community_id: str) -> Audience:
        if community_id in self.communities:
            return self
        return replace(self, communities=(*self.communities, community_id))

    def left(self, community_id: str) -> Audience:
        return replace(self, communities=tuple(c for c in self.communities if c != community_id))


MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9][A-Za-z0-9_.-]{0,127})")


def mentioned(text: str) -> set[str]:
    """Member ids mentioned as ``@member_id`` in ``text``."""
    return {match.rstrip(".-") for match in MENTION.findall(text)}
