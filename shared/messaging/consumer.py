"""How every JetStream message is settled: ack, retry later, or dead-letter with a reason.

FastStream's default on NATS terminates a message on any exception (no retry, no record)
and its NACK policy redelivers at once. Guild subscribers use ``AckPolicy.MANUAL`` and this
middleware decides instead:

* the handler returned            -> ack;
* the message can never succeed   -> a dead letter with the reason, then term. That is:
  not a CloudEvent, a schema violation, an event type this consumer does not handle, or
  :class:`PoisonMessage` raised by the handler;
* any other exception (transient) -> nak with an exponential, jittered delay; on the last
  allowed delivery, a dead letter with the last error instead.

If the dead letter itself cannot be stored, the message is retried later, never dropped.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, ClassVar

from faststream.exceptions import SubscriberNotFound
from faststream.middlewares import BaseMiddleware
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.envelope import MalformedEvent, identify
from shared.messaging.provisioning import ConsumerSpec, RetryPolicy
from shared.messaging.publisher import JetStreamPublisher, PublishFailed
from shared.naming import Service, Streams, dead_letter_subject

log = logging.getLogger("guild.consume")

EVENT_PARAMETER = "event"
"""The name of the parameter a reaction's envelope is validated into (see ``react``)."""


class PoisonMessage(Exception):
    """Raised by a handler for input that can never be processed. The message is dead-lettered."""


class DeadLetter(BaseModel):
    """What the dead-letter stream records about a message Guild gave up on."""

    service: str = Field(description="The service that gave up.")
    consumer: str = Field(description="Its durable consumer.")
    stream: str = Field(description="The stream the message is in.")
    stream_sequence: int = Field(description="Its sequence in that stream.")
    subject: str = Field(description="The subject it was published on.")
    deliveries: int = Field(description="How many times it was delivered.")
    reason: str = Field(description="Why it was given up, in words an operator can act on.")
    error_type: str = Field(description="The error's class name.")
    event_id: str | None = Field(description="The event's id, if it could be read.")
    event_type: str | None = Field(description="The event's type, if it could be read.")
    dead_lettered_at: datetime = Field(description="When.")
    headers: dict[str, str] = Field(description="The original message's headers.")
    body: str = Field(description="The original body (UTF-8 text, or base64).")
    body_encoding: str = Field(description="'utf-8' or 'base64'.")

    def original_body(self) -> bytes:
        if self.body_encoding == "base64":
            return base64.b64decode(self.body)
        return self.body.encode()


def _body_text(data: bytes) -> tuple[str, str]:
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return base64.b64encode(data).decode(), "base64"


def describe_failure(error: BaseException, msg: Msg) -> tuple[bool, str]:
    """(is it poison?, the reason in words an operator or publisher can act on)."""
    if isinstance(error, MalformedEvent | PoisonMessage):
        return True, str(error)
    if isinstance(error, ValidationError):
        problems = "; ".join(
            f"{_field_path(issue['loc'])}: {issue['msg']}" for issue in error.errors()[:10]
        )
        return True, f"schema violation: {problems}"
    if isinstance(error, SubscriberNotFound):
        _, event_type = identify(msg.data, msg.headers)
        return True, f"unknown event type {event_type!r} on subject {msg.subject}"
    return False, f"{type(error).__name__}: {error}"


def _field_path(location: tuple[int | str, ...]) -> str:
    """``('event', 'data', 'skills', 0, 'level')`` -> ``data.skills.0.level``: the path in the
    CloudEvent, without the name of the handler's parameter."""
    parts = list(location)
    if parts[:1] == [EVENT_PARAMETER]:
        parts = parts[1:]
    return ".".join(str(part) for part in parts) or "(event)"


class DeadLetterOffice:
    """Stores dead letters in the region's DLQ stream, one subject per service and consumer."""

    def __init__(self, publisher: JetStreamPublisher, *, region: str, service: Service) -> None:
        self.publisher = publisher
        self.region = region
        self.service = service
        self.stream = Streams(region).dead_letters

    async def record(self, msg: Msg, *, reason: str, error_type: str) -> DeadLetter:
        """Dead-letter a message this service was handling."""
        meta = msg.metadata
        return await self.record_stored(
            StoredOriginal(msg.subject, dict(msg.headers or {}), msg.data),
            stream=meta.stream,
            sequence=meta.sequence.stream,
            consumer=meta.consumer or "",
            deliveries=meta.num_delivered,
            reason=reason,
            error_type=error_type,
        )

    async def record_stored(
        self,
        original: StoredOriginal,
        *,
        stream: str,
        sequence: int,
        consumer: str,
        deliveries: int,
        reason: str,
        error_type: str,
    ) -> DeadLetter:
        """Dead-letter ``original``, stored at ``sequence`` in ``stream``."""
        event_id, event_type = identify(original.data, original.headers)
        body, encoding = _body_text(original.data)
        letter = DeadLetter(
            service=self.service.value,
            consumer=consumer,
            stream=stream,
            stream_sequence=sequence,
            subject=original.subject,
            deliveries=deliveries,
            reason=reason,
            error_type=error_type,
            event_id=event_id,
            event_type=event_type,
            dead_lettered_at=datetime.now(UTC),
            headers=original.headers,
            body=body,
            body_encoding=encoding,
        )
        await self.publisher.publish(
            letter.model_dump_json().encode(),
            dead_letter_subject(self.region, self.service, consumer),
            stream=self.stream,
            msg_id=f"dlq:{stream}:{sequence}:{consumer}",
            headers={"content-type": "application/json"},
        )
        log.warning(
            "dead-lettered",
            extra={
                "event_id": event_id,
                "event_type": event_type,
                "consumer": consumer,
                "stream_sequence": sequence,
                "deliveries": deliveries,
                "reason": reason,
            },
        )
        return letter


@dataclass(frozen=True)
class StoredOriginal:
    """A message as it is stored in its stream."""

    subject: str
    headers: dict[str, str]
    data: bytes


class MaxDeliveriesAdvisory(BaseModel):
    """JetStream's advisory that a consumer delivered a message ``max_deliver`` times and
    nobody settled it: the handler crashed or ran past ``ack_wait`` every time."""

    model_config = ConfigDict(extra="ignore")

    stream: str
    consumer: str
    stream_seq: int
    deliveries: int


async def dead_letter_unsettled(
    advisory: MaxDeliveriesAdvisory, js: JetStreamContext, office: DeadLetterOffice
) -> DeadLetter:
    """Turn a max-deliveries advisory into a dead letter, with the original if still stored."""
    reason = (
        f"delivered {advisory.deliveries} times and never settled: the handler crashed or "
        "ran longer than ack_wait each time"
    )
    try:
        stored = await js.get_msg(advisory.stream, advisory.stream_seq)
        original = StoredOriginal(
            stored.subject or "", dict(stored.headers or {}), stored.data or b""
        )
    except NotFoundError:
        original = StoredOriginal("", {}, b"")
        reason += "; the original is no longer in the stream"
    return await office.record_stored(
        original,
        stream=advisory.stream,
        sequence=advisory.stream_seq,
        consumer=advisory.consumer,
        deliveries=advisory.deliveries,
        reason=reason,
        error_type="MaxDeliveries",
    )


def _is_jetstream(msg: Any) -> bool:
    return isinstance(msg, Msg) and bool(msg.reply) and msg.reply.startswith("$JS.ACK.")


class SettleMiddleware(BaseMiddleware):
    """Settles JetStream messages (see the module docstring). Configure with :func:`settling`."""

    office: ClassVar[DeadLetterOffice]
    policies: ClassVar[Mapping[str, RetryPolicy]]

    async def after_processed(
        self,
        exc_type: type[BaseException] | None = None,
        exc_val: BaseException | None = None,
        exc_tb: TracebackType | None = None,
    ) -> bool:
        msg = self.msg
        if not _is_jetstream(msg):
            return False  # core NATS (request-reply): nothing to settle
        if exc_val is None:
            await msg.ack()
            return False
        if not isinstance(exc_val, Exception):
            return False  # cancellation and exits: let them through; JetStream redelivers
        await self._settle_failure(msg, exc_val)
        return True

    async def _settle_failure(self, msg: Msg, error: Exception) -> None:
        poison, reason = describe_failure(error, msg)
        attempt = msg.metadata.num_delivered
        policy = self.policies.get(msg.metadata.consumer or "", RetryPolicy())
        if poison or attempt >= policy.max_deliver:
            if not poison:
                reason = f"failed on all {attempt} deliveries; last error: {reason}"
            await self._dead_letter(msg, reason, type(error).__name__, policy)
            return
        delay = policy.delay_after(attempt)
        event_id, event_type = identify(msg.data, msg.headers)
        log.warning(
            "handler failed; will retry",
            extra={
                "event_id": event_id,
                "event_type": event_type,
                "consumer": msg.metadata.consumer,
                "delivery": attempt,
                "retry_in_s": round(delay, 2),
                "error": reason,
            },
            exc_info=error if log.isEnabledFor(logging.DEBUG) else None,
        )
        await msg.nak(delay=delay)

    async def _dead_letter(
        self, msg: Msg, reason: str, error_type: str, policy: RetryPolicy
    ) -> None:
        try:
            await self.office.record(msg, reason=reason, error_type=error_type)
        except PublishFailed:
            log.exception("could not store a dead letter; the message will be retried")
            await msg.nak(delay=policy.max_delay)
            return
        await msg.term()


def settling(office: DeadLetterOffice, consumers: list[ConsumerSpec]) -> type[SettleMiddleware]:
    """A settle middleware bound to one service's dead-letter office and retry policies."""
    policies = {spec.durable: spec.retry for spec in consumers}
    return type(
        "ServiceSettleMiddleware", (SettleMiddleware,), {"office": office, "policies": policies}
    )
