"""The outbox: every notification bound for a member's own endpoint (e-mail, Slack, Teams,
webhook, Apprise) waits here until it is delivered or Guild gives up, and is then removed.

It is a work-queue stream in the member's home region, one subject per member (so erasing
a member purges theirs), with a message id per (cause event, member, endpoint): enqueuing the
same notification twice keeps one. A worker pulls from it and sends each message in its own
task, so that one slow or failing endpoint holds one slot and never the others:

* the ledger entry of the notification says whether it was already delivered (then nothing
  is sent again) and how many attempts were made;
* one message at a time per endpoint, within its rate limits; a busy or paused endpoint's
  messages come back a little later (a NAK with a delay), others go on;
* a transient failure (429, 5xx, timeout) is retried with exponential backoff and jitter
  (or after ``Retry-After``) for about three days; the message keeps its id, so a webhook
  receiver sees the same ``webhook-id`` on every attempt;
* 410 Gone, or three permanent failures in a row, turns the endpoint off and tells the
  member in their inbox; a message Guild gives up on goes to the dead-letter stream with
  its reason, and a ``notification_failed`` event says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from pydantic import TypeAdapter

from services.notifications.channels import EndpointChannel
from services.notifications.delivery.pacing import Backoff, RateLimits
from services.notifications.domain.endpoints import (
    Endpoint,
    EndpointKind,
    Outcome,
    Parcel,
    Result,
    logged_reason,
)
from services.notifications.domain.model import Delivery, Status
from services.notifications.store.buckets import NotificationsStore
from shared.bounded_json import load_json
from shared.messaging.consumer import DeadLetterOffice
from shared.messaging.publisher import JetStreamPublisher
from shared.naming import Streams, outbox_subject

log = logging.getLogger("guild.notify.outbox")

DISABLE_AFTER = 3
"""Permanent failures in a row after which an endpoint is turned off."""
QUEUED_PER_ENDPOINT = 4
"""Messages that may wait in turn for an endpoint that is sending; more come back later
(so that an endpoint with a backlog, or a slow one, holds few of the worker's slots)."""
BUSY_RETRY = 0.5
"""Seconds after which such a message comes back."""


PARCEL = TypeAdapter(Parcel)


class Reporter(Protocol):
    """Tells the world (status events) and the member (their inbox) what happened."""

    async def delivered(self, parcel: Parcel, endpoint: Endpoint, outcome: Outcome) -> None: ...

    async def retrying(
        self, parcel: Parcel, endpoint: Endpoint, outcome: Outcome, until: datetime, attempts: int
    ) -> None: ...

    async def failed(
        self, parcel: Parcel, channel: str, why: str, attempts: int, disabled: bool
    ) -> None: ...

    async def endpoint_disabled(self, parcel: Parcel, endpoint: Endpoint, why: str) -> None: ...


class Outbox:
    def __init__(
        self,
        *,
        region: str,
        store: NotificationsStore,
        publisher: JetStreamPublisher,
        office: DeadLetterOffice,
        channels: Mapping[EndpointKind, EndpointChannel],
        reporter: Reporter,
        durable: str,
        backoff: Backoff | None = None,
        clock: Callable[[], datetime],
        concurrency: int = 64,
    ) -> None:
        self.region, self.store, self.publisher, self.office = region, store, publisher, office
        self.channels, self.reporter, self.durable = channels, reporter, durable
        self.backoff, self.clock = backoff or Backoff(), clock
        self.stream = Streams(region).outbox
        self.limits = RateLimits()
        self._slots = asyncio.Semaphore(concurrency)
        self._turns: dict[str, asyncio.Lock] = {}
        self._waiting: dict[str, int] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------------ enqueue

    async def put(self, parcel: Parcel) -> None:
        """Enqueue (at most once per notification id, within the stream's duplicate window;
        the ledger keeps it from being delivered twice after that)."""
        await self.publisher.publish(
            PARCEL.dump_json(parcel),
            outbox_subject(self.region, parcel.member_id),
            stream=self.stream,
            msg_id=parcel.key,
            headers={"content-type": "application/json"},
        )

    # ------------------------------------------------------------------ the worker

    async def work(self, js: JetStreamContext) -> None:
        """Deliver until cancelled; then let the sends in hand finish (up to 20 s)."""
        sub = await js.pull_subscribe_bind(self.durable, self.stream)
        try:
            await self._pull(sub)
        finally:
            if self._tasks:
                await asyncio.wait(self._tasks, timeout=20)
            with contextlib.suppress(Exception):
                await sub.unsubscribe()

    async def _pull(self, sub: Any) -> None:
        while True:
            try:
                messages = await sub.fetch(50, timeout=1.0)
            except (TimeoutError, NatsTimeoutError):
                continue
            except Exception as error:  # the connection is reconnecting: try again shortly
                log.warning("outbox fetch failed", extra={"error": repr(error)})
                await asyncio.sleep(1.0)
                continue
            for msg in messages:
                await self._slots.acquire()
                task = asyncio.create_task(self._settle(msg))
                self._tasks.add(task)
                task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._slots.release()

    async def _settle(self, msg: Msg) -> None:
        try:
            await self._handle(msg)
        except Exception:  # a bug or the store unreachable: try again later, loudly
            log.exception("outbox message not handled; retrying in 30 s")
            await _nak(msg, 30.0)

    async def _handle(self, msg: Msg) -> None:
        try:
            parcel = PARCEL.validate_json(msg.data)
        except ValueError as error:
            await self.office.give_up(msg, reason=unreadable(msg.data, error),
                                      error_type=type(error).__name__,
                                      retry_in=KEPT_RETRY)  # fmt: skip
            return
        held = await self.store.ledger.get(parcel.key)
        ledger = held.value if held else Delivery(Status.QUEUED, self.clock().isoformat())
        if ledger.status in (Status.DELIVERED, Status.ACCEPTED):
            await msg.ack()  # a duplicate, or a redelivery after a crash
            return
        if ledger.status is Status.FAILED:  # given up: its letter (again) before it leaves
            await self.office.give_up(msg, reason=ledger.why, error_type="DeliveryFailed",
                                      retry_in=KEPT_RETRY)  # fmt: skip
            return
        endpoint = await self.store.endpoint(parcel.member_id, parcel.endpoint_id)
        if endpoint is None or not endpoint.enabled:
            why = "the endpoint was removed" if endpoint is None else "the endpoint is turned off"
            await self._give_up(msg, parcel, ledger, f"endpoint:{parcel.endpoint_id}", why)
            return
        channel = self.channels.get(endpoint.kind)
        if channel is None:
            why = f"{endpoint.kind.value} is not offered in region {self.region}"
            await self._give_up(msg, parcel, ledger, endpoint.shown(), why)
            return
        key = endpoint.endpoint_id
        turn = self._turns.setdefault(key, asyncio.Lock())
        if turn.locked() and self._waiting.get(key, 0) >= QUEUED_PER_ENDPOINT:
            await _nak(msg, BUSY_RETRY)
            return
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            await turn.acquire()
        finally:
            self._waiting[key] -= 1
        try:
            wait = self.limits.reserve(key, endpoint.kind, time.monotonic())
            if wait > 0:
                await _nak(msg, wait)
                return
            outcome = await channel.send(parcel.message, endpoint)
        finally:
            turn.release()
            if not self._waiting[key]:
                del self._turns[key], self._waiting[key]
        await self._record(msg, parcel, endpoint, ledger, outcome)

    async def _record(
        self, msg: Msg, parcel: Parcel, endpoint: Endpoint, ledger: Delivery, outcome: Outcome
    ) -> None:
        attempts = ledger.attempts + 1
        now = self.clock()
        if outcome.reached:
            await self.store.ledger.put(
                parcel.key, Delivery(Status(outcome.result.value), now.isoformat(), attempts)
            )
            if endpoint.permanent_failures:
                await self.store.change_endpoint(parcel.member_id, endpoint.endpoint_id, _healthy)
            await self.reporter.delivered(parcel, endpoint, outcome)
            await msg.ack()
            return
        if outcome.result is Result.RETRY and attempts < self.backoff.attempts:
            await self._retry_later(msg, parcel, endpoint, outcome, attempts)
            return
        disabled = await self._count_against_endpoint(parcel, endpoint, outcome)
        why = (
            outcome.reason
            if outcome.result is not Result.RETRY
            else (f"still failing after {attempts} attempts: {outcome.reason}")
        )
        ledger = replace(ledger, attempts=attempts)
        await self._give_up(msg, parcel, ledger, endpoint.shown(), why, disabled=disabled)

    async def _retry_later(
        self, msg: Msg, parcel: Parcel, endpoint: Endpoint, outcome: Outcome, attempts: int
    ) -> None:
        delay = max(self.backoff.delay(attempts, random.Random()), outcome.retry_after or 0.0)
        if outcome.retry_after:
            self.limits.pause(endpoint.endpoint_id, endpoint.kind,
                              time.monotonic() + outcome.retry_after)  # fmt: skip
        until = self.clock() + timedelta(seconds=delay)
        retrying = Delivery(Status.RETRYING, self.clock().isoformat(), attempts, outcome.reason)
        await self.store.ledger.put(parcel.key, retrying)
        await self.reporter.retrying(parcel, endpoint, outcome, until, attempts)
        log.info(
            "delivery will be retried",
            extra={"notification_id": parcel.key, "endpoint": endpoint.shown(),
                   "attempts": attempts, "delay_s": round(delay, 1),
                   "why": logged_reason(outcome.reason)},
        )  # fmt: skip
        await _nak(msg, delay)

    async def _count_against_endpoint(
        self, parcel: Parcel, endpoint: Endpoint, outcome: Outcome
    ) -> bool:
        """Turn the endpoint off after 410 or repeated permanent failures; True if it was."""
        failures = endpoint.permanent_failures + (outcome.result is Result.FAILED)
        gone = outcome.result is Result.GONE or failures >= DISABLE_AFTER

        def counted(now: Endpoint) -> Endpoint:
            counted = replace(now, permanent_failures=failures)
            return counted.turned_off(outcome.reason) if gone else counted

        await self.store.change_endpoint(parcel.member_id, endpoint.endpoint_id, counted)
        if gone:
            await self.reporter.endpoint_disabled(parcel, endpoint, outcome.reason)
        return gone

    async def _give_up(
        self,
        msg: Msg,
        parcel: Parcel,
        ledger: Delivery,
        channel: str,
        why: str,
        *,
        disabled: bool = False,
    ) -> None:
        now = self.clock()
        await self.store.ledger.put(
            parcel.key, Delivery(Status.FAILED, now.isoformat(), ledger.attempts, why)
        )
        await self.reporter.failed(parcel, channel, why, ledger.attempts, disabled)
        log.warning(
            "delivery given up",
            extra={"notification_id": parcel.key, "channel": channel, "why": logged_reason(why)},
        )
        await self.office.give_up(msg, reason=f"{channel}: {why}", error_type="DeliveryFailed",
                                  retry_in=KEPT_RETRY)  # fmt: skip


KEPT_RETRY = 3600.0
"""How long a given-up parcel whose copy was refused waits in the outbox before its letter is
recorded again (see ``DeadLetterOffice.give_up``; the outbox keeps it up to 7 days)."""


def unreadable(data: bytes, error: ValueError, what: str = "an outbox message") -> str:
    """Why ``data`` is not ``what``: not JSON at all, or JSON of another shape."""
    try:
        load_json(data)
    except ValueError as unreadable:
        return f"body is not JSON Guild reads ({unreadable}): not {what}"
    return f"not {what}: {str(error).splitlines()[0]}"


def _healthy(endpoint: Endpoint) -> Endpoint:
    return replace(endpoint, permanent_failures=0)


async def _nak(msg: Msg, delay: float) -> None:
    with contextlib.suppress(Exception):
        await msg.nak(delay=delay)
