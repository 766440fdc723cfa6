"""Buckets that hold a member's data keep the revisions a write replaces until they are
securely deleted: after the member's erasure no revision of theirs is left in the block files,
not even one an update replaced long before."""

from __future__ import annotations

import json

import pytest

from services.content.store.buckets import BUCKETS as CONTENT
from services.matching.store.buckets import BUCKETS as MATCHING
from shared.messaging.provisioning import Buckets, Topology, apply, region_streams
from tests import access
from tests.integration.test_deleting_keys import raw_hits

MEMBER = "zq4417"
HELD = json.dumps({"member_id": MEMBER})[1:-1]  # as the values hold it, not the keys


def pseudonymised(data: bytes) -> bytes:
    return data.replace(MEMBER.encode(), b"erased-0123456789abcdef")


@pytest.mark.parametrize(
    ("buckets", "purpose", "key", "kept"),
    [
        (MATCHING, "members", f"{MEMBER}.p", False),
        (CONTENT, "reactions", f"p1.{MEMBER}", False),
        (CONTENT, "posts", "p1", True),  # an edited post: kept under the author's pseudonym
        (MATCHING, "questions", "q1", True),  # a question changed: kept likewise
    ],
)
async def test_no_replaced_revision_of_an_erased_member_stays_on_disk(
    nats_server, region, buckets: Buckets, purpose: str, key: str, kept: bool
):
    nc = await access.connect(nats_server.url, own_server=True)
    js = nc.jetstream()
    store = buckets.store(purpose, bytes, region)
    (spec,) = [spec for spec in buckets.specs(region, 1) if spec.name == store.bucket]
    await apply(js, Topology(streams=region_streams(region), buckets=[spec]))
    await store.bind(js)
    for version in (1, 2):  # each time between others' writes, as a live bucket has them
        await store.put_raw(f"other{version}.p", b'{"member_id": "someone-else"}')
        await store.put_raw(key, json.dumps({"member_id": MEMBER, "version": version}).encode())
    await store.put_raw("other3.p", b'{"member_id": "someone-else"}')

    if kept:
        await store.rewrite(key, pseudonymised)
    else:
        await store.erase(key)

    await nc.drain()
    nats_server.stop()
    assert raw_hits(nats_server.store_dir, HELD) == []
