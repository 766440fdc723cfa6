"""Streams, consumers and buckets are applied by a provisioning step, idempotently; with
provisioning off, a service refuses to start on a region nobody provisioned, and says why."""

from __future__ import annotations

import pytest

from services.matching.bootstrap import build_app as build_matching
from services.matching.settings import MatchingSettings
from shared.messaging.provisioning import ProvisioningError, apply
from shared.naming import Streams
from shared.publishers import PUBLISHERS
from tests import access
from tests.helpers import running, settings_for


async def test_applying_the_same_topology_twice_changes_nothing(nc, nats_url, region):
    app = build_matching(settings_for(MatchingSettings, region, nats_url))
    js = nc.jetstream()
    await apply(js, app.topology)
    before = {s: (await js.stream_info(s)).config for s in Streams(region).all(PUBLISHERS)}
    await apply(js, app.topology)
    after = {s: (await js.stream_info(s)).config for s in Streams(region).all(PUBLISHERS)}
    assert before == after
    consumer = await js.consumer_info(Streams(region).events, "matching-content")
    assert consumer.config.max_deliver == 6
    assert consumer.config.ack_policy == "explicit"


async def test_a_changed_retry_setting_updates_the_consumer_in_place(nc, nats_url, region):
    js = nc.jetstream()
    await apply(js, build_matching(settings_for(MatchingSettings, region, nats_url)).topology)
    changed = settings_for(MatchingSettings, region, nats_url, retry_max_deliver=7)
    await apply(js, build_matching(changed).topology)
    consumer = await js.consumer_info(Streams(region).events, "matching-content")
    assert consumer.config.max_deliver == 7


async def test_without_provisioning_a_service_names_what_is_missing(nc, nats_url, region):
    settings = settings_for(MatchingSettings, region, nats_url, provision=False)
    app = build_matching(settings)
    await access.prepare(app)  # its credential
    with pytest.raises(ProvisioningError) as refused:
        await app.start()
    await app.stop()
    message = str(refused.value)
    assert f"stream EVENTS_{region.upper()}" in message
    assert "consumer" in message
    assert f"bucket matching_members_{region}" in message
    assert "provision" in message

    admin = {"nats_credentials": access.ADMIN} if access.enabled else {}
    await build_matching(settings.model_copy(update=admin)).provision()  # as an operator does
    async with running(build_matching(settings)):
        pass
