from __future__ import annotations

import pytest

from tests.slice import World, running_slice


@pytest.fixture
async def services(nats_url, region):
    async for apps in running_slice(region, nats_url):
        yield apps


@pytest.fixture
def world(nc, region) -> World:
    return World(nc, region)
