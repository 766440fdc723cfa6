"""Running an event subscriber's reactions: Guild's path for each message, not FastStream's.

FastStream's per-message path (``SubscriberUsecase.process_message``) builds its middleware
stack anew for every message, enters a dozen context managers, resolves the handler's
arguments with fast_depends and opens two OpenTelemetry spans: with a handler that does
nothing, 60% of a message's time. Every Guild event subscriber reacts the same way, so
:class:`Reactions` does the same work directly, for each message the pull loop
(:mod:`shared.messaging.window`) hands it:

1. a span for the message (:func:`shared.telemetry.consuming`), continuing the trace of the
   ``traceparent`` it carries;
2. the CloudEvent read (:func:`shared.envelope.read_cloudevent`: structured or binary mode);
3. the reaction for its type (as ``react`` registered it), its envelope validated as
   ``Envelope[contract]`` with one ``TypeAdapter`` per contract;
4. the message settled by the service's :class:`~shared.messaging.consumer.Settler`: acked
   once the reaction returned; a failure retried later or dead-lettered, with the reasons
   FastStream's path gave (not a CloudEvent, a schema violation, an unknown event type,
   :class:`~shared.messaging.consumer.PoisonMessage`, Guild's own invalid output), and an
   ingest event whose source or type is not that of the system whose subject it came on
   (:func:`check_speaker`).

The reactions stay registered with FastStream as well (``react``): the AsyncAPI documents
come from them, and FastStream's in-memory test broker still runs them. A message is handled
inside the subscriber's own lock, so that FastStream's stop waits for it
(``graceful_timeout``) as it waits for its own handlers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from faststream.exceptions import SubscriberNotFound
from nats.aio.msg import Msg
from opentelemetry.trace import StatusCode, Tracer
from pydantic import TypeAdapter

from shared.contracts.base import Contract
from shared.envelope import Envelope, read_cloudevent
from shared.messaging.consumer import PoisonMessage, Settler
from shared.naming import (
    INGEST_TYPE_PREFIX,
    ingest_subject,
    publisher_of,
    publisher_source,
    source_belongs_to,
)
from shared.telemetry import consuming


def check_speaker(subject: str, attributes: dict[str, Any]) -> None:
    """An ingest event speaks for the system whose subject it came on (only that system's
    identity may publish there): its ``source`` must be that system's and its type the one its
    subject names. A message that claims otherwise is poison."""
    publisher = publisher_of(subject)
    if publisher is None:
        return
    source, event_type = str(attributes.get("source")), str(attributes.get("type"))
    if not source_belongs_to(source, publisher):
        raise PoisonMessage(
            f"source {source[:200]!r} does not belong to {publisher}, which published it on "
            f"{subject}: {publisher}'s events have source {publisher_source(publisher)!r} or a "
            "path below it"
        )
    if not event_type.startswith(INGEST_TYPE_PREFIX) or (
        ingest_subject(subject.split(".")[1], publisher, event_type) != subject
    ):
        raise PoisonMessage(f"event type {event_type[:200]!r} does not belong on {subject}")


@dataclass(frozen=True)
class Reaction:
    """What one event type sets off: its envelope's validator and the reaction as
    :func:`~shared.messaging.subscriptions.react` registered it (its dependencies bound, a
    ``ValidationError`` of its own output raised as Guild's bug)."""

    envelope: TypeAdapter[Any]
    run: Callable[[Any], Awaitable[None]]


class Reactions:
    """One subscriber's reactions by event type, run for each message (see the module doc)."""

    def __init__(self, consumer: str, settler: Settler, tracer: Tracer | None) -> None:
        self.consumer = consumer
        self.settler = settler
        self.tracer = tracer
        self.by_type: dict[str, Reaction] = {}

    def add(self, contract: type[Contract], run: Callable[[Any], Awaitable[None]]) -> None:
        self.by_type[contract.TYPE] = Reaction(
            TypeAdapter(Envelope[contract]),  # type: ignore[name-defined]
            run,
        )

    async def handle(self, msg: Msg) -> None:
        """React to ``msg`` and settle it. A cancellation (a stop, a time limit) leaves it
        unsettled: JetStream delivers it again."""
        with consuming(self.tracer, msg, self.consumer) as span:
            try:
                await self.react(msg)
            except Exception as error:
                if span.is_recording():
                    span.record_exception(error)
                    span.set_status(StatusCode.ERROR, type(error).__name__)
                await self.settler.failed(msg, error)
                return
        await self.settler.handled(msg)

    async def react(self, msg: Msg) -> None:
        """Run the reaction to ``msg``'s type (raises what :meth:`handle` settles by)."""
        attributes = read_cloudevent(msg.data, msg.headers)
        check_speaker(msg.subject, attributes)
        reaction = self.by_type.get(str(attributes.get("type")))
        if reaction is None:
            raise SubscriberNotFound(f"no reaction of {self.consumer} to this event type")
        await reaction.run(reaction.envelope.validate_python(attributes))
