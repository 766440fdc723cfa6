"""A store's writes, on a real nats-server: each is one ``publish_async`` with the expected
revision as a header (not nats-py's request-reply ``KeyValue``), with the same meaning: a
create takes a key that has no value (never written, deleted or erased) and no other; an
update only a key still at the revision it read; many writes in flight at once each get
their own revision."""

from __future__ import annotations

import asyncio

import pytest
from nats.js.errors import InvalidKeyError

from shared.messaging.provisioning import BucketSpec, Topology, apply, region_streams
from shared.storage import KvStore, StaleRevision


@pytest.fixture
async def store(nc, region: str) -> KvStore[str]:
    js = nc.jetstream()
    spec = BucketSpec(f"test_writes_{region}", "test", history=5)
    await apply(js, Topology(streams=region_streams(region), buckets=[spec]))
    made: KvStore[str] = KvStore(spec.name, str)
    await made.bind(js)
    return made


async def test_a_create_takes_a_key_only_while_it_has_no_value(store: KvStore[str]) -> None:
    first = await store.create("k", "one")
    assert first is not None
    assert await store.create("k", "two") is None
    assert (await store.get("k")).value == "one"  # type: ignore[union-attr]


async def test_a_create_writes_over_a_deleted_or_erased_key(store: KvStore[str]) -> None:
    await store.put("deleted", "old")
    await store.delete("deleted")
    await store.put("erased", "old")
    await store.erase("erased")
    assert await store.create("deleted", "new") is not None
    assert await store.create("erased", "new") is not None
    assert (await store.get("deleted")).value == "new"  # type: ignore[union-attr]
    assert (await store.get("erased")).value == "new"  # type: ignore[union-attr]


async def test_an_update_needs_the_revision_it_read(store: KvStore[str]) -> None:
    revision = await store.put("k", "one")
    newer = await store.update("k", "two", revision=revision)
    assert newer > revision
    with pytest.raises(StaleRevision):
        await store.update("k", "three", revision=revision)
    stored = await store.get("k")
    assert stored is not None
    assert (stored.value, stored.revision) == ("two", newer)


async def test_writes_in_flight_together_each_get_their_revision(store: KvStore[str]) -> None:
    revisions = await asyncio.gather(*(store.create(f"k{n}", str(n)) for n in range(300)))
    assert None not in revisions
    assert len(set(revisions)) == 300
    one_wins = await asyncio.gather(*(store.create("same", str(n)) for n in range(20)))
    assert len([r for r in one_wins if r is not None]) == 1


async def test_a_key_nats_cannot_store_is_refused_before_it_is_sent(store: KvStore[str]) -> None:
    for key in ("a b", "a.*", ".a", "a.", ""):
        with pytest.raises(InvalidKeyError):
            await store.put(key, "x")
