"""Each service is its own process: it starts alone against a given NATS_URL, answers its
health probes, and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from guild_cli.nats_server import EmbeddedNats
from tests import access
from tests.helpers import eventually

pytestmark = pytest.mark.e2e

SERVICES = ["membership", "content", "matching", "notifications"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_service(
    name: str, nats_url: str, region: str, log: Path, http_port: int, identity: dict | None = None
):
    env = {
        **os.environ,
        "NATS_URL": nats_url,
        "GUILD_REGION": region,
        f"GUILD_{name.upper()}_HTTP_PORT": str(http_port),
        "GUILD_LOG_FORMAT": "text",
        **(identity or {}),
    }
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", f"services.{name}"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


async def ready(port: int) -> bool:
    try:
        async with httpx.AsyncClient() as client:
            return (
                await client.get(f"http://127.0.0.1:{port}/readyz", timeout=1)
            ).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.mark.parametrize("name", SERVICES)
async def test_a_service_starts_alone_and_stops_cleanly(name, nats_url, region, tmp_path):
    port, log = free_port(), tmp_path / f"{name}.log"
    identities = await access.service_environments(nats_url, region)
    process = start_service(name, nats_url, region, log, port, identities.get(name))
    try:
        await eventually(lambda: ready(port), deadline=30, what=f"{name} ready")
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    output = log.read_text()
    assert code == 0, output
    assert "ready" in output
    assert "stopped" in output
    assert "Traceback" not in output


async def test_a_service_waits_for_nats_and_starts_when_it_comes(region, tmp_path):
    nats_port, http_port, log = free_port(), free_port(), tmp_path / "membership.log"
    url, store = f"nats://127.0.0.1:{nats_port}", tmp_path / "nats"
    with EmbeddedNats(store, port=nats_port, authority=access.AUTHORITY):  # provisioned before
        identity = (await access.service_environments(url, region, own_server=True)).get(
            "membership"
        )
    process = start_service("membership", url, region, log, http_port, identity)
    try:
        await eventually(lambda: _contains(log, "waiting for NATS"), what="waiting for NATS")
        assert process.poll() is None
        with EmbeddedNats(store, port=nats_port, authority=access.AUTHORITY):
            await eventually(lambda: ready(http_port), deadline=30, what="ready once NATS is up")
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()


def test_a_service_without_a_region_says_which_setting_is_missing(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUILD_")}
    result = subprocess.run(
        [sys.executable, "-m", "services.content"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "GUILD_CONTENT_REGION (or GUILD_REGION)" in result.stderr


async def _contains(path: Path, text: str) -> bool:
    return path.exists() and text in path.read_text()
