"""``guild provision``, as a deployment's provisioning Job runs it (deploy/helm/guild): the
region's streams with the peers it sources and the replicas the settings say, then every
service's consumers and buckets."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests import access

pytestmark = pytest.mark.e2e


def provision(nats_url: str, region: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    admin = {"GUILD_NATS_CREDENTIALS": str(access.ADMIN)} if access.enabled else {}
    settings = {"GUILD_SEALING_KEYS_FILE": str(access.SEALING_KEYS), **admin, **env}
    return subprocess.run(
        [sys.executable, "-m", "guild_cli", "provision", "--nats-url", nats_url,
         "--region", region, *args],
        capture_output=True, text=True, timeout=120, check=False,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("GUILD_")}, **settings},
    )  # fmt: skip


async def test_guild_provision_sources_the_peer_regions_and_adds_membership_peers(
    nats_url, region, nc
):
    done = provision(nats_url, region, "--peers", "us,apac")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "sources: us, apac" in done.stdout
    js = nc.jetstream()
    events = await js.stream_info(f"EVENTS_{region.upper()}")
    assert sorted(s.name for s in events.config.sources or []) == ["EVENTS_APAC", "EVENTS_US"]
    peers = await js.consumer_info(f"EVENTS_{region.upper()}", "membership-peers")
    assert all(f.startswith(("evt.us.", "evt.apac.")) for f in peers.config.filter_subjects)


async def test_guild_provision_reads_the_peers_from_the_services_setting(nats_url, region, nc):
    done = provision(nats_url, region, GUILD_PEER_REGIONS=json.dumps(["us"]))
    assert done.returncode == 0, done.stdout + done.stderr
    events = await nc.jetstream().stream_info(f"EVENTS_{region.upper()}")
    assert [s.name for s in events.config.sources or []] == ["EVENTS_US"]


def test_guild_provision_refuses_a_peer_setting_it_cannot_read(nats_url, region):
    done = provision(nats_url, region, GUILD_PEER_REGIONS="us,apac")
    assert done.returncode == 1
    assert "GUILD_PEER_REGIONS must be a JSON list" in done.stderr
