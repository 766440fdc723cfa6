"""Posts and the communities they belong to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


class ContentError(Exception):
    """A request that breaks a content rule."""


class UnknownCommunity(ContentError):
    pass


class UnknownPost(ContentError):
    pass


@dataclass(frozen=True)
class CommunityInfo:
    """What content needs to know about a community (kept from membership's events)."""

    community_id: str
    name: str
    visibility: str


@dataclass(frozen=True)
class Post:
    post_id: str
    kind: str
    community_id: str
    author_id: str
    title: str
    text: str
    tags: tuple[str, ...]
    posted_at: datetime
    origin: str
    """Who submitted it: 'guild' for commands, else the publishing system's source."""


def ask(
    *,
    post_id: str,
    community: CommunityInfo,
    asker_id: str,
    title: str,
    text: str,
    tags: tuple[str, ...],
    now: datetime,
    origin: str,
) -> Post:
    """A question in ``community``. Duplicate tags are dropped, order kept."""
    return Post(
        post_id=post_id,
        kind="question",
        community_id=community.community_id,
        author_id=asker_id,
        title=title.strip(),
        text=text.strip(),
        tags=tuple(dict.fromkeys(tags)),
        posted_at=now,
        origin=origin,
    )
