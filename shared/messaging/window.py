"""Guild's pull loop: a window of messages in hand, each settled as soon as it finishes.

FastStream 0.7.8's ``PullStreamSubscriber`` fetches a batch, runs it, and waits for the whole
batch before it fetches again: one slow message (a long fan-out) holds up every other, and
nothing tells JetStream that a long handler still runs, so one running past ``ack_wait`` is
delivered again while it runs. Every Guild subscriber pulls with :class:`PullLoop` instead:

* **Window.** Up to ``window`` messages are in hand at once (:attr:`ConsumerSpec.window`,
  the ``consumer_window`` setting). The loop fetches as many messages as there are free
  slots (at most :data:`MAX_FETCH` at a time), but no more than the last message fetched
  says are waiting (its ``num_pending``): with none waiting it waits for the next single one,
  because a waiting pull for many returns only once it has them all or its time is up. It
  fetches as soon as there are slots for all that wait, or, with more waiting, once a quarter
  of the window is free (:data:`REFILL_SHARE`; nats.go's ``Consume`` refills at a threshold
  too), so that under load one fetch brings many messages, not one per handler finished.
* **Settled one by one.** Each message of an event subscriber goes to Guild's path
  (:mod:`shared.messaging.dispatch`: its span, the CloudEvent read, the reaction for its
  type, then ack, retry later or dead-letter with :class:`~shared.messaging.consumer
  .Settler`); any other subscriber's to its own ``consume(msg)`` (FastStream's path, the
  settle middleware applying the same settler). Either way it is settled when its handler
  returns, whatever the others in hand are doing. Within the window there is no order, as
  within FastStream's batch before.
* **In-progress acks.** Every third of the consumer's ``ack_wait`` (read from the consumer's
  info when the loop starts; the spec's if NATS does not answer), each handler that has run
  longer than that tells JetStream it is still working (``msg.in_progress()``), so it is not
  delivered again meanwhile. That stops when it finishes. A handler that hangs forever is
  bounded by :attr:`ConsumerSpec.time_limit` (the ``handler_time_limit`` setting): past it the
  loop cancels the handler and leaves its message unsettled; JetStream delivers it again after
  ``ack_wait``, and after ``max_deliver`` deliveries its max-deliveries advisory becomes a dead
  letter (:func:`shared.messaging.consumer.dead_letter_unsettled`). All of a consumer's slots
  hung meanwhile means it fetches and acks nothing: ``ConsumerWatch`` reports it stalled.
* **Fetch errors.** A fetch that times out (nothing to do) is simply repeated. One that fails
  because NATS is away (disconnected, restarting, no JetStream yet) or for any other reason
  is repeated after :data:`FETCH_PAUSE` seconds, the messages in hand carrying on meanwhile;
  what they could not settle JetStream delivers again after ``ack_wait``.
* **Stop.** Once the subscriber stops running no new fetch starts; a message fetched then is
  nak'd for another replica; the handlers in hand run to the end while FastStream's stop
  waits for them (``graceful_timeout``), and when it cancels the loop, the loop cancels those
  still running and naks their messages. The subscriber's stop returns once the loop has
  ended. A loop whose cancellation ``asyncio.wait_for`` lost inside nats-py's fetch (see
  :mod:`shared.tasks`) sees it in ``Task.cancelling()`` and stops all the same.

FastStream's loop is replaced in one place, :func:`windowed`: it turns the
``PullStreamSubscriber`` that ``router.subscriber(..., pull_sub=...)`` built into a
:class:`WindowedPullSubscriber`, the same object with two methods overridden:
``_consume_pull``, which FastStream's ``_create_subscription`` starts as the subscriber's
task (with ``cb=self.consume``) and its supervisor restarts should it fail, and ``stop``,
which also waits until that task has ended. That leans on FastStream's internals (we pin
faststream 0.7.8); ``tests/unit/test_windowed_pull.py`` fails if they change under it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from faststream.nats.subscriber.usecases.stream_pull_subscriber import PullStreamSubscriber
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from shared.messaging.provisioning import ConsumerSpec
from shared.tasks import cancel_and_wait

log = logging.getLogger("guild.consume")

MAX_FETCH = 100
"""The most messages one fetch asks for."""
FETCH_TIMEOUT = 1.0
"""Seconds one waiting fetch lasts on the server (then the loop looks whether it should stop)."""
FETCH_PAUSE = 0.5
"""Seconds before a fetch that failed (NATS away) is tried again."""
REFILL_SHARE = 1 / 4
"""With a backlog, the loop fetches once this share of the window is free."""
PROGRESS_SHARE = 1 / 3
"""In-progress acks are sent this share of ``ack_wait`` apart."""


@dataclass(frozen=True)
class Window:
    """How one subscriber pulls: messages in hand, a handler's time limit, and the consumer's
    ``ack_wait`` as provisioned (replaced by the server's when the loop starts)."""

    size: int
    time_limit: float
    ack_wait: float
    consumer: str

    @classmethod
    def of(cls, spec: ConsumerSpec) -> Window:
        return cls(spec.window, spec.time_limit, spec.ack_wait, spec.durable)


@dataclass
class InHand:
    """A message being handled, and when its handler started (the loop's clock)."""

    msg: Msg
    started: float
    given_up: bool = False


class PullLoop:
    """Fetches into a window of handlers and keeps the long ones from redelivery (see the
    module docstring). ``handle`` settles a message (FastStream's ``consume``)."""

    def __init__(
        self,
        subscription: JetStreamContext.PullSubscription,
        handle: Callable[[Msg], Awaitable[Any]],
        window: Window,
        running: Callable[[], bool],
    ) -> None:
        self.subscription = subscription
        self.handle = handle
        self.window = window
        self.running = running
        self.in_hand: dict[asyncio.Task[Any], InHand] = {}
        self.refill_at = max(1, int(window.size * REFILL_SHARE))
        self._room = asyncio.Event()
        self._fetch_failure: str | None = None

    async def run(self) -> None:
        ack_wait = await self._ack_wait()
        keeper = asyncio.create_task(self._keep_in_progress(ack_wait))
        try:
            await self._pull()
            if self.in_hand:  # stopping: FastStream's stop waits for them, then cancels us
                await asyncio.wait(set(self.in_hand))
        finally:
            await self._cancel_in_hand(keeper)

    async def _cancel_in_hand(self, keeper: asyncio.Task[None]) -> None:
        """Cancel the handlers still running, all at once, then hand their messages back."""
        messages = [held.msg for held in self.in_hand.values()]
        tasks = [keeper, *self.in_hand]
        for task in tasks:
            task.cancel()
        for task in tasks:
            await cancel_and_wait(task)  # again if a cancellation was lost
        for msg in messages:
            with contextlib.suppress(Exception):  # settled already, or NATS away
                await msg.nak()  # for the next replica now, not after ack_wait

    def _turning(self) -> bool:
        task = asyncio.current_task()
        return self.running() and not (task is not None and task.cancelling())

    async def _pull(self) -> None:
        waiting = 1  # unknown until a message says
        while self._turning():
            free = await self._room_for(min(waiting, self.refill_at))
            if not self._turning():  # stopped while the window was full
                return
            messages = await self._fetch(min(free, MAX_FETCH, waiting))
            waiting = _still_waiting(messages)
            for msg in messages:
                await self._start(msg)

    async def _room_for(self, count: int) -> int:
        """Wait until at least ``count`` slots are free; how many are."""
        while self.window.size - len(self.in_hand) < count:
            self._room.clear()
            await self._room.wait()
        return self.window.size - len(self.in_hand)

    async def _fetch(self, batch: int) -> list[Msg]:
        try:
            messages = await self.subscription.fetch(batch=batch, timeout=FETCH_TIMEOUT)
        except TimeoutError:  # nothing came (nats-py raises its own or asyncio's)
            return []
        except Exception as error:  # NATS away, or a server error: carry on, try again
            if self._turning():  # not the unsubscribe of a stop
                self._note_fetch_failure(error)
                await asyncio.sleep(FETCH_PAUSE)
            return []
        self._fetch_failure = None
        return messages

    def _note_fetch_failure(self, error: Exception) -> None:
        """Log a failure once, not at every retry while it lasts."""
        kind = type(error).__name__
        if kind != self._fetch_failure:
            log.warning(
                "fetch failed; retrying",
                extra={"consumer": self.window.consumer, "error": repr(error)},
            )
        self._fetch_failure = kind

    async def _start(self, msg: Msg) -> None:
        await self._room_for(1)  # a fetch may bring more than asked (nats-py's own buffer)
        if not self._turning():
            with contextlib.suppress(Exception):
                await msg.nak()  # for another replica now, not after ack_wait
            return
        handler = asyncio.create_task(self.handle(msg))
        self.in_hand[handler] = InHand(msg, started=asyncio.get_running_loop().time())
        handler.add_done_callback(self._finished)

    def _finished(self, handler: asyncio.Task[Any]) -> None:
        self.in_hand.pop(handler, None)
        self._room.set()

    async def _keep_in_progress(self, ack_wait: float) -> None:
        every = ack_wait * PROGRESS_SHARE
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(every)
            now = loop.time()
            for handler, held in list(self.in_hand.items()):
                if held.given_up:
                    continue
                if now - held.started >= self.window.time_limit:
                    self._give_up(handler, held)
                elif now - held.started >= every:
                    with contextlib.suppress(Exception):  # NATS away: it redelivers, as before
                        await held.msg.in_progress()

    def _give_up(self, handler: asyncio.Task[Any], held: InHand) -> None:
        meta = held.msg.metadata
        log.warning(
            "handler ran past its time limit; cancelled, its message is delivered again",
            extra={"consumer": self.window.consumer, "stream_sequence": meta.sequence.stream,
                   "delivery": meta.num_delivered, "time_limit_s": self.window.time_limit},
        )  # fmt: skip
        held.given_up = True
        handler.cancel()

    async def _ack_wait(self) -> float:
        """The consumer's ``ack_wait`` as the server has it (an operator may have set it)."""
        try:
            info = await self.subscription.consumer_info()
        except Exception:  # NATS away: the provisioned value
            return self.window.ack_wait
        return float(info.config.ack_wait or self.window.ack_wait)


class WindowedPullSubscriber(PullStreamSubscriber):
    """FastStream's pull subscriber with :class:`PullLoop` as its consume task."""

    __slots__ = ()
    guild_window: Window
    guild_dispatch: Callable[[Msg], Awaitable[None]] | None = None
    """Guild's own path for each message (:mod:`shared.messaging.dispatch`); None:
    FastStream's (``cb``, its ``consume``)."""

    async def _consume_pull(self, cb: Callable[[Msg], Awaitable[Any]]) -> None:
        assert self.subscription is not None
        dispatch = self.guild_dispatch
        handle = cb if dispatch is None else lambda msg: self._dispatched(dispatch, msg)
        await PullLoop(self.subscription, handle, self.guild_window, lambda: self.running).run()

    async def _dispatched(self, dispatch: Callable[[Msg], Awaitable[None]], msg: Msg) -> None:
        """One message on Guild's path, inside the subscriber's lock (FastStream's stop waits
        for it). Settling it may fail (NATS away): JetStream delivers it again after
        ``ack_wait``."""
        if not self.running:
            return
        with self.lock:
            try:
                await dispatch(msg)
            except Exception as error:
                log.warning(
                    "a message could not be settled; it is delivered again after ack_wait",
                    extra={"consumer": self.guild_window.consumer, "error": repr(error)},
                )

    async def stop(self) -> None:
        """FastStream's stop (waits ``graceful_timeout`` for the handlers in hand, then
        cancels the loop and forgets it), then wait until the loop has really ended."""
        loops = list(self.tasks)
        await super().stop()
        for loop in loops:
            await cancel_and_wait(loop)


def windowed(subscriber: Any, spec: ConsumerSpec) -> WindowedPullSubscriber:
    """Make ``subscriber`` (a plain FastStream pull subscriber) pull with :class:`PullLoop`
    in a window of ``spec.window`` messages (see the module docstring)."""
    if type(subscriber) is not PullStreamSubscriber:
        raise TypeError(f"expected FastStream's PullStreamSubscriber, got {type(subscriber)!r}")
    subscriber.__class__ = WindowedPullSubscriber
    subscriber.guild_window = Window.of(spec)
    return subscriber  # type: ignore[no-any-return]


def _still_waiting(messages: list[Msg]) -> int:
    """How many more messages the consumer had when the last of ``messages`` was delivered
    (at least 1: a fetch for one waits for the next)."""
    if not messages:
        return 1
    try:
        return max(1, messages[-1].metadata.num_pending or 0)
    except Exception:  # not a JetStream delivery: nothing known
        return 1
