"""The span a message is handled in (shared.telemetry.consuming). In a service that exports
no spans it records nothing, but carries the trace on exactly as the SDK's sampler would: the
publisher's trace id and sampled flag, a span id of its own, or a new unsampled trace when
the message carried none; what the handler publishes then names that span."""

from __future__ import annotations

from nats.aio.msg import Msg
from opentelemetry import trace
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from shared.telemetry import TRACEPARENT, consuming, trace_headers, tracer_provider

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_SPAN = "00f067aa0ba902b7"


def message(headers: dict[str, str] | None) -> Msg:
    return Msg(_client=None, subject="ingest.eu.portal.content.question_asked.v1", headers=headers)  # type: ignore[arg-type]


def traceparent(sampled: bool) -> dict[str, str]:
    return {TRACEPARENT: f"00-{TRACE_ID}-{PARENT_SPAN}-{'01' if sampled else '00'}"}


def test_without_export_a_sampled_trace_goes_on_sampled_through_a_span_of_its_own() -> None:
    with consuming(None, message(traceparent(sampled=True)), "content-ingest") as span:
        published = trace_headers(None, "events.eu.content.question_posted.v1")
        seen = trace.get_current_span().get_span_context()
    assert not span.is_recording()
    assert format(seen.trace_id, "032x") == TRACE_ID
    assert format(seen.span_id, "016x") != PARENT_SPAN
    assert seen.trace_flags.sampled
    assert published[TRACEPARENT] == f"00-{TRACE_ID}-{format(seen.span_id, '016x')}-01"


def test_without_export_an_unsampled_trace_stays_unsampled() -> None:
    with consuming(None, message(traceparent(sampled=False)), "content-ingest"):
        published = trace_headers(None, "events.eu.content.question_posted.v1")
    assert published[TRACEPARENT].startswith(f"00-{TRACE_ID}-")
    assert published[TRACEPARENT].endswith("-00")


def test_without_export_a_message_without_a_trace_starts_one_per_message() -> None:
    ids = set()
    for _ in range(2):
        with consuming(None, message(None), "content-ingest") as span:
            context = span.get_span_context()
            assert context.is_valid
            assert not context.trace_flags.sampled
            assert trace_headers(None, "x")[TRACEPARENT].split("-")[1] == format(
                context.trace_id, "032x"
            )
            ids.add(context.trace_id)
    assert len(ids) == 2
    assert not trace.get_current_span().get_span_context().is_valid, "detached afterwards"


def test_with_export_the_span_is_recorded_in_the_publishers_trace() -> None:
    provider = tracer_provider(service="test", region="eu", exporter="none")
    exported = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exported))
    tracer = provider.get_tracer("test")
    with consuming(tracer, message(traceparent(sampled=True)), "content-ingest") as span:
        assert span.is_recording()
    (finished,) = exported.get_finished_spans()
    assert finished.name == "process content-ingest"
    assert format(finished.context.trace_id, "032x") == TRACE_ID
    assert finished.attributes["messaging.consumer.group.name"] == "content-ingest"
