"""From deliveries to public contracts."""

from __future__ import annotations

from datetime import datetime

from services.notifications.domain.model import Dispatch
from shared.contracts.notifications import NotificationDeliveredV1
from shared.contracts.values import MemberRef


def notification_delivered(dispatch: Dispatch, at: datetime) -> NotificationDeliveredV1:
    notification = dispatch.notification
    return NotificationDeliveredV1(
        notification_id=dispatch.notification_id,
        recipient=MemberRef(
            member_id=notification.recipient.member_id,
            home_region=notification.recipient.home_region,
        ),
        channel=dispatch.channel,
        kind=notification.kind,
        title=notification.public_title,
        reasons=list(notification.reasons),
        cause_id=dispatch.cause_id,
        cause_type=dispatch.cause_type,
        delivered_at=at,
    )
