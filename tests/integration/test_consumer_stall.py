"""A consumer whose pull loop stopped fetching (messages wait, none is in hand, none is
delivered) makes its service not ready, though its subscriber still says it runs."""

from __future__ import annotations

import json

from nats.aio.client import Client

from services.membership.bootstrap import build_app
from services.membership.settings import MembershipSettings
from tests.helpers import eventually, running, settings_for
from tests.slice import World, hire_data


async def status(nc: Client, region: str) -> dict:
    return json.loads((await nc.request(f"status.{region}.membership", b"", timeout=5)).data)


async def test_a_consumer_that_stopped_fetching_makes_the_service_not_ready(nc, nats_url, region):
    settings = settings_for(MembershipSettings, region, nats_url, consumer_check_interval=0.2)
    app = build_app(settings)
    async with running(app):
        first = await status(nc, region)
        assert first["ready"], first
        hr = next(
            s
            for s in app.broker.subscribers
            if getattr(getattr(s, "config", None), "durable_name", None)
            == "membership-ingest-hr-directory"
        )
        for task in hr.tasks:
            task.cancel()  # the pull loop ends; FastStream does not restart a cancelled one
        world, hired = World(nc, region), iter(range(1_000_000))

        async def not_ready() -> dict | None:
            # new work keeps coming (the cancelled loop's last pull request may take some)
            person = f"p{next(hired)}"
            await world.hire(hire_data(person, person, "emea", "Europe/Lisbon", {}))
            answer = await status(nc, region)
            return answer if not answer["ready"] else None

        answer = await eventually(not_ready, what="membership not ready")
        assert answer["stalled"] == ["membership-ingest-hr-directory"]
