"""Publishing to JetStream: every publish waits for its PubAck and carries a ``Nats-Msg-Id``.

A publish that times out (or finds no stream leader for a moment, as during an election) is
retried with the same ``Nats-Msg-Id`` until a deadline, so it is stored exactly once.

A message larger than the server's ``max_payload`` (body *and* headers) is refused here,
before it is sent: nats-py checks the body alone, and nats-server closes the connection of a
client that sends more ("maximum payload exceeded"), which would take every consumer of the
connection with it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from faststream.nats import NatsBroker
from nats.errors import (
    ConnectionClosedError,
    ConnectionReconnectingError,
    NoRespondersError,
    OutboundBufferLimitError,
)
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import PubAck
from nats.js.errors import NoStreamResponseError
from opentelemetry.trace import Tracer

from shared.contracts.base import Contract
from shared.contracts.handover import Handover
from shared.envelope import STRUCTURED_CONTENT_TYPE, Envelope, new_envelope, structured_body
from shared.ids import derived_id
from shared.naming import Service, Streams, source
from shared.pubacks import pubacks
from shared.telemetry import trace_headers

log = logging.getLogger("guild.publish")
T = TypeVar("T")

TRANSIENT_PUBLISH_ERRORS: tuple[type[BaseException], ...] = (
    NatsTimeoutError,
    asyncio.TimeoutError,
    NoStreamResponseError,
    NoRespondersError,
    ConnectionClosedError,
    ConnectionReconnectingError,
    OutboundBufferLimitError,
)


class PublishFailed(Exception):
    """JetStream did not confirm a publish before the deadline. Transient: retry later."""


class PublishRefused(Exception):
    """The message can never be published as it is (larger than the server's max_payload)."""


def message_size(body: bytes, headers: Mapping[str, str]) -> int:
    """The bytes nats-server counts against max_payload: the body and the encoded headers."""
    if not headers:
        return len(body)
    encoded = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    return len(body) + len(b"NATS/1.0\r\n\r\n") + len(encoded.encode())


_HEADERS_FIT_WITHIN = 4096
"""Headers this long at most (bytes, encoded) are taken to fit beside a body this far below
max_payload without measuring them exactly."""


def _headers_fit(headers: Mapping[str, str]) -> bool:
    """Whether the encoded headers surely take at most :data:`_HEADERS_FIT_WITHIN` bytes: a
    character takes at most four bytes in UTF-8, each line four more (": " and CRLF)."""
    chars = sum(len(name) + len(value) + 4 for name, value in headers.items())
    return 4 * chars + len(b"NATS/1.0\r\n\r\n") <= _HEADERS_FIT_WITHIN


class JetStreamPublisher:
    """Publishes bytes to a stream and waits for the PubAck, retrying transient failures.

    Straight through :mod:`shared.pubacks` (the PubAcks come to one inbox shared by every
    publish of the connection, so thousands can be in flight, each awaited by the handler
    that made it), not FastStream's publish path: its middleware, its two spans and its
    request-reply per message took a third of a hop's time. The trace context still goes
    with every message (:func:`shared.telemetry.trace_headers`).
    """

    def __init__(
        self,
        broker: NatsBroker,
        *,
        ack_timeout: float = 2.0,
        deadline: float = 15.0,
        tracer: Tracer | None = None,
    ) -> None:
        self.broker = broker
        self.ack_timeout = ack_timeout
        self.deadline = deadline
        self.tracer = tracer

    async def publish(
        self,
        body: bytes,
        subject: str,
        *,
        stream: str,
        msg_id: str,
        headers: Mapping[str, str] | None = None,
    ) -> PubAck:
        """Store ``body`` on ``subject`` in ``stream`` once; returns JetStream's PubAck.

        Raises :class:`PublishRefused` if it cannot fit in one NATS message, and
        :class:`PublishFailed` if JetStream did not confirm it before the deadline. Each
        attempt waits ``ack_timeout`` for its PubAck; a retry has the same ``Nats-Msg-Id``.
        """
        all_headers = {**(headers or {}), **trace_headers(self.tracer, subject),
                       "Nats-Msg-Id": msg_id, "Nats-Expected-Stream": stream}  # fmt: skip
        self._check_fits(body, all_headers, subject)

        async def attempt() -> PubAck:
            connection = pubacks(self.broker.connection)
            return await connection.publish(
                subject, body, headers=all_headers, timeout=self.ack_timeout
            )

        return await self._until_confirmed(attempt, subject, stream, msg_id)

    async def _until_confirmed(
        self, attempt: Callable[[], Awaitable[T]], subject: str, stream: str, msg_id: str
    ) -> T:
        """``attempt`` again (the same ``Nats-Msg-Id``) while it fails transiently, until the
        deadline."""
        started, pause = time.monotonic(), 0.05
        while True:
            try:
                return await attempt()
            except TRANSIENT_PUBLISH_ERRORS as error:
                waited = time.monotonic() - started
                if waited + pause > self.deadline:
                    raise PublishFailed(
                        f"no PubAck from stream {stream} for {subject} (msg id {msg_id}) "
                        f"after {waited:.1f}s: {type(error).__name__}"
                    ) from error
                log.warning(
                    "publish not confirmed yet; retrying with the same Nats-Msg-Id",
                    extra={"subject": subject, "msg_id": msg_id, "error": type(error).__name__},
                )
                await asyncio.sleep(pause)
                pause = min(pause * 2, 1.0)

    @property
    def max_payload(self) -> int:
        """The largest message (body and headers) the server accepts."""
        return int(self.broker.connection.max_payload)

    def jetstream(self) -> JetStreamContext:
        return self.broker.connection.jetstream()

    def _check_fits(self, body: bytes, headers: Mapping[str, str], subject: str) -> None:
        limit = self.max_payload
        if len(body) + _HEADERS_FIT_WITHIN < limit and _headers_fit(headers):
            return  # far from the limit (nearly every message): not measured exactly
        size = message_size(body, headers)
        if size > limit:
            raise PublishRefused(
                f"a message of {size} bytes (body and headers) for {subject} is larger than "
                f"the server's max_payload of {limit} bytes"
            )


class EventPublisher:
    """Publishes Guild events: the envelope, the subject and the stream follow from the contract."""

    def __init__(self, publisher: JetStreamPublisher, *, region: str, service: Service) -> None:
        self.publisher = publisher
        self.region = region
        self.service = service
        self.source = source(region, service)
        self.streams = Streams(region)

    async def publish(
        self,
        data: Contract,
        *,
        event_id: str,
        subject: str | None = None,
        cause: Envelope[Any] | None = None,
        key: str | None = None,
    ) -> Envelope[Contract]:
        """Publish ``data`` as a CloudEvent with ``event_id`` and wait until it is stored (a
        :class:`~shared.contracts.handover.Handover` on its way to its one region)."""
        envelope = new_envelope(
            event_id=event_id,
            source=self.source,
            event_type=data.TYPE,
            data=data,
            region=self.region,
            subject=subject,
            causation_id=cause.id if cause else None,
        )
        await self.publisher.publish(
            structured_body(envelope),
            data.subject if isinstance(data, Handover) else data.subject_in(self.region, key),
            stream=self.streams.for_scope(data.SCOPE),
            msg_id=event_id,
            headers={"content-type": STRUCTURED_CONTENT_TYPE},
        )
        return envelope

    async def publish_caused_by(
        self,
        cause: Envelope[Any],
        data: Contract,
        *,
        purpose: str,
        subject: str | None = None,
        key: str | None = None,
    ) -> Envelope[Contract]:
        """Publish an event caused by ``cause``; its id is derived from the cause and purpose,
        so running the same handler twice publishes the same event once."""
        event_id = derived_id(cause.source, cause.id, purpose)
        return await self.publish(data, event_id=event_id, subject=subject, cause=cause, key=key)
