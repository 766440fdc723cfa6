"""Stopping background tasks for sure.

On Python 3.11, ``asyncio.wait_for`` can lose a cancellation that arrives just as its inner
future completes (CPython gh-86296, fixed in 3.12 by a new implementation); nats-py's
``fetch`` waits that way. A loop that fetches in a task may then survive one ``cancel()``
and keep running, and whoever awaits it hangs. So: cancel again until it is done.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any


async def cancel_and_wait(task: asyncio.Task[Any], *, every: float = 0.5) -> None:
    """Cancel ``task`` (again every ``every`` seconds if a cancellation was lost) until it
    has finished; its result or error is not raised here."""
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=every)
    with contextlib.suppress(asyncio.CancelledError, Exception):
        task.result()
