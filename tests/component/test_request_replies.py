"""Commands and queries answer every request: a result, or an error that says which field and why.

Component tests on FastStream's in-memory broker: routing and validation only (no JetStream).
"""

from __future__ import annotations

import json

from faststream.nats import NatsBroker, TestNatsBroker
from pydantic import Field

from shared.contracts.base import Request
from shared.messaging.rpc import RETRYABLE, Rejected, answer
from shared.storage import StaleRevision


class Greet(Request):
    name: str = Field(min_length=1)
    times: int = Field(default=1, ge=1, le=3)


class NoSuchPerson(Exception):
    pass


async def greet(request: Greet, deps: dict) -> Greet:
    if request.name == "nobody":
        raise NoSuchPerson("person 'nobody' does not exist")
    if request.name == "boss":
        raise Rejected("conflict", "the boss is busy")
    if request.name == "bug":
        raise RuntimeError("unexpected")
    if request.name == "race":
        raise StaleRevision("people/race changed since revision 3")
    return request


def broker_with_greet() -> NatsBroker:
    broker = NatsBroker()
    answer(
        broker,
        "cmd.eu.test.greet",
        Greet,
        greet,
        {},
        queue="test",
        error_codes={NoSuchPerson: "not_found"},
    )
    return broker


async def ask(broker: NatsBroker, body: bytes) -> dict:
    reply = await broker.request(body, "cmd.eu.test.greet", timeout=3)
    return json.loads(reply.body)


async def test_a_valid_request_gets_its_result():
    async with TestNatsBroker(broker_with_greet()) as broker:
        assert await ask(broker, b'{"name": "Ada", "times": 2}') == {
            "ok": True,
            "result": {"request_id": None, "name": "Ada", "times": 2},
        }


async def test_a_request_that_is_not_json_is_told_so():
    async with TestNatsBroker(broker_with_greet()) as broker:
        reply = await ask(broker, b"{nope")
    assert reply["ok"] is False
    assert reply["error"]["code"] == "invalid_json"


async def test_each_invalid_field_is_named_with_the_problem():
    async with TestNatsBroker(broker_with_greet()) as broker:
        reply = await ask(broker, b'{"name": "", "times": 9, "extra": 1}')
    assert reply["error"]["code"] == "invalid_request"
    problems = {d["field"]: d["problem"] for d in reply["error"]["details"]}
    assert set(problems) == {"name", "times", "extra"}
    assert "at least 1 character" in problems["name"]
    assert "less than or equal to 3" in problems["times"]
    assert "not permitted" in problems["extra"]


async def test_domain_errors_and_rejections_become_coded_errors():
    async with TestNatsBroker(broker_with_greet()) as broker:
        missing = await ask(broker, b'{"name": "nobody"}')
        busy = await ask(broker, b'{"name": "boss"}')
    assert missing["error"] == {
        "code": "not_found",
        "message": "person 'nobody' does not exist",
        "details": [],
    }
    assert busy["error"]["code"] == "conflict"


async def test_an_unexpected_failure_is_logged_and_answered_with_a_reference(caplog):
    async with TestNatsBroker(broker_with_greet()) as broker:
        reply = await ask(broker, b'{"name": "bug"}')
    assert reply["error"]["code"] == "internal"
    reference = reply["error"]["message"].rsplit(" ", 1)[-1]
    assert any(getattr(r, "reference", None) == reference for r in caplog.records)


async def test_a_lost_race_for_the_same_record_says_it_may_be_retried():
    async with TestNatsBroker(broker_with_greet()) as broker:
        reply = await ask(broker, b'{"name": "race"}')
    assert reply["error"]["code"] == RETRYABLE == "concurrent_update"
    assert "changed since revision 3" in reply["error"]["message"]
