"""A consumer is stalled when messages wait for it, it has room for more, and it neither
fetched nor acked anything since the last look; one slowly working through a batch in hand
(acking as it goes, fetching nothing new) is not."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from nats.js.api import ConsumerConfig, ConsumerInfo, SequenceInfo

from shared.runtime import ConsumerWatch


class Looks:
    """Stands for JetStream's consumer info, one state per look."""

    def __init__(self, states: list[ConsumerInfo]) -> None:
        self.states = states

    async def consumer_info(self, _stream: str, _durable: str) -> ConsumerInfo:
        return self.states.pop(0)


def state(delivered: int, acked: int, in_hand: int, pending: int = 500) -> ConsumerInfo:
    return ConsumerInfo(stream_name="EVENTS", name="worker", created=0,
                        config=ConsumerConfig(durable_name="worker", max_ack_pending=1000),
                        delivered=SequenceInfo(consumer_seq=delivered, stream_seq=delivered),
                        ack_floor=SequenceInfo(consumer_seq=acked, stream_seq=acked),
                        num_ack_pending=in_hand, num_pending=pending)  # fmt: skip


SUBSCRIBER: Any = SimpleNamespace(config=SimpleNamespace(durable_name="worker"),
                                  stream=SimpleNamespace(name="EVENTS"))  # fmt: skip


async def stalled_after(*states: ConsumerInfo) -> bool:
    watch, js = ConsumerWatch(), Looks(list(states))
    for _ in states:
        await watch.look(js, [SUBSCRIBER])  # type: ignore[arg-type]
    return "worker" in watch.stalled


async def test_a_consumer_acking_its_way_through_a_batch_in_hand_is_not_stalled():
    # 50 fetched, none new delivered at the next two looks, but it acks as it goes.
    assert not await stalled_after(state(50, 10, 40), state(50, 25, 25), state(50, 40, 10))


async def test_a_consumer_that_neither_acks_nor_fetches_is_stalled():
    assert await stalled_after(state(50, 10, 40), state(50, 10, 40))
    assert await stalled_after(state(50, 50, 0), state(50, 50, 0))
