"""The two ways a key goes, on a real nats-server: ``delete`` leaves a delete marker and the
history the bucket keeps; ``erase`` securely deletes every revision and leaves a purge marker.
Followers see both: the read model drops the key, and after an erasure no snapshot, old or
new, holds it (not even in the bytes on disk), whether the follower was running or not."""

from __future__ import annotations

from pathlib import Path

from shared.messaging.provisioning import BucketSpec, Topology, apply, region_streams
from shared.naming import Service, Streams
from shared.readmodel import BucketFollower, Table
from shared.storage import KvStore
from tests import access
from tests.helpers import eventually, stream_messages

SECRET = "Zdenka Quibbleworth"


async def bucket_with(js, region: str, **values: str) -> KvStore[str]:
    name = f"test_people_{region}"
    spec = BucketSpec(name, "test", history=3)
    await apply(js, Topology(streams=region_streams(region), buckets=[spec]))
    store: KvStore[str] = KvStore(name, str)
    await store.bind(js)
    for key, value in values.items():
        await store.put(key, value)
    return store


async def follower(js, store: KvStore[str], region: str) -> BucketFollower:
    made = BucketFollower(
        store.bucket, Table(str, "people-1"), region=region, service=Service.CONTENT, name="people"
    )
    await made.start(js)
    return made


async def snapshots_hold(nc, region: str, text: str) -> bool:
    messages = await stream_messages(nc, Streams(region).snapshots)
    return any(text.encode() in body for _, _, body in messages)


def raw_hits(store_dir: Path, text: str) -> list[str]:
    return [
        str(path.relative_to(store_dir))
        for path in store_dir.rglob("*")
        if path.is_file() and text.encode() in path.read_bytes()
    ]


async def test_a_deleted_key_leaves_the_read_model_and_keeps_its_history(nc, region):
    js = nc.jetstream()
    store = await bucket_with(js, region, ana="Ana Lima", sam="Sam Lee")
    following = await follower(js, store, region)
    try:
        await store.delete("ana")
        await eventually(lambda: _gone(following, "ana"), what="the read model to drop ana")
        assert await store.get("ana") is None
        assert [entry.value for entry in await store.kv.history("ana")] == [b'"Ana Lima"', b""]
        assert following.projection.items == {"sam": "Sam Lee"}
    finally:
        await following.stop()


async def test_an_erased_key_leaves_the_read_model_and_every_snapshot(nats_server, region):
    nc = await access.connect(nats_server.url, own_server=True)
    js = nc.jetstream()
    store = await bucket_with(js, region, zq=SECRET, sam="Sam Lee")
    await (await follower(js, store, region)).stop()  # a snapshot holding zq
    following = await follower(js, store, region)
    assert following.restored_from_snapshot
    assert await snapshots_hold(nc, region, SECRET), "the test must first find what it erases"

    await store.erase("zq")

    await eventually(lambda: _gone(following, "zq"), what="the read model to drop zq")
    await eventually(lambda: _not(snapshots_hold(nc, region, SECRET)), what="a clean snapshot")
    assert [entry.operation for entry in await store.kv.history("zq")] == ["PURGE"]
    again = await follower(js, store, region)
    assert again.restored_from_snapshot
    assert again.projection.items == {"sam": "Sam Lee"}
    await again.stop()
    await following.stop()
    await nc.drain()
    nats_server.stop()
    assert raw_hits(nats_server.store_dir, SECRET) == []


async def test_a_snapshot_older_than_an_erasure_does_not_bring_the_key_back(nats_server, region):
    nc = await access.connect(nats_server.url, own_server=True)
    js = nc.jetstream()
    store = await bucket_with(js, region, zq=SECRET, sam="Sam Lee")
    await (await follower(js, store, region)).stop()  # a snapshot holding zq; nobody follows

    await store.erase("zq")

    restarted = await follower(js, store, region)
    assert restarted.restored_from_snapshot
    assert restarted.projection.items == {"sam": "Sam Lee"}
    await eventually(lambda: _not(snapshots_hold(nc, region, SECRET)), what="a clean snapshot")
    await restarted.stop()
    await nc.drain()
    nats_server.stop()
    assert raw_hits(nats_server.store_dir, SECRET) == []


async def _gone(following: BucketFollower, key: str) -> bool:
    return key not in following.projection.items  # type: ignore[attr-defined]


async def _not(probe) -> bool:
    return not await probe


async def test_a_rewrite_leaves_no_old_bytes_in_a_bucket_that_keeps_one_revision(
    nats_server, region
):
    nc = await access.connect(nats_server.url, own_server=True)
    js = nc.jetstream()
    name = f"test_posts_{region}"
    await apply(js, Topology(streams=region_streams(region), buckets=[BucketSpec(name, "t")]))
    store: KvStore[str] = KvStore(name, str)
    await store.bind(js)
    await store.put("p1", f"by {SECRET}")

    await store.rewrite("p1", lambda data: data.replace(SECRET.encode(), b"a former member"))

    assert (await store.get("p1")) is not None
    assert (await store.get("p1")).value == "by a former member"  # type: ignore[union-attr]
    await nc.drain()
    nats_server.stop()
    assert raw_hits(nats_server.store_dir, SECRET) == []


async def test_a_secure_delete_leaves_a_delete_marker_and_no_old_bytes(nats_server, region):
    nc = await access.connect(nats_server.url, own_server=True)
    js = nc.jetstream()
    name = f"test_joined_{region}"
    spec = BucketSpec(name, "t", secure=True)
    await apply(js, Topology(streams=region_streams(region), buckets=[spec]))
    store: KvStore[str] = KvStore(name, str, secure=True)
    await store.bind(js)
    await store.put("c1.zq", SECRET)
    await store.put("c1.zq", f"again {SECRET}")

    await store.delete("c1.zq")

    assert [entry.operation for entry in await store.kv.history("c1.zq")] == ["DEL"]
    assert not await store.erased_after("c1.zq", None)
    await nc.drain()
    nats_server.stop()
    assert raw_hits(nats_server.store_dir, SECRET) == []
