"""Delivery channels: one interface, one adapter each."""

from __future__ import annotations

from typing import Protocol

from services.notifications.domain.model import Contact, Dispatch


class Channel(Protocol):
    """Sends one notification. ``dispatch.notification_id`` is stable across retries: a channel
    that can deduplicate (the inbox can) uses it to deliver at most once."""

    name: str

    async def send(self, dispatch: Dispatch, contact: Contact | None) -> None: ...
