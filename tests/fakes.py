"""In-memory fakes of Guild's own ports, for unit tests of handlers (Cosmic Python's
FakeRepository and fake message bus).

* :class:`FakeKvStore` has the methods of ``shared.storage.KvStore`` that handlers use, with the
  same optimistic concurrency, and passes every value through the same pydantic
  ``TypeAdapter``: what a handler stores must be what the real bucket would hold. Each write
  is applied at once to the store's projections (the indexes a ``BucketFollower`` keeps), so
  a handler reads its own writes as it does once it has waited for its follower.
* :class:`FakeFollower` is that wait: nothing to wait for.
* :class:`FakePublisher` has ``EventPublisher``'s methods and records what was published,
  keeping one copy per event id as JetStream's deduplication does.
* :class:`KilledBeforePublishing` wraps a real publisher and fails every publish, as a
  process killed after its writes and before its events went out would.

The real server stays for what only it can show: acks, redelivery, dedup windows, regions.
"""

from __future__ import annotations

import fnmatch
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from pydantic import TypeAdapter

from services.content.domain.model import Claim, CommunityInfo, Joined, MemberInfo, Post, Reaction
from services.content.store.buckets import ContentStore
from services.membership.domain.model import Community, JoinRequest, Member, Membership
from services.membership.store.buckets import MembershipStore, OrgIndex, People, PersonLink
from shared.contracts.base import Contract
from shared.ids import derived_id
from shared.own_writes import OwnWrites
from shared.readmodel import Projection
from shared.storage import StaleRevision, Versioned

T = TypeVar("T")


class FakeKvStore(Generic[T]):
    """A key-value bucket in memory: latest value per key, one revision counter per bucket."""

    def __init__(self, value_type: type[T], projections: Iterable[Projection] = ()) -> None:
        self.bucket = f"fake_{getattr(value_type, '__name__', 'values').lower()}"
        self._adapter: TypeAdapter[T] = TypeAdapter(value_type)
        self.projections = list(projections)
        self.data: dict[str, tuple[bytes, int]] = {}
        self.erased: dict[str, datetime] = {}
        self.revision = 0

    def encode(self, value: T) -> bytes:
        return self._adapter.dump_json(value)

    def decode(self, data: bytes) -> T:
        return self._adapter.validate_json(data)

    async def get(self, key: str) -> Versioned[T] | None:
        found = self.data.get(key)
        return Versioned(self.decode(found[0]), found[1]) if found else None

    async def put(self, key: str, value: T) -> int:
        return self._write(key, self.encode(value))

    async def put_raw(self, key: str, data: bytes) -> int:
        return self._write(key, data)

    async def create(self, key: str, value: T) -> int | None:
        return await self.create_raw(key, self.encode(value))

    async def create_raw(self, key: str, data: bytes) -> int | None:
        if key in self.data:
            return None
        return self._write(key, data)

    async def update(self, key: str, value: T, *, revision: int) -> int:
        if key not in self.data or self.data[key][1] != revision:
            raise StaleRevision(key)
        return self._write(key, self.encode(value))

    async def change(self, key: str, change: Callable[[T | None], T | None]) -> T | None:
        found = await self.get(key)
        held = found.value if found else None
        changed = change(held)
        if changed is None:
            return held
        self._write(key, self.encode(changed))
        return changed

    async def delete(self, key: str) -> int:
        self._forget(key)
        return self.revision

    async def rewrite(self, key: str, rewrite: Callable[[bytes], bytes | None]) -> None:
        found = self.data.get(key)
        changed = rewrite(found[0]) if found else None
        if changed is not None:
            self._write(key, changed)

    async def erase(self, key: str) -> int:
        self._forget(key)
        self.erased[key] = datetime.now(UTC)
        return self.revision

    async def erased_after(self, key: str, moment: datetime | None) -> bool:
        erased = None if key in self.data else self.erased.get(key)
        return erased is not None and (moment is None or moment <= erased)

    async def items(self, key_filter: str = ">") -> AsyncIterator[tuple[str, Versioned[T]]]:
        pattern = key_filter.replace(">", "*")
        for key, (data, revision) in sorted(self.data.items()):
            if fnmatch.fnmatchcase(key, pattern):
                yield key, Versioned(self.decode(data), revision)

    def _write(self, key: str, data: bytes) -> int:
        self.revision += 1
        self.data[key] = (data, self.revision)
        for projection in self.projections:
            projection.apply(key, data)
        return self.revision

    def _forget(self, key: str) -> None:
        self.revision += 1
        self.data.pop(key, None)
        for projection in self.projections:
            projection.apply(key, None)


class FakeDeadLetters:
    """A service's dead letters in memory: (subject-free) letter bytes."""

    def __init__(self) -> None:
        self.letters: list[bytes] = []

    async def erase(self, holds: Callable[[bytes], bool]) -> int:
        kept = [letter for letter in self.letters if not holds(letter)]
        erased, self.letters = len(self.letters) - len(kept), kept
        return erased


class FakeFollower:
    """A ``BucketFollower`` whose projection is always current (the fake store feeds it)."""

    async def wait_for(self, sequence: int, timeout: float = 5.0) -> None:
        return None


@dataclass(frozen=True)
class Published:
    data: Contract
    event_id: str
    subject: str | None
    key: str | None


@dataclass
class FakePublisher:
    """Records what a handler publishes; a repeated event id is stored once, as by JetStream."""

    published: list[Published] = field(default_factory=list)

    async def publish(
        self,
        data: Contract,
        *,
        event_id: str,
        subject: str | None = None,
        cause: Any = None,
        key: str | None = None,
    ) -> None:
        if all(p.event_id != event_id for p in self.published):
            self.published.append(Published(data, event_id, subject, key))

    async def publish_caused_by(
        self,
        cause: Any,
        data: Contract,
        *,
        purpose: str,
        subject: str | None = None,
        key: str | None = None,
    ) -> None:
        event_id = derived_id(cause.source, cause.id, purpose)
        await self.publish(data, event_id=event_id, subject=subject, cause=cause, key=key)

    def of(self, contract: type[Contract]) -> list[Any]:
        """The published events of one contract, in order."""
        return [p.data for p in self.published if isinstance(p.data, contract)]


def membership_store() -> MembershipStore:
    """Membership's store in memory, its indexes fed by its buckets."""
    members, org = FakeKvStore(Member), OrgIndex()
    store = MembershipStore(
        members=members,
        communities=FakeKvStore(Community),
        memberships=FakeKvStore(Membership),
        join_requests=FakeKvStore(JoinRequest),
        people=People(FakeKvStore(PersonLink), FakeKvStore(str), members, org.has_member),
        org=org,
    )
    # in the order of MembershipStore.followers: memberships, communities, org
    feeds = (
        (store.memberships, store.index),
        (store.communities, store.directory),
        (store.members, store.org),
    )
    store.followers = followers(*feeds)
    store.own = {bucket.bucket: OwnWrites(projection) for bucket, projection in feeds}
    return store


def content_store() -> ContentStore:
    """Content's store in memory, its indexes fed by its buckets."""
    store = ContentStore(
        posts=FakeKvStore(Post),
        reactions=FakeKvStore(Reaction),
        claims=FakeKvStore(Claim),
        communities=FakeKvStore(CommunityInfo),
        joined=FakeKvStore(Joined),
        members=FakeKvStore(MemberInfo),
        pulses=FakeKvStore(str),
        dead_letters=FakeDeadLetters(),  # type: ignore[arg-type]
        elsewhere=FakeKvStore(str),
    )
    # in the order of ContentStore.followers
    store.followers = followers(
        (store.posts, store.index),
        (store.reactions, store.votes),
        (store.communities, store.directory),
        (store.joined, store.membership),
        (store.members, store.people),
        (store.elsewhere, store.held_by),
    )
    return store


def followers(*feeds: tuple[Any, Projection]) -> list[Any]:
    """Each fake bucket feeds its projection (bulk load done: nothing yet to load), and a
    follower that has nothing to wait for stands in for each ``BucketFollower``."""
    for bucket, projection in feeds:
        caught_up = getattr(projection, "caught_up", None)
        if caught_up is not None:
            caught_up()
        bucket.projections.append(projection)
    return [FakeFollower() for _ in feeds]


class CountingKvStore(FakeKvStore[T]):
    """A fake bucket that counts the reads made of it (a read is a request-reply to
    nats-server in the real one): ``get``, ``change`` (which reads first), ``items``."""

    def __init__(self, value_type: type[T], projections: Iterable[Projection] = ()) -> None:
        super().__init__(value_type, projections)
        self.reads = 0

    async def get(self, key: str) -> Versioned[T] | None:
        self.reads += 1
        return await super().get(key)

    async def items(self, key_filter: str = ">") -> AsyncIterator[tuple[str, Versioned[T]]]:
        self.reads += 1
        async for item in super().items(key_filter):
            yield item


def notifications_store(region: str = "eu") -> Any:
    """Notifications' store in memory: every bucket a :class:`CountingKvStore`, each read
    model fed by its bucket as its ``BucketFollower`` would."""
    from services.notifications.store.buckets import NotificationsStore

    store = NotificationsStore.for_region(region)
    by_bucket = {follower.bucket: follower.projection for follower in store.followers}
    for name, value in list(vars(store).items()):
        if hasattr(value, "bucket") and hasattr(value, "_adapter") and name != "followers":
            projection = by_bucket.get(value.bucket)
            fake = CountingKvStore(value._adapter._type, [projection] if projection else [])
            setattr(store, name, fake)
    store.followers = [FakeFollower() for _ in store.followers]
    store.erasure_secret = b"a test's own secret"
    return store


@dataclass
class KilledBeforePublishing:
    """A service's publisher failing as a process killed after its records were stored and
    before its events went out would; everything else is the real publisher's."""

    events: Any

    async def publish(self, *args: Any, **kwargs: Any) -> None:
        raise ConnectionError("killed before the events went out")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.events, name)
