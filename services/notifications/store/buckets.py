"""The contacts and ledger buckets, and reading a member's inbox stream."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext

from services.notifications.domain.model import Contact, Delivery
from shared.contracts.notifications import InboxItem
from shared.messaging.provisioning import BucketSpec
from shared.naming import Service, Streams, bucket_name, inbox_subject
from shared.storage import KvStore, erase_messages


def bucket_specs(region: str, replicas: int) -> list[BucketSpec]:
    return [
        BucketSpec(
            bucket_name(Service.NOTIFICATIONS, purpose, region),
            text,
            replicas=replicas,
            secure=secure,
        )
        for purpose, text, secure in (
            ("contacts", "Names and addresses of members homed here (personal data)", True),
            (
                "ledger",
                "One entry per (cause event, member, channel): claimed, then delivered",
                False,
            ),
        )
    ]


@dataclass
class NotificationsStore:
    contacts: KvStore[Contact]
    ledger: KvStore[Delivery]
    region: str
    js: JetStreamContext | None = None

    @classmethod
    def for_region(cls, region: str) -> NotificationsStore:
        return cls(
            contacts=KvStore(
                bucket_name(Service.NOTIFICATIONS, "contacts", region), Contact, secure=True
            ),
            ledger=KvStore(bucket_name(Service.NOTIFICATIONS, "ledger", region), Delivery),
            region=region,
        )

    async def bind_inbox(self, js: JetStreamContext) -> None:
        self.js = js

    async def erase_inbox(self, member_id: str) -> int:
        assert self.js is not None, "inbox is not bound"
        stream, subject = Streams(self.region).inbox, inbox_subject(self.region, member_id)
        return await erase_messages(self.js, stream, subject)

    async def contact(self, member_id: str) -> Contact | None:
        found = await self.contacts.get(member_id)
        return found.value if found else None

    async def inbox(self, member_id: str, limit: int) -> list[InboxItem]:
        """The member's newest ``limit`` inbox items, newest first."""
        assert self.js is not None, "inbox reader is not bound"
        stream, subject = Streams(self.region).inbox, inbox_subject(self.region, member_id)
        info = await self.js.stream_info(stream, subjects_filter=subject)
        if not (info.state.subjects or {}).get(subject):
            return []
        items: list[InboxItem] = []
        sub = await self.js.subscribe(subject, stream=stream, ordered_consumer=True)
        try:
            while True:
                with contextlib.suppress(NatsTimeoutError):
                    msg = await sub.next_msg(timeout=2.0)
                    items.append(InboxItem.model_validate_json(msg.data))
                    if msg.metadata.num_pending == 0:
                        break
                    continue
                break
        finally:
            await sub.unsubscribe()
        return items[::-1][:limit]
