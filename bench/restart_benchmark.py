"""Restart with 100,000 members and 1,000,000 posts: time to ready, and query latency.

1. Loads a synthetic company straight into the buckets membership and content own (what
   months of commands would have left there): members with profiles, communities (a tenth
   private, a tenth gated), about three memberships per member, and posts of every kind
   (questions, answers, comments, practices, software, jobs, resource offers and requests).
2. **Cold start**: starts membership and content as processes, as in production; they build
   their read models from the whole buckets. Stops them (each writes a snapshot).
3. Adds a tail of changes while they are down (new posts and memberships).
4. **Restart**: starts them again; they load their snapshots and replay only the tail.
   Time to ready is measured from process start to the first ``ready`` status reply.
5. Sends each main query over NATS request-reply, one at a time, and prints p50 and p99,
   and each service's resident memory.

Run from the repository root (the full size takes about four minutes and 3 GB of disk):

    .venv/bin/python -m bench.restart_benchmark
    .venv/bin/python -m bench.restart_benchmark --members 5000 --posts 50000   # a quick look
    NATS_URL=nats://host:4222 .venv/bin/python -m bench.restart_benchmark
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext

from guild_cli.client import GuildClient
from guild_cli.nats_server import EmbeddedNats
from guild_cli.supervisor import ServiceProcess
from services.content.domain import model as content_model
from services.content.settings import ContentSettings
from services.content.store.buckets import ContentStore
from services.content.topology import topology as content_topology
from services.membership.domain import model as membership_model
from services.membership.settings import MembershipSettings
from services.membership.store.buckets import MembershipStore
from services.membership.topology import topology as membership_topology
from shared.credentials import connection_options, credentials_from_environment
from shared.messaging.provisioning import apply
from shared.naming import Service, query_subject
from shared.sealing import KEYS_FILE_VARIABLE, keyring_file

REGION = "bench"
REGIONS = ("eu", "us", "apac", "latam")
TIMEZONES = {
    "eu": "Europe/Berlin",
    "us": "America/Chicago",
    "apac": "Asia/Singapore",
    "latam": "America/Sao_Paulo",
}
TAGS = [f"topic{i}" for i in range(300)]
LEVELS = ("beginner", "intermediate", "advanced", "expert")
KIND_MIX = (
    (content_model.QUESTION, 30), (content_model.ANSWER, 32), (content_model.COMMENT, 15),
    (content_model.PRACTICE, 10), (content_model.SOFTWARE, 5), (content_model.JOB, 3),
    (content_model.RESOURCE_OFFER, 3), (content_model.RESOURCE_REQUEST, 2),
)  # fmt: skip
BODY = (
    "We moved the rollout to a canary per region and watch the error budget for an hour "
    "before the next one; the runbook and the dashboards are linked below."
)


# ------------------------------------------------------------------ the synthetic company


@dataclass
class Company:
    """Everything loaded, kept only as ids (what the queries pick from)."""

    rng: random.Random
    now: datetime
    member_ids: list[str] = field(default_factory=list)
    member_region: dict[str, str] = field(default_factory=dict)
    community_ids: list[str] = field(default_factory=list)
    private: set[str] = field(default_factory=set)
    people_of: dict[str, list[str]] = field(default_factory=dict)
    communities_of: dict[str, list[str]] = field(default_factory=dict)
    questions_of: dict[str, list[str]] = field(default_factory=dict)
    any_post_of: dict[str, list[str]] = field(default_factory=dict)
    post_ids: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    clock: datetime = field(init=False)

    def __post_init__(self) -> None:
        self.clock = self.now - timedelta(days=365)

    def tick(self, total: int) -> datetime:
        """Posting times spread evenly over the past year, in order."""
        self.clock += timedelta(days=365) / max(total, 1)
        return self.clock


def member(company: Company, i: int) -> membership_model.Member:
    rng = company.rng
    region = rng.choice(REGIONS)
    member_id = f"m{i:06d}"
    company.member_ids.append(member_id)
    company.member_region[member_id] = region
    return membership_model.Member(
        member_id=member_id,
        home_region=REGION,
        region=region,
        timezone=TIMEZONES[region],
        display_name=f"Person {i}",
        email=f"person{i}@example.com",
        skills=tuple(
            membership_model.Skill(tag, rng.choice(LEVELS)) for tag in rng.sample(TAGS, 3)
        ),
        languages=("en",),
        title="Engineer",
        manager_id=f"m{i // 10:06d}" if i >= 10 else None,
        registered_at=company.now - timedelta(days=400),
        team=f"team{i % 500}",
        about="Platform engineer; happy to help with rollouts.",
        working_hours=membership_model.Hours(clock_time(9), clock_time(17), (1, 2, 3, 4, 5)),
        interests=tuple(rng.sample(TAGS, 2)),
    )


def community(company: Company, i: int) -> membership_model.Community:
    access = "private" if i % 10 == 0 else "gated" if i % 10 == 1 else "public"
    community_id = f"c{i:04d}"
    company.community_ids.append(community_id)
    if access == "private":
        company.private.add(community_id)
    return membership_model.Community(
        community_id=community_id,
        home_region=REGION,
        name=f"Community {i}",
        description="People who do the same work in every region.",
        access=access,
        topics=tuple(company.rng.sample(TAGS, 4)),
        facilitator_ids=(),
        created_at=company.now - timedelta(days=400),
    )


def memberships(company: Company) -> Iterator[membership_model.Membership]:
    """One to five communities per member; the first two members of each facilitate it."""
    rng = company.rng
    joined_at = company.now - timedelta(days=380)
    for member_id in company.member_ids:
        for community_id in rng.sample(company.community_ids, rng.randint(1, 5)):
            yield join(company, community_id, member_id, joined_at)


def join(
    company: Company, community_id: str, member_id: str, at: datetime
) -> membership_model.Membership:
    people = company.people_of.setdefault(community_id, [])
    role = "facilitator" if len(people) < 2 else "member"
    people.append(member_id)
    company.communities_of.setdefault(member_id, []).append(community_id)
    return membership_model.Membership(community_id, member_id, role, at)


def post(company: Company, total: int) -> content_model.Post:
    rng = company.rng
    kind = rng.choices([k for k, _ in KIND_MIX], [w for _, w in KIND_MIX])[0]
    community_id = rng.choice(company.community_ids)
    questions = company.questions_of.get(community_id)
    if kind == content_model.ANSWER and not questions:
        kind = content_model.QUESTION
    if kind == content_model.COMMENT and not company.any_post_of.get(community_id):
        kind = content_model.PRACTICE
    author_id = rng.choice(company.people_of[community_id])
    post_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    parent_id = None
    if kind == content_model.ANSWER:
        parent_id = rng.choice(questions[-200:])  # type: ignore[index]
    elif kind == content_model.COMMENT:
        parent_id = rng.choice(company.any_post_of[community_id][-200:])
    made = content_model.Post(
        post_id=post_id,
        kind=kind,
        community_id=community_id,
        author_id=author_id,
        title="" if parent_id else f"How do we roll out change {len(company.post_ids)} safely?",
        body=BODY,
        tags=() if parent_id else tuple(rng.sample(TAGS, rng.randint(1, 3))),
        posted_at=company.tick(total),
        origin="guild",
        parent_id=parent_id,
        details=details(kind, company),
    )
    remember(company, made)
    return made


def details(kind: str, company: Company) -> content_model.Details:
    in_a_month = company.now + timedelta(days=30)
    if kind == content_model.SOFTWARE:
        return content_model.SoftwareDetails(
            "https://git.example.com/platform/lib", "Go", "internal"
        )
    if kind == content_model.JOB:
        return content_model.JobDetails(("go",), "remote", in_a_month.date())
    if kind == content_model.RESOURCE_OFFER:
        return content_model.OfferDetails("licence_seats", "IDE seat", 2, expires_at=in_a_month)
    if kind == content_model.RESOURCE_REQUEST:
        return content_model.RequestDetails("hardware", "GPU box", 1)
    return content_model.NoDetails()


def remember(company: Company, made: content_model.Post) -> None:
    company.post_ids.append(made.post_id)
    company.authors.append(made.author_id)
    if made.kind == content_model.QUESTION:
        company.questions_of.setdefault(made.community_id, []).append(made.post_id)
    if made.parent_id is None:
        company.any_post_of.setdefault(made.community_id, []).append(made.post_id)


# ------------------------------------------------------------------ loading the buckets


class BucketLoader:
    """Puts values straight into KV buckets (``$KV.<bucket>.<key>``), acknowledged in bulk."""

    def __init__(self, js: JetStreamContext) -> None:
        self.js = js
        self.sent = 0
        self.failed: list[BaseException] = []

    async def put(self, bucket: str, key: str, value: bytes) -> None:
        future = await self.js.publish_async(f"$KV.{bucket}.{key}", value)
        future.add_done_callback(self._check)
        self.sent += 1

    def _check(self, future: asyncio.Future[Any]) -> None:
        if not future.cancelled() and future.exception() is not None:
            self.failed.append(future.exception())  # type: ignore[arg-type]

    async def finish(self) -> None:
        await asyncio.wait_for(self.js.publish_async_completed(), 120)
        if self.failed:
            raise RuntimeError(f"{len(self.failed)} puts failed; first: {self.failed[0]!r}")


@dataclass
class Stores:
    membership: MembershipStore
    content: ContentStore


async def load_company(loader: BucketLoader, stores: Stores, company: Company, args: Any) -> None:
    ms, cs = stores.membership, stores.content
    for i in range(args.communities):
        made = community(company, i)
        await loader.put(ms.communities.bucket, made.community_id, ms.communities.encode(made))
    for i in range(args.members):
        made_member = member(company, i)
        await loader.put(ms.members.bucket, made_member.member_id, ms.members.encode(made_member))
        info = content_model.MemberInfo(made_member.member_id, REGION, made_member.region)
        await loader.put(cs.members.bucket, info.member_id, cs.members.encode(info))
    for membership in memberships(company):
        await put_membership(loader, stores, company, membership)
    await put_content_communities(loader, stores, company)
    await put_posts(loader, stores, company, args.posts)


async def put_membership(
    loader: BucketLoader, stores: Stores, company: Company, made: membership_model.Membership
) -> None:
    ms, cs = stores.membership, stores.content
    await loader.put(ms.memberships.bucket, made.key, ms.memberships.encode(made))
    joined = content_model.Joined(
        made.community_id, made.member_id, company.member_region[made.member_id], made.joined_at
    )
    await loader.put(cs.joined.bucket, made.key, cs.joined.encode(joined))


async def put_content_communities(loader: BucketLoader, stores: Stores, company: Company) -> None:
    cs = stores.content
    for community_id in company.community_ids:
        private = community_id in company.private
        info = content_model.CommunityInfo(
            community_id=community_id,
            name=community_id,
            visibility="private" if private else "public",
            access="private" if private else "public",
            facilitator_ids=tuple(company.people_of.get(community_id, [])[:2]),
            revision=1,
            created_at=company.now - timedelta(days=400),
        )
        await loader.put(cs.communities.bucket, community_id, cs.communities.encode(info))


async def put_posts(loader: BucketLoader, stores: Stores, company: Company, count: int) -> None:
    """Posts, and on one in five a vote (one in three of them also an endorsement)."""
    posts, reactions = stores.content.posts, stores.content.reactions
    total = len(company.post_ids) + count
    for i in range(count):
        made = post(company, total)
        await loader.put(posts.bucket, made.post_id, posts.encode(made))
        if i % 5 == 0:
            voter = company.rng.choice(company.people_of[made.community_id])
            vote = content_model.Reaction(made.post_id, voter, vote=1, endorsed=i % 3 == 0)
            await loader.put(reactions.bucket, vote.key, reactions.encode(vote))


async def add_tail(loader: BucketLoader, stores: Stores, company: Company, count: int) -> None:
    """What happens while the services are down: new posts, and a few new memberships."""
    at = company.now
    for member_id in company.rng.sample(company.member_ids, max(1, count // 10)):
        choices = [c for c in company.community_ids if c not in company.communities_of[member_id]]
        if choices:
            made = join(company, company.rng.choice(choices), member_id, at)
            await put_membership(loader, stores, company, made)
    company.clock = company.now - timedelta(hours=1)
    await put_posts(loader, stores, company, count)


# ------------------------------------------------------------------ running the services


@dataclass
class Started:
    seconds: float
    rss_mb: dict[str, float]
    from_snapshot: bool


async def start_services(
    url: str, logs: Path, client: GuildClient, timeout: float
) -> tuple[list[ServiceProcess], Started]:
    env = {**os.environ, "NATS_URL": url, "GUILD_REGION": REGION, "PYTHONUNBUFFERED": "1"}
    children = [
        ServiceProcess(service, env, logs / f"{service.value}.log")
        for service in (Service.MEMBERSHIP, Service.CONTENT)
    ]
    began = time.perf_counter()
    for child in children:
        child.start()
    await wait_ready(children, client, time.monotonic() + timeout)
    seconds = time.perf_counter() - began
    rss = {child.service.value: rss_mb(child) for child in children}
    return children, Started(seconds, rss, all(restored(child) for child in children))


async def wait_ready(children: list[ServiceProcess], client: GuildClient, deadline: float) -> None:
    pending = list(children)
    while pending:
        for child in list(pending):
            if (code := child.exit_code()) is not None:
                raise RuntimeError(f"{child.service.value} exited ({code}):\n{child.log_tail()}")
            status = await client.status(child.service, timeout=0.5)
            if status and status.get("ready"):
                pending.remove(child)
        if pending and time.monotonic() > deadline:
            raise RuntimeError(f"not ready in time: {[c.service.value for c in pending]}")
        await asyncio.sleep(0.05)


def rss_mb(child: ServiceProcess) -> float:
    assert child.process is not None
    for line in Path(f"/proc/{child.process.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def restored(child: ServiceProcess) -> bool:
    """Whether every read model of the service started from a snapshot (from its log); one
    whose bucket is empty (at sequence 0: nothing to restore, e.g. content's posts held by
    other regions in a region without peers) has none to start from."""
    lines = [ln for ln in child.log_path.read_text().splitlines() if "read model ready" in ln]
    return bool(lines) and all(
        '"from_snapshot": true' in ln or '"sequence": 0,' in ln for ln in lines
    )


def stop_services(children: list[ServiceProcess]) -> float:
    began = time.perf_counter()
    for child in children:
        child.signal_stop()
    codes = {child.service.value: child.wait_stopped(timeout=120) for child in children}
    if any(codes.values()):
        raise RuntimeError(f"a service did not stop cleanly: {codes}")
    return time.perf_counter() - began


# ------------------------------------------------------------------ queries


def query_makers(company: Company) -> dict[str, tuple[str, Callable[[], dict[str, Any]]]]:
    rng = company.rng

    def viewer() -> str:
        return rng.choice(company.member_ids)

    def member_community() -> tuple[str, str]:
        member_id = viewer()
        return member_id, rng.choice(company.communities_of[member_id])

    return {
        "membership.get_member": (
            "membership",
            lambda: {"viewer_id": viewer(), "member_id": viewer()},
        ),
        "membership.community_members": (
            "membership",
            lambda: dict(zip(("viewer_id", "community_id"), member_community(), strict=True)),
        ),
        "membership.member_communities": (
            "membership",
            lambda: {"viewer_id": viewer(), "member_id": viewer()},
        ),
        "content.get_post": (
            "content",
            lambda: {"viewer_id": viewer(), "post_id": rng.choice(company.post_ids)},
        ),
        "content.community_posts": (
            "content",
            lambda: dict(zip(("viewer_id", "community_id"), member_community(), strict=True)),
        ),
        "content.search_posts": (
            "content",
            lambda: {"viewer_id": viewer(), "tags": [rng.choice(TAGS)]},
        ),
        "content.unanswered_questions": (
            "content",
            lambda: dict(zip(("viewer_id", "community_id"), member_community(), strict=True)),
        ),
        "content.member_posts": (
            "content",
            lambda: {"viewer_id": viewer(), "author_id": rng.choice(company.authors)},
        ),
    }


@dataclass
class Measured:
    milliseconds: list[float] = field(default_factory=list)
    refused: int = 0  # not_found: a private community's post asked for by a non-member
    items: int = 0  # results returned, to show the queries do real work


async def ask(nc: Client, subject: str, payload: dict[str, Any], into: Measured) -> None:
    body = json.dumps(payload).encode()
    began = time.perf_counter()
    reply = json.loads((await nc.request(subject, body, timeout=10)).data)
    into.milliseconds.append((time.perf_counter() - began) * 1000)
    if not reply["ok"]:
        if reply["error"]["code"] != "not_found":
            raise RuntimeError(f"{subject} {payload}: {reply['error']}")
        into.refused += 1
        return
    result = reply["result"]
    into.items += len(result["items"]) if "items" in result else 1


async def measure_first_seconds(nc: Client, company: Company, seconds: float) -> Measured:
    """Single-post reads right after a restart, while nats-server still loads the buckets'
    blocks from disk on first touch (the first reads of a block wait for it)."""
    makers = query_makers(company)
    measured, deadline = Measured(), time.monotonic() + seconds
    while time.monotonic() < deadline:
        for name in ("membership.get_member", "content.get_post"):
            service, make = makers[name]
            subject = query_subject(REGION, Service(service), name.split(".", 1)[1])
            await ask(nc, subject, make(), measured)
    return measured


async def measure_queries(nc: Client, company: Company, count: int) -> dict[str, Measured]:
    measured: dict[str, Measured] = {}
    for name, (service, make) in query_makers(company).items():
        subject = query_subject(REGION, Service(service), name.split(".", 1)[1])
        for _ in range(20):  # warm-up, not measured
            await ask(nc, subject, make(), Measured())
        measured[name] = Measured()
        for _ in range(count):
            await ask(nc, subject, make(), measured[name])
    return measured


def percentile(samples: list[float], q: int) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


# ------------------------------------------------------------------ main


async def run(args: argparse.Namespace, url: str, work: Path) -> None:
    nc = await nats.connect(url, **connection_options(credentials_from_environment()))
    js = nc.jetstream(publish_async_max_pending=8000)
    membership = MembershipSettings(region=REGION)
    await apply(js, membership_topology(membership))
    await apply(js, content_topology(ContentSettings(region=REGION)))
    stores = Stores(
        MembershipStore.for_region(REGION, membership.keyring()), ContentStore.for_region(REGION)
    )
    company = Company(random.Random(args.seed), datetime.now(UTC))
    loader = BucketLoader(js)
    began = time.perf_counter()
    await load_company(loader, stores, company, args)
    await loader.finish()
    loaded = time.perf_counter() - began
    print(f"loaded {loader.sent:,} bucket entries in {loaded:.1f} s "
          f"({loader.sent / loaded:,.0f}/s): {args.members:,} members, "
          f"{args.communities:,} communities, {sum(map(len, company.people_of.values())):,} "
          f"memberships, {args.posts:,} posts")  # fmt: skip
    client = GuildClient(nc, REGION)

    children, cold = await start_services(url, work / "logs-cold", client, args.timeout)
    report("cold start (read models built from the whole buckets)", cold)
    stopped = stop_services(children)
    print(f"stopped in {stopped:.1f} s (snapshots written)")

    loader.sent = 0
    await add_tail(loader, stores, company, args.tail)
    await loader.finish()
    print(f"tail added while down: {loader.sent:,} bucket entries")

    children, warm = await start_services(url, work / "logs-restart", client, args.timeout)
    report("restart (snapshot + tail)", warm)
    if not warm.from_snapshot:
        print("  warning: a read model did not start from its snapshot; see the service logs")
    print(f"  restart is {cold.seconds / warm.seconds:.1f}x faster than the cold start")
    try:
        first = await measure_first_seconds(nc, company, args.first_seconds)
        measured = await measure_queries(nc, company, args.queries)
    finally:
        stop_services(children)
        await nc.drain()
    print(
        f"\nthe first {args.first_seconds:.0f} s after the restart (nats-server loading blocks "
        f"from disk): get_member and get_post, {len(first.milliseconds)} requests: p50 "
        f"{percentile(first.milliseconds, 50):.2f} ms, p99 {percentile(first.milliseconds, 99):.2f}"
        f" ms, max {max(first.milliseconds):.1f} ms"
    )
    print(f"\nquery latency over NATS request-reply, {args.queries} each, one at a time:")
    print(f"  {'query':32} {'p50 ms':>7} {'p99 ms':>7} {'items/reply':>12} {'not found':>10}")
    for name, m in measured.items():
        print(
            f"  {name:32} {percentile(m.milliseconds, 50):7.2f} "
            f"{percentile(m.milliseconds, 99):7.2f} {m.items / args.queries:12.1f} {m.refused:10}"
        )


def report(what: str, started: Started) -> None:
    memory = ", ".join(f"{name} {mb:,.0f} MB" for name, mb in started.rss_mb.items())
    print(f"{what}: ready in {started.seconds:.1f} s; resident memory: {memory}")


async def main(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="guild-restart-bench-"))
    os.environ.setdefault(KEYS_FILE_VARIABLE, str(keyring_file(work / "sealing.keys")))
    url = os.environ.get("NATS_URL")
    server = None if url else EmbeddedNats(work / "nats").start()
    try:
        await run(args, url or server.url, work)  # type: ignore[union-attr]
    finally:
        if server is not None:
            server.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept {work}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--communities", type=int, default=200)
    parser.add_argument("--tail", type=int, default=10_000, help="posts added while down")
    parser.add_argument("--queries", type=int, default=500, help="requests per query")
    parser.add_argument("--first-seconds", type=float, default=3.0, help="warm-up to report")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to get ready")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    asyncio.run(main(parser.parse_args()))
