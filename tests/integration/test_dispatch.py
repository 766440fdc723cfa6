"""Guild's path for each event (shared.messaging.dispatch) on a real nats-server: the reaction
runs in a span that continues the publisher's trace, what it publishes carries that trace on,
and a message is settled by it (acked once), not by FastStream's per-message path."""

from __future__ import annotations

import json
from typing import Any

from opentelemetry import trace

from shared.contracts.ingest import QuestionAskedV1
from shared.envelope import Envelope
from shared.messaging.window import WindowedPullSubscriber
from shared.naming import Streams
from shared.settings import GuildSettings
from tests.helpers import (
    cloudevent,
    content_ingest_app,
    eventually,
    publish_raw,
    running,
    settings_for,
)
from tests.slice import QUESTION

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


async def test_a_reaction_runs_in_the_publishers_trace(nc, nats_url, region) -> None:
    seen: list[tuple[str, Any]] = []

    async def when_question_asked_note_the_trace(
        event: Envelope[QuestionAskedV1], deps: None
    ) -> None:
        context = trace.get_current_span().get_span_context()
        seen.append((format(context.trace_id, "032x"), event.data.title))

    settings = settings_for(GuildSettings, region, nats_url)
    app = content_ingest_app(
        settings, "traced", {QuestionAskedV1: when_question_asked_note_the_trace}
    )
    event = cloudevent(QuestionAskedV1.TYPE, QUESTION)
    async with running(app):
        await publish_raw(
            nc,
            f"ingest.{region}.portal.content.question_asked.v1",
            json.dumps(event).encode(),
            headers={"Nats-Msg-Id": event["id"], "traceparent": TRACEPARENT},
        )

        async def settled() -> bool:
            info = await nc.jetstream().consumer_info(
                Streams(region).ingest_of("portal"), "content-traced"
            )
            return info.num_ack_pending == 0 and info.num_pending == 0 and bool(seen)

        await eventually(settled, what="the question handled and acked")
    assert seen == [(TRACE_ID, QUESTION["title"])]
    info = await nc.jetstream().consumer_info(Streams(region).ingest_of("portal"), "content-traced")
    assert info.num_redelivered == 0


def test_every_event_subscriber_takes_guilds_path(nats_url) -> None:
    settings = settings_for(GuildSettings, "dispatch", nats_url)
    app = content_ingest_app(settings, "path", {QuestionAskedV1: lambda event, deps: None})
    windowed = [s for s in app.broker.subscribers if isinstance(s, WindowedPullSubscriber)]
    events = [s for s in windowed if s.config.durable_name == "content-path"]
    assert len(events) == 1
    assert events[0].guild_dispatch is not None
