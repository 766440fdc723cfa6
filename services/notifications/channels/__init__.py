"""Delivery channels: one interface, one adapter each."""

from __future__ import annotations

from typing import Protocol

from services.notifications.domain.endpoints import Endpoint, EndpointKind, Message, Outcome
from services.notifications.domain.model import Dispatch


class Channel(Protocol):
    """A built-in channel every member has (the inbox, the console). Sends one notification;
    ``dispatch.notification_id`` is stable across retries: a channel that can deduplicate
    (the inbox can) uses it to deliver at most once."""

    name: str

    async def send(self, dispatch: Dispatch) -> None: ...


class EndpointChannel(Protocol):
    """Sends one message to one of a member's own endpoints and says what came of it; never
    raises for what the network or the receiver does."""

    kind: EndpointKind

    async def check(self, address: str) -> None:
        """Raises :class:`~services.notifications.channels.egress.Refused` (with the reason)
        unless ``address`` may be saved as an endpoint of this kind."""

    async def send(self, message: Message, endpoint: Endpoint) -> Outcome: ...
