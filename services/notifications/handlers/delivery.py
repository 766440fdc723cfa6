"""Delivering notifications: each (cause, member, channel) at most once, through a ledger.

For every channel: claim the ledger entry, send, publish the delivery event, mark delivered.
A redelivered or replayed cause finds 'delivered' and sends nothing. If a crash hits between
sending and marking, the retry sends again; the inbox deduplicates that by notification id.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from services.notifications.channels import Channel
from services.notifications.domain.model import (
    Contact,
    Delivery,
    Dispatch,
    Notification,
    delivery_key,
)
from services.notifications.events import public
from services.notifications.handlers import Deps
from shared.envelope import Envelope
from shared.ids import derived_id


async def deliver(cause: Envelope[Any], notifications: Iterable[Notification], deps: Deps) -> None:
    """Deliver each notification meant for a member homed in this region, on every channel."""
    for notification in notifications:
        if notification.recipient.home_region != deps.region:
            continue  # that member's own region delivers to them
        contact = await deps.store.contact(notification.recipient.member_id)
        for channel in deps.channels:
            await _deliver_once(cause, notification, channel, contact, deps)


async def _deliver_once(
    cause: Envelope[Any],
    notification: Notification,
    channel: Channel,
    contact: Contact | None,
    deps: Deps,
) -> None:
    key = delivery_key(cause.id, notification.recipient.member_id, channel.name)
    held = await deps.store.ledger.get(key)
    if held is not None and held.value.status == "delivered":
        return
    if held is None:
        await deps.store.ledger.create(key, Delivery("claimed", deps.clock().isoformat()))
    dispatch = Dispatch(key, cause.id, cause.type, channel.name, notification)
    await channel.send(dispatch, contact)
    delivered_at = deps.clock()
    if not notification.confidential:
        await _announce_delivery(cause, dispatch, delivered_at, deps)
    await deps.store.ledger.put(key, Delivery("delivered", delivered_at.isoformat()))


async def _announce_delivery(
    cause: Envelope[Any], dispatch: Dispatch, delivered_at: datetime, deps: Deps
) -> None:
    notification = dispatch.notification
    await deps.events.publish(
        public.notification_delivered(dispatch, delivered_at),
        event_id=derived_id("notification_delivered", dispatch.notification_id),
        subject=notification.recipient.member_id,
        cause=cause,
    )
