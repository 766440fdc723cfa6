"""What a service's handlers receive: its store, its event publisher, its region, a clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Generic, TypeVar

from shared.messaging.publisher import EventPublisher

StoreT = TypeVar("StoreT")


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Deps(Generic[StoreT]):
    """Built once by a service's composition root and passed to every handler."""

    store: StoreT
    events: EventPublisher
    region: str
    clock: Callable[[], datetime] = field(default=utc_now)
