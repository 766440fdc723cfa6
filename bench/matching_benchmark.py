"""Matching at scale: 100,000 members and a history of 1,000,000 posts.

1. Writes a synthetic history straight into matching's buckets (what months of membership
   and content events would have left there): member profiles with declared skills, one
   evidence entry per answer and per acceptance, and a record per question. Activity is
   skewed as in real communities (a few people answer most questions).
2. **Cold rebuild**, in a fresh process: matching's read models are built from the whole
   buckets; the time until they are ready, and the process's resident memory before and
   after (the read models' share). Then ranks ``--queries`` questions one at a time (the
   ranking routing uses: every member scored, the asker and other regions masked out, the
   best 50 kept) and prints p50 and p99. It saves its snapshots, then ranks them again
   with a new answer reaching the read model before each question (the worst case for what
   the model keeps between changes).
3. **Restart**, in another fresh process: the read models from their snapshots.

Resident memory is read after each read model has handed back what loading freed (see
``shared.readmodel.return_freed_memory``).

Run from the repository root (the full size takes a few minutes and about 1 GB of disk):

    .venv/bin/python -m bench.matching_benchmark
    .venv/bin/python -m bench.matching_benchmark --members 5000 --posts 50000   # a quick look
    NATS_URL=nats://host:4222 .venv/bin/python -m bench.matching_benchmark
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any

import nats
from nats.js import JetStreamContext
from pydantic import TypeAdapter

from guild_cli.nats_server import EmbeddedNats
from services.matching.domain.profiles import Profile
from services.matching.domain.records import QuestionRecord, evidence_key, profile_key
from services.matching.domain.text import question_terms
from services.matching.settings import MatchingSettings
from services.matching.store.buckets import MatchingStore
from services.matching.topology import topology
from shared.credentials import connection_options, credentials_from_environment
from shared.ids import derived_id
from shared.messaging.provisioning import apply

REGION = "mbench"
REGIONS = ("eu", "us", "apac", "latam")
TIMEZONES = {"eu": "Europe/Berlin", "us": "America/Chicago", "apac": "Asia/Singapore",
             "latam": "America/Sao_Paulo"}  # fmt: skip
LEVELS = ("beginner", "intermediate", "advanced", "expert")
NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
HISTORY = timedelta(days=730)
GOALS = {"p99_ms": 5.0, "memory_mb": 300.0, "rebuild_s": 10.0}


class Vocabulary:
    """Tags and title words with Zipf-like popularity, as on a real Q&A site."""

    def __init__(self, rng: random.Random, tags: int = 2_000, words: int = 20_000) -> None:
        self.rng = rng
        self.tags = [f"tag{i}" for i in range(tags)]
        self.words = [f"word{i}" for i in range(words)]
        self.tag_weights = list(accumulate(1 / (i + 1) for i in range(tags)))
        self.word_weights = list(accumulate(1 / (i + 1) for i in range(words)))

    def some_tags(self, k: int) -> list[str]:
        return list(dict.fromkeys(self.rng.choices(self.tags, cum_weights=self.tag_weights, k=k)))

    def title(self) -> str:
        k = self.rng.randint(4, 8)
        return " ".join(self.rng.choices(self.words, cum_weights=self.word_weights, k=k))


def member_id(number: int) -> str:
    """Ids as Guild makes them (UUIDs), so that the memory measured is what a region holds."""
    return derived_id("bench-member", str(number))


def post_id(number: int) -> str:
    return derived_id("bench-post", str(number))


def profile(i: int, rng: random.Random, vocabulary: Vocabulary) -> Profile:
    region = REGIONS[i % len(REGIONS)]
    return Profile(
        member_id=member_id(i), home_region=REGION, region=region, timezone=TIMEZONES[region],
        skills=tuple((t, rng.choice(LEVELS)) for t in vocabulary.some_tags(rng.randint(1, 5))),
        languages=("en",), revision=1,
    )  # fmt: skip


class Writer:
    """Pipelined key-value puts: a window of them in flight, each confirmed by JetStream."""

    def __init__(self, js: JetStreamContext, window: int = 2_000) -> None:
        self.js, self.window = js, window
        self.pending: list[Awaitable[Any]] = []

    async def put(self, bucket: str, key: str, value: bytes) -> None:
        self.pending.append(self.js.publish(f"$KV.{bucket}.{key}", value))
        if len(self.pending) >= self.window:
            await self.flush()

    async def flush(self) -> None:
        await asyncio.gather(*self.pending)
        self.pending = []


async def write_history(js: JetStreamContext, members: int, posts: int, seed: int) -> None:
    rng, vocabulary = random.Random(seed), Vocabulary(random.Random(seed + 1))
    store = MatchingStore.for_region(REGION)
    writer = Writer(js)
    profiles_json, questions_json = TypeAdapter(Profile), TypeAdapter(QuestionRecord)
    for i in range(members):
        data = profiles_json.dump_json(profile(i, rng, vocabulary))
        await writer.put(store.members.bucket, profile_key(member_id(i)), data)
    activity = list(accumulate(1 / (i + 1) ** 0.8 for i in range(members)))  # a few answer most
    everyone = range(members)
    questions: list[tuple[str, tuple[str, ...]]] = []
    start = NOW - HISTORY
    for number in range(posts):
        at = start + HISTORY * (number / posts)
        if number % 5 < 2 or not questions:  # 40% questions, 60% answers
            tags = vocabulary.some_tags(rng.randint(1, 3))
            title = vocabulary.title()
            record = QuestionRecord(
                question_id=post_id(number), community_id="c1", private=False,
                asker_id=member_id(rng.randrange(members)), title=title, tags=tuple(tags),
                terms=question_terms(title, tags), posted_at=at, answers=1,
            )  # fmt: skip
            questions.append((record.question_id, record.terms))
            await writer.put(store.questions.bucket, record.question_id,
                             questions_json.dump_json(record))  # fmt: skip
            continue
        _, terms = questions[-1 - min(int(rng.expovariate(1 / 50)), len(questions) - 1)]
        author = (
            rng.choices(everyone, cum_weights=activity)[0] if number % 7 else rng.randrange(members)
        )
        kinds = ["answer", "accepted"] if rng.random() < 0.3 else ["answer"]
        for kind in kinds:
            evidence = {"at": at.isoformat(), "terms": list(terms), "kind": kind}
            key = evidence_key(member_id(author), post_id(number), kind)
            await writer.put(store.members.bucket, key, json.dumps(evidence).encode())
    await writer.flush()


# ------------------------------------------------------------------ measured in a fresh process


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


async def measure(url: str, queries: int, seed: int) -> dict[str, Any]:
    gc.collect()
    before = rss_mb()
    nc = await nats.connect(url, **connection_options(credentials_from_environment()))
    js = nc.jetstream()
    store = MatchingStore.for_region(REGION)
    started = time.perf_counter()
    for kv in store.kv_stores():
        await kv.bind(js)
    for follower in store.followers:
        await follower.start(js)
    ready = time.perf_counter() - started
    gc.collect()
    after = rss_mb()
    restored = all(f.restored_from_snapshot for f in store.followers if f.applied)
    latencies = rank_questions(store, queries, seed, writes=False)
    for follower in store.followers:
        await follower.save_snapshot()
        await follower.stop()
    await nc.drain()
    writing = rank_questions(store, queries, seed, writes=True)  # not in the snapshots
    return {
        "ready_s": ready, "memory_mb": after - before, "members": len(store.model),
        "questions": len(store.question_index.ids.names), "restored": restored,
        "p50_ms": statistics.median(latencies), "p99_ms": percentile(latencies, 99),
        "writing_p50_ms": statistics.median(writing), "writing_p99_ms": percentile(writing, 99),
    }  # fmt: skip


def rank_questions(store: MatchingStore, count: int, seed: int, *, writes: bool) -> list[float]:
    """Times ``count`` rankings; with ``writes``, a new answer reaches the read model before
    each (not timed), so nothing the model keeps between changes is reused."""
    rng, vocabulary = random.Random(seed + 2), Vocabulary(random.Random(seed + 1))
    model, now, latencies = store.model, NOW.timestamp(), []
    for number in range(count):
        tags = vocabulary.some_tags(rng.randint(1, 3))
        terms = question_terms(vocabulary.title(), tags)
        asker = member_id(rng.randrange(len(model)))
        if writes:
            answered = {"at": NOW.isoformat(), "terms": list(terms), "kind": "answer"}
            key = evidence_key(member_id(rng.randrange(len(model))), post_id(-number), "answer")
            model.apply(key, json.dumps(answered).encode())
        started = time.perf_counter()
        allowed = model.mask(home_region=REGION, excluding=[asker])
        ranked = model.rank(terms, now, allowed, 50)
        latencies.append(1000 * (time.perf_counter() - started))
        assert ranked
        assert all(r.member_id != asker for r in ranked)
    return latencies


def percentile(samples: list[float], q: int) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def in_fresh_process(url: str, args: argparse.Namespace) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.matching_benchmark", "--measure", url,
               "--queries", str(args.queries), "--seed", str(args.seed)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise RuntimeError(f"measuring failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


async def main(args: argparse.Namespace) -> None:
    if args.measure:
        print(json.dumps(await measure(args.measure, args.queries, args.seed)))
        return
    server, url = None, os.environ.get("NATS_URL")
    if not url:
        server = EmbeddedNats(Path(tempfile.mkdtemp(prefix="guild-mbench-"))).start()
        url = server.url
    try:
        nc = await nats.connect(url, **connection_options(credentials_from_environment()))
        js = nc.jetstream()
        await apply(js, topology(MatchingSettings(region=REGION, nats_url=url)))
        started = time.perf_counter()
        await write_history(js, args.members, args.posts, args.seed)
        written = time.perf_counter() - started
        await nc.drain()
        cold = in_fresh_process(url, args)
        warm = in_fresh_process(url, args)
    finally:
        if server:
            server.stop()
    report(args, written, cold, warm)


def report(args: argparse.Namespace, written: float, cold: dict[str, Any],
           warm: dict[str, Any]) -> None:  # fmt: skip
    print(f"matching: {cold['members']:,} members, {args.posts:,} posts "
          f"({cold['questions']:,} questions); history written in {written:.0f} s")  # fmt: skip
    print(f"{'':<34}{'cold rebuild':>14}{'restart':>10}{'goal':>8}")
    print(f"{'read models ready (s)':<34}{cold['ready_s']:>14.2f}{warm['ready_s']:>10.2f}"
          f"{GOALS['rebuild_s']:>8.0f}")  # fmt: skip
    print(f"{'read models memory (MB)':<34}{cold['memory_mb']:>14.0f}{warm['memory_mb']:>10.0f}"
          f"{GOALS['memory_mb']:>8.0f}")  # fmt: skip
    print(f"{'rank one question p50 (ms)':<34}{cold['p50_ms']:>14.2f}{warm['p50_ms']:>10.2f}")
    print(f"{'rank one question p99 (ms)':<34}{cold['p99_ms']:>14.2f}{warm['p99_ms']:>10.2f}"
          f"{GOALS['p99_ms']:>8.0f}")  # fmt: skip
    print(f"{'  with an answer before each, p50':<34}{cold['writing_p50_ms']:>14.2f}"
          f"{warm['writing_p50_ms']:>10.2f}")  # fmt: skip
    print(f"{'  with an answer before each, p99':<34}{cold['writing_p99_ms']:>14.2f}"
          f"{warm['writing_p99_ms']:>10.2f}")  # fmt: skip
    print(f"restart loaded snapshots: {warm['restored']}; {args.queries} questions ranked")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--measure", metavar="NATS_URL", help=argparse.SUPPRESS)
    asyncio.run(main(parser.parse_args()))
