"""The in-app inbox: one JetStream subject per member, deduplicated by notification id."""

from __future__ import annotations

from datetime import UTC, datetime

from services.notifications.domain.model import Dispatch
from shared.contracts.notifications import InboxItem
from shared.messaging.publisher import JetStreamPublisher
from shared.naming import Streams, inbox_subject


class InboxChannel:
    name = "inbox"

    def __init__(self, publisher: JetStreamPublisher, region: str) -> None:
        self.publisher = publisher
        self.region = region
        self.stream = Streams(region).inbox

    async def send(self, dispatch: Dispatch) -> None:
        notification = dispatch.notification
        item = InboxItem(
            notification_id=dispatch.notification_id,
            member_id=notification.recipient.member_id,
            kind=notification.kind,
            title=notification.title,
            body=notification.body,
            reasons=notification.reason_texts,
            reason_keys=[reason.key for reason in notification.reasons],
            cause_id=dispatch.cause_id,
            created_at=datetime.now(UTC),
        )
        await self.publisher.publish(
            item.model_dump_json().encode(),
            inbox_subject(self.region, item.member_id),
            stream=self.stream,
            msg_id=dispatch.notification_id,
            headers={"content-type": "application/json"},
        )
