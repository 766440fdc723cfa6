"""Deciding an event's notifications reads nothing from the buckets: preferences, the day's
budget counts, endpoints and the ledger's decisions and 'told' entries are in memory, kept
current by the service's own writes at once (issue 12: about 18 sequential request-replies
per recipient). Then the writes go out together, and a second copy of the event sends
nothing again."""

from __future__ import annotations

from datetime import UTC, datetime

from services.notifications.domain.audience import Audience
from services.notifications.domain.endpoints import Endpoint, EndpointKind, MemberEndpoints
from services.notifications.domain.model import Notification, Reason, Recipient
from services.notifications.domain.preferences import Action, Preferences
from services.notifications.handlers import Deps
from services.notifications.handlers.delivery import Cause, plan, route_all
from tests.fakes import CountingKvStore, FakePublisher, notifications_store

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # 11:00 in Berlin: no quiet hours
MEMBERS = [f"m{k:03d}" for k in range(100)]


class Inbox:
    name = "inbox"

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, dispatch) -> None:
        self.sent.append(dispatch.notification.recipient.member_id)


class Outbox:
    def __init__(self) -> None:
        self.parcels: list[str] = []

    async def put(self, parcel) -> None:
        self.parcels.append(parcel.key)


def answer(member_id: str) -> Notification:
    return Notification(recipient=Recipient(member_id, "eu"), kind="answer",
                        title="Your question has an answer", body="...",
                        reasons=(Reason("kind:answer", "you asked it"),))  # fmt: skip


async def world() -> tuple[Deps, Inbox, Outbox]:
    store = notifications_store()
    for number, member_id in enumerate(MEMBERS):
        await store.audience.put(member_id, Audience(member_id, timezone="Europe/Berlin"))
        if number % 10 == 0:  # a tenth over today's budget, a tenth with a webhook
            await store.save_preferences(member_id, Preferences(daily_budget=0))
        if number % 10 == 1:
            hook = Endpoint(f"hook-{member_id}", EndpointKind.WEBHOOK, "https://h.example/x")
            await store.endpoints.put(member_id, MemberEndpoints(member_id, (hook,)))
    inbox, outbox = Inbox(), Outbox()
    deps = Deps(store=store, events=FakePublisher(), region="eu", clock=lambda: NOW,
                channels=(inbox,), outbox=outbox)  # fmt: skip
    return deps, inbox, outbox


def reads(deps: Deps) -> int:
    return sum(kv.reads for kv in deps.store.all() if isinstance(kv, CountingKvStore))


async def test_deciding_for_a_hundred_recipients_reads_no_bucket():
    deps, _, _ = await world()
    before = reads(deps)

    plans = [plan(Cause("e1", "answer_posted"), answer(m), deps) for m in MEMBERS]

    assert reads(deps) == before
    actions = [p.verdict.action for p in plans]
    assert actions.count(Action.NOW) == 90
    assert actions.count(Action.OVERFLOW) == 10  # over the budget of 0


async def test_an_event_to_a_hundred_is_routed_without_reads_and_once_when_it_comes_again():
    deps, inbox, outbox = await world()
    before = reads(deps)

    await route_all(Cause("e1", "answer_posted"), [answer(m) for m in MEMBERS], deps)
    await route_all(Cause("e1", "answer_posted"), [answer(m) for m in MEMBERS], deps)

    assert reads(deps) == before  # the digest items of the ten are written, never read
    assert sorted(inbox.sent) == MEMBERS  # each once
    assert len(set(outbox.parcels)) == 10  # one push per webhook (by id: the outbox dedupes)
    counts = {key: count for key, count in deps.store.spent.items.items() if count}
    assert len(counts) == 90
    assert set(counts.values()) == {1}  # counted once, not again for the second copy
