"""Notifications' use cases: turn events into messages and deliver each exactly once."""

from dataclasses import dataclass

from services.notifications.channels import Channel
from services.notifications.store.buckets import NotificationsStore
from shared.handlers import Deps as SharedDeps


@dataclass(frozen=True)
class Deps(SharedDeps[NotificationsStore]):
    channels: tuple[Channel, ...] = ()
