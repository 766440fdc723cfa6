"""One service hop of the slice, through Guild and through a bare nats-py consumer, same run.

The hop: ``question_posted`` -> matching ranks experts -> ``experts_suggested``.

* **guild**: the matching service as it runs in production (FastStream pull subscriber,
  typed envelope validation, the settle middleware, the event publisher waiting for PubAck).
* **bare**: a hand-written nats-py loop doing the same work: fetch in batches, validate the
  same contract, run the same routing handler on the same kind of store (rank, choose, record
  who was asked), publish with ``Nats-Msg-Id`` and wait for the PubAck, ack.

A publisher offers a steady stream of events at ``--rate`` per second; each side consumes
its own copy of the stream. Printed: the rate each side sustained, latency percentiles, and
the ratio. Run from the repository root:

    .venv/bin/python -m bench.hop_benchmark               # embedded nats-server
    NATS_URL=nats://host:4222 .venv/bin/python -m bench.hop_benchmark
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import tempfile
import time as clock
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

import nats
from nats.aio.client import Client
from nats.js.api import ConsumerConfig
from pydantic import TypeAdapter

from guild_cli.nats_server import EmbeddedNats
from services.matching.bootstrap import build_app
from services.matching.domain.profiles import Hours, Profile
from services.matching.domain.records import profile_key
from services.matching.handlers import Deps
from services.matching.handlers.questions import when_question_posted_route_it
from services.matching.settings import MatchingSettings
from services.matching.store.buckets import MatchingStore
from services.matching.topology import topology
from shared.contracts.content import QuestionPostedV1
from shared.contracts.matching import ExpertsSuggestedV1
from shared.envelope import Envelope, new_envelope, structured_body
from shared.logs import configure_logging
from shared.messaging.provisioning import apply
from shared.messaging.publisher import EventPublisher, JetStreamPublisher
from shared.naming import Service, Streams

SKILLS = [f"skill{i}" for i in range(200)]
LEVELS = ["beginner", "intermediate", "advanced", "expert"]
ALWAYS = Hours(start=time.min, end=time.max, days=(1, 2, 3, 4, 5, 6, 7))
"""Bench members work around the clock, so every question alerts someone whenever it runs."""


def profiles(count: int, region: str, seed: int = 7) -> list[Profile]:
    rng = random.Random(seed)
    return [
        Profile(
            member_id=f"m{i}",
            home_region=region,
            region=rng.choice(["eu", "us", "apac"]),
            timezone="Europe/Berlin",
            skills=tuple((s, rng.choice(LEVELS)) for s in rng.sample(SKILLS, 5)),
            languages=("en",),
            revision=1,
            working_hours=ALWAYS,
        )
        for i in range(count)
    ]


def question(region: str, number: int, rng: random.Random) -> bytes:
    data = QuestionPostedV1(
        question_id=f"q{number}",
        community_id="c1",
        community_name="Bench",
        visibility="public",
        asker={"member_id": f"m{number % 100}", "home_region": region},
        title=f"Question {number} about {rng.choice(SKILLS)}",
        text=f"How do I combine {rng.choice(SKILLS)} with {rng.choice(SKILLS)} safely?",
        tags=rng.sample(SKILLS, 2),
        posted_at=datetime.now(UTC),
    )
    envelope = new_envelope(
        event_id=str(uuid.uuid4()),
        source="/bench",
        event_type=data.TYPE,
        data=data,
        region=region,
    )
    return structured_body(envelope)


async def offer(nc: Client, region: str, count: int, rate: float) -> None:
    """Publish ``count`` questions at a steady ``rate`` per second, each waiting for its PubAck
    in a window, as a busy portal would."""
    js, rng, subject = nc.jetstream(), random.Random(1), QuestionPostedV1.subject_in(region)
    started, pending = clock.monotonic(), set()
    for number in range(count):
        due = started + number / rate
        if (wait := due - clock.monotonic()) > 0:
            await asyncio.sleep(wait)
        body = question(region, number, rng)
        pending.add(asyncio.ensure_future(js.publish(subject, body)))
        if len(pending) >= 256:
            _, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
    await asyncio.gather(*pending)


async def count_outputs(nc: Client, region: str) -> int:
    info = await nc.jetstream().stream_info(
        Streams(region).events, subjects_filter=ExpertsSuggestedV1.subject_in(region)
    )
    return sum((info.state.subjects or {}).values())


async def measure(
    nc: Client, region: str, count: int, rate: float, consumer: Callable[[], Awaitable[Any]]
) -> dict[str, float]:
    latencies: list[float] = []
    posted_at: dict[str, float] = {}

    async def on_output(msg: Any) -> None:
        question_id = json.loads(msg.data)["data"]["question_id"]
        latencies.append(clock.time() - posted_at.get(question_id, clock.time()))

    async def on_input(msg: Any) -> None:
        posted_at[json.loads(msg.data)["data"]["question_id"]] = clock.time()

    await nc.subscribe(ExpertsSuggestedV1.subject_in(region), cb=on_output)
    await nc.subscribe(QuestionPostedV1.subject_in(region), cb=on_input)
    worker = await consumer()
    started = clock.monotonic()
    await offer(nc, region, count, rate)
    deadline = started + 60 + count / 100  # far beyond any healthy run: a stuck hop fails
    while (done := await count_outputs(nc, region)) < count:
        if clock.monotonic() > deadline:
            await worker()  # raises what stopped the consumer, if it failed
            raise RuntimeError(f"only {done} of {count} events came through the hop in time")
        await asyncio.sleep(0.05)
    elapsed = clock.monotonic() - started
    await worker()
    ordered = sorted(latencies)
    return {
        "rate": count / elapsed,
        "p50_ms": 1000 * statistics.median(ordered),
        "p99_ms": 1000 * ordered[int(0.99 * (len(ordered) - 1))],
    }


def settings_for(region: str, url: str = "nats://127.0.0.1:4222") -> MatchingSettings:
    """Budgets far beyond the run: every question is routed, however many there are."""
    return MatchingSettings(region=region, nats_url=url, experts_per_question=3,
                            questions_per_day=10**9, questions_per_week=10**9)  # fmt: skip


async def seed_members(nc: Client, region: str, members: list[Profile]) -> None:
    """Provision matching's streams and buckets in ``region`` and store the members there."""
    js = nc.jetstream()
    await apply(js, topology(settings_for(region)))
    store = MatchingStore.for_region(region)
    await store.members.bind(js)
    adapter: TypeAdapter[Profile] = TypeAdapter(Profile)
    for profile in members:
        local = replace(profile, home_region=region)
        await store.members.put_raw(profile_key(local.member_id), adapter.dump_json(local))


async def guild_hop(
    nc: Client, url: str, region: str, members: list[Profile]
) -> Callable[[], Awaitable[Any]]:
    await seed_members(nc, region, members)
    app = build_app(settings_for(region, url))
    await app.start()
    return app.stop


class BarePublish:
    """nats-py's own publish, in the shape :class:`JetStreamPublisher` calls."""

    def __init__(self, nc: Client) -> None:
        self.connection = nc  # for max_payload, as the broker's connection
        self.js = nc.jetstream()

    async def publish(self, body: bytes, subject: str, **options: Any) -> Any:
        return await self.js.publish(subject, body, **options)


async def bare_hop(nc: Client, region: str, members: list[Profile]) -> Callable[[], Awaitable[Any]]:
    js = nc.jetstream()
    await seed_members(nc, region, members)
    store = MatchingStore.for_region(region)
    for kv in store.kv_stores():
        await kv.bind(js)
    for follower in store.followers:
        await follower.start(js)
    publisher = JetStreamPublisher(BarePublish(nc))  # type: ignore[arg-type]
    events = EventPublisher(publisher, region=region, service=Service.MATCHING)
    deps = Deps(store=store, events=events, region=region, policy=settings_for(region).policy())
    sub = await js.pull_subscribe(
        QuestionPostedV1.subject_in(region),
        durable="bare-questions",
        stream=Streams(region).events,
        config=ConsumerConfig(max_deliver=3, ack_wait=60),
    )

    async def handle(msg: Any) -> None:
        event = Envelope[QuestionPostedV1].model_validate_json(msg.data)
        await when_question_posted_route_it(event, deps)
        await msg.ack()

    running = True

    async def loop() -> None:
        while running:
            try:
                batch = await sub.fetch(10, timeout=1.0)
            except TimeoutError:  # nats-py raises nats' or asyncio's, both TimeoutError
                continue
            await asyncio.gather(*(handle(m) for m in batch))

    task = asyncio.create_task(loop())

    async def stop() -> None:
        nonlocal running
        running = False
        try:
            await task
            await sub.unsubscribe()
        finally:
            for follower in store.followers:
                await follower.stop()

    return stop


async def main(args: argparse.Namespace) -> None:
    configure_logging(service="bench", region="bench", level="WARNING", fmt="text")
    server = None
    url = os.environ.get("NATS_URL")
    if not url:
        server = EmbeddedNats(Path(tempfile.mkdtemp(prefix="guild-bench-"))).start()
        url = server.url
    nc = await nats.connect(url)
    members = profiles(args.members, region="any")
    suffix = uuid.uuid4().hex[:6]
    try:
        results = {}
        for name in ("guild", "bare") if not args.bare_first else ("bare", "guild"):
            region = f"b{name}{suffix}"
            if name == "guild":
                starter = lambda r=region: guild_hop(nc, url, r, members)  # noqa: E731
            else:
                starter = lambda r=region: bare_hop(nc, r, members)  # noqa: E731
            results[name] = await measure(nc, region, args.events, args.rate, starter)
    finally:
        await nc.drain()
        if server:
            server.stop()
    print_report(args, results)


def print_report(args: argparse.Namespace, results: dict[str, dict[str, float]]) -> None:
    print(
        f"hop: question_posted -> matching -> experts_suggested; {args.events} events offered "
        f"at {args.rate:.0f}/s; {args.members} members in the index; batch 10"
    )
    print(f"{'':<26}{'events/s':>10}{'p50 ms':>10}{'p99 ms':>10}")
    for name, label in (("guild", "guild (FastStream)"), ("bare", "bare nats-py")):
        r = results[name]
        print(f"{label:<26}{r['rate']:>10.0f}{r['p50_ms']:>10.1f}{r['p99_ms']:>10.1f}")
    print(f"ratio guild/bare: {results['guild']['rate'] / results['bare']['rate']:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--rate", type=float, default=4000.0, help="offered events per second")
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--bare-first", action="store_true", help="run the bare loop first")
    asyncio.run(main(parser.parse_args()))
