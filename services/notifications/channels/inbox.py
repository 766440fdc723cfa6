"""The in-app inbox: one JetStream subject per member, deduplicated by notification id.

The items of one event to many members (the parts of a large fan-out) differ only in whose
they are and their notification id: the rest (kind, title, body, reasons, cause, when) is
validated and written as JSON once for all of them (:class:`SharedItem`), and each member's
item is that with their two fields in front, byte for byte what :class:`InboxItem` would
write."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import TypeAdapter

from services.notifications.domain.model import Dispatch, Reason
from shared.contracts.notifications import InboxItem
from shared.contracts.values import Identifier
from shared.messaging.publisher import JetStreamPublisher
from shared.naming import Streams, inbox_subject

MEMBER_ID = TypeAdapter(Identifier)
"""A member id (letters, digits, '-', '_': nothing JSON escapes), as the contract checks it."""
PLAIN = re.compile(r"[A-Za-z0-9_.:-]*")
"""Characters a JSON string holds as they are (a notification id is hex)."""
SHARED_FOR = 1.0
"""Seconds one shared rest of an item is used: the items' ``created_at`` is its moment."""
REST = b',"kind":'
"""Where an item's own fields end in its JSON (they come first, in the contract's order)."""


@dataclass(frozen=True)
class SharedItem:
    """What the items of one event with one text share, as JSON, and since when."""

    shape: tuple[str, str, str, str, tuple[Reason, ...]]
    rest: bytes
    made: float


class InboxChannel:
    name = "inbox"

    def __init__(self, publisher: JetStreamPublisher, region: str) -> None:
        self.publisher = publisher
        self.region = region
        self.stream = Streams(region).inbox
        self._shared: SharedItem | None = None

    async def send(self, dispatch: Dispatch) -> None:
        await self.publisher.publish(
            self.item_json(dispatch),
            inbox_subject(self.region, dispatch.notification.recipient.member_id),
            stream=self.stream,
            msg_id=dispatch.notification_id,
            headers={"content-type": "application/json"},
        )

    def item_json(self, dispatch: Dispatch) -> bytes:
        """The member's :class:`InboxItem` as JSON (its shared rest made once a second per
        event and text; the member id checked as the contract checks it)."""
        notification = dispatch.notification
        shape = (dispatch.cause_id, notification.kind, notification.title, notification.body,
                 notification.reasons)  # fmt: skip
        shared, now = self._shared, time.monotonic()
        if shared is None or shared.shape != shape or now - shared.made > SHARED_FOR:
            whole = self._item(dispatch).model_dump_json().encode()
            self._shared = SharedItem(shape, whole[whole.index(REST) :], now)
            return whole
        member_id = MEMBER_ID.validate_python(notification.recipient.member_id)
        notification_id = dispatch.notification_id
        if not PLAIN.fullmatch(notification_id):  # JSON would escape something in it
            notification_id = json.dumps(notification_id)[1:-1]
        own = f'{{"notification_id":"{notification_id}","member_id":"{member_id}"'
        return own.encode() + shared.rest

    @staticmethod
    def _item(dispatch: Dispatch) -> InboxItem:
        notification = dispatch.notification
        return InboxItem(
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
