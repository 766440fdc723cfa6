"""Background loops stop even when a cancellation is lost (as nats-py's fetch can lose one
on Python 3.11); pipelined writes keep a bounded window and lose no failure."""

from __future__ import annotations

import asyncio

import pytest

from shared.tasks import cancel_and_wait, pipelined


async def test_a_loop_that_swallows_a_cancellation_is_cancelled_again_until_it_stops():
    swallowed = 0

    async def stubborn_loop() -> None:
        nonlocal swallowed
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                if swallowed < 2:  # what a lost cancellation looks like from outside
                    swallowed += 1
                    continue
                raise

    task = asyncio.create_task(stubborn_loop())
    await asyncio.sleep(0)
    await cancel_and_wait(task, every=0.01)
    assert task.cancelled()
    assert swallowed == 2


async def test_pipelined_writes_keep_at_most_the_window_in_flight_and_return_in_order():
    in_flight, most = 0, 0

    async def write(number: int) -> int:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.001 * (number % 3))
        in_flight -= 1
        return number

    assert await pipelined((write(n) for n in range(50)), window=7) == list(range(50))
    assert most == 7


async def test_a_failed_write_is_raised_after_every_other_write_was_awaited():
    done: list[int] = []

    async def write(number: int) -> int:
        await asyncio.sleep(0)
        if number == 3:
            raise ConnectionError("no PubAck")
        done.append(number)
        return number

    with pytest.raises(ConnectionError):
        await pipelined((write(n) for n in range(10)), window=4)
    assert sorted(done) == [0, 1, 2, 4, 5, 6, 7, 8, 9]


async def test_no_write_one_write_and_a_failing_one_are_awaited_alike():
    async def write(value: int) -> int:
        await asyncio.sleep(0)
        if value < 0:
            raise ValueError(f"refused {value}")
        return value

    assert await pipelined(iter(())) == []
    assert await pipelined(write(n) for n in [7]) == [7]
    with pytest.raises(ValueError, match="refused -1"):
        await pipelined([write(-1)])
