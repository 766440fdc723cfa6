"""Subscribing to Guild events: one durable pull consumer, one typed handler per event type.

    sub = event_subscriber(router, spec)

    @sub(filter=of_type(PersonHiredV1))
    async def when_person_hired_register_member(event: Envelope[PersonHiredV1]) -> None: ...

The decoder reads structured and binary CloudEvents. A message no handler accepts (an unknown
event type) raises ``SubscriberNotFound``; a payload that does not match the handler's contract
raises ``ValidationError``. :mod:`shared.messaging.consumer` dead-letters both with the reason.
A ``ValidationError`` raised inside a handler (building its own output) is Guild's bug instead.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from faststream import AckPolicy
from faststream.message import StreamMessage
from faststream.nats import JStream, NatsBroker, NatsMessage, NatsRouter, PullSub
from pydantic import ValidationError

from shared.access import DEFAULT_INBOX
from shared.contracts.base import Contract
from shared.envelope import Envelope, read_cloudevent
from shared.messaging.consumer import EVENT_PARAMETER, OwnOutputInvalid
from shared.messaging.provisioning import ConsumerSpec
from shared.messaging.window import FETCH_TIMEOUT, MAX_FETCH, windowed

C = TypeVar("C", bound=Contract)
D = TypeVar("D")
Reaction = Callable[[Envelope[C], D], Awaitable[None]]


async def cloudevent_decoder(message: NatsMessage, _default: Callable[..., Any]) -> Any:
    """FastStream decoder: a structured or binary CloudEvent as one attribute dict."""
    return read_cloudevent(message.body, message.headers)


def of_type(contract: type[Contract]) -> Callable[[StreamMessage[Any]], Awaitable[bool]]:
    """Filter: the message is an event of ``contract``'s type."""

    async def matches(message: StreamMessage[Any]) -> bool:
        decoded = await message.decode()
        return isinstance(decoded, dict) and decoded.get("type") == contract.TYPE

    matches.__name__ = f"is_{contract.__name__}"
    return matches


def event_subscriber(
    router: NatsBroker | NatsRouter, spec: ConsumerSpec, *, inbox: str = DEFAULT_INBOX
) -> Any:
    """A FastStream subscriber bound to the provisioned durable consumer ``spec``, reading
    CloudEvents (see :func:`pull_subscriber`)."""
    return pull_subscriber(router, spec, decoder=cloudevent_decoder, inbox=inbox)


def pull_subscriber(
    router: NatsBroker | NatsRouter,
    spec: ConsumerSpec,
    *,
    decoder: Callable[..., Any],
    inbox: str = DEFAULT_INBOX,
) -> Any:
    """A FastStream subscriber bound to the provisioned durable consumer ``spec``.

    It binds to the existing consumer (all of its filter subjects), never creates streams
    (``declare=False``), never acks on its own (the settle middleware does), and never
    publishes replies, whatever headers a publisher set. It pulls with Guild's loop: up to
    ``spec.window`` messages in hand, each settled as it finishes, long ones kept from
    redelivery by in-progress acks (:mod:`shared.messaging.window`). Its fetches are
    answered under ``inbox``, the connection's own prefix.
    """
    subscriber = router.subscriber(
        spec.filter_subjects[0],
        stream=JStream(spec.stream, declare=False),
        durable=spec.durable,
        pull_sub=PullSub(batch_size=MAX_FETCH, timeout=FETCH_TIMEOUT),
        ack_policy=AckPolicy.MANUAL,
        decoder=decoder,
        no_reply=True,
        inbox_prefix=f"{inbox}.".encode(),
        title=spec.durable,
        description=spec.description,
    )
    return windowed(subscriber, spec)


def react(
    subscriber: Any, contract: type[C], reaction: Reaction[C, D], deps: D
) -> Callable[[Envelope[C]], Awaitable[None]]:
    """Register ``reaction(event, deps)`` for events of ``contract`` on ``subscriber``, and
    return it as it runs for one validated event (what Guild's own path calls:
    :mod:`shared.messaging.dispatch`).

    Each event is validated against ``Envelope[contract]`` before the reaction runs, so a
    ``ValidationError`` from inside the reaction is about what it built (an outgoing event),
    not its input: it is raised as :class:`OwnOutputInvalid`, Guild's bug.
    """
    name = reaction.__name__

    async def handle(event: Any) -> None:
        try:
            await reaction(event, deps)
        except ValidationError as error:
            raise OwnOutputInvalid(name, error) from error

    handle.__annotations__ = {EVENT_PARAMETER: Envelope[contract], "return": None}  # type: ignore[valid-type]
    handle.__name__ = reaction.__name__
    handle.__doc__ = reaction.__doc__
    subscriber(filter=of_type(contract))(handle)
    return handle
