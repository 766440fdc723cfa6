"""Test helpers: fast-retry settings, running services in-process, plain nats-py publishing."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from nats.aio.client import Client
from nats.js.api import ConsumerConfig, DeliverPolicy

from shared.contracts import REGISTRY
from shared.messaging.consumer import DeadLetter
from shared.messaging.provisioning import Topology, durable_consumer, streams_for
from shared.messaging.subscriptions import Reaction
from shared.naming import (
    Scope,
    Service,
    Streams,
    dead_letters_filter,
    ingest_filter,
    publisher_source,
)
from shared.publishers import CONTENT, first_sender, sending
from shared.runtime import ServiceApp
from shared.settings import GuildSettings
from tests import access

T = TypeVar("T")
S = TypeVar("S", bound=GuildSettings)

FAST_RETRIES = {
    # Short delays, and enough deliveries (about 1.5 s in all) that an event arriving before
    # one it depends on (another consumer's, on a busy machine) is not given up too soon.
    "retry_first_delay": 0.05,
    "retry_max_delay": 0.5,
    "retry_max_deliver": 6,
    "ack_wait": 10.0,
    "housekeeping_interval": 0.2,
}


def settings_for(settings_type: type[S], region: str, nats_url: str, **overrides: Any) -> S:
    """Settings for a test: its own region, retries measured in milliseconds, and a
    credential of its own (issued from its grants when it starts: see :mod:`tests.access`)."""
    identity = {"nats_credentials": access.credentials_for(settings_type.SERVICE, region)}
    return settings_type(
        region=region, nats_url=nats_url, **{**FAST_RETRIES, **identity, **overrides}
    )


@contextlib.asynccontextmanager
async def running(*apps: ServiceApp) -> AsyncIterator[None]:
    """Start services in this process; stop them afterwards, whatever happens."""
    started: list[ServiceApp] = []
    try:
        for app in apps:
            await access.prepare(app)
            await app.start()
            started.append(app)
        yield
    finally:
        for app in reversed(started):
            await app.stop()


async def eventually(
    probe: Callable[[], Awaitable[T]], *, deadline: float = 15.0, what: str = "condition"
) -> T:
    """Poll ``probe`` until it returns something truthy; fail if the deadline passes.

    The deadline bounds a wait for asynchronous work; it is not a speed requirement.
    """
    end = time.monotonic() + deadline
    while True:
        value = await probe()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"{what} did not happen within {deadline}s (last: {value!r})")
        await asyncio.sleep(0.05)


DEEPLY_NESTED = b"[" * 10_000 + b"]" * 10_000
"""10,000 levels of JSON arrays: what json.loads cannot read without a RecursionError."""


def near_max_payload(
    max_payload: int, event_type: str, data: dict[str, Any], *, event_id: str, pad: str
) -> bytes:
    """A structured CloudEvent whose ``data[pad]`` (a string field far over any limit) fills
    the whole message to 300 bytes under the server's ``max_payload``."""
    event = cloudevent(event_type, {**data, pad: ""}, event_id=event_id)
    event["data"][pad] = "x" * (max_payload - len(json.dumps(event).encode()) - 300)
    return json.dumps(event).encode()


def cloudevent(
    event_type: str,
    data: dict[str, Any],
    *,
    source: str | None = None,
    event_id: str | None = None,
) -> dict[str, Any]:
    """A structured-mode CloudEvent as an external system would write it; without a
    ``source``, that of the first system that sends ``event_type`` (``/tests`` for others)."""
    return {
        "specversion": "1.0",
        "id": event_id or str(uuid.uuid4()),
        "source": source or default_source(event_type),
        "type": event_type,
        "time": datetime.now(UTC).isoformat(),
        "datacontenttype": "application/json",
        "data": data,
    }


def default_source(event_type: str) -> str:
    """The source of the first system that sends ``event_type``, or ingest events of its
    domain if Guild does not know it (``/tests`` for any other event)."""
    contract = REGISTRY.get(event_type)
    if contract is not None and contract.SCOPE is Scope.INGEST:
        return publisher_source(first_sender(contract))
    domain = event_type.removeprefix("guild.ingest.").split(".")[0]
    senders = sending(domain) if event_type.startswith("guild.ingest.") else []
    return publisher_source(senders[0]) if senders else "/tests"


async def publish_raw(
    nc: Client,
    subject: str,
    body: bytes,
    *,
    headers: dict[str, str] | None = None,
) -> None:
    """Publish to JetStream with plain nats-py and wait for the PubAck."""
    await nc.jetstream().publish(subject, body, headers=headers)


async def publish_event(nc: Client, subject: str, event: dict[str, Any]) -> None:
    await publish_raw(nc, subject, json.dumps(event).encode(), headers={"Nats-Msg-Id": event["id"]})


async def request(nc: Client, subject: str, payload: dict[str, Any] | bytes) -> dict[str, Any]:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    reply = await nc.request(subject, body, timeout=10)
    return json.loads(reply.data)


async def stream_messages(
    nc: Client, stream: str, subject: str = ">"
) -> list[tuple[str, dict[str, str], bytes]]:
    """Every message of ``stream`` on ``subject``: (subject, headers, body)."""
    js = nc.jetstream()
    info = await js.stream_info(stream)
    if info.state.messages == 0:
        return []
    sub = await js.pull_subscribe(
        subject,
        stream=stream,
        config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL, inactive_threshold=30),
    )
    found: list[tuple[str, dict[str, str], bytes]] = []
    try:
        while True:
            try:
                batch = await sub.fetch(100, timeout=0.5)
            except TimeoutError:
                return found
            for msg in batch:
                found.append((msg.subject, dict(msg.headers or {}), msg.data))
                await msg.ack()
            if batch[-1].metadata.num_pending == 0:
                return found
    finally:
        await sub.unsubscribe()


async def dead_letters(nc: Client, region: str) -> list[DeadLetter]:
    """The dead letters stored in ``region``, oldest first."""
    messages = await stream_messages(nc, Streams(region).dead_letters, dead_letters_filter(region))
    return [DeadLetter.model_validate_json(body) for _, _, body in messages]


async def events_of_type(nc: Client, stream: str, event_type: str) -> list[dict[str, Any]]:
    """Decoded structured events of ``event_type`` stored in ``stream``."""
    found = []
    for _, _, body in await stream_messages(nc, stream):
        with contextlib.suppress(json.JSONDecodeError):
            document = json.loads(body)
            if isinstance(document, dict) and document.get("type") == event_type:
                found.append(document)
    return found


async def _activity(nc: Client, region: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """The region's durable consumers with work left (pending or unacked), and the last
    sequence of each of its streams."""
    js = nc.jetstream()
    busy, sequences = [], []
    for info in await js.streams_info():
        stream = info.config.name or ""
        if not stream.lower().endswith(f"_{region}"):
            continue
        sequences.append(info.state.last_seq)
        for consumer in await js.consumers_info(stream):
            pending, unacked = consumer.num_pending, consumer.num_ack_pending
            if consumer.config.durable_name and (pending or unacked):
                name = consumer.config.durable_name
                busy.append(f"{stream}/{name} pending {pending} unacked {unacked}")
    return tuple(busy), tuple(sequences)


async def settled(nc: Client, region: str, *, deadline: float = 20.0) -> None:
    """Wait until every consumer of ``region`` has processed everything and nothing new was
    stored in between: whatever the services were going to do, they have done."""
    seen: list[tuple[str, ...]] = []

    async def quiet() -> bool:
        first = await _activity(nc, region)
        await asyncio.sleep(0.1)
        seen[:] = [first[0]]
        return not first[0] and first == await _activity(nc, region)

    try:
        await eventually(quiet, deadline=deadline, what=f"region {region} to settle")
    except AssertionError as error:
        raise AssertionError(f"{error}; still busy: {seen[0] if seen else '?'}") from None


PORTAL = "portal"
"""The publisher of the questions tests ask (``ingest.<r>.portal.content.question_asked.v1``)."""


def content_ingest_app(
    settings: GuildSettings, purpose: str, reactions: dict[type[Any], Reaction[Any, None]]
) -> ServiceApp:
    """A content replica with one consumer ``content-<purpose>`` on the ingest stream's content
    events, running ``reactions`` (for tests of how failures are settled)."""
    spec = durable_consumer(
        settings,
        Service.CONTENT,
        purpose,
        stream=Streams(settings.region).ingest_of(PORTAL),
        filter_subjects=[ingest_filter(settings.region, PORTAL, CONTENT)],
        description=f"test consumer: {purpose}",
    )
    app = ServiceApp.create(
        Service.CONTENT, settings, Topology(streams=streams_for(settings), consumers=[spec])
    )
    app.react_to(spec, reactions, None)
    return app
