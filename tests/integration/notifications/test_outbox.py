"""The outbox over a real nats-server: members' endpoints get each notification once, a
failing receiver is retried with the same ``webhook-id`` until it recovers, others are not
held up meanwhile, and what cannot be delivered is turned off, told and dead-lettered."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook

from guild_cli.receivers import HttpReceiver, Received, Reply
from services.notifications.bootstrap import build_app
from services.notifications.delivery.outbox import PARCEL
from services.notifications.domain.endpoints import (
    Endpoint,
    EndpointKind,
    Message,
    Parcel,
    new_signing_secret,
)
from services.notifications.domain.model import delivery_key
from services.notifications.settings import NotificationsSettings
from services.notifications.store.buckets import NotificationsStore
from shared.contracts.notifications import (
    NotificationDeferredV1,
    NotificationDeliveredV1,
    NotificationFailedV1,
)
from shared.naming import Streams, outbox_subject
from tests import access
from tests.helpers import dead_letters, events_of_type, eventually, running, settings_for

NOW = datetime(2026, 11, 25, 10, tzinfo=UTC)


@pytest.fixture
async def notifications(nats_url, region):
    """Starts the notifications service with fast retries; stops it after the test."""
    async with contextlib.AsyncExitStack() as stack:

        async def start(**overrides) -> NotificationsStore:
            settings = settings_for(
                NotificationsSettings, region, nats_url, allow_loopback_receivers=True,
                delivery_first_retry=0.2, delivery_max_retry=0.5, **overrides,
            )  # fmt: skip
            store = NotificationsStore.for_region(region, access.KEYRING)
            await stack.enter_async_context(running(build_app(settings, store)))
            return store

        yield start


async def add_webhook(store, member_id: str, url: str, kind=EndpointKind.WEBHOOK) -> Endpoint:
    endpoint = Endpoint(endpoint_id=f"hook-{member_id}", kind=kind, address=url,
                        secrets=(new_signing_secret(NOW),))  # fmt: skip
    await store.save_endpoint(member_id, endpoint)
    return endpoint


async def enqueue(nc, region: str, member_id: str, endpoint: Endpoint, cause: str) -> str:
    """What the router does: one parcel per (cause, member, endpoint), with that id."""
    key = delivery_key(cause, member_id, endpoint.endpoint_id)
    message = Message(key, "answer", f"Answer to {cause}", "Body", ("you asked it",), NOW)
    parcel = Parcel(member_id, region, endpoint.endpoint_id, message, cause,
                    "guild.content.answer_posted.v1", f"Answer to {cause}")  # fmt: skip
    await nc.jetstream().publish(
        outbox_subject(region, member_id), PARCEL.dump_json(parcel),
        stream=Streams(region).outbox, headers={"Nats-Msg-Id": key},
    )  # fmt: skip
    return key


def failing_first(count: int, reply: Reply):
    """Answers ``reply`` to the first ``count`` requests, then 200."""
    seen = []

    def respond(request: Received) -> Reply:
        seen.append(request)
        return reply if len(seen) <= count else Reply()

    return respond


async def test_a_receiver_that_fails_for_a_while_gets_everything_once_and_others_are_not_held_up(
    notifications, nc, region
):
    store = await notifications()
    async with HttpReceiver(failing_first(12, Reply(503, {}, b"down"))) as flaky, \
               HttpReceiver() as healthy:  # fmt: skip
        bad = await add_webhook(store, "m1", flaky.url + "/hook")
        good = await add_webhook(store, "m2", healthy.url + "/hook")
        flaky_ids, healthy_ids = [], []
        for n in range(5):
            flaky_ids.append(await enqueue(nc, region, "m1", bad, f"cause-{n}"))
            healthy_ids.append(await enqueue(nc, region, "m2", good, f"cause-{n}"))
        await enqueue(nc, region, "m1", bad, "cause-0")  # the same notification again
        await flaky.wait_for(12 + 5)
        await healthy.wait_for(5)

        async def all_delivered():
            events = await events_of_type(nc, Streams(region).events, NotificationDeliveredV1.TYPE)
            return events if len(events) >= 10 else None

        await eventually(all_delivered, what="10 deliveries announced")
        retried = await events_of_type(nc, Streams(region).events, NotificationDeferredV1.TYPE)

    assert sorted(r.headers["webhook-id"] for r in healthy.requests) == sorted(healthy_ids)
    answered_ok = flaky.requests[12:]
    assert sorted(r.headers["webhook-id"] for r in answered_ok) == sorted(flaky_ids)
    attempts = {i: [r for r in flaky.requests if r.headers["webhook-id"] == i] for i in flaky_ids}
    assert all(attempts.values())
    assert max(len(a) for a in attempts.values()) >= 2  # retried, with the same webhook-id
    for request, endpoint in [(r, bad) for r in flaky.requests] + [(r, good) for r in
                                                                    healthy.requests]:  # fmt: skip
        Webhook(endpoint.secrets[0].secret).verify(request.body, request.headers)
    assert max(r.at for r in healthy.requests) < answered_ok[0].at
    assert len(retried) == 12
    assert {e["data"]["why"] for e in retried} == {"retrying: HTTP 503"}
    ledger = [(await store.ledger.get(i)).value for i in flaky_ids]
    assert {entry.status for entry in ledger} == {"delivered"}


async def test_retry_after_is_honoured_and_410_turns_the_endpoint_off_and_tells_the_member(
    notifications, nc, region
):
    store = await notifications()
    replies = [Reply(429, {"Retry-After": "1"}, b"slow down"), Reply(200), Reply(410, {}, b"gone")]
    async with HttpReceiver(lambda _: replies.pop(0) if replies else Reply()) as slack:
        hook = await add_webhook(store, "m1", slack.url + "/services/T/B/x", EndpointKind.SLACK)
        first = await enqueue(nc, region, "m1", hook, "c1")
        await slack.wait_for(2)
        gone = await enqueue(nc, region, "m1", hook, "c2")
        await slack.wait_for(3)

        async def turned_off():
            endpoint = await store.endpoint("m1", hook.endpoint_id)
            return endpoint if endpoint.disabled_reason else None

        endpoint = await eventually(turned_off, what="the endpoint turned off")
        after = await enqueue(nc, region, "m1", hook, "c3")

        async def three_failures_or_more():
            letters = await dead_letters(nc, region)
            return letters if len(letters) >= 2 else None

        letters = await eventually(three_failures_or_more, what="2 dead letters")
        inbox = await eventually(lambda: inbox_titles(store, "m1"), what="a word in the inbox")

    assert slack.requests[1].at - slack.requests[0].at >= 1.0  # Retry-After: 1
    assert slack.requests[0].headers.get("webhook-id") is None  # Slack gets its own format
    assert len(slack.requests) == 3  # nothing sent after 410
    assert endpoint.disabled_reason == "HTTP 410: the endpoint no longer exists"
    failed = await events_of_type(nc, Streams(region).events, NotificationFailedV1.TYPE)
    by_id = {e["data"]["notification_id"]: e["data"] for e in failed}
    assert by_id[gone]["endpoint_disabled"] is True
    assert by_id[after]["why"] == "the endpoint is turned off"
    assert first not in by_id
    assert sorted(d.reason for d in letters) == [
        f"endpoint:{hook.endpoint_id}: the endpoint is turned off",
        f"slack:{hook.endpoint_id}: HTTP 410: the endpoint no longer exists",
    ]
    assert any("turned off" in title for title in inbox)


async def test_a_delivery_still_failing_after_its_attempts_is_dead_lettered_with_its_reason(
    notifications, nc, region
):
    store = await notifications(delivery_attempts=3)
    async with HttpReceiver(lambda _: Reply(503, {}, b"down")) as down:
        hook = await add_webhook(store, "m1", down.url + "/hook")
        key = await enqueue(nc, region, "m1", hook, "c1")
        letters = await eventually(lambda: dead_letters(nc, region), what="a dead letter")
    assert len(down.requests) == 3
    assert {r.headers["webhook-id"] for r in down.requests} == {key}
    assert letters[0].reason == (
        f"webhook:{hook.endpoint_id}: still failing after 3 attempts: HTTP 503"
    )
    entry = (await store.ledger.get(key)).value
    assert (entry.status, entry.attempts) == ("failed", 3)


async def inbox_titles(store, member_id: str) -> list[str]:
    return [item.title for _, item in await store.inbox_items(member_id)][::-1]
