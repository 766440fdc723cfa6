"""Guild's JetStream publish (:mod:`shared.pubacks`) on a real nats-server: every answer a
stream can give reaches the publisher as nats-py's request path would raise it, at once (not
after a timeout, as nats-py 2.16's ``publish_async`` does with a refusal), and thousands of
publishes share one reply subscription. And :class:`JetStreamPublisher` on it: once per
message id, a lost PubAck sent again with the same id, the trace context in every message."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.errors import APIError, BadRequestError, NoStreamResponseError

import shared.pubacks
from shared.messaging.provisioning import Topology, apply, region_streams
from shared.messaging.publisher import JetStreamPublisher
from shared.naming import Streams, inbox_subject
from shared.pubacks import PubAcks, future_answer, pubacks
from shared.telemetry import tracer_provider

LONG = 30.0
"""A timeout no answer here comes near: an error that waited it out is the wrong error."""


@pytest.fixture
async def subject(nc, region: str) -> str:
    await apply(nc.jetstream(), Topology(streams=region_streams(region)))
    return f"ingest.{region}.hr-directory.hr.person_hired.v1"


async def test_a_stored_message_gets_its_puback(nc, region: str, subject: str) -> None:
    ack = await pubacks(nc).publish(subject, b"{}", headers={"Nats-Msg-Id": "a"}, timeout=LONG)
    assert ack.stream == Streams(region).ingest_of("hr-directory")
    again = await pubacks(nc).publish(subject, b"{}", headers={"Nats-Msg-Id": "a"}, timeout=LONG)
    assert again.duplicate
    assert again.seq == ack.seq


async def test_a_refusal_is_raised_with_the_streams_reason(nc, subject: str) -> None:
    with pytest.raises(BadRequestError) as refused:
        await pubacks(nc).publish(
            subject, b"{}", headers={"Nats-Expected-Stream": "NOT_THIS_ONE"}, timeout=LONG
        )
    assert refused.value.err_code == 10060  # expected stream does not match


async def test_a_lost_compare_and_set_is_raised_with_its_code(nc, subject: str) -> None:
    await pubacks(nc).publish(subject, b"1", timeout=LONG)
    with pytest.raises(BadRequestError) as refused:
        await pubacks(nc).publish(
            subject, b"2", headers={"Nats-Expected-Last-Subject-Sequence": "0"}, timeout=LONG
        )
    assert refused.value.err_code == 10071


async def test_a_subject_no_stream_stores_says_so(nc, region: str) -> None:
    with pytest.raises(NoStreamResponseError):
        await pubacks(nc).publish(f"nowhere.{region}", b"{}", timeout=LONG)


async def test_no_answer_is_a_timeout_and_forgets_the_publish(nc, region: str) -> None:
    silent = await nc.subscribe(f"silent.{region}")  # listens, never answers
    acks = PubAcks(nc)
    with pytest.raises(NatsTimeoutError):
        await acks.publish(f"silent.{region}", b"{}", timeout=0.2)
    assert acks.in_flight() == 0
    await silent.unsubscribe()


async def test_many_in_flight_share_one_connection(nc, subject: str) -> None:
    acks = await asyncio.gather(
        *(pubacks(nc).publish(subject, str(n).encode(), timeout=LONG) for n in range(2000))
    )
    assert len({ack.seq for ack in acks}) == 2000
    assert pubacks(nc).in_flight() == 0
    assert pubacks(nc) is pubacks(nc)


def publisher_on(nc, **settings: float) -> JetStreamPublisher:
    return JetStreamPublisher(SimpleNamespace(connection=nc), **settings)  # type: ignore[arg-type]


async def test_a_message_published_twice_with_one_id_is_kept_once(nc, region: str) -> None:
    await apply(nc.jetstream(), Topology(streams=region_streams(region)))
    publisher, stream = publisher_on(nc), Streams(region).inbox
    subject = inbox_subject(region, "ana")
    first = await publisher.publish(b"{}", subject, stream=stream, msg_id="item-1")
    again = await publisher.publish(b"{}", subject, stream=stream, msg_id="item-1")
    assert not first.duplicate
    assert again.duplicate
    assert again.seq == first.seq


async def test_a_lost_puback_is_sent_again_with_the_same_id_and_stored_once(
    nc, region: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await apply(nc.jetstream(), Topology(streams=region_streams(region)))
    publisher, stream = publisher_on(nc, ack_timeout=0.2), Streams(region).inbox
    subject = inbox_subject(region, "ana")
    answers: list[object] = []

    def losing_the_first(future, msg) -> None:
        answers.append(msg)
        if len(answers) > 1:
            future_answer(future, msg)

    monkeypatch.setattr(shared.pubacks, "future_answer", losing_the_first)
    ack = await publisher.publish(b"{}", subject, stream=stream, msg_id="item-2")
    assert len(answers) == 2
    assert ack.duplicate, "the first was stored; its PubAck was lost"
    info = await nc.jetstream().stream_info(stream, subjects_filter=subject)
    assert sum((info.state.subjects or {}).values()) == 1


async def test_the_trace_goes_on_in_what_a_handler_publishes(nc, region: str) -> None:
    await apply(nc.jetstream(), Topology(streams=region_streams(region)))
    stream, subject = Streams(region).inbox, inbox_subject(region, "ana")
    provider = tracer_provider(service="test", region=region, exporter="none")
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("handling") as span:
        await publisher_on(nc).publish(b"{}", subject, stream=stream, msg_id="item-3")
    unprompted = publisher_on(nc, tracer=tracer)
    await unprompted.publish(b"{}", subject, stream=stream, msg_id="item-4")
    js = nc.jetstream()
    inside = await js.get_msg(stream, seq=1)
    outside = await js.get_msg(stream, seq=2)
    trace_id = format(span.get_span_context().trace_id, "032x")
    assert (inside.headers or {})["traceparent"].split("-")[1] == trace_id
    assert (outside.headers or {})["traceparent"].split("-")[1] != trace_id


async def test_an_answer_that_is_no_puback_fails_the_publish_at_once(nc, region: str) -> None:
    async def answer_garbage(msg) -> None:
        await msg.respond(b"[1, 2]" if msg.subject.endswith("list") else b'{"seq": "x"}')

    odd = await nc.subscribe(f"odd.{region}.*", cb=answer_garbage)
    for subject in (f"odd.{region}.list", f"odd.{region}.object"):
        with pytest.raises(APIError):
            await pubacks(nc).publish(subject, b"{}", timeout=LONG)
    assert pubacks(nc).in_flight() == 0
    await odd.unsubscribe()
