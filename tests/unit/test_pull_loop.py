"""Guild's pull loop (shared.messaging.window.PullLoop) with a fake subscription: how much it
fetches and when, in-progress acks while a handler runs, the time limit, and a stop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest

from shared.messaging.window import PullLoop, Window
from tests.helpers import eventually


@dataclass
class FakeMsg:
    """What the loop uses of a JetStream delivery: its metadata and its acks."""

    number: int
    pending_after: int
    in_progress_sent: int = 0
    nak_sent: int = 0

    @property
    def metadata(self) -> Any:
        return SimpleNamespace(num_pending=self.pending_after, num_delivered=1,
                               sequence=SimpleNamespace(stream=self.number))  # fmt: skip

    async def in_progress(self) -> None:
        self.in_progress_sent += 1

    async def nak(self) -> None:
        self.nak_sent += 1


@dataclass
class FakeSubscription:
    """A consumer with ``backlog`` messages waiting; records the size of every fetch."""

    backlog: int
    ack_wait: float = 30.0
    fetched: list[int] = field(default_factory=list)
    delivered: int = 0

    async def fetch(self, batch: int, timeout: float) -> list[FakeMsg]:
        await asyncio.sleep(0)
        count = min(batch, self.backlog - self.delivered)
        if count == 0:
            await asyncio.sleep(0.01)
            raise TimeoutError
        self.fetched.append(batch)
        first = self.delivered
        self.delivered += count
        return [FakeMsg(n, self.backlog - n - 1) for n in range(first, first + count)]

    async def consumer_info(self) -> Any:
        return SimpleNamespace(config=SimpleNamespace(ack_wait=self.ack_wait))


class Handlers:
    """Handlers that each wait for their own release."""

    def __init__(self) -> None:
        self.gates: dict[int, asyncio.Event] = {}
        self.cancelled: list[int] = []
        self.done: list[int] = []

    async def handle(self, msg: FakeMsg) -> None:
        gate = self.gates.setdefault(msg.number, asyncio.Event())
        try:
            await gate.wait()
        except asyncio.CancelledError:
            self.cancelled.append(msg.number)
            raise
        self.done.append(msg.number)

    def release(self, *numbers: int) -> None:
        for number in numbers:
            self.gates.setdefault(number, asyncio.Event()).set()

    @property
    def running(self) -> int:
        return len(self.gates) - len(self.done) - len(self.cancelled)


@dataclass
class Running:
    loop: PullLoop
    subscription: FakeSubscription
    handlers: Handlers
    turning: list[bool]
    task: asyncio.Task[None]


@pytest.fixture
async def started(request: pytest.FixtureRequest) -> AsyncIterator[Running]:
    size, backlog, ack_wait, time_limit = request.param
    subscription, handlers, turning = FakeSubscription(backlog, ack_wait), Handlers(), [True]
    window = Window(size=size, time_limit=time_limit, ack_wait=ack_wait, consumer="test")
    loop = PullLoop(subscription, handlers.handle, window, lambda: turning[0])  # type: ignore[arg-type]
    task = asyncio.create_task(loop.run())
    yield Running(loop, subscription, handlers, turning, task)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def holds(value: bool) -> bool:
    return value


async def a_few_turns() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


@pytest.mark.parametrize("started", [(8, 100, 30.0, 600.0)], indirect=True)
async def test_it_fills_the_window_then_fetches_once_a_quarter_is_free(started: Running):
    subscription, handlers = started.subscription, started.handlers
    await eventually(lambda: holds(handlers.running == 8), what="the window full")
    assert subscription.fetched == [1, 7]  # one (nothing known yet), then what is free
    handlers.release(0)
    await a_few_turns()
    assert subscription.fetched == [1, 7]  # one slot: 92 wait, so not yet
    handlers.release(1)
    await eventually(lambda: holds(subscription.fetched == [1, 7, 2]), what="a fetch of two")
    await eventually(lambda: holds(handlers.running == 8), what="the window full again")


@pytest.mark.parametrize("started", [(8, 3, 30.0, 600.0)], indirect=True)
async def test_it_fetches_no_more_than_wait_and_then_waits_for_one(started: Running):
    subscription, handlers = started.subscription, started.handlers
    await eventually(lambda: holds(handlers.running == 3), what="all three in hand")
    assert subscription.fetched == [1, 2]
    handlers.release(0, 1, 2)
    await eventually(lambda: holds(len(handlers.done) == 3), what="all three done")
    subscription.backlog = 4  # one more arrives
    await eventually(lambda: holds(handlers.running == 1), what="the new one in hand")
    assert subscription.fetched == [1, 2, 1]


@pytest.mark.parametrize("started", [(4, 2, 0.3, 600.0)], indirect=True)
async def test_a_long_handler_sends_in_progress_acks_until_it_finishes(started: Running):
    handlers = started.handlers
    await eventually(lambda: holds(handlers.running == 2), what="both in hand")
    handlers.release(1)
    long = next(held.msg for held in started.loop.in_hand.values())
    await eventually(lambda: holds(long.in_progress_sent >= 3), what="in-progress acks")
    handlers.release(0)
    await eventually(lambda: holds(not started.loop.in_hand), what="it finished")
    sent = long.in_progress_sent
    await asyncio.sleep(0.3)  # one ack_wait: another sweep would have sent one
    assert long.in_progress_sent == sent
    assert long.nak_sent == 0


@pytest.mark.parametrize("started", [(4, 1, 0.3, 0.5)], indirect=True)
async def test_a_handler_past_its_time_limit_is_cancelled_and_left_unsettled(started: Running):
    handlers = started.handlers
    await eventually(lambda: holds(handlers.running == 1), what="in hand")
    (held,) = started.loop.in_hand.values()
    await eventually(lambda: holds(handlers.cancelled == [0]), what="cancelled")
    assert held.msg.nak_sent == 0  # JetStream delivers it again after ack_wait
    await eventually(lambda: holds(not started.loop.in_hand), what="its slot free")


@pytest.mark.parametrize("started", [(4, 6, 30.0, 600.0)], indirect=True)
async def test_a_stop_fetches_nothing_more_and_lets_the_handlers_in_hand_finish(
    started: Running,
):
    subscription, handlers = started.subscription, started.handlers
    await eventually(lambda: holds(handlers.running == 4), what="the window full")
    started.turning[0] = False
    handlers.release(0, 1, 2, 3)
    await eventually(lambda: holds(len(handlers.done) == 4), what="those in hand done")
    await a_few_turns()
    assert subscription.delivered == 4
    assert handlers.cancelled == []


@pytest.mark.parametrize("started", [(4, 6, 30.0, 600.0)], indirect=True)
async def test_a_cancelled_loop_cancels_its_handlers_and_hands_their_messages_back(
    started: Running,
):
    await eventually(lambda: holds(started.handlers.running == 4), what="the window full")
    messages = [held.msg for held in started.loop.in_hand.values()]
    started.task.cancel()
    await asyncio.gather(started.task, return_exceptions=True)
    assert sorted(started.handlers.cancelled) == [0, 1, 2, 3]
    assert [msg.nak_sent for msg in messages] == [1, 1, 1, 1]
