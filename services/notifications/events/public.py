"""From deliveries to public contracts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.notifications.domain.endpoints import Parcel
from services.notifications.domain.model import Dispatch
from shared.contracts.notifications import (
    NotificationDeferredV1,
    NotificationDeliveredV1,
    NotificationDigestedV1,
    NotificationFailedV1,
    NotificationSuppressedV1,
)
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
        reasons=notification.reason_texts,
        cause_id=dispatch.cause_id,
        cause_type=dispatch.cause_type,
        delivered_at=at,
    )


def _facts(parcel: Parcel, channel: str, why: str, at: datetime) -> dict[str, Any]:
    return {
        "notification_id": parcel.key,
        "recipient": MemberRef(member_id=parcel.member_id, home_region=parcel.home_region),
        "channel": channel,
        "kind": parcel.message.kind,
        "title": parcel.headline,
        "cause_id": parcel.cause_id,
        "cause_type": parcel.cause_type,
        "why": why,
        "at": at,
    }


def parcel_delivered(parcel: Parcel, channel: str, at: datetime) -> NotificationDeliveredV1:
    return NotificationDeliveredV1(
        notification_id=parcel.key,
        recipient=MemberRef(member_id=parcel.member_id, home_region=parcel.home_region),
        channel=channel,
        kind=parcel.message.kind,
        title=parcel.headline,
        reasons=list(parcel.message.reasons),
        cause_id=parcel.cause_id,
        cause_type=parcel.cause_type,
        delivered_at=at,
    )


def parcel_deferred(
    parcel: Parcel, channel: str, why: str, at: datetime, until: datetime | None, attempts: int
) -> NotificationDeferredV1:
    return NotificationDeferredV1(**_facts(parcel, channel, why, at), until=until,
                                  attempts=attempts)  # fmt: skip


def parcel_failed(
    parcel: Parcel, channel: str, why: str, at: datetime, attempts: int, disabled: bool
) -> NotificationFailedV1:
    return NotificationFailedV1(**_facts(parcel, channel, why, at), attempts=attempts,
                                endpoint_disabled=disabled)  # fmt: skip


def parcel_digested(
    parcel: Parcel, channel: str, why: str, at: datetime, until: datetime
) -> NotificationDigestedV1:
    return NotificationDigestedV1(**_facts(parcel, channel, why, at), until=until)


def parcel_suppressed(
    parcel: Parcel, channel: str, why: str, at: datetime
) -> NotificationSuppressedV1:
    return NotificationSuppressedV1(**_facts(parcel, channel, why, at))
