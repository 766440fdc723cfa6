"""Large fan-outs, in parts, on a consumer of their own.

A question to a whole community may reach tens of thousands of members; routing them all in
the handler of the event would hold the alerts consumer (and every personal alert behind it)
for as long, and outlast the consumer's ``ack_wait``. So the event's handler keeps the
question once (its bulletin), routes the people it mentions at once, and puts the rest of
its audience here in parts (:class:`~services.notifications.domain.bulletins.Part`, a few
hundred members each) on the ``FANOUT_<R>`` work-queue stream, each with a message id
derived from the event and the part number (the handler run again puts the same parts once).
This worker, on the ``notifications-bulk`` consumer, routes each part and acks it once its
writes are confirmed: a crash repeats only the part in hand (and that sends nothing twice:
see :func:`~services.notifications.handlers.delivery.route_all`); a part that keeps failing
is retried with backoff and, after ``max_deliver`` attempts, dead-lettered with its reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from pydantic import TypeAdapter

from services.notifications.delivery.outbox import unreadable
from services.notifications.domain.bulletins import Part
from shared.messaging.consumer import DeadLetterOffice
from shared.messaging.provisioning import RetryPolicy
from shared.messaging.publisher import JetStreamPublisher
from shared.tasks import pipelined

log = logging.getLogger("guild.notify.fanout")

PART = TypeAdapter(Part)
PART_SIZE = 500
"""Members per part: a part is routed in well under a second, far within ``ack_wait``."""


def fanout_stream(region: str) -> str:
    return f"FANOUT_{region.upper()}"


def fanout_subject(region: str, part: Part) -> str:
    return f"fanout.{region}.{part.bulletin}.{part.number}"


class FanOut:
    def __init__(
        self,
        *,
        region: str,
        publisher: JetStreamPublisher,
        office: DeadLetterOffice,
        durable: str,
        retry: RetryPolicy,
        part_size: int = PART_SIZE,
        concurrency: int = 2,
    ) -> None:
        self.region, self.publisher, self.office = region, publisher, office
        self.durable, self.retry, self.part_size = durable, retry, part_size
        self.stream = fanout_stream(region)
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: set[asyncio.Task[None]] = set()

    async def put(self, parts: list[Part]) -> None:
        """Enqueue each part once (its message id: the bulletin's key and its number)."""
        await pipelined(
            self.publisher.publish(
                PART.dump_json(part),
                fanout_subject(self.region, part),
                stream=self.stream,
                msg_id=f"{part.bulletin}.{part.number}",
                headers={"content-type": "application/json"},
            )
            for part in parts
        )

    async def work(self, js: JetStreamContext, route: Callable[[Part], Awaitable[None]]) -> None:
        """Route parts until cancelled; then let the parts in hand finish (up to 20 s)."""
        sub = await js.pull_subscribe_bind(self.durable, self.stream)
        try:
            await self._pull(sub, route)
        finally:
            if self._tasks:
                await asyncio.wait(self._tasks, timeout=20)
            with contextlib.suppress(Exception):
                await sub.unsubscribe()

    async def _pull(self, sub: Any, route: Callable[[Part], Awaitable[None]]) -> None:
        while True:
            await self._slots.acquire()
            try:
                (msg,) = await sub.fetch(1, timeout=1.0)
            except (TimeoutError, NatsTimeoutError):
                self._slots.release()
                continue
            except Exception as error:  # the connection is reconnecting: try again shortly
                self._slots.release()
                log.warning("fan-out fetch failed", extra={"error": repr(error)})
                await asyncio.sleep(1.0)
                continue
            task = asyncio.create_task(self._settle(msg, route))
            self._tasks.add(task)
            task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._slots.release()

    async def _settle(self, msg: Msg, route: Callable[[Part], Awaitable[None]]) -> None:
        try:
            part = PART.validate_json(msg.data)
        except ValueError as error:
            await self.office.give_up(msg, reason=unreadable(msg.data, error, "a fan-out part"),
                                      error_type=type(error).__name__,
                                      retry_in=self.retry.max_delay)  # fmt: skip
            return
        try:
            await route(part)
        except Exception as error:
            attempt = msg.metadata.num_delivered or 1
            if self.retry.max_deliver > 0 and attempt >= self.retry.max_deliver:
                await self.office.give_up(msg, reason=f"routing the part failed: {error!r}",
                                          error_type=type(error).__name__,
                                          retry_in=self.retry.max_delay)  # fmt: skip
                return
            log.warning("fan-out part not routed; retrying",
                        extra={"cause_id": part.cause_id, "part": part.number,
                               "attempt": attempt, "error": type(error).__name__})  # fmt: skip
            with contextlib.suppress(Exception):
                await msg.nak(delay=self.retry.delay_after(attempt))
            return
        await msg.ack()
