"""Sealed buckets: what the endpoints, contacts and keys buckets hold is encrypted at rest
with the operator's keys, so the block files on disk hold no secret and no address in clear,
while the service reads, changes and follows its values as before; after a rotation every
value is sealed again with the new key and the old one can go."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from nats.aio.client import Client

from services.notifications.bootstrap import build_app as build_notifications
from services.notifications.domain.endpoints import (
    Endpoint,
    EndpointKind,
    MemberEndpoints,
    new_signing_secret,
)
from services.notifications.settings import NotificationsSettings
from services.notifications.store.buckets import BUCKETS, NotificationsStore
from shared.messaging.provisioning import Topology, apply, region_streams
from shared.sealing import (
    KEYS_FILE_VARIABLE,
    Keyring,
    SealingError,
    add_key,
    drop_key,
    keyring_file,
    new_key_line,
)
from tests import access
from tests.integration.test_deleting_keys import raw_hits

ADDRESS = "https://hooks.example.com/services/T000/B000/sealed-at-rest"


def keyring(*lines: str) -> Keyring:
    return Keyring.parse("\n".join(lines), "the test's keys")


@pytest.fixture
def first_key() -> str:
    return new_key_line("k1")


async def _provisioned(
    nats_server: Any, region: str, keys: Keyring
) -> tuple[Client, NotificationsStore]:
    nc = await access.connect(nats_server.url, own_server=True)
    js = nc.jetstream()
    store = NotificationsStore.for_region(region, keys)
    await apply(js, Topology(streams=region_streams(region), buckets=BUCKETS.specs(region, 1)))
    for kv in (store.endpoints, store.contacts, store.keys):
        await kv.bind(js)
    return nc, store


def _endpoint(now: datetime) -> MemberEndpoints:
    hook = Endpoint("ep1", EndpointKind.WEBHOOK, ADDRESS, secrets=(new_signing_secret(now),))
    return MemberEndpoints("m1").with_endpoint(hook)


async def test_secrets_and_addresses_are_sealed_on_disk_and_read_back_in_clear(
    nats_server, region: str, first_key: str
) -> None:
    keys = keyring(first_key)
    nc, store = await _provisioned(nats_server, region, keys)
    held = _endpoint(datetime.now(UTC))
    secret = held.endpoints[0].secrets[0].secret
    await store.endpoints.put("m1", held)
    await store.keys.create("links", "ab" * 32)
    assert (await store.endpoints.get("m1")).value == held
    assert [key async for key, _ in store.endpoints.items()] == ["m1"]
    changed = await store.endpoints.change("m1", lambda e: e and e.with_endpoint(
        Endpoint("ep2", EndpointKind.EMAIL, "ana.private@example.org")))  # fmt: skip
    assert changed is not None
    assert len(changed.endpoints) == 2
    endpoints = store.endpoints
    raw = await nc.jetstream().get_last_msg(endpoints.stream, f"$KV.{endpoints.bucket}.m1")
    assert json.loads(store.endpoints.opened("m1", raw.data))["endpoints"][0]["address"] == ADDRESS
    await nc.drain()
    nats_server.stop()
    for text in (ADDRESS, secret, "ana.private@example.org", "ab" * 32):
        assert raw_hits(nats_server.store_dir, text) == [], text


async def test_after_a_rotation_reseal_leaves_nothing_for_the_old_key(
    nats_server, region: str, first_key: str
) -> None:
    nc, store = await _provisioned(nats_server, region, keyring(first_key))
    held = _endpoint(datetime.now(UTC))
    await store.endpoints.put("m1", held)
    await store.keys.create("links", "cd" * 32)
    await nc.drain()

    second_key = new_key_line("k2")
    rotated = keyring(second_key, first_key)
    nc, store = await _provisioned(nats_server, region, rotated)
    assert (await store.endpoints.get("m1")).value == held  # the old key still opens it
    assert await store.endpoints.reseal() == 1
    assert await store.keys.reseal() == 1
    assert await store.endpoints.reseal() == 0  # nothing left for the old key
    await nc.drain()

    nc, store = await _provisioned(nats_server, region, keyring(second_key))  # k1 dropped
    assert (await store.endpoints.get("m1")).value == held
    assert (await store.keys.get("links")).value == "cd" * 32
    await nc.drain()


async def test_a_value_sealed_with_a_key_no_longer_held_is_an_error_naming_the_key(
    nats_server, region: str, first_key: str
) -> None:
    nc, store = await _provisioned(nats_server, region, keyring(first_key))
    await store.keys.create("links", "ef" * 32)
    await nc.drain()
    nc, store = await _provisioned(nats_server, region, keyring(new_key_line("k2")))
    with pytest.raises(SealingError, match="sealed with key 'k1'"):
        await store.keys.get("links")
    await nc.drain()


async def test_notifications_does_not_start_without_its_sealing_keys(
    nats_url: str, region: str, tmp_path: Path
) -> None:
    settings = NotificationsSettings(region=region, nats_url=nats_url, sealing_keys_file=None)
    app = build_notifications(settings)
    with pytest.raises(SealingError, match="needs the sealing keys"):
        await app.start()


async def test_the_reseal_command_seals_again_with_the_new_key(
    nats_server: Any, region: str, tmp_path: Path
) -> None:
    keys_file = keyring_file(tmp_path / "sealing.keys")
    settings = NotificationsSettings(
        region=region, nats_url=nats_server.url, sealing_keys_file=keys_file
    )
    nc = await access.connect(nats_server.url, own_server=True)
    await apply(nc.jetstream(), build_notifications(settings).topology)
    store = NotificationsStore.for_region(region, Keyring.read(keys_file))
    await store.endpoints.bind(nc.jetstream())
    held = _endpoint(datetime.now(UTC))
    await store.endpoints.put("m1", held)
    await nc.drain()
    add_key(keys_file, "k2")

    env = {**os.environ, "GUILD_REGION": region, "NATS_URL": nats_server.url,
           "GUILD_NATS_CREDENTIALS": str(access.ADMIN),
           KEYS_FILE_VARIABLE: str(keys_file)}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "services.notifications", "reseal"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"notifications_endpoints_{region}: 1 value(s) sealed again" in done.stdout

    nc, store = await _provisioned(nats_server, region, drop_key(keys_file, "k1"))
    assert (await store.endpoints.get("m1")).value == held
    await nc.drain()
