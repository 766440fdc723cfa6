"""What members read, as their endpoints receive it: a link to the post each message is
about (the portal's URL template), one way to turn off each distinct reason, words that
speak to the member."""

from __future__ import annotations

import json
import uuid
from datetime import time

from guild_cli.receivers import HttpReceiver
from services.notifications.domain.model import Contact
from services.notifications.domain.preferences import Watch
from shared.contracts import content as c
from shared.contracts import matching as x
from shared.naming import Service
from tests.helpers import eventually
from tools.docs import example

PORTAL = "https://intranet.example/guild/{community_id}/posts/{post_id}"


def _links(request) -> list[tuple[str, str]]:
    return [(link["label"], link["url"]) for link in json.loads(request.body)["data"]["links"]]


async def test_an_answer_reaches_the_asker_with_a_link_to_their_question(start_notifications):
    n = await start_notifications(portal_url=PORTAL)
    await n.member("ana")
    await n.member("bob")
    question_id = str(uuid.uuid4())
    answered = c.AnswerPostedV1.model_validate({
        **example(c.AnswerPostedV1), "asker": n.ref("ana"), "question_id": question_id,
        "question_title": "How do we rotate etcd certificates?",
        "answer": {**example(c.PostRef), "community_id": "platform", "author": n.ref("bob")},
    })  # fmt: skip
    async with HttpReceiver() as receiver:
        await n.webhook("ana", receiver.url + "/ana")
        await n.publish(answered, Service.CONTENT)
        (request,) = await receiver.wait_for(1)
    links = _links(request)
    assert links[0] == (
        "Open the question",
        f"https://intranet.example/guild/platform/posts/{question_id}",
    )
    assert [label for label, _ in links[1:]] == ["Turn off: answers to your questions"]


async def test_a_question_routed_to_an_expert_has_one_turn_off_link_for_its_reasons(
    start_notifications,
):
    n = await start_notifications(portal_url=PORTAL)
    await n.member("ana")
    suggested = x.ExpertsSuggestedV1.model_validate({
        **example(x.ExpertsSuggestedV1), "question_id": "q42", "community_id": "platform",
        "asker_id": "bob", "title": "Pods cannot reach the API after the upgrade",
        "suggestions": [{"member": n.ref("ana"), "score": 0.9, "reasons": [
            "answered 6 questions on kubernetes, 2 accepted",
            "working hours now (12:00 your time)"]}],
    })  # fmt: skip
    async with HttpReceiver() as receiver:
        await n.webhook("ana", receiver.url + "/ana")
        await n.publish(suggested, Service.MATCHING)
        (request,) = await receiver.wait_for(1)
    data = json.loads(request.body)["data"]
    assert len(data["reasons"]) == 2
    assert _links(request)[0] == (
        "Open the question",
        "https://intranet.example/guild/platform/posts/q42",
    )
    turn_off = [link for link in _links(request) if link[0].startswith("Turn off")]
    assert [label for label, _ in turn_off] == ["Turn off: questions matched to you"]


async def test_a_digest_links_to_each_post_it_lists(start_notifications):
    n = await start_notifications(portal_url=PORTAL)
    await n.member("ana")
    await n.member("bob")
    await n.join("ana")
    await n.prefer("ana", watch=(("c1", Watch.DIGEST),), digest_at=time(13))
    await n.question("bob", "Which CNI do you run?")

    await eventually(lambda: n.waiting("ana"), what="the question kept for ana's digest")
    n.advance(hours=3)

    async def digest():
        return [i for i in await n.inbox("ana") if i.kind == "digest"]

    (item,) = await eventually(digest, what="ana's digest")
    assert "Which CNI do you run?" in item.body
    assert "https://intranet.example/guild/c1/posts/" in item.body


async def test_a_pulse_names_the_most_helpful_people_instead_of_their_ids(notifications):
    n = notifications
    await n.member("fac")
    await n.store.contacts.put("ana", Contact("ana", "Ana Lima", "ana@corp.example", 1))
    pulse = c.CommunityPulseV1.model_validate({
        **example(c.CommunityPulseV1), "community_name": "Platform",
        "facilitators": [n.ref("fac")],
        "figures": {**example(c.PulseFigures), "most_helpful": [
            {"member": n.ref("ana"), "answers": 4, "accepted": 2, "upvotes": 9},
            {"member": {"member_id": "kim", "home_region": "apac"}, "answers": 1,
             "accepted": 0, "upvotes": 1}]},
    })  # fmt: skip
    await n.publish(pulse, Service.CONTENT)

    async def told():
        return [i for i in await n.inbox("fac") if i.kind == "pulse"]

    (item,) = await eventually(told, what="the pulse in fac's inbox")
    assert "Most helpful: Ana Lima, a colleague from apac." in item.body


async def test_a_matched_offer_links_each_side_to_the_other_post_without_raw_ids(
    start_notifications,
):
    n = await start_notifications(portal_url=PORTAL)
    await n.member("ana")
    await n.member("bob")
    offer = {**example(c.PostRef), "post_id": "offer7", "community_id": "tools",
             "kind": "resource_offer", "author": n.ref("bob")}  # fmt: skip
    request = {**offer, "post_id": "request9", "kind": "resource_request", "author": n.ref("ana")}
    matched = x.ResourceMatchedV1.model_validate({
        **example(x.ResourceMatchedV1), "offer": offer, "request": request, "position": 2,
        "item": "JetBrains seat", "reasons": ["offered to eu, where you work"],
    })  # fmt: skip
    async with HttpReceiver() as receiver:
        await n.webhook("ana", receiver.url + "/ana")
        await n.webhook("bob", receiver.url + "/bob")
        await n.publish(matched, Service.MATCHING)
        requests = await receiver.wait_for(2)
    told = {r.path: json.loads(r.body)["data"] for r in requests}
    assert told["/ana"]["links"][0] == {
        "label": "Open the offer",
        "url": "https://intranet.example/guild/tools/posts/offer7",
    }
    assert told["/bob"]["links"][0]["label"] == "Open the request"
    assert "offer7" not in told["/ana"]["body"]
    assert "request9" not in told["/bob"]["body"]
    assert "you are number 2" in told["/ana"]["body"]
