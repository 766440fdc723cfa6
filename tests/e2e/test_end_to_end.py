"""End to end: the four services as separate processes on a real nats-server. The outside
world here uses plain nats-py and JSON only, as another internal system would."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from guild_cli.supervisor import Supervisor
from tests import access
from tests.helpers import eventually
from tests.slice import AROUND_THE_CLOCK

pytestmark = pytest.mark.e2e


def event(event_type: str, data: dict, source: str = "/hr-directory/e2e") -> bytes:
    return json.dumps(
        {
            "specversion": "1.0",
            "id": str(uuid.uuid4()),
            "source": source,
            "type": event_type,
            "time": datetime.now(UTC).isoformat(),
            "data": data,
        }
    ).encode()


def person(person_id: str, name: str, region: str, tz: str, skills: dict[str, str]) -> dict:
    return {
        "person_id": person_id,
        "display_name": name,
        "email": f"{person_id}@example.com",
        "region": region,
        "timezone": tz,
        "skills": [{"name": k, "level": v} for k, v in skills.items()],
    }


@pytest.fixture
async def system(nats_url, region, tmp_path):
    identities = await access.service_environments(nats_url, region)
    credentials = {name: Path(env["GUILD_NATS_CREDENTIALS"]) for name, env in identities.items()}
    supervisor = Supervisor(
        nats_url, region, tmp_path, extra_env={"GUILD_LOG_FORMAT": "text"}, credentials=credentials
    )
    supervisor.start_all()
    yield supervisor
    exits = supervisor.stop_all()
    assert exits == dict.fromkeys(exits, 0), exits


async def test_a_hire_a_join_and_a_question_reach_the_right_inboxes(system, nats_url, region):
    nc = await access.connect(nats_url)
    js = nc.jetstream()

    async def ask(subject: str, payload: dict) -> dict:
        return json.loads((await nc.request(subject, json.dumps(payload).encode(), 10)).data)

    async def all_ready() -> bool:
        for name in ("membership", "content", "matching", "notifications"):
            try:
                status = json.loads((await nc.request(f"status.{region}.{name}", b"", 1)).data)
            except Exception:
                return False
            if not status["ready"]:
                return False
        return True

    try:
        await eventually(all_ready, deadline=60, what="four services ready")
        hires = [
            person("fac", "Lena Vogel", "eu", "Europe/Berlin", {"kubernetes": "expert"}),
            person(
                "exp", "Noah Patel", "us", "America/New_York", {"etcd": "expert", "go": "expert"}
            ),
            person("asker", "Lucas Silva", "us", "America/Sao_Paulo", {"kubernetes": "expert"}),
            person("new", "Priya Raman", "apac", "Asia/Kolkata", {"kubernetes": "beginner"}),
        ]
        for hire in hires:
            await js.publish(
                f"ingest.{region}.hr-directory.hr.person_hired.v1",
                event("guild.ingest.hr.person_hired.v1", hire),
            )

        async def registered(person_id: str) -> str | None:
            found = await ask(f"qry.{region}.membership.find_member", {"person_id": person_id})
            return found["result"]["member_id"] if found["ok"] else None

        ids: dict[str, str] = {}
        for hire in hires:
            ids[hire["person_id"]] = await eventually(
                lambda h=hire: registered(h["person_id"]), what="member registered"
            )
            # at work around the clock, so that the test does not depend on the time it runs
            updated = await ask(
                f"cmd.{region}.membership.update_profile",
                {"member_id": ids[hire["person_id"]], "working_hours": AROUND_THE_CLOCK},
            )
            assert updated["ok"], updated
        created = await ask(
            f"cmd.{region}.membership.create_community",
            {"actor_id": ids["fac"], "community_id": "k8s", "name": "Kubernetes Operators"},
        )
        assert created["ok"], created
        for member_id in ids.values():
            joined = await ask(
                f"cmd.{region}.membership.join_community",
                {"community_id": "k8s", "member_id": member_id},
            )
            assert joined["ok"], joined

        await js.publish(
            f"ingest.{region}.portal.content.question_asked.v1",
            event(
                "guild.ingest.content.question_asked.v1",
                {
                    "question_ref": "e2e-1",
                    "community_id": "k8s",
                    "asker_id": ids["asker"],
                    "title": "How do we rotate etcd certificates?",
                    "text": "Our etcd peer certificates expire next month.",
                    "tags": ["kubernetes"],
                },
                source="/portal/e2e",
            ),
        )

        async def inbox(person_id: str, kind: str) -> list[dict]:
            member_id = ids[person_id]
            reply = await ask(f"qry.{region}.notifications.inbox", {"member_id": member_id})
            return [item for item in reply["result"]["items"] if item["kind"] == kind]

        async def facilitator_told_about_newcomer() -> list[dict]:
            return [i for i in await inbox("fac", "member_joined") if "Priya Raman" in i["title"]]

        (welcome_alert,) = await eventually(facilitator_told_about_newcomer)
        assert welcome_alert["reasons"] == ["you facilitate Kubernetes Operators"]

        expert_alerts = await eventually(lambda: inbox("exp", "question_for_you"))
        assert "etcd (expert)" in expert_alerts[0]["reasons"][0]
        facilitator_alerts = await eventually(lambda: inbox("fac", "question_for_you"))
        assert "kubernetes (expert)" in facilitator_alerts[0]["reasons"][0]
        assert await inbox("asker", "question_for_you") == []
        assert await eventually(lambda: inbox("new", "welcome"))
    finally:
        await nc.drain()
