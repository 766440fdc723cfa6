"""Opaque cursors for paginated queries: the client passes back what it was given."""

from __future__ import annotations

import base64


class InvalidCursor(ValueError):
    """The cursor was not given out by this service (answered as invalid_request)."""


def offset_of(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        offset = int(base64.urlsafe_b64decode(cursor.encode()).decode())
    except ValueError:
        raise InvalidCursor("cursor is not one this service gave out") from None
    if offset < 0:
        raise InvalidCursor("cursor is not one this service gave out")
    return offset


def cursor_at(offset: int) -> str:
    """The cursor of the page starting at ``offset``."""
    return base64.urlsafe_b64encode(str(offset).encode()).decode()


def next_cursor(offset: int, total: int) -> str | None:
    """The cursor of the page starting at ``offset``; None when there is nothing more."""
    return cursor_at(offset) if offset < total else None
