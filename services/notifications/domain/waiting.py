"""What waits for a member: pushes held until their quiet hours end, items kept for their
next digest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.notifications.domain.endpoints import Parcel


@dataclass(frozen=True)
class Held:
    """Pushes to a member's endpoints waiting for their quiet hours (or working hours) to end."""

    due: datetime
    why: str
    parcel: Parcel
    """For every endpoint the member will want it on then (``endpoint_id`` is empty)."""


@dataclass(frozen=True)
class DigestEntry:
    """One item waiting for a member's next digest."""

    due: datetime
    kind: str
    title: str
    reasons: tuple[str, ...]
    at: datetime
    why: str
    links: tuple[tuple[str, str], ...] = ()
    """(label, URL) of the posts it is about, listed with it in the digest."""
