"""Member ids are Guild's own: membership draws one at random when the HR directory first
names a person, and every event, key and other service knows the member by it. The HR person
id is in membership's ``people`` bucket only under a keyed hash, and in the member's own
(personal) record; ``find_member`` tells it to the systems that know people by HR id."""

from __future__ import annotations

import json

from shared.contracts import membership as m
from shared.ids import MEMBER_ID_PREFIX
from shared.naming import Streams
from tests.helpers import events_of_type, eventually, settled, stream_messages
from tests.slice import hire_data

BOSS, REPORT = "hr-boss-17", "hr-report-18"


async def test_a_hire_gets_a_drawn_member_id_that_no_public_event_links_to_the_hr_id(
    services, world, nc, region
):
    await world.hire(hire_data(REPORT, "Rui Pinto", "eu", "Europe/Lisbon", {"go": "advanced"})
                     | {"manager_id": BOSS})  # fmt: skip
    (report,) = await world.wait_for_members(REPORT)
    assert report.startswith(MEMBER_ID_PREFIX)
    assert REPORT not in report
    # the manager was named before their hire: their member id is drawn then, and kept
    await world.hire(hire_data(BOSS, "Ines Moura", "eu", "Europe/Lisbon", {"go": "expert"}))
    await world.hire(
        hire_data(REPORT, "Rui Pinto", "eu", "Europe/Lisbon", {"go": "advanced"})
        | {"manager_id": BOSS}
    )  # fmt: skip  (HR sends it again, new event id)
    (boss,) = await world.wait_for_members(BOSS)
    await settled(nc, region)
    assert await world.member_of(REPORT) == report  # the same person keeps their member id

    streams = Streams(region)
    registered = await events_of_type(nc, streams.events, m.MemberRegisteredV1.TYPE)
    assert sorted(e["data"]["member"]["member_id"] for e in registered) == sorted([report, boss])
    public = b"".join(body + json.dumps(h).encode() + s.encode()
                      for s, h, body in await stream_messages(nc, streams.events))  # fmt: skip
    assert REPORT.encode() not in public
    assert BOSS.encode() not in public
    people = await stream_messages(nc, f"KV_membership_people_{region}")
    assert len(people) == 2
    assert all(REPORT not in s and BOSS not in s for s, _, _ in people)

    confidential = await events_of_type(nc, streams.personal, m.MemberConfidentialV1.TYPE)
    chains = {e["data"]["member_id"]: e["data"]["manager_chain"] for e in confidential}
    assert chains[report] == [boss]  # the org chart in member ids too
    contacts = await events_of_type(nc, streams.personal, m.MemberContactV1.TYPE)
    assert {e["data"]["member_id"]: e["data"]["person_id"] for e in contacts} == {
        report: REPORT,
        boss: BOSS,
    }


async def test_find_member_answers_for_members_only(services, world, nc, region):
    unknown = await world.refused("qry", "membership", "find_member", {"person_id": "hr-nobody"})
    assert unknown["code"] == "not_found"
    await world.hire(hire_data("hr-ana", "Ana Lima", "eu", "Europe/Lisbon", {"go": "expert"}))
    (ana,) = await world.wait_for_members("hr-ana")
    found = await world.qry("membership", "find_member", {"person_id": "hr-ana"})
    assert found == {"member_id": ana, "home_region": region}

    await world.publish(
        "guild.ingest.hr.person_departed.v1",
        {"person_id": "hr-ana", "departed_on": "2026-11-30"},
        event_id=None,
        msg_id=True,
        source="/hr-directory",
    )

    async def gone() -> bool:
        return await world.member_of("hr-ana") is None

    await eventually(gone, what="the departed person not found")
