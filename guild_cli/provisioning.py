"""Provisioning a region: its streams, then each service's consumers and buckets.

What only the ``admin`` identity may do where the server has authorization; the services then
run with ``GUILD_PROVISION=false``. Each service is asked to apply what it declares
(``python -m services.<name> provision``, all four at once): the CLI never imports them.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from guild_cli.client import GuildClient, GuildError
from shared.messaging.provisioning import Topology, apply, region_streams
from shared.naming import Service


async def provision_region(url: str, region: str, credentials: Path | None) -> None:
    """The region's streams, then each service's consumers and buckets, as the identity of
    ``credentials`` (the admin's where the server has authorization)."""
    client = await GuildClient.connect(url, region, credentials)
    try:
        await apply(client.nc.jetstream(), Topology(streams=region_streams(region)))
    finally:
        await client.close()
    env = {**os.environ, "NATS_URL": url, "GUILD_REGION": region}
    if credentials is not None:
        env["GUILD_NATS_CREDENTIALS"] = str(credentials)
    await asyncio.gather(*(_provision_service(service, env) for service in Service))


async def _provision_service(service: Service, env: dict[str, str]) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", f"services.{service.value}", "provision", env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await process.communicate()
    if process.returncode != 0:
        last = (err.decode(errors="replace").strip().splitlines() or ["(no output)"])[-1]
        raise GuildError(f"{service.value} could not provision: {last}")
