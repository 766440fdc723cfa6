"""The README's example of another system publishing into Guild runs as written."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from shared.access import publishing_system
from tests import access
from tests.helpers import eventually

pytestmark = pytest.mark.e2e
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "publish_from_another_system.py"


async def test_the_publishing_example_registers_a_member_and_posts_a_question(
    services, world, nats_url, region
):
    await world.company()
    env = {**os.environ, "NATS_URL": nats_url, "GUILD_REGION": region, "COMMUNITY_ID": "k8s"}
    for system, variable in (("hr-directory", "HR_CREDENTIALS"), ("portal", "PORTAL_CREDENTIALS")):
        env[variable] = str(access.issue(publishing_system(system, region)))
    # the services run in this event loop: the example must not block it
    example = await asyncio.create_subprocess_exec(
        sys.executable,
        str(EXAMPLE),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(example.communicate(), 60)
    assert example.returncode == 0, stderr.decode()
    output = stdout.decode()
    assert "member registered: True" in output
    stream = f"INGEST_PORTAL_{region.upper()}"
    assert f"stored guild.ingest.content.question_asked.v1 as {stream}" in output
    alerts = await eventually(lambda: world.inbox_items(world.id("fac"), "question_for_you"))
    assert "Terraform state backend" in alerts[0]["title"]
