"""The contacts and ledger buckets, and reading a member's inbox stream."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext

from services.notifications.domain.endpoints import Endpoint, MemberEndpoints
from services.notifications.domain.model import Contact, Delivery
from shared.contracts.notifications import InboxItem
from shared.messaging.provisioning import BucketSpec
from shared.naming import Service, Streams, bucket_name, inbox_subject
from shared.storage import KvStore, StaleRevision, erase_messages


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
                "endpoints",
                "Members' own channels: addresses, webhook URLs and secrets (personal data)",
                True,
            ),
            ("keys", "This region's own secrets (signing links, mail ids)", True),
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
    endpoints: KvStore[MemberEndpoints]
    keys: KvStore[str]
    region: str
    js: JetStreamContext | None = None

    @classmethod
    def for_region(cls, region: str) -> NotificationsStore:
        return cls(
            contacts=KvStore(
                bucket_name(Service.NOTIFICATIONS, "contacts", region), Contact, secure=True
            ),
            ledger=KvStore(bucket_name(Service.NOTIFICATIONS, "ledger", region), Delivery),
            endpoints=KvStore(
                bucket_name(Service.NOTIFICATIONS, "endpoints", region),
                MemberEndpoints,
                secure=True,
            ),
            keys=KvStore(bucket_name(Service.NOTIFICATIONS, "keys", region), str, secure=True),
            region=region,
        )

    async def bind_inbox(self, js: JetStreamContext) -> None:
        self.js = js

    async def erase_inbox(self, member_id: str) -> int:
        assert self.js is not None, "inbox is not bound"
        stream, subject = Streams(self.region).inbox, inbox_subject(self.region, member_id)
        return await erase_messages(self.js, stream, subject)

    async def secret(self, name: str) -> bytes:
        """The region's secret ``name``, made once (32 random bytes) and kept in the bucket,
        so every replica and every restart signs the same way."""
        while True:
            found = await self.keys.get(name)
            if found is not None:
                return bytes.fromhex(found.value)
            await self.keys.create(name, secrets.token_hex(32))

    async def member_endpoints(self, member_id: str) -> MemberEndpoints:
        found = await self.endpoints.get(member_id)
        return found.value if found else MemberEndpoints(member_id)

    async def endpoint(self, member_id: str, endpoint_id: str) -> Endpoint | None:
        return (await self.member_endpoints(member_id)).get(endpoint_id)

    async def save_endpoint(self, member_id: str, endpoint: Endpoint) -> None:
        await self.change_endpoints(member_id, lambda held: held.with_endpoint(endpoint))

    async def change_endpoint(
        self, member_id: str, endpoint_id: str, change: Callable[[Endpoint], Endpoint]
    ) -> None:
        """Change one endpoint as it is now (nothing if it was removed meanwhile)."""

        def changed(held: MemberEndpoints) -> MemberEndpoints:
            endpoint = held.get(endpoint_id)
            return held.with_endpoint(change(endpoint)) if endpoint else held

        await self.change_endpoints(member_id, changed)

    async def change_endpoints(
        self, member_id: str, change: Callable[[MemberEndpoints], MemberEndpoints]
    ) -> MemberEndpoints:
        """Apply ``change`` to the member's endpoints, again if someone changed them meanwhile
        (the self-service API and the delivery worker both write them)."""
        while True:
            found = await self.endpoints.get(member_id)
            changed = change(found.value if found else MemberEndpoints(member_id))
            if found is None:
                if await self.endpoints.create(member_id, changed) is not None:
                    return changed
                continue
            with contextlib.suppress(StaleRevision):
                await self.endpoints.update(member_id, changed, revision=found.revision)
                return changed

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
