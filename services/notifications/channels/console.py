"""The console channel: one log line per notification (for development and demos)."""

from __future__ import annotations

import logging

from services.notifications.domain.model import Contact, Dispatch

log = logging.getLogger("guild.notify.console")


class ConsoleChannel:
    name = "console"

    async def send(self, dispatch: Dispatch, contact: Contact | None) -> None:
        notification = dispatch.notification
        log.info(
            "notification: %s",
            notification.title,
            extra={
                "notification_id": dispatch.notification_id,
                "member_id": notification.recipient.member_id,
                "kind": notification.kind,
                "reasons": notification.reason_texts,
            },
        )
