"""The request ledger always answers once the handler ran (its effect happened), and its
final write never overwrites the claim of a retry that took over meanwhile."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from shared.contracts.base import Request
from shared.messaging.rpc import Reply, RequestLedger, StoredReply
from tests.fakes import FakeKvStore


class Rename(Request):
    name: str


DONE: Reply = {"ok": True, "result": {"name": "ada"}}


class BrokenAfterClaim(FakeKvStore[StoredReply]):
    """A ledger store that takes the claim, then fails every write (NATS went away)."""

    async def put(self, key: str, value: StoredReply) -> int:
        raise ConnectionError("nats unreachable")

    async def update(self, key: str, value: StoredReply, *, revision: int) -> int:
        raise ConnectionError("nats unreachable")

    async def delete(self, key: str) -> int:
        raise ConnectionError("nats unreachable")


@pytest.mark.parametrize("reply", [DONE, {"ok": False, "error": {"code": "internal"}}])
async def test_the_caller_gets_the_reply_when_the_ledger_cannot_store_it(reply, caplog):
    ledger = RequestLedger(BrokenAfterClaim(StoredReply))

    async def execute() -> Reply:
        return reply

    with caplog.at_level(logging.ERROR, logger="guild.rpc"):
        assert await ledger.run(Rename(name="ada", request_id="r-1"), execute) == reply
    assert "request reply not recorded" in caplog.text


async def test_the_final_reply_does_not_overwrite_the_claim_of_a_retry_that_took_over():
    store: FakeKvStore[StoredReply] = FakeKvStore(StoredReply)
    ledger = RequestLedger(store)
    request = Rename(name="ada", request_id="r-2")
    retry_claim: list[StoredReply] = []

    async def taken_over_while_running() -> Reply:
        ((key, held),) = [item async for item in store.items()]
        now = datetime.now(UTC)
        claim = held.value.model_copy(update={"started_at": now, "renewed_at": now})
        await store.update(key, claim, revision=held.revision)  # the retry's claim
        retry_claim.append(claim)
        return DONE

    assert await ledger.run(request, taken_over_while_running) == DONE
    ((_, held),) = [item async for item in store.items()]
    assert held.value == retry_claim[0]  # the retry's claim stands; its own reply will follow
