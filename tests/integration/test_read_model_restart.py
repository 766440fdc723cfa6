"""Read models on a real nats-server: a restart loads the snapshot and replays only what came
after it; a snapshot that is corrupt, unreadable or of another layout costs time, never data."""

from __future__ import annotations

import logging

import pytest

from shared.messaging.provisioning import BucketSpec, Topology, apply, region_streams
from shared.naming import Service, Streams
from shared.readmodel import BucketFollower, Table


async def bucket_with_values(nc, region: str, count: int) -> tuple[str, object]:
    js = nc.jetstream()
    name = f"test_values_{region}"
    await apply(js, Topology(streams=region_streams(region), buckets=[BucketSpec(name, "test")]))
    kv = await js.key_value(name)
    for i in range(count):
        await kv.put(f"k{i}", f'"value {i}"'.encode())
    return name, kv


def follower(bucket: str, region: str, version: str = "values-1") -> BucketFollower:
    return BucketFollower(
        bucket, Table(str, version), region=region, service=Service.CONTENT, name="values"
    )


async def started(nc, bucket: str, region: str, version: str = "values-1") -> BucketFollower:
    made = follower(bucket, region, version)
    await made.start(nc.jetstream())
    return made


async def test_a_restart_loads_the_snapshot_and_replays_only_the_tail(nc, region):
    bucket, kv = await bucket_with_values(nc, region, 50)
    first = await started(nc, bucket, region)
    assert not first.restored_from_snapshot
    await first.stop()  # writes the snapshot

    await kv.put("k3", b'"changed while down"')
    await kv.delete("k4")
    await kv.put("k50", b'"new while down"')

    second = await started(nc, bucket, region)
    try:
        assert second.restored_from_snapshot
        items = second.projection.items
        assert items["k3"] == "changed while down"
        assert "k4" not in items
        assert items["k50"] == "new while down"
        assert len(items) == 50
    finally:
        await second.stop()


async def corrupt_latest_chunk(nc, region: str) -> None:
    js = nc.jetstream()
    stream = Streams(region).snapshots
    manifest = await js.get_last_msg(stream, f"snapshot.{region}.content.values.manifest")
    generation = manifest.data.decode().split('"generation": "')[1].split('"')[0]
    await js.publish(
        f"snapshot.{region}.content.values.{generation}.999999", b"garbage", stream=stream
    )


async def unreadable_manifest(nc, region: str) -> None:
    await nc.jetstream().publish(
        f"snapshot.{region}.content.values.manifest", b"{not json", stream=Streams(region).snapshots
    )


@pytest.mark.parametrize("damage", [corrupt_latest_chunk, unreadable_manifest])
async def test_a_damaged_snapshot_is_logged_and_the_bucket_replayed(nc, region, damage, caplog):
    bucket, _ = await bucket_with_values(nc, region, 20)
    await (await started(nc, bucket, region)).stop()
    await damage(nc, region)

    with caplog.at_level(logging.WARNING, logger="guild.readmodel"):
        again = await started(nc, bucket, region)
    try:
        assert not again.restored_from_snapshot
        assert len(again.projection.items) == 20
        assert any("rebuilding from the bucket" in r.getMessage() for r in caplog.records)
    finally:
        await again.stop()


async def test_a_snapshot_of_another_layout_is_not_restored(nc, region):
    bucket, _ = await bucket_with_values(nc, region, 10)
    await (await started(nc, bucket, region, version="values-1")).stop()

    newer = await started(nc, bucket, region, version="values-2")
    try:
        assert not newer.restored_from_snapshot
        assert len(newer.projection.items) == 10
    finally:
        await newer.stop()
