"""The console channel: one log line per notification (for development and demos).

The line says which notification went out, of what kind and why (reason keys such as
``community:golang``), never what it says: titles and bodies quote people, and logs carry
ids only (docs/operations.md). ``guild up`` shows what was delivered from the delivery
events it reads over NATS."""

from __future__ import annotations

import logging

from services.notifications.domain.model import Dispatch

log = logging.getLogger("guild.notify.console")


class ConsoleChannel:
    name = "console"

    async def send(self, dispatch: Dispatch) -> None:
        notification = dispatch.notification
        log.info(
            "notification",
            extra={
                "notification_id": dispatch.notification_id,
                "cause_id": dispatch.cause_id,
                "kind": notification.kind,
                "reasons": [reason.key for reason in notification.reasons],
            },
        )
