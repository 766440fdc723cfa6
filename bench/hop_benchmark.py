"""One service hop of the slice, through Guild and through a bare nats-py consumer, same run.

The hop: ``question_posted`` -> matching ranks experts -> ``experts_suggested``.

* **guild**: the matching service as it runs in production (FastStream pull subscriber,
  typed envelope validation, the settle middleware, the event publisher waiting for PubAck).
* **bare**: a hand-written nats-py loop doing the same work: fetch in batches, validate the
  same contract, rank with the same index, publish with ``Nats-Msg-Id`` and wait for the
  PubAck, ack.

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
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nats
from nats.aio.client import Client
from nats.js.api import ConsumerConfig

from guild_cli.nats_server import EmbeddedNats
from services.matching.bootstrap import build_app
from services.matching.domain.model import ExpertiseIndex, Profile
from services.matching.events.public import experts_suggested
from services.matching.settings import MatchingSettings
from shared.contracts.content import QuestionPostedV1
from shared.contracts.matching import ExpertsSuggestedV1
from shared.envelope import Envelope, new_envelope, structured_body
from shared.ids import derived_id
from shared.logs import configure_logging
from shared.messaging.provisioning import Topology, apply, region_streams
from shared.naming import Service, Streams, bucket_name
from shared.storage import KvStore

SKILLS = [f"skill{i}" for i in range(200)]
LEVELS = ["beginner", "intermediate", "advanced", "expert"]


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
    started, pending = time.monotonic(), set()
    for number in range(count):
        due = started + number / rate
        if (wait := due - time.monotonic()) > 0:
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
        latencies.append(time.time() - posted_at.get(question_id, time.time()))

    async def on_input(msg: Any) -> None:
        posted_at[json.loads(msg.data)["data"]["question_id"]] = time.time()

    await nc.subscribe(ExpertsSuggestedV1.subject_in(region), cb=on_output)
    await nc.subscribe(QuestionPostedV1.subject_in(region), cb=on_input)
    worker = await consumer()
    started = time.monotonic()
    await offer(nc, region, count, rate)
    deadline = started + 60 + count / 100  # far beyond any healthy run: a stuck hop fails
    while (done := await count_outputs(nc, region)) < count:
        if time.monotonic() > deadline:
            await worker()  # raises what stopped the consumer, if it failed
            raise RuntimeError(f"only {done} of {count} events came through the hop in time")
        await asyncio.sleep(0.05)
    elapsed = time.monotonic() - started
    await worker()
    ordered = sorted(latencies)
    return {
        "rate": count / elapsed,
        "p50_ms": 1000 * statistics.median(ordered),
        "p99_ms": 1000 * ordered[int(0.99 * (len(ordered) - 1))],
    }


async def guild_hop(
    nc: Client, url: str, region: str, members: list[Profile]
) -> Callable[[], Awaitable[Any]]:
    settings = MatchingSettings(region=region, nats_url=url, experts_per_question=3)
    app = build_app(settings)
    await apply(nc.jetstream(), app.topology)
    store = KvStore(bucket_name(Service.MATCHING, "profiles", region), Profile)
    await store.bind(nc.jetstream())
    for profile in members:
        await store.put(profile.member_id, replace(profile, home_region=region))
    await app.start()
    return app.stop


async def bare_hop(nc: Client, region: str, members: list[Profile]) -> Callable[[], Awaitable[Any]]:
    js = nc.jetstream()
    await apply(js, Topology(streams=region_streams(region)))
    index = ExpertiseIndex()
    for profile in members:
        index.upsert(replace(profile, home_region=region))
    sub = await js.pull_subscribe(
        QuestionPostedV1.subject_in(region),
        durable="bare-questions",
        stream=Streams(region).events,
        config=ConsumerConfig(max_deliver=3, ack_wait=60),
    )
    output_subject, stream = ExpertsSuggestedV1.subject_in(region), Streams(region).events

    async def handle(msg: Any) -> None:
        event = Envelope[QuestionPostedV1].model_validate_json(msg.data)
        data = event.data
        ranked = index.rank_experts(
            tags=data.tags,
            text=f"{data.title} {data.text}",
            asker_id=data.asker.member_id,
            home_region=region,
            limit=3,
            today=datetime.now(UTC).date(),
        )
        event_id = derived_id(event.source, event.id, "experts_suggested")
        out = new_envelope(
            event_id=event_id,
            source="/bench/bare",
            event_type=ExpertsSuggestedV1.TYPE,
            data=experts_suggested(data, ranked, datetime.now(UTC)),
            region=region,
            causation_id=event.id,
        )
        await js.publish(
            output_subject, structured_body(out), stream=stream, headers={"Nats-Msg-Id": event_id}
        )
        await msg.ack()

    running = True

    async def loop() -> None:
        while running:
            try:
                batch = await sub.fetch(10, timeout=1.0)
            except nats.errors.TimeoutError:
                continue
            await asyncio.gather(*(handle(m) for m in batch))

    task = asyncio.create_task(loop())

    async def stop() -> None:
        nonlocal running
        running = False
        await task
        await sub.unsubscribe()

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
