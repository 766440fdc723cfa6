"""A command's claim on its request_id is a lease that its handler renews while it runs: a
retry of a command whose handler died is run again within seconds, a retry of one still
running is told ``in_progress``, and the reply, once there, answers every later copy."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from nats.aio.client import Client

from shared.contracts.base import Request
from shared.messaging.rpc import Reply, RequestLedger, StoredReply
from shared.storage import KvStore
from tests.helpers import eventually


class Rename(Request):
    name: str


LEASE = timedelta(seconds=1)
LIVE_LEASE = timedelta(seconds=6)
"""For the live original: long enough that a busy machine never lets it lapse by accident."""


@pytest.fixture
async def store(nc: Client, region: str) -> AsyncIterator[KvStore[StoredReply]]:
    js = nc.jetstream()
    bucket = f"requests_{region}"
    await js.create_key_value(bucket=bucket, history=1)
    store: KvStore[StoredReply] = KvStore(bucket, StoredReply)
    await store.bind(js)
    yield store
    await js.delete_key_value(bucket)


async def claims(store: KvStore[StoredReply]) -> list[int]:
    return [held.revision async for _, held in store.items()]


def ran(runs: list[str], name: str) -> Reply:
    runs.append(name)
    return {"ok": True, "result": {"name": name}}


async def test_a_retry_after_the_original_handler_died_is_answered_within_seconds(store):
    runs: list[str] = []
    request = Rename(name="ada", request_id="r-1")

    async def hangs() -> Reply:
        await asyncio.Event().wait()
        return ran(runs, "never")

    original = asyncio.create_task(RequestLedger(store, lease=LEASE).run(request, hangs))
    await eventually(lambda: claims(store), what="the original's claim")
    original.cancel()  # its process dies: nothing answered, the claim is left behind
    with pytest.raises(asyncio.CancelledError):
        await original

    retrying = RequestLedger(store, lease=LEASE)

    async def retry() -> Reply | None:
        async def runs_again() -> Reply:
            return ran(runs, "retry")

        reply = await retrying.run(request, runs_again)
        return reply if reply["ok"] else None

    # The deadline is far below the two minutes a dead claim used to hold its request_id.
    assert await eventually(retry, deadline=10, what="the retry taking over") == {
        "ok": True,
        "result": {"name": "retry"},
    }
    assert runs == ["retry"]


async def test_a_retry_while_the_original_still_runs_is_told_in_progress(store):
    runs: list[str] = []
    request = Rename(name="ada", request_id="r-2")
    release = asyncio.Event()

    async def slow() -> Reply:
        await release.wait()
        return ran(runs, "original")

    original = asyncio.create_task(RequestLedger(store, lease=LIVE_LEASE).run(request, slow))
    first = await eventually(lambda: claims(store), what="the original's claim")

    async def renewed_twice() -> bool:
        revisions = await claims(store)
        return bool(revisions) and revisions[0] >= first[0] + 2

    # Held past its first lease, renewed by the running handler all along.
    await eventually(renewed_twice, what="the lease renewed", deadline=30)

    async def runs_twice() -> Reply:
        return ran(runs, "retry")

    retrying = RequestLedger(store, lease=LIVE_LEASE)
    told = await retrying.run(request, runs_twice)
    assert told["error"]["code"] == "in_progress"
    release.set()
    assert await original == {"ok": True, "result": {"name": "original"}}
    assert await retrying.run(request, runs_twice) == {"ok": True, "result": {"name": "original"}}
    assert runs == ["original"]
