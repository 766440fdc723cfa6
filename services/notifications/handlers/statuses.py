"""What became of each notification sent to a member's own endpoint: status events for
everyone (without personal data), and a word in the member's inbox when Guild had to turn
one of their endpoints off. Confidential notifications (job matches) leave no status event."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from services.notifications.channels.inbox import InboxChannel
from services.notifications.domain.endpoints import Endpoint, Outcome, Parcel
from services.notifications.domain.model import Dispatch, Recipient, delivery_key, note
from services.notifications.events import public
from shared.contracts.base import Contract
from shared.ids import derived_id
from shared.messaging.publisher import EventPublisher


class StatusReporter:
    def __init__(
        self, events: EventPublisher, clock: Callable[[], datetime], inbox: InboxChannel
    ) -> None:
        self.events, self.clock, self.inbox = events, clock, inbox

    async def _publish(self, parcel: Parcel, event: Contract, event_id: str) -> None:
        if not parcel.confidential:
            await self.events.publish(event, event_id=event_id, subject=parcel.member_id)

    async def delivered(self, parcel: Parcel, endpoint: Endpoint, outcome: Outcome) -> None:
        delivered = public.parcel_delivered(parcel, endpoint.shown(), self.clock())
        await self._publish(parcel, delivered, derived_id("notification_delivered", parcel.key))

    async def retrying(
        self, parcel: Parcel, endpoint: Endpoint, outcome: Outcome, until: datetime, attempts: int
    ) -> None:
        status = public.parcel_deferred(
            parcel, endpoint.shown(), f"retrying: {outcome.reason}", self.clock(), until,
            attempts,
        )  # fmt: skip
        await self._publish(parcel, status, derived_id(status.TYPE, parcel.key, str(attempts)))

    async def failed(
        self, parcel: Parcel, channel: str, why: str, attempts: int, disabled: bool
    ) -> None:
        status = public.parcel_failed(parcel, channel, why, self.clock(), attempts, disabled)
        await self._publish(parcel, status, derived_id(status.TYPE, parcel.key))

    async def endpoint_disabled(self, parcel: Parcel, endpoint: Endpoint, why: str) -> None:
        name = endpoint.label or f"your {endpoint.kind.value} endpoint"
        told = note(
            Recipient(parcel.member_id, parcel.home_region),
            "endpoint_disabled",
            f"Guild turned off {name}",
            f"Notifications to {name} kept failing ({why}), so Guild stopped sending there. "
            "Fix the address and turn it on again under your channels; everything else still "
            "reaches you.",
            "it is one of your channels",
        )
        key = delivery_key(f"disabled:{endpoint.endpoint_id}:{parcel.key}", parcel.member_id,
                           "inbox")  # fmt: skip
        dispatch = Dispatch(key, parcel.cause_id, parcel.cause_type, "inbox", told)
        await self.inbox.send(dispatch)
