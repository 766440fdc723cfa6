"""Publishing to JetStream with many PubAcks in flight: Guild's one way to store a message.

A JetStream publish is a NATS publish with a reply subject; the stream answers there with a
PubAck (or an error). nats-py offers two ways, and neither serves a handler's writes:

* ``JetStreamContext.publish`` (and ``KeyValue``'s writes, built on it) is a request-reply:
  each publish a future, an ``asyncio.wait_for`` with its own waiter and timer, the cost that
  limited every hop (a third of a service's time per message in the profiles);
* ``publish_async`` shares one reply subscription, but nats-py 2.16 *raises* the error a
  stream answers with inside its reply callback (``APIError.from_error`` raises rather than
  returns), so the future of a refused publish (a compare-and-set that lost, a full stream)
  never completes and its caller waits out a timeout instead of learning why.

:class:`PubAcks` does what ``publish_async`` means to: one wildcard reply subscription per
connection (nats-py subscribes it again after a reconnect), one future per publish, the
stream's answer parsed into a :class:`~nats.js.api.PubAck` or the exception nats-py's own
request path raises for it (``BadRequestError`` with its ``err_code``, ``NoStreamResponseError``
when no stream listens), and no timer per publish: each publish's deadline goes on a queue
per timeout (deadlines made with one timeout come in order), and one task, while anything
is in flight, fails those past their deadline every :data:`EXPIRY_CHECK` seconds (a timer
per publish, heap and handle and cancel, was a twentieth of a hop's time). Every writer of
a connection (:class:`shared.messaging.publisher.JetStreamPublisher`,
:class:`shared.storage.KvStore`) shares one (:func:`pubacks`).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import weakref
from collections import deque
from collections.abc import Mapping

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.api import PubAck
from nats.js.errors import (
    APIError,
    BadRequestError,
    NoStreamResponseError,
    NotFoundError,
    ServerError,
    ServiceUnavailableError,
)

EXPIRY_CHECK = 0.05
"""How often (seconds) publishes past their deadline are failed: a publish times out within
its ``timeout`` and this much more."""
NO_RESPONDERS = "503"
"""The status header nats-server sets when nobody (no stream) listens on the subject."""
_ERRORS: dict[int, type[APIError]] = {
    400: BadRequestError,
    404: NotFoundError,
    500: ServerError,
    503: ServiceUnavailableError,
}


def stream_error(error: Mapping[str, object]) -> APIError:
    """The exception for a stream's ``{"error": {...}}`` answer, as nats-py's request path
    raises it (by its HTTP-like ``code``)."""
    code = error.get("code")
    kind = _ERRORS.get(code, APIError) if isinstance(code, int) else APIError
    return kind(
        code=code,
        err_code=error.get("err_code"),
        description=error.get("description"),
    )


class PubAcks:
    """Publishes to JetStream on one connection and awaits each PubAck (see the module doc)."""

    def __init__(self, nc: Client) -> None:
        self.nc = nc
        self._tokens = itertools.count()
        """Each publish's reply token, unique under the connection's own inbox prefix."""
        self._prefix: str | None = None
        self._pending: dict[str, asyncio.Future[PubAck]] = {}
        self._deadlines: dict[float, deque[tuple[float, str]]] = {}
        """Per timeout, (deadline, token) of each publish made with it, oldest first."""
        self._expiring: asyncio.Task[None] | None = None
        self._subscribing: asyncio.Lock = asyncio.Lock()

    async def publish(
        self,
        subject: str,
        body: bytes,
        *,
        headers: dict[str, str] | None = None,
        timeout: float,
    ) -> PubAck:
        """Publish ``body`` and return the stream's PubAck. Raises the stream's refusal as
        nats-py does (:func:`stream_error`), ``NoStreamResponseError`` if no stream stores
        ``subject``, and nats-py's ``TimeoutError`` if no answer came within ``timeout``."""
        prefix = self._prefix or await self._subscribe()
        token = str(next(self._tokens))
        loop = asyncio.get_running_loop()
        future: asyncio.Future[PubAck] = loop.create_future()
        self._pending[token] = future
        self._expire_after(timeout, token, loop)
        try:
            await self.nc.publish(subject, body, reply=prefix + token, headers=headers or None)
            return await future
        finally:
            self._pending.pop(token, None)

    def _expire_after(self, timeout: float, token: str, loop: asyncio.AbstractEventLoop) -> None:
        queue = self._deadlines.get(timeout)
        if queue is None:
            queue = self._deadlines[timeout] = deque()
        queue.append((loop.time() + timeout, token))
        if self._expiring is None or self._expiring.done():
            self._expiring = loop.create_task(self._expire_overdue())

    async def _expire_overdue(self) -> None:
        """While deadlines are queued: fail the publishes still waiting past theirs."""
        loop = asyncio.get_running_loop()
        try:
            while any(self._deadlines.values()):
                await asyncio.sleep(EXPIRY_CHECK)
                now = loop.time()
                for queue in self._deadlines.values():
                    while queue and queue[0][0] <= now:
                        _expire(self._pending.get(queue.popleft()[1]))
        finally:
            self._expiring = None

    def in_flight(self) -> int:
        """How many publishes wait for their PubAck."""
        return len(self._pending)

    async def _subscribe(self) -> str:
        async with self._subscribing:
            if self._prefix is None:
                prefix = f"{self.nc.new_inbox()}."
                await self.nc.subscribe(f"{prefix}*", cb=self._answered)
                self._prefix = prefix
        return self._prefix

    async def _answered(self, msg: Msg) -> None:
        assert self._prefix is not None
        future = self._pending.get(msg.subject[len(self._prefix) :])
        if future is None or future.done():
            return  # given up on already (its timer), or an answer sent twice
        future_answer(future, msg)


def future_answer(future: asyncio.Future[PubAck], msg: Msg) -> None:
    """Complete ``future`` with what the stream answered in ``msg``."""
    if msg.headers and msg.headers.get("Status") == NO_RESPONDERS:
        future.set_exception(NoStreamResponseError())
        return
    try:
        answer = json.loads(msg.data)
    except ValueError as error:
        future.set_exception(APIError(description=f"unreadable PubAck: {error}"))
        return
    if not isinstance(answer, dict):
        future.set_exception(APIError(description="a PubAck that is not a JSON object"))
    elif isinstance(answer.get("error"), dict):
        future.set_exception(stream_error(answer["error"]))
    else:
        try:
            future.set_result(_puback(answer))
        except (TypeError, KeyError, ValueError) as error:  # not a stream's answer
            future.set_exception(APIError(description=f"unreadable PubAck: {error!r}"))


def _puback(answer: Mapping[str, object]) -> PubAck:
    """The PubAck a stream answered (``PubAck.from_response`` walks the dataclass's fields
    for every publish; Guild publishes no batches, so only these fields can be set)."""
    stream, seq = answer["stream"], answer["seq"]
    if not isinstance(stream, str) or not isinstance(seq, int):
        raise ValueError(f"stream {stream!r}, seq {seq!r}")
    duplicate, domain, val = answer.get("duplicate"), answer.get("domain"), answer.get("val")
    return PubAck(
        stream=stream,
        seq=seq,
        domain=domain if isinstance(domain, str) else None,
        duplicate=duplicate if isinstance(duplicate, bool) else None,
        val=val if isinstance(val, str) else None,
    )


def _expire(future: asyncio.Future[PubAck] | None) -> None:
    if future is not None and not future.done():
        future.set_exception(NatsTimeoutError())


_BY_CONNECTION: weakref.WeakKeyDictionary[Client, PubAcks] = weakref.WeakKeyDictionary()


def pubacks(nc: Client) -> PubAcks:
    """The connection's :class:`PubAcks` (one reply subscription per connection)."""
    found = _BY_CONNECTION.get(nc)
    if found is None:
        found = _BY_CONNECTION[nc] = PubAcks(nc)
    return found
