"""OpenTelemetry set-up: one tracer provider per service, W3C trace context across NATS.

Traces propagate through every hop in the ``traceparent`` header: Guild's publisher writes
it (:func:`trace_headers`), and a span per message handled continues it (:func:`consuming`
for events; FastStream's NATS middleware for commands, queries and advisories). Export is
off by default; ``console`` prints spans, ``otlp`` sends them to the collector named by the
standard ``OTEL_EXPORTER_OTLP_*`` variables.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from faststream.nats.opentelemetry import NatsTelemetryMiddleware
from nats.aio.msg import Msg
from opentelemetry import context, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON, ParentBased
from opentelemetry.trace import Span, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator


def _exporter(kind: str) -> SpanExporter | None:
    if kind == "console":
        return ConsoleSpanExporter()
    if kind == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    return None


def tracer_provider(*, service: str, region: str, exporter: str) -> TracerProvider:
    """A provider whose spans name the service and region. Not installed globally, so that
    several services can share a process in tests.

    Without an exporter, spans are not recorded (they cost about a fifth of a hop's time) but
    trace context still flows through every hop, and a trace an upstream caller sampled is
    recorded here too.
    """
    span_exporter = _exporter(exporter)
    provider = TracerProvider(
        sampler=ParentBased(root=ALWAYS_ON if span_exporter else ALWAYS_OFF),
        resource=Resource.create(
            {
                "service.name": f"guild-{service}",
                "service.namespace": "guild",
                "cloud.region": region,
            }
        ),
    )
    if span_exporter:
        provider.add_span_processor(BatchSpanProcessor(span_exporter))
    return provider


def telemetry_middleware(provider: TracerProvider) -> NatsTelemetryMiddleware:
    """FastStream middleware: a span per processed message (Guild publishes through nats-py,
    not FastStream's publish path: :class:`shared.messaging.publisher.JetStreamPublisher`)."""
    return NatsTelemetryMiddleware(tracer_provider=provider)


TRACEPARENT = "traceparent"
_PROPAGATOR = TraceContextTextMapPropagator()
_IDS = RandomIdGenerator()


def _unrecorded_child(parent: context.Context) -> Span:
    """A span that records nothing: a child of ``parent``'s span (its trace, its flags), or
    the root of a new unsampled trace."""
    above = trace.get_current_span(parent).get_span_context()
    if above.is_valid:
        trace_id, flags, state = above.trace_id, above.trace_flags, above.trace_state
    else:
        trace_id, flags, state = (
            _IDS.generate_trace_id(),
            trace.TraceFlags(trace.TraceFlags.DEFAULT),
            None,
        )
    return trace.NonRecordingSpan(
        trace.SpanContext(
            trace_id, _IDS.generate_span_id(), is_remote=False, trace_flags=flags,
            trace_state=state,
        )
    )  # fmt: skip


def trace_headers(tracer: Tracer | None, subject: str) -> dict[str, str]:
    """The W3C trace context for a message published now: the current span's (the message
    being handled, whose span FastStream's middleware started), so that the trace goes on
    through every hop; outside any span (a chore, a command line), a producer span of its own
    (``send <subject>``; recorded as the root sampler says). Only the ``traceparent``: Guild
    sets no ``tracestate`` or baggage."""
    current = trace.get_current_span().get_span_context()
    if not current.is_valid and tracer is not None:
        span = tracer.start_span(f"send {subject}", kind=trace.SpanKind.PRODUCER)
        span.end()
        current = span.get_span_context()
    if not current.is_valid:
        return {}
    # what the W3C propagator writes for it, written directly
    return {TRACEPARENT: f"00-{current.trace_id:032x}-{current.span_id:016x}-"
                         f"{current.trace_flags:02x}"}  # fmt: skip


@contextmanager
def consuming(tracer: Tracer | None, msg: Msg, consumer: str) -> Iterator[Span]:
    """The span of one message handled by ``consumer``, current while it is handled: a child
    of the span that published it (its ``traceparent``), so a trace runs through every hop.
    Named by the consumer (bounded), with the messaging attributes when it is recorded (the
    exporter's sampler decides; unrecorded, it only carries the trace on).

    ``tracer`` None: the service exports no spans, so none is recorded; the message gets the
    span the SDK would give it then, made directly (a fifth of a no-op handler's time was the
    SDK's sampling and context managers): a non-recording child of the publisher's span, its
    trace id and sampled flag carried on to what the handler publishes, or a new trace when
    the message carried none, so that every log line of one event's hops shares a trace id."""
    parent = _PROPAGATOR.extract(msg.headers or {})
    if tracer is None:
        token = context.attach(trace.set_span_in_context(_unrecorded_child(parent), parent))
        try:
            yield trace.get_current_span()
        finally:
            context.detach(token)
        return
    with tracer.start_as_current_span(
        f"process {consumer}", context=parent, kind=trace.SpanKind.CONSUMER
    ) as span:
        if span.is_recording():
            span.set_attributes({
                "messaging.system": "nats",
                "messaging.operation.type": "process",
                "messaging.destination.name": msg.subject,
                "messaging.consumer.group.name": consumer,
            })  # fmt: skip
        yield span
