"""A routing decision and a delivery's state are one of a known few, kept as the same
strings in the ledger as before: a misspelt or unknown state cannot be made or read."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import TypeAdapter, ValidationError

from services.notifications.domain.model import Delivery, Status
from services.notifications.domain.preferences import (
    NOW,
    Action,
    Preferences,
    Priority,
    Verdict,
    Watch,
    decide,
)

LEDGER = TypeAdapter(Delivery)
AT = "2026-11-25T11:00:00+00:00"


def test_a_verdict_is_one_of_five_actions_and_a_misspelt_one_cannot_be_made():
    assert [a.value for a in Action] == ["now", "defer", "overflow", "digest", "suppress"]
    assert NOW.action is Action.NOW
    muted = Preferences(watch=(("c1", Watch.MUTED),))
    decided = decide(muted, now=datetime(2026, 11, 25, 11, tzinfo=UTC), priority=Priority.NORMAL,
                     community_id="c1", for_me=True, reasons=frozenset(),
                     interruptions_today=0)  # fmt: skip
    assert decided.action is Action.SUPPRESS
    with pytest.raises(TypeError, match="action"):
        Verdict("supress")  # type: ignore[arg-type]


def test_a_delivery_status_is_a_known_state_stored_as_the_same_string():
    assert {s.value for s in Status} == {"queued", "claimed", "retrying", "delivered",
                                         "accepted", "failed"}  # fmt: skip
    stored = LEDGER.dump_json(Delivery(Status.DELIVERED, AT))
    assert b'"status":"delivered"' in stored
    read = LEDGER.validate_json(b'{"status":"retrying","at":"%s","attempts":2}' % AT.encode())
    assert read.status is Status.RETRYING
    with pytest.raises(TypeError, match="status"):
        Delivery("deliverd", AT)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        LEDGER.validate_json(b'{"status":"deliverd","at":"%s"}' % AT.encode())


def test_a_routing_decision_in_the_ledger_reads_back_as_its_action():
    decided = Delivery(Action.DEFER, AT, why="quiet hours", until=AT)
    stored = LEDGER.dump_json(decided)
    assert b'"status":"defer"' in stored
    assert LEDGER.validate_json(stored).status is Action.DEFER
    assert LEDGER.validate_json(stored).decision is Action.DEFER
    assert Delivery(Status.CLAIMED, AT).decision is None
