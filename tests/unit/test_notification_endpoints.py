"""A member's endpoint is on or off in one place: an endpoint Guild turned off (410 Gone,
repeated failures) is not enabled, and turning it on again clears why it was off."""

import json
from dataclasses import replace

from services.notifications.domain.endpoints import (
    Endpoint,
    EndpointKind,
    MemberEndpoints,
    logged_reason,
)
from services.notifications.store.buckets import EndpointsStore


def hook() -> Endpoint:
    return Endpoint("e1", EndpointKind.WEBHOOK, "https://hooks.example.com/x")


def test_an_endpoint_guild_turned_off_is_disabled_with_its_reason() -> None:
    off = hook().turned_off("HTTP 410: the endpoint no longer exists")
    assert not off.enabled
    assert off.disabled_reason == "HTTP 410: the endpoint no longer exists"


def test_the_member_turning_it_on_again_clears_guilds_stop() -> None:
    failing = replace(hook(), permanent_failures=2)
    on = failing.turned_off("failing").switched(on=True)
    assert (on.enabled, on.disabled_reason, on.permanent_failures) == (True, None, 0)


def test_the_member_turning_it_off_gives_no_reason_and_keeps_guilds() -> None:
    mine = hook().switched(on=False)
    assert (mine.enabled, mine.disabled_reason) == (False, None)
    theirs = hook().turned_off("HTTP 410").switched(on=False)
    assert (theirs.enabled, theirs.disabled_reason) == (False, "HTTP 410")


def test_endpoints_stored_before_the_one_switch_field_keep_their_state() -> None:
    stored = {
        "member_id": "ana",
        "endpoints": [
            {"endpoint_id": "on", "kind": "webhook", "address": "https://a.example/x"},
            {"endpoint_id": "mine", "kind": "email", "address": "a@example.com",
             "enabled": False, "disabled_reason": None},
            {"endpoint_id": "gone", "kind": "slack", "address": "https://hooks.example/y",
             "enabled": False, "disabled_reason": "HTTP 410: the endpoint no longer exists"},
        ],
    }  # fmt: skip
    store = EndpointsStore("notifications_endpoints_t", MemberEndpoints)
    read = store.decode(json.dumps(stored).encode())
    state = {e.endpoint_id: (e.enabled, e.disabled_reason) for e in read.endpoints}
    assert state == {
        "on": (True, None),
        "mine": (False, None),
        "gone": (False, "HTTP 410: the endpoint no longer exists"),
    }
    assert store.decode(store.encode(read)) == read


def test_logs_get_the_receivers_answer_without_the_text_that_quotes_the_address() -> None:
    said = "still failing after 3 attempts: SMTP 550: 5.1.1 <ana@example.com>: no such user"
    assert logged_reason(said) == "SMTP 550"
    assert logged_reason("HTTP 503: busy, ask ana@example.com") == "HTTP 503"
    assert "@" not in logged_reason("connection refused: ana@example.com")
