"""Provisioning a region: its streams, then each service's consumers and buckets.

What only the ``admin`` identity may do where the server has authorization; the services then
run with ``GUILD_PROVISION=false``. Each service is asked to apply what it declares
(``python -m services.<name> provision``, all four at once): the CLI never imports them.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from guild_cli.client import GuildClient, GuildError
from shared.access import Grants
from shared.credentials import CREDENTIALS_VARIABLE
from shared.messaging.provisioning import Topology, apply, region_streams
from shared.naming import Service, check_region
from shared.settings import GuildSettings

PEERS_VARIABLE = "GUILD_PEER_REGIONS"
"""The services' setting of the regions whose public events their region sources."""


async def provision_region(
    url: str,
    region: str,
    credentials: Path | None,
    env: Mapping[str, str] | None = None,
    peers: Sequence[str] = (),
) -> list[Grants]:
    """The region's streams, then each service's consumers and buckets, as the identity of
    ``credentials`` (the admin's where the server has authorization), with the services'
    settings in ``env`` (default: this process's environment); the grants each service then
    needs (it says so as it provisions: one process per service)."""
    settings_in = env if env is not None else os.environ
    await provision_streams(url, region, credentials, peers, **stream_limits(settings_in))
    settings = {**settings_in, "NATS_URL": url, "GUILD_REGION": region}
    if peers:
        settings[PEERS_VARIABLE] = json.dumps(list(peers))
    if credentials is not None:
        settings[CREDENTIALS_VARIABLE] = str(credentials)
    return list(await asyncio.gather(*(ask_service(s, "provision", settings) for s in Service)))


def stream_limits(env: Mapping[str, str]) -> dict[str, int]:
    """The streams' replicas and retention as the services' settings say (GUILD_STREAM_REPLICAS,
    GUILD_EVENT_RETENTION_DAYS), so the streams match the buckets and consumers they provision."""
    defaults = GuildSettings.model_fields
    try:
        return {
            "replicas": int(env.get("GUILD_STREAM_REPLICAS", defaults["stream_replicas"].default)),
            "retention_days": int(
                env.get("GUILD_EVENT_RETENTION_DAYS", defaults["event_retention_days"].default)
            ),
        }
    except ValueError as error:
        raise GuildError(f"GUILD_STREAM_REPLICAS / GUILD_EVENT_RETENTION_DAYS: {error}") from None


def peers_from(env: Mapping[str, str]) -> list[str]:
    """The peer regions GUILD_PEER_REGIONS names (a JSON list, as the services read it)."""
    text = env.get(PEERS_VARIABLE, "").strip()
    try:
        peers = json.loads(text) if text else []
    except json.JSONDecodeError:
        peers = None
    if not isinstance(peers, list) or not all(isinstance(p, str) for p in peers):
        raise GuildError(f"{PEERS_VARIABLE} must be a JSON list of region names, not {text!r}")
    return [check_region(p) for p in peers]


async def provision_streams(
    url: str,
    region: str,
    credentials: Path | None,
    peers: Sequence[str] = (),
    *,
    replicas: int = 1,
    retention_days: int = 30,
) -> None:
    """The region's streams, its EVENTS stream sourcing each of ``peers``' (a source whose
    stream does not exist yet reports an error until nats-server retries it, so a new topology
    creates every region's streams before any region sources another's)."""
    client = await GuildClient.connect(url, region, credentials)
    try:
        streams = region_streams(
            region, peer_regions=peers, replicas=replicas, retention_days=retention_days
        )
        await apply(client.nc.jetstream(), Topology(streams=streams))
    finally:
        await client.close()


async def ask_service(service: Service, command: str, env: dict[str, str]) -> Grants:
    """Run ``python -m services.<name> <command>`` (``provision`` or ``grants``) and read the
    grants it prints."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", f"services.{service.value}", command, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    if process.returncode != 0:
        last = (err.decode(errors="replace").strip().splitlines() or ["(no output)"])[-1]
        raise GuildError(f"{service.value} could not {command}: {last}")
    return Grants.from_json(json.loads(out))
