"""Guild replaces FastStream's pull loop on its subscribers (shared.messaging.window). That
leans on FastStream's internals, pinned here: if one of them changes (a new faststream), these
tests fail and say what to look at again before the pin is moved."""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable
from importlib.metadata import version
from typing import Any

import pytest
from faststream._internal.endpoint.subscriber.mixins import TasksMixin
from faststream._internal.endpoint.subscriber.supervisor import TaskCallbackSupervisor
from faststream._internal.endpoint.subscriber.usecase import SubscriberUsecase
from faststream.nats import JStream, NatsBroker, PullSub
from faststream.nats.subscriber.usecases.basic import LogicSubscriber
from faststream.nats.subscriber.usecases.stream_pull_subscriber import PullStreamSubscriber

from shared.messaging.provisioning import ConsumerSpec
from shared.messaging.subscriptions import event_subscriber
from shared.messaging.window import WindowedPullSubscriber, windowed

SPEC = ConsumerSpec(
    stream="INGEST_EU", durable="content-test", filter_subjects=["ingest.eu.>"],
    description="test", ack_wait=30.0, window=7, time_limit=90.0,
)  # fmt: skip

RELIED_ON: dict[str, tuple[Callable[..., Any], str]] = {
    # starts ``self._consume_pull`` (looked up on the instance) as its task, cb=self.consume
    "_create_subscription": (PullStreamSubscriber._create_subscription, "9883649928f7f445"),
    # the loop Guild replaces: if it changed, see whether Guild's still does all it did
    "_consume_pull": (PullStreamSubscriber._consume_pull, "c135062c9590ad72"),
    # keeps the task in self.tasks; its supervisor restarts the loop should it fail
    "add_task": (TasksMixin.add_task, "d8cb19740c235171"),
    "supervisor": (TaskCallbackSupervisor.__call__, "de9d8f04f6b70b19"),
    # stop: running = False, wait graceful_timeout for the handlers in hand, unsubscribe,
    # then cancel the tasks and forget them
    "TasksMixin.stop": (TasksMixin.stop, "3f256125449f693d"),
    "LogicSubscriber.stop": (LogicSubscriber.stop, "7347a91e24f3dc66"),
    "SubscriberUsecase.stop": (SubscriberUsecase.stop, "4f6b071521e8c83d"),
    # consume(msg): the whole pipeline for one message; nothing when not running
    "consume": (SubscriberUsecase.consume, "af3ce5f503f08ad1"),
}


def test_faststream_is_the_version_guilds_pull_loop_was_written_against():
    assert version("faststream") == "0.7.8"


@pytest.mark.parametrize("name", RELIED_ON)
def test_the_faststream_internals_the_pull_loop_leans_on_are_unchanged(name: str):
    method, digest = RELIED_ON[name]
    source = inspect.getsource(method)
    assert hashlib.sha256(source.encode()).hexdigest()[:16] == digest, (
        f"FastStream's {method.__qualname__} changed: check shared.messaging.window against "
        "it before updating this digest"
    )


def test_the_loop_is_started_as_the_subscribers_own_consume_task():
    source = inspect.getsource(PullStreamSubscriber._create_subscription)
    assert 'self.add_task(self._consume_pull, func_kwargs={"cb": self.consume})' in source
    assert "_consume_pull" in WindowedPullSubscriber.__dict__


def test_every_guild_subscriber_pulls_with_the_window_of_its_consumer():
    subscriber = event_subscriber(NatsBroker(), SPEC)
    assert type(subscriber) is WindowedPullSubscriber
    assert isinstance(subscriber, PullStreamSubscriber)
    window = subscriber.guild_window
    assert (window.size, window.time_limit, window.ack_wait) == (7, 90.0, 30.0)


def test_only_faststreams_plain_pull_subscriber_is_windowed():
    concurrent = NatsBroker().subscriber(
        "ingest.eu.>",
        stream=JStream("INGEST_EU", declare=False),
        durable="content-test",
        pull_sub=PullSub(batch_size=10),
        max_workers=2,
    )
    with pytest.raises(TypeError):
        windowed(concurrent, SPEC)
