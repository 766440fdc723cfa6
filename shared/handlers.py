"""What a service's handlers receive: its store, its event publisher, its region, a clock."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Generic, Protocol, TypeVar

from shared.messaging.publisher import EventPublisher
from shared.moves import Moves

StoreT = TypeVar("StoreT")


def utc_now() -> datetime:
    return datetime.now(UTC)


def pseudonym_key(settings: _HasPseudonymKey) -> dict[str, bytes]:
    """The ``pseudonym_key`` argument of :class:`Deps` from a service's settings (none when
    the setting is unset: the default then draws a key)."""
    key = settings.pseudonym_secret()
    return {"pseudonym_key": key} if key is not None else {}


class _HasPseudonymKey(Protocol):
    def pseudonym_secret(self) -> bytes | None: ...


@dataclass(frozen=True)
class Deps(Generic[StoreT]):
    """Built once by a service's composition root and passed to every handler."""

    store: StoreT
    events: EventPublisher
    region: str
    clock: Callable[[], datetime] = field(default=utc_now)
    pseudonym_key: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)
    """Keys the pseudonym of a member erased by a notice that carries none (see
    :func:`shared.ids.erasure_pseudonym`); from the ``pseudonym_key`` setting."""
    moves: Moves = field(default_factory=Moves)
    """Handing moving members' data to other regions (:func:`moves` of the settings)."""
