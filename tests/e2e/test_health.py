"""Liveness and readiness of a service process: ``/healthz`` says its event loop turns and
stays 200 through a NATS outage, while ``/readyz`` turns 503 until NATS is back; a loop that
stopped turning answers 503 on ``/healthz`` (the health endpoints do not depend on it)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from guild_cli.nats_server import EmbeddedNats
from tests import access
from tests.e2e.test_standalone_services import free_port
from tests.helpers import eventually

pytestmark = pytest.mark.e2e

STUCK_LOOP_HOOK = Path(__file__).parent / "stuck_loop"


async def answers(port: int, path: str) -> int | None:
    try:
        async with httpx.AsyncClient() as client:
            return (await client.get(f"http://127.0.0.1:{port}{path}", timeout=2)).status_code
    except httpx.HTTPError:
        return None


def codes_are(port: int, wanted: dict[str, int]):
    async def probe() -> bool:
        return all([await answers(port, path) == code for path, code in wanted.items()])

    return probe


@pytest.fixture
def membership(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int, EmbeddedNats]]:
    """membership as its own process on a NATS of its own, with the stuck-loop hook loaded."""
    server = EmbeddedNats(tmp_path / "nats", port=free_port(), authority=access.AUTHORITY).start()
    http_port = free_port()
    identities = asyncio.run(access.service_environments(server.url, "health", own_server=True))
    env = {
        **os.environ,
        **identities.get("membership", {}),
        "NATS_URL": server.url,
        "GUILD_REGION": "health",
        "GUILD_MEMBERSHIP_HTTP_PORT": str(http_port),
        "GUILD_LOOP_STALL_AFTER": "1",
        "PYTHONPATH": os.pathsep.join([str(STUCK_LOOP_HOOK), os.environ.get("PYTHONPATH", "")]),
    }
    with (tmp_path / "membership.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "services.membership"], env=env, stdout=log, stderr=log
        )
    try:
        yield process, http_port, server
    finally:
        process.kill()
        process.wait()
        server.stop()


async def test_liveness_holds_and_readiness_drops_while_nats_is_away(membership):
    process, port, server = membership
    await eventually(codes_are(port, {"/healthz": 200, "/readyz": 200}), deadline=30)
    server.stop()
    await eventually(codes_are(port, {"/readyz": 503, "/healthz": 200}), deadline=30)
    server.start()  # the same port and store
    await eventually(codes_are(port, {"/healthz": 200, "/readyz": 200}), deadline=30)
    assert process.poll() is None


async def test_a_loop_that_stopped_turning_fails_liveness(membership):
    process, port, _ = membership
    await eventually(codes_are(port, {"/healthz": 200, "/readyz": 200}), deadline=30)
    process.send_signal(signal.SIGUSR1)
    await eventually(codes_are(port, {"/healthz": 503, "/readyz": 503}), deadline=30)
