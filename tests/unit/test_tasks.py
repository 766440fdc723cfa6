"""Background loops stop even when a cancellation is lost (as nats-py's fetch can lose one
on Python 3.11)."""

from __future__ import annotations

import asyncio

from shared.tasks import cancel_and_wait


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
