"""Background tasks stopped for sure, and writes awaited many at a time (:func:`pipelined`).

On Python 3.11, ``asyncio.wait_for`` can lose a cancellation that arrives just as its inner
future completes (CPython gh-86296, fixed in 3.12 by a new implementation); nats-py's
``fetch`` waits that way. A loop that fetches in a task may then survive one ``cancel()``
and keep running, and whoever awaits it hangs. So: cancel again until it is done.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Awaitable, Iterable
from typing import Any, TypeVar

T = TypeVar("T")


async def cancel_and_wait(task: asyncio.Task[Any], *, every: float = 0.5) -> None:
    """Cancel ``task`` (again every ``every`` seconds if a cancellation was lost) until it
    has finished; its result or error is not raised here."""
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=every)
    with contextlib.suppress(asyncio.CancelledError, Exception):
        task.result()


PIPELINE_WINDOW = 256
"""How many writes one pipeline keeps in flight (requests awaiting their PubAck)."""


async def pipelined(writes: Iterable[Awaitable[T]], *, window: int = PIPELINE_WINDOW) -> list[T]:
    """Await ``writes`` with at most ``window`` in flight at once; their results in order.

    The way to write in bulk: each write (a KV put, a publish waiting for its PubAck) is one
    round trip to nats-server, so awaiting them in turn costs a round trip each, while many
    in flight on one connection cost about one. A write starts as soon as one before it is
    confirmed (a sliding window, not batches). Every write started is awaited even when one
    fails; then the first failure is raised, so the caller (a handler) is retried and makes
    its writes, which must be idempotent, again. Cancelled, it cancels the writes in flight."""
    pending = iter(writes)
    first = next(pending, None)
    if first is None:
        return []
    second = next(pending, None)
    if second is None:  # one write (most of a handler's groups): no task, no gathering
        return [await first]
    started: list[asyncio.Future[T]] = []
    running: set[asyncio.Future[T]] = set()  # those of started not yet seen done
    try:
        for write in itertools.chain((first, second), pending):
            while len(running) >= window:
                done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                running -= done
            future = asyncio.ensure_future(write)
            started.append(future)
            running.add(future)
        outcomes = await asyncio.gather(*started, return_exceptions=True)
    except asyncio.CancelledError:
        for future in started:
            future.cancel()
        raise
    failures = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    if failures:
        raise failures[0]
    return outcomes  # type: ignore[return-value]
