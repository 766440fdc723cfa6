"""Only validation of the input is the publisher's fault: a handler that builds an invalid
outgoing event has a bug of Guild's own, which is retried, logged as an error with the event
id, and dead-lettered after the last delivery with a reason that says so."""

from __future__ import annotations

import logging

from shared.contracts.ingest import QuestionAskedV1
from shared.envelope import Envelope
from shared.settings import GuildSettings
from tests.helpers import (
    cloudevent,
    content_ingest_app,
    dead_letters,
    eventually,
    publish_event,
    running,
    settings_for,
)
from tests.slice import QUESTION


async def when_question_asked_build_nonsense(event: Envelope[QuestionAskedV1], deps: None) -> None:
    QuestionAskedV1.model_validate({**event.data.model_dump(), "question_ref": ""})


async def test_an_invalid_outgoing_event_is_guilds_bug_retried_then_dead_lettered(
    nats_url, nc, region, caplog
):
    settings = settings_for(GuildSettings, region, nats_url, retry_max_deliver=3)
    event = cloudevent(QuestionAskedV1.TYPE, QUESTION, event_id="valid-input")
    with caplog.at_level(logging.WARNING, logger="guild.consume"):
        app = content_ingest_app(
            settings, "builder", {QuestionAskedV1: when_question_asked_build_nonsense}
        )
        async with running(app):
            await publish_event(nc, f"ingest.{region}.portal.content.question_asked.v1", event)
            (letter,) = await eventually(lambda: dead_letters(nc, region), what="dead letter")
    assert letter.deliveries == 3  # retried, not poison
    assert letter.reason.startswith("failed on all 3 deliveries; last error: Guild's bug")
    assert "not the publisher's" in letter.reason
    assert "schema violation" not in letter.reason
    assert "question_ref" in letter.reason
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert errors
    assert all(getattr(r, "event_id", None) == "valid-input" for r in errors)
