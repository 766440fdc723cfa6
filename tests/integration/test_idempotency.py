"""The same event published twice (same id) gives one member and one alert per person,
whether JetStream drops the copy (same Nats-Msg-Id) or Guild's handlers see it twice."""

from __future__ import annotations

import pytest

from shared.contracts.content import QuestionPostedV1
from shared.contracts.matching import ExpertsSuggestedV1, IntrosProposedV1
from shared.contracts.membership import MemberRegisteredV1
from shared.contracts.notifications import NotificationDeliveredV1
from shared.naming import Streams
from tests.helpers import events_of_type, eventually, settled
from tests.slice import QUESTION, hire_data


@pytest.mark.parametrize("with_msg_id", [True, False], ids=["nats-msg-id", "no-msg-id"])
async def test_an_event_published_twice_gives_one_member_and_one_alert_each(
    services, world, nc, region, with_msg_id
):
    newcomer = hire_data("new", "Priya Raman", "apac", "Asia/Kolkata", {"kubernetes": "beginner"})
    await world.company()
    first = await world.hire(newcomer, msg_id=with_msg_id)
    await world.hire(newcomer, event_id=first["id"], msg_id=with_msg_id)
    (new,) = await world.wait_for_members("new")
    fac, asker, experts = world.id("fac"), world.id("asker"), [world.id("exp1"), world.id("exp2")]
    for _ in range(2):
        await world.call(
            "cmd", "membership", "join_community", {"community_id": "k8s", "member_id": new}
        )
    question = {**QUESTION, "asker_id": asker}
    asked = await world.ask(question, msg_id=with_msg_id)
    await world.ask(question, event_id=asked["id"], msg_id=with_msg_id)

    async def alerts_for_experts():
        found = [await world.inbox_items(m, "question_for_you") for m in experts]
        return found if all(found) else None

    await eventually(alerts_for_experts, what="question alerts")
    await eventually(lambda: world.inbox_items(fac, "member_joined"), what="facilitator alert")
    await settled(nc, region)  # a duplicate, if there were one, would have arrived by now

    ingest = Streams(region).ingest_of("hr-directory")
    stored_hires = [
        e
        for e in await events_of_type(nc, ingest, "guild.ingest.hr.person_hired.v1")
        if e["data"]["person_id"] == "new"
    ]
    assert len(stored_hires) == (1 if with_msg_id else 2)  # the case Guild must absorb itself
    registered = [
        e
        for e in await events_of_type(nc, Streams(region).events, MemberRegisteredV1.TYPE)
        if e["data"]["member"]["member_id"] == new
    ]
    assert len(registered) == 1
    posted = await events_of_type(nc, Streams(region).events, QuestionPostedV1.TYPE)
    assert len(posted) == 1
    for expert in experts:
        assert len(await world.inbox_items(expert, "question_for_you")) == 1
    newcomer_alerts = [
        i for i in await world.inbox_items(fac, "member_joined") if "Priya Raman" in i["title"]
    ]
    assert len(newcomer_alerts) == 1
    assert len(await world.inbox_items(new, "welcome")) == 1
    assert await world.inbox_items(asker, "question_for_you") == []
    events = Streams(region).events
    (suggested,) = await events_of_type(nc, events, ExpertsSuggestedV1.TYPE)
    ranked = [s["member"]["member_id"] for s in suggested["data"]["suggestions"]]
    assert asker not in ranked
    assert set(experts) <= set(ranked)
    intros = [
        e
        for e in await events_of_type(nc, events, IntrosProposedV1.TYPE)
        if e["data"]["member"]["member_id"] == new
    ]
    assert len(intros) == 1
    delivered = await events_of_type(nc, events, NotificationDeliveredV1.TYPE)
    keys = [(d["data"]["notification_id"], d["data"]["channel"]) for d in delivered]
    assert len(keys) == len(set(keys))  # one delivery per (cause, member, channel)
