"""How every JetStream message is settled: ack, retry later, or dead-letter with a reason.

FastStream's default on NATS terminates a message on any exception (no retry, no record)
and its NACK policy redelivers at once. Guild subscribers use ``AckPolicy.MANUAL`` and a
:class:`Settler` decides instead (on Guild's path for events, :mod:`shared.messaging
.dispatch`, and through :class:`SettleMiddleware` on FastStream's):

* the handler returned            -> ack;
* the message can never succeed   -> a dead letter with the reason, then term. That is:
  not a CloudEvent, a schema violation, an event type this consumer does not handle, or
  :class:`PoisonMessage` raised by the handler;
* any other exception (transient) -> nak with an exponential, jittered delay; on the last
  allowed delivery, a dead letter with the last error instead.

A handler that builds an invalid outgoing event raises :class:`OwnOutputInvalid` (see
:func:`shared.messaging.subscriptions.react`): that is Guild's bug, not the input's, so it is
retried and logged at ERROR, and its dead letter after the last delivery says so.

A dead letter holds the original by reference plus a bounded excerpt, so it always fits in a
message (see :class:`DeadLetter`). If it cannot be stored, the message is retried later,
never dropped. A message whose stream drops it once settled (a work queue) and whose copy
was refused is not terminated: it stays in its stream, nak'd, where its letter refers to it
(see :meth:`DeadLetterOffice.give_up`).
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, ClassVar

from faststream.exceptions import SubscriberNotFound
from faststream.middlewares import BaseMiddleware
from faststream.nats import NatsMessage
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import RetentionPolicy, StreamConfig
from nats.js.errors import NotFoundError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.bounded_json import MAX_PROBLEMS, UnreadableJson, clip, json_size, load_json
from shared.envelope import MalformedEvent, identify
from shared.messaging.provisioning import ConsumerSpec, RetryPolicy
from shared.messaging.publisher import JetStreamPublisher, PublishRefused
from shared.naming import (
    Service,
    Streams,
    dead_letter_original_subject,
    dead_letter_subject,
    without_nats_headers,
)

log = logging.getLogger("guild.consume")

EVENT_PARAMETER = "event"
"""The name of the parameter a reaction's envelope is validated into (see ``react``)."""


class PoisonMessage(Exception):
    """Raised by a handler for input that can never be processed. The message is dead-lettered."""


class OwnOutputInvalid(Exception):
    """A handler built an outgoing event its own contract refuses: Guild's bug, not the
    publisher's. Retried like a transient failure (a fix may be deployed in between), logged
    at ERROR, and dead-lettered after the last delivery with a reason that says so."""

    def __init__(self, handler: str, error: ValidationError) -> None:
        super().__init__(
            f"Guild's bug, not the publisher's: {handler} built an invalid {error.title}: "
            f"{_problems(error)}"
        )


EXCERPT_BYTES = 4 * 1024
"""How much of the original body a dead letter shows (as JSON text)."""
HEADER_BYTES = 2 * 1024
"""How much of the original headers a dead letter shows (as JSON text)."""
LETTER_LIMIT = 16 * 1024
"""No dead letter is larger (its JSON body), whatever the original: it always fits."""
SUBJECT_LIMIT = 4096
"""nats-server's default max_control_line: no subject is longer, so a letter keeps it whole
(``dlq replay`` publishes on it)."""
_TEXT_LIMITS = {"reason": 2048, "error_type": 128, "event_id": 256, "event_type": 256,
                "subject": SUBJECT_LIMIT, "consumer": 128, "stream": 128}  # fmt: skip


class KeptOriginal(BaseModel):
    """Where the dead-lettered message is kept, byte for byte, until its letter is handled."""

    stream: str = Field(description="The stream holding it (its own, or the originals copy).")
    sequence: int = Field(description="Its sequence in that stream.")
    copied: bool = Field(
        description="True: a verbatim copy, made because its own stream may drop it first "
        "(a work-queue or interest stream, or one that keeps it less long than the letter)."
    )


class DeadLetter(BaseModel):
    """What the dead-letter stream records about a message Guild gave up on.

    It holds the original by reference (:attr:`original`) plus a bounded excerpt, so it
    always fits in one message (at most :data:`LETTER_LIMIT` bytes)."""

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
    headers: dict[str, str] = Field(
        description=f"The original message's headers (the first {HEADER_BYTES} bytes of them)."
    )
    body: str = Field(
        description=f"The original body, or its first {EXCERPT_BYTES} bytes if "
        "body_truncated (UTF-8 text, or base64)."
    )
    body_encoding: str = Field(description="'utf-8' or 'base64'.")
    body_size: int | None = Field(default=None, description="The original body's size in bytes.")
    body_truncated: bool = Field(default=False, description="body is an excerpt.")
    headers_truncated: bool = Field(default=False, description="headers are an excerpt.")
    original: KeptOriginal | None = Field(
        default=None, description="Where the original is kept; None if it was already gone."
    )

    def original_body(self) -> bytes:
        """The original body, when the letter holds all of it (else read :attr:`original`)."""
        if self.body_truncated:
            raise ValueError("this dead letter holds an excerpt; read the original it refers to")
        if self.body_encoding == "base64":
            return base64.b64decode(self.body)
        return self.body.encode()


def _excerpt(data: bytes) -> tuple[str, str, bool]:
    """(excerpt, encoding, truncated): UTF-8 text when the whole body is, else base64."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        part = base64.b64encode(data[: EXCERPT_BYTES * 3 // 4]).decode()
        return part, "base64", len(data) > EXCERPT_BYTES * 3 // 4
    text = data[:EXCERPT_BYTES].decode("utf-8", errors="ignore")
    excerpt = clip(text, EXCERPT_BYTES)
    return excerpt, "utf-8", len(excerpt.encode()) < len(data)


def _bounded_headers(headers: Mapping[str, str]) -> tuple[dict[str, str], bool]:
    kept: dict[str, str] = {}
    room = HEADER_BYTES
    for name, value in headers.items():
        name, value = clip(name, 128), clip(value, 512)
        room -= json_size(name) + json_size(value) + 2
        if room < 0:
            return kept, True
        kept[name] = value
    return kept, False


def _problems(error: ValidationError) -> str:
    return "; ".join(
        f"{_field_path(issue['loc'])}: {issue['msg']}" for issue in error.errors()[:MAX_PROBLEMS]
    )


def describe_failure(error: BaseException, msg: Msg) -> tuple[bool, str]:
    """(is it poison?, the reason in words an operator or publisher can act on)."""
    if isinstance(error, MalformedEvent | PoisonMessage):
        return True, str(error)
    if isinstance(error, ValidationError):
        return True, f"schema violation: {_problems(error)}"
    if isinstance(error, SubscriberNotFound):
        _, event_type = identify(msg.data, msg.headers)
        return True, f"unknown event type {event_type!r} on subject {msg.subject}"
    if isinstance(error, OwnOutputInvalid):
        return False, str(error)
    return False, f"{type(error).__name__}: {error}"


def _field_path(location: tuple[int | str, ...]) -> str:
    """``('event', 'data', 'skills', 0, 'level')`` -> ``data.skills.0.level``: the path in the
    CloudEvent, without the name of the handler's parameter."""
    parts = list(location)
    if parts[:1] == [EVENT_PARAMETER]:
        parts = parts[1:]
    return ".".join(str(part) for part in parts) or "(event)"


def keeps_as_long(stream: StreamConfig, letters: StreamConfig) -> bool:
    """Does ``stream`` keep a message at least as long as ``letters`` keeps its dead letter?

    Not if it removes messages once they are acknowledged or terminated (work queue) or once
    every consumer has (interest), nor if a count or size limit can push it out, nor if it
    ages messages out sooner."""
    if stream.retention not in (None, RetentionPolicy.LIMITS):
        return False
    limits = (stream.max_msgs, stream.max_bytes, stream.max_msgs_per_subject)
    if any(limit is not None and limit > 0 for limit in limits):
        return False
    forever = float("inf")
    return (stream.max_age or forever) >= (letters.max_age or forever)


class StreamRetention:
    """Reads (once per stream) whether a stream outlives the dead letters of its messages."""

    def __init__(self, jetstream: Callable[[], JetStreamContext], letters_stream: str) -> None:
        self.jetstream = jetstream
        self.letters_stream = letters_stream
        self._configs: dict[str, StreamConfig] = {}

    async def outlives_letters(self, stream: str) -> bool:
        return keeps_as_long(await self._config(stream), await self._config(self.letters_stream))

    async def drops_when_settled(self, stream: str) -> bool:
        """Does ``stream`` remove a message once it is terminated or acknowledged (a work
        queue at once, an interest stream once every consumer has)?"""
        return (await self._config(stream)).retention in (
            RetentionPolicy.WORK_QUEUE,
            RetentionPolicy.INTEREST,
        )

    async def _config(self, stream: str) -> StreamConfig:
        if stream not in self._configs:
            self._configs[stream] = (await self.jetstream().stream_info(stream)).config
        return self._configs[stream]


class DeadLetterOffice:
    """Stores dead letters in the region's DLQ stream, one subject per service and consumer,
    and keeps each original until its letter is handled (see :class:`KeptOriginal`)."""

    def __init__(
        self,
        publisher: JetStreamPublisher,
        *,
        region: str,
        service: Service,
        retention: StreamRetention | None = None,
    ) -> None:
        self.publisher = publisher
        self.region = region
        self.service = service
        streams = Streams(region)
        self.stream = streams.dead_letters
        self.originals = streams.dead_letter_originals
        self.retention = retention or StreamRetention(publisher.jetstream, self.stream)

    async def give_up(
        self, msg: Msg, *, reason: str, error_type: str, retry_in: float
    ) -> DeadLetter:
        """Dead-letter ``msg`` and settle it: terminated, unless that would remove the only
        copy of the original its letter refers to (its copy was refused and its stream drops
        settled messages); then it stays in its stream, nak'd for ``retry_in`` seconds."""
        letter = await self.record(msg, reason=reason, error_type=error_type)
        if await self.settling_loses(letter):
            log.warning(
                "dead-lettered original left in its stream (its copy was refused); retried later",
                extra={"consumer": letter.consumer, "stream": letter.stream,
                       "stream_sequence": letter.stream_sequence},
            )  # fmt: skip
            await msg.nak(delay=retry_in)
        else:
            await msg.term()
        return letter

    async def settling_loses(self, letter: DeadLetter) -> bool:
        """Would settling the message of ``letter`` remove the original it refers to?"""
        kept = letter.original
        if kept is None or kept.copied:
            return False
        return await self.retention.drops_when_settled(kept.stream)

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
        original: StoredOriginal | None,
        *,
        stream: str,
        sequence: int,
        consumer: str,
        deliveries: int,
        reason: str,
        error_type: str,
    ) -> DeadLetter:
        """Dead-letter ``original``, stored at ``sequence`` in ``stream`` (None: gone)."""
        kept, note = await self._keep(original, stream, sequence)
        letter = bounded_letter(
            original or StoredOriginal("", {}, b""),
            service=self.service.value,
            consumer=consumer,
            stream=stream,
            sequence=sequence,
            deliveries=deliveries,
            reason=reason + note,
            error_type=error_type,
            kept=kept,
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
                "event_id": letter.event_id,
                "event_type": letter.event_type,
                "consumer": consumer,
                "stream_sequence": sequence,
                "deliveries": deliveries,
                "reason": letter.reason,
            },
        )
        return letter

    async def _keep(
        self, original: StoredOriginal | None, stream: str, sequence: int
    ) -> tuple[KeptOriginal | None, str]:
        """Where the original stays until its letter is handled, and a note for the reason."""
        if original is None:
            return None, "; the original is no longer in the stream"
        if await self.retention.outlives_letters(stream):
            return KeptOriginal(stream=stream, sequence=sequence, copied=False), ""
        try:
            ack = await self.publisher.publish(
                original.data,
                dead_letter_original_subject(self.region, stream),
                stream=self.originals,
                msg_id=f"dlq-original:{stream}:{sequence}",
                headers=_copy_headers(original.headers),
            )
        except PublishRefused:
            note = f"; the original could not be copied (too large with its headers): {stream} "
            return KeptOriginal(stream=stream, sequence=sequence, copied=False), (
                note + "may drop it before this letter is handled"
            )
        return KeptOriginal(stream=self.originals, sequence=ack.seq, copied=True), ""


def _copy_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The original's headers, without the ``Nats-*`` ones that would act on the copy (a
    rollup, a TTL, an expected sequence); its message id is kept under another name."""
    kept = without_nats_headers(headers)
    msg_id = next((v for k, v in headers.items() if k.lower() == "nats-msg-id"), None)
    return {**kept, "Guild-Original-Msg-Id": msg_id} if msg_id else kept


def bounded_letter(
    original: StoredOriginal,
    *,
    service: str,
    consumer: str,
    stream: str,
    sequence: int,
    deliveries: int,
    reason: str,
    error_type: str,
    kept: KeptOriginal | None,
) -> DeadLetter:
    """The dead letter of ``original``: every field bounded, so that it always fits."""
    event_id, event_type = identify(original.data, original.headers)
    body, encoding, truncated = _excerpt(original.data)
    headers, headers_truncated = _bounded_headers(original.headers)
    texts = {"reason": reason, "error_type": error_type, "event_id": event_id,
             "event_type": event_type, "subject": original.subject, "consumer": consumer,
             "stream": stream}  # fmt: skip
    clipped = {k: None if v is None else clip(v, _TEXT_LIMITS[k]) for k, v in texts.items()}
    return DeadLetter(
        service=service,
        stream_sequence=sequence,
        deliveries=deliveries,
        dead_lettered_at=datetime.now(UTC),
        headers=headers,
        headers_truncated=headers_truncated,
        body=body,
        body_encoding=encoding,
        body_size=len(original.data),
        body_truncated=truncated,
        original=kept,
        **clipped,
    )


@dataclass(frozen=True)
class StoredOriginal:
    """A message as it is stored in its stream."""

    subject: str
    headers: dict[str, str]
    data: bytes


class MaxDeliveriesAdvisory(BaseModel):
    """JetStream's advisory that a consumer delivered a message ``max_deliver`` times and
    nobody settled it: every time the handler crashed, its process stopped (no in-progress
    acks until ``ack_wait`` ran out), or it ran past its time limit (see
    :mod:`shared.messaging.window`)."""

    model_config = ConfigDict(extra="ignore")

    stream: str
    consumer: str
    stream_seq: int
    deliveries: int


async def advisory_decoder(message: NatsMessage, _default: Callable[..., Any]) -> Any:
    """FastStream decoder for advisories: read with the bounded reader, so that a hostile
    body on an advisory subject is dead-lettered (poison) instead of raising RecursionError."""
    try:
        return load_json(message.body)
    except UnreadableJson as error:
        raise MalformedEvent(f"advisory is not JSON Guild reads ({error})") from None


async def dead_letter_unsettled(
    advisory: MaxDeliveriesAdvisory, js: JetStreamContext, office: DeadLetterOffice
) -> DeadLetter:
    """Turn a max-deliveries advisory into a dead letter of the original (kept as any other
    dead letter's is, if it is still stored)."""
    reason = (
        f"delivered {advisory.deliveries} times and never settled: each time the handler "
        "crashed, its process stopped, or it ran past its time limit"
    )
    original: StoredOriginal | None
    try:
        stored = await js.get_msg(advisory.stream, advisory.stream_seq)
        original = StoredOriginal(
            stored.subject or "", dict(stored.headers or {}), stored.data or b""
        )
    except NotFoundError:
        original = None
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


@dataclass(frozen=True)
class Settler:
    """Settles one service's JetStream messages as the module docstring says: ack after the
    handler returned; for a failure, retry later (nak with the consumer's backoff) or a dead
    letter with the reason (poison, or the last delivery)."""

    office: DeadLetterOffice
    policies: Mapping[str, RetryPolicy]

    async def handled(self, msg: Msg) -> None:
        await msg.ack()

    async def failed(self, msg: Msg, error: Exception) -> None:
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
        bug = isinstance(error, OwnOutputInvalid)
        log.log(
            logging.ERROR if bug else logging.WARNING,
            "handler failed (Guild's bug); will retry" if bug else "handler failed; will retry",
            extra={
                "event_id": event_id,
                "event_type": event_type,
                "consumer": msg.metadata.consumer,
                "delivery": attempt,
                "retry_in_s": round(delay, 2),
                "error": reason,
            },
            exc_info=error if bug or log.isEnabledFor(logging.DEBUG) else None,
        )
        await msg.nak(delay=delay)

    async def _dead_letter(
        self, msg: Msg, reason: str, error_type: str, policy: RetryPolicy
    ) -> None:
        try:
            await self.office.give_up(
                msg, reason=reason, error_type=error_type, retry_in=policy.max_delay
            )
        except Exception:  # NATS unreachable, or a bug: never drop the message, never wedge
            log.exception(
                "could not store a dead letter; the message will be retried",
                extra={"consumer": msg.metadata.consumer, "delivery": msg.metadata.num_delivered},
            )
            await msg.nak(delay=policy.max_delay)


class SettleMiddleware(BaseMiddleware):
    """Settles the JetStream messages that go through FastStream's path (see the module
    docstring) with a :class:`Settler`. Configure with :func:`settling`."""

    settler: ClassVar[Settler]

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
            await self.settler.handled(msg)
            return False
        if not isinstance(exc_val, Exception):
            return False  # cancellation and exits: let them through; JetStream redelivers
        await self.settler.failed(msg, exc_val)
        return True


def settler(office: DeadLetterOffice, consumers: list[ConsumerSpec]) -> Settler:
    """The settler of one service: its dead-letter office and its consumers' retry policies."""
    return Settler(office, {spec.durable: spec.retry for spec in consumers})


def settling(settler: Settler) -> type[SettleMiddleware]:
    """A settle middleware bound to one service's :class:`Settler`."""
    return type("ServiceSettleMiddleware", (SettleMiddleware,), {"settler": settler})
