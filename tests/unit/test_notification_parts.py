"""A part of a large fan-out writes one ledger record for all its members (issue 12: five
records per member: the decision, its 'told' entry, the day's count and the inbox entry, in
turn with the inbox item), and that record is all a redelivery or a restart needs: each member
decided once, counted once against the day's budget, sent one inbox item, and told of the
question once, however the part or a personal alert about the same question comes again."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

from services.notifications.domain.audience import Audience
from services.notifications.domain.model import (
    PART_KEYS,
    Notification,
    Post,
    Reason,
    Recipient,
    question_alert,
    question_topic,
)
from services.notifications.domain.preferences import Action, Preferences, Watch
from services.notifications.handlers import Deps
from services.notifications.handlers.delivery import Cause, route_all
from services.notifications.store.buckets import LedgerFacts
from shared.contracts.notifications import NotificationDeliveredV1
from shared.envelope import Envelope
from tests.fakes import FakeKvStore, FakePublisher, notifications_store

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # 11:00 in Berlin: no quiet hours
TODAY = "2026-12-01"
MEMBERS = [f"m{k:03d}" for k in range(100)]
QUESTION = "q1"


class Inbox:
    name = "inbox"

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, dispatch: Any) -> None:
        self.sent.append(dispatch.notification.recipient.member_id)


def new_question(member_id: str, question: str = QUESTION) -> Notification:
    return Notification(recipient=Recipient(member_id, "eu"), kind="new_question",
                        title="New question in Platform: Which CNI?", body="...",
                        reasons=(Reason("community:c1", "you are a member of Platform"),),
                        community_id="c1", posts=(Post.question(question, "c1"),),
                        topic=question_topic(question))  # fmt: skip


def part(number: int = 1, cause: str = "posted-1") -> Cause:
    return Cause(cause, "question_posted", part=number)


async def world(store: Any = None, budget: int = 5) -> tuple[Deps, Inbox]:
    store = store or notifications_store()
    watching = Preferences(default_watch=Watch.EVERYTHING, quiet_hours=None,
                           daily_budget=budget)  # fmt: skip
    for member_id in MEMBERS:
        await store.audience.put(member_id, Audience(member_id, timezone="Europe/Berlin"))
        await store.save_preferences(member_id, watching)
    inbox = Inbox()
    deps = Deps(store=store, events=FakePublisher(), region="eu", clock=lambda: NOW,
                channels=(inbox,))  # fmt: skip
    return deps, inbox


def restarted(store: Any) -> Any:
    """A new store whose read models are fed again from what ``store``'s buckets hold."""
    fresh = notifications_store()
    for name, kv in vars(store).items():
        if isinstance(kv, FakeKvStore):
            for key, (data, _) in sorted(kv.data.items(), key=lambda held: held[1][1]):
                getattr(fresh, name)._write(key, data)
    return fresh


def ledger_keys(store: Any) -> list[str]:
    return sorted(store.ledger.data) + sorted(store.parts.data)


async def test_a_part_of_a_hundred_writes_one_ledger_record_and_no_budget_count():
    deps, inbox = await world()

    plans = await route_all(part(), [new_question(m) for m in MEMBERS], deps)

    assert {p.verdict.action for p in plans} == {Action.NOW}
    assert sorted(inbox.sent) == MEMBERS
    (key,) = ledger_keys(deps.store)
    assert key.startswith(PART_KEYS)
    record = (await deps.store.parts.get(key)).value
    assert len(record.routes) == len(record.told) == len(record.counted) == len(MEMBERS)
    assert len(record.sent) == len(MEMBERS)
    assert record.delivered_at
    assert len(record.decisions) == 1  # one decision for all, by its place
    assert deps.store.budget.data == {}  # the day's counts are the record's
    assert {deps.store.interruptions(m, TODAY) for m in MEMBERS} == {1}


async def test_a_part_routed_again_after_a_restart_sends_and_counts_nothing():
    deps, inbox = await world()
    await route_all(part(), [new_question(m) for m in MEMBERS], deps)

    for store in (deps.store, restarted(deps.store)):  # redelivered; then after a restart
        again, inbox_again = await world(store)
        await route_all(part(), [new_question(m) for m in MEMBERS], again)
        assert inbox_again.sent == []
        assert {store.interruptions(m, TODAY) for m in MEMBERS} == {1}
        assert len(ledger_keys(store)) == 1
    assert sorted(inbox.sent) == MEMBERS


async def test_a_part_whose_items_failed_is_routed_again_from_its_record():
    deps, inbox = await world()
    real, calls = inbox.send, []

    async def failing_once(dispatch: Any) -> None:
        calls.append(1)
        if len(calls) == 50:
            raise ConnectionError("the inbox item was not confirmed")
        await real(dispatch)

    inbox.send = failing_once  # type: ignore[method-assign]
    with contextlib.suppress(ConnectionError):
        await route_all(part(), [new_question(m) for m in MEMBERS], deps)
    (key,) = ledger_keys(deps.store)
    assert not (await deps.store.parts.get(key)).value.delivered_at  # no item confirmed all

    store = restarted(deps.store)  # the crash: memory from the buckets only
    again, inbox_again = await world(store)
    await route_all(part(), [new_question(m) for m in MEMBERS], again)

    assert sorted(inbox_again.sent) == MEMBERS  # again, each with the same notification id
    assert {store.interruptions(m, TODAY) for m in MEMBERS} == {1}  # not counted again
    record = (await store.parts.get(key)).value
    assert record.delivered_at
    assert len(record.sent) == len(MEMBERS)
    assert len(ledger_keys(store)) == 1  # the record reused, nothing per member


async def test_the_budget_counts_a_part_for_its_members_and_the_next_overflows():
    deps, _ = await world(budget=1)
    await route_all(part(cause="posted-1"), [new_question(m) for m in MEMBERS], deps)

    second = [new_question(m, "q2") for m in MEMBERS]
    plans = await route_all(part(cause="posted-2"), second, deps)

    assert {p.verdict.action for p in plans} == {Action.OVERFLOW}  # over the budget of 1
    store = restarted(deps.store)
    assert {store.interruptions(m, TODAY) for m in MEMBERS} == {1}


async def test_a_member_told_by_a_part_is_not_told_again_by_a_personal_alert():
    deps, _inbox = await world()
    await route_all(part(), [new_question(m) for m in MEMBERS], deps)
    store = restarted(deps.store)
    again, inbox_again = await world(store)

    alert = question_alert(Recipient("m007", "eu"), "Platform", "Which CNI?", "Bob",
                           ["you answered 6 questions on kubernetes"],
                           Post.question(QUESTION, "c1"))  # fmt: skip
    (routed,) = await route_all(Cause("suggested-1", "experts_suggested"), [alert], again)

    assert routed.verdict.action is Action.SUPPRESS
    assert inbox_again.sent == []


async def test_a_personal_alert_first_leaves_the_member_out_of_the_part():
    deps, inbox = await world()
    alert = question_alert(Recipient("m007", "eu"), "Platform", "Which CNI?", "Bob",
                           ["you answered 6 questions on kubernetes"],
                           Post.question(QUESTION, "c1"))  # fmt: skip
    await route_all(Cause("suggested-1", "experts_suggested"), [alert], deps)

    plans = await route_all(part(), [new_question(m) for m in MEMBERS], deps)

    assert [p.member_id for p in plans if p.verdict.action is Action.SUPPRESS] == ["m007"]
    assert sorted(inbox.sent) == MEMBERS  # m007 once, by the alert
    record = (await deps.store.parts.get(next(iter(deps.store.parts.data)))).value
    assert len(record.told) == len(MEMBERS) - 1


async def test_the_ledger_facts_of_parts_survive_a_snapshot():
    deps, _ = await world()
    await route_all(part(), [new_question(m) for m in MEMBERS], deps)
    facts, restored = deps.store.facts, LedgerFacts()

    restored.restore(facts.snapshot())

    assert restored.decided == facts.decided
    assert restored.delivered == facts.delivered
    assert restored.counted == facts.counted
    assert restored.parts == facts.parts


def personal(cause: str = "suggested-1") -> Cause:
    """An event's own recipients (the experts it suggests): its part 0."""
    envelope = Envelope.model_construct(
        specversion="1.0",
        id=cause,
        source="/matching",
        type="guild.matching.experts_suggested.v1",
        data=None,
    )
    return Cause.of(envelope)


def alerts(members: list[str]) -> list[Notification]:
    return [question_alert(Recipient(m, "eu"), "Platform", "Which CNI?", "Bob",
                           ["you answered 6 questions on kubernetes"],
                           Post.question(QUESTION, "c1")) for m in members]  # fmt: skip


async def test_an_event_to_ten_people_writes_one_ledger_record_and_a_status_each():
    deps, inbox = await world()
    experts = MEMBERS[:10]

    plans = await route_all(personal(), alerts(experts), deps)

    assert {p.verdict.action for p in plans} == {Action.NOW}
    assert sorted(inbox.sent) == experts
    (key,) = ledger_keys(deps.store)  # not five entries for each of the ten
    assert key.startswith(PART_KEYS)
    assert len((await deps.store.parts.get(key)).value.sent) == len(experts)
    delivered = deps.events.of(NotificationDeliveredV1)
    assert sorted(d.recipient.member_id for d in delivered) == experts


async def test_an_event_to_ten_people_redelivered_after_a_restart_sends_nothing():
    deps, inbox = await world()
    experts = MEMBERS[:10]
    await route_all(personal(), alerts(experts), deps)

    for store in (deps.store, restarted(deps.store)):
        again, inbox_again = await world(store)
        plans = await route_all(personal(), alerts(experts), again)
        assert inbox_again.sent == []
        assert {p.verdict.action for p in plans} == {Action.NOW}  # decided once, reused
        assert {store.interruptions(m, TODAY) for m in experts} == {1}
        assert len(ledger_keys(store)) == 1
    assert sorted(inbox.sent) == experts
