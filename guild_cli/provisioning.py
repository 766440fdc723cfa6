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
from shared.naming import Service

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
    await provision_streams(url, region, credentials, peers)
    settings = {**(env if env is not None else os.environ), "NATS_URL": url, "GUILD_REGION": region}
    if peers:
        settings[PEERS_VARIABLE] = json.dumps(list(peers))
    if credentials is not None:
        settings[CREDENTIALS_VARIABLE] = str(credentials)
    return list(await asyncio.gather(*(ask_service(s, "provision", settings) for s in Service)))


async def provision_streams(
    url: str, region: str, credentials: Path | None, peers: Sequence[str] = ()
) -> None:
    """The region's streams, its EVENTS stream sourcing each of ``peers``' (a source whose
    stream does not exist yet reports an error until nats-server retries it, so a new topology
    creates every region's streams before any region sources another's)."""
    client = await GuildClient.connect(url, region, credentials)
    try:
        streams = region_streams(region, peer_regions=peers)
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
