"""Notifications' use cases: turn events into messages and deliver each exactly once."""

from __future__ import annotations

from dataclasses import dataclass, field

from services.notifications.channels import Channel
from services.notifications.delivery.fanout import FanOut
from services.notifications.delivery.outbox import Outbox
from services.notifications.domain.links import Links
from services.notifications.store.buckets import NotificationsStore
from shared.handlers import Deps as SharedDeps


@dataclass(frozen=True)
class Deps(SharedDeps[NotificationsStore]):
    channels: tuple[Channel, ...] = ()
    outbox: Outbox | None = None
    fanout: FanOut | None = None
    """Where large fan-outs go in parts (None: routed by the event's handler)."""
    links: Links = field(default_factory=lambda: Links("http://127.0.0.1:8080"))
