"""The event loop a process runs on: the standard library's asyncio loop by default, or
uvloop (libuv) when asked (the ``event_loop`` setting; asyncio's, with a warning, where
uvloop is not installed: Windows has none).

uvloop runs Guild's services with about a fifth less CPU per event than asyncio's own loop
in the hop benchmark, but with the whole region busy on two cores (the set-up of 50,000
members) nats-server's JetStream API went unanswered for over a minute in both runs tried
on it, and in neither on asyncio's loop (docs/performance.md); so it is not the default.
Nothing in Guild depends on which loop it runs on. Tests that run services inside pytest use
pytest-asyncio's loop (asyncio's)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any, Literal, TypeVar

T = TypeVar("T")

log = logging.getLogger("guild.loop")

EventLoop = Literal["asyncio", "uvloop"]


def loop_factory(wanted: EventLoop) -> Callable[[], asyncio.AbstractEventLoop]:
    """What makes the loop ``wanted``; asyncio's, with a warning, if uvloop is wanted but
    cannot be imported."""
    if wanted == "uvloop":
        try:
            import uvloop
        except ImportError:
            log.warning("uvloop is not installed: running on asyncio's event loop")
        else:
            return uvloop.new_event_loop
    return asyncio.new_event_loop


def run(main: Coroutine[Any, Any, T], wanted: EventLoop) -> T:
    """``asyncio.run(main)`` on the loop ``wanted``."""
    with asyncio.Runner(loop_factory=loop_factory(wanted)) as runner:
        return runner.run(main)
