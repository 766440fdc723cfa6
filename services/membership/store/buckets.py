"""Membership's buckets, and the in-memory indexes its queries read.

The indexes (memberships, communities, the org chart) are read models fed by their buckets'
followers, and changed at once by membership's own writes (:mod:`shared.own_writes`): a
handler's write is in its index before it is awaited, so nothing on the event or command path
waits for a follower, and a command's reply reads its own write from memory. Writes that two
events or commands can race on are creates or compare-and-set (:meth:`MembershipStore.write`
returns None when someone else wrote the key first; the index then holds what is stored).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from array import array
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import TypeAdapter

from services.membership.domain.model import (
    Community,
    JoinRequest,
    Member,
    Membership,
    membership_key,
)
from shared.ids import new_member_id
from shared.messaging.provisioning import Bucket, Buckets
from shared.naming import Service
from shared.own_writes import OwnWrites, Stored
from shared.readmodel import BucketFollower, pack, unpack
from shared.sealing import Keyring
from shared.storage import KvStore, StaleRevision, Versioned, kept_secret

T = TypeVar("T")

SERVICE = Service.MEMBERSHIP
BUCKETS = Buckets(SERVICE, {
    "members": Bucket("Members homed in this region, with their personal data", secure=True),
    "communities": Bucket("Communities, by community id"),
    "memberships": Bucket("Who is in which community: <community>.<member>"),
    "join_requests": Bucket("Pending requests to join gated communities: <community>.<member>",
                            secure=True),
    "people": Bucket("Which member each HR person is: <keyed hash of the HR person id>",
                     secure=True),
    "keys": Bucket("This region's own secrets (keying the people bucket)", secure=True,
                   sealed=True),
})  # fmt: skip


@dataclass(frozen=True)
class PersonLink:
    """The member an HR person is (or will be: a manager named before their hire)."""

    member_id: str


@dataclass(frozen=True)
class Link:
    """An HR person's member id, and whether it was drawn by this lookup."""

    member_id: str
    drawn: bool


class People:
    """The one link between an HR person id and a member id.

    Every event, key and other region knows a member by an id drawn at random
    (:func:`shared.ids.new_member_id`); the HR person id is in this bucket's *key* only,
    HMAC-keyed with a secret of the region (so the key, and the purge marker an erasure
    leaves, cannot be traced back to a person by trying ids), and in the member's own
    record. Erasing the link leaves nothing that ties the member id to the person.

    A member registered before member ids were drawn has their HR id as member id and no
    link: the first lookup finds their record under the HR id and links it (it stays their
    member id; the public events they were in already name it)."""

    SECRET = "people"

    def __init__(
        self,
        links: KvStore[PersonLink],
        keys: KvStore[str],
        members: KvStore[Member],
        stored: Callable[[str], bool],
    ) -> None:
        self.links, self.keys, self.members = links, keys, members
        self.stored = stored
        """Whether a member record is stored under an id (from memory: the org index)."""
        self._secret: bytes | None = None

    async def _key(self, person_id: str) -> str:
        if self._secret is None:
            self._secret = await kept_secret(self.keys, self.SECRET)
        return hmac.new(self._secret, person_id.encode(), hashlib.sha256).hexdigest()[:40]

    async def member_of(self, person_id: str) -> str | None:
        """The member id of ``person_id``, if they have one."""
        key = await self._key(person_id)
        found = await self.links.get(key)
        if found is not None:
            return found.value.member_id
        return await self._link_earlier(key, person_id)

    async def member_for(self, person_id: str) -> str:
        """The member id of ``person_id``, drawn now if they have none yet (once: two
        instances drawing at the same moment agree on the first one stored)."""
        return (await self.link(person_id)).member_id

    async def link(self, person_id: str, *, likely_new: bool = False) -> Link:
        """:meth:`member_for`, saying whether the id was drawn just now (then no member record
        can exist under it yet). For someone ``likely_new`` (a hire) the link is created
        first: one round trip for a new person, two for one linked already; otherwise it is
        read first. Both ways, an earlier member stored under the HR id (known from memory)
        is linked instead of drawing an id."""
        key = await self._key(person_id)
        while True:
            if self.stored(person_id):
                found = await self._linked_or_earlier(key, person_id)
            elif likely_new:
                found = await self._drawn(key) or await self._linked(key)
            else:
                found = await self._linked(key) or await self._drawn(key)
            if found is not None:
                return found

    async def _linked(self, key: str) -> Link | None:
        found = await self.links.get(key)
        return Link(found.value.member_id, drawn=False) if found is not None else None

    async def _drawn(self, key: str) -> Link | None:
        """A member id drawn and linked now; None if the person was linked first."""
        drawn = new_member_id()
        created = await self.links.create(key, PersonLink(drawn))
        return Link(drawn, drawn=True) if created is not None else None

    async def _linked_or_earlier(self, key: str, person_id: str) -> Link | None:
        """The link, or the member stored under the HR id from before member ids were drawn
        (:meth:`_link_earlier`), or an id drawn now; None if another drew one meanwhile."""
        found = await self._linked(key)
        if found is not None:
            return found
        earlier = await self._link_earlier(key, person_id)
        return Link(earlier, drawn=False) if earlier is not None else await self._drawn(key)

    async def _link_earlier(self, key: str, person_id: str) -> str | None:
        """A member from before member ids were drawn (their HR id is their member id),
        linked now; None if there is none."""
        if not self.stored(person_id):
            return None
        earlier = await self.members.get(person_id)
        if earlier is None or earlier.value.person_id not in (None, person_id):
            return None
        await self.links.create(key, PersonLink(person_id))
        return person_id

    async def adopt(self, person_id: str, member_id: str) -> None:
        """Link ``person_id`` to ``member_id``, the id another region drew for them (a member
        who moved here keeps theirs)."""
        await self.links.put(await self._key(person_id), PersonLink(member_id))

    async def forget(self, person_id: str) -> None:
        """Erase the link: the member id no longer leads to the person."""
        await self.links.erase(await self._key(person_id))


class MembershipIndex:
    """Who is in which community, in the order they joined; and each member's communities."""

    VERSION = "memberships-1"

    def __init__(self) -> None:
        self._decode = TypeAdapter(Membership).validate_json
        self._reset()

    def _reset(self) -> None:
        self.by_community: dict[str, dict[str, tuple[str, float]]] = {}
        self.by_member: dict[str, set[str]] = {}

    def apply(self, key: str, value: bytes | None) -> None:
        community_id, member_id = key.split(".", 1)
        if value is None:
            self.by_community.get(community_id, {}).pop(member_id, None)
            self.by_member.get(member_id, set()).discard(community_id)
            return
        membership = self._decode(value)
        self._add(community_id, member_id, membership.role, membership.joined_at.timestamp())

    def _add(self, community_id: str, member_id: str, role: str, joined: float) -> None:
        self.by_community.setdefault(community_id, {})[member_id] = (role, joined)
        self.by_member.setdefault(member_id, set()).add(community_id)

    def is_member(self, community_id: str, member_id: str) -> bool:
        return member_id in self.by_community.get(community_id, {})

    def role(self, community_id: str, member_id: str) -> str | None:
        entry = self.by_community.get(community_id, {}).get(member_id)
        return entry[0] if entry else None

    def members(self, community_id: str) -> list[tuple[str, str, datetime]]:
        return [
            (member_id, role, datetime.fromtimestamp(joined, UTC))
            for member_id, (role, joined) in self.by_community.get(community_id, {}).items()
        ]

    def count(self, community_id: str) -> int:
        return len(self.by_community.get(community_id, {}))

    def snapshot(self) -> bytes:
        communities, members, roles, joined = [], [], bytearray(), array("d")
        for community_id, entries in self.by_community.items():
            for member_id, (role, at) in entries.items():
                communities.append(community_id)
                members.append(member_id)
                roles.append(1 if role == "facilitator" else 0)
                joined.append(at)
        return pack({"c": communities, "m": members, "r": bytes(roles), "j": joined})

    def restore(self, data: bytes) -> None:
        columns = unpack(data)
        self._reset()
        for community_id, member_id, role, at in zip(
            columns["c"], columns["m"], columns["r"], columns["j"], strict=True
        ):
            self._add(community_id, member_id, "facilitator" if role else "member", at)


class OrgIndex:
    """Who reports to whom (from the HR directory), for manager chains; and under which ids
    member records are stored (so that a hire needs no read to know it is new)."""

    VERSION = "org-2"

    def __init__(self) -> None:
        self._decode = TypeAdapter(Member).validate_json
        self._set({}, set())

    def _set(self, manager: dict[str, str], ids: set[str]) -> None:
        self.manager = manager
        self.ids = ids
        self.reports: dict[str, set[str]] = {}
        for member_id, boss in manager.items():
            self.reports.setdefault(boss, set()).add(member_id)

    def apply(self, key: str, value: bytes | None) -> None:
        manager = self._decode(value).manager_id if value is not None else None
        if value is None:
            self.ids.discard(key)
        else:
            self.ids.add(key)
        previous = self.manager.pop(key, None)
        if previous:
            self.reports.get(previous, set()).discard(key)
        if manager:
            self.manager[key] = manager
            self.reports.setdefault(manager, set()).add(key)

    def has_member(self, member_id: str) -> bool:
        """Whether a member record is stored under ``member_id``."""
        return member_id in self.ids

    def manager_of(self, member_id: str) -> str | None:
        return self.manager.get(member_id)

    def everyone_under(self, manager_id: str) -> list[str]:
        found: list[str] = []
        frontier = [manager_id]
        while frontier:
            below = [
                r
                for boss in frontier
                for r in sorted(self.reports.get(boss, ()))
                if r not in found and r != manager_id
            ]
            found += below
            frontier = below
        return found

    def snapshot(self) -> bytes:
        return pack({"m": list(self.manager), "b": list(self.manager.values()),
                     "i": list(self.ids)})  # fmt: skip

    def restore(self, data: bytes) -> None:
        columns = unpack(data)
        self._set(dict(zip(columns["m"], columns["b"], strict=True)), set(columns["i"]))


class CommunityIndex:
    """Every community, newest first."""

    VERSION = "communities-1"

    def __init__(self) -> None:
        self.communities: dict[str, Community] = {}
        self._adapter = TypeAdapter(Community)

    def apply(self, key: str, value: bytes | None) -> None:
        if value is None:
            self.communities.pop(key, None)
        else:
            self.communities[key] = self._adapter.validate_json(value)

    def newest_first(self) -> list[Community]:
        return sorted(self.communities.values(), key=lambda c: c.created_at, reverse=True)

    def snapshot(self) -> bytes:
        return json.dumps(
            [self._adapter.dump_python(c, mode="json") for c in self.communities.values()]
        ).encode()

    def restore(self, data: bytes) -> None:
        self.communities = {
            c.community_id: c for c in (self._adapter.validate_python(d) for d in json.loads(data))
        }


@dataclass
class MembershipStore:
    members: KvStore[Member]
    communities: KvStore[Community]
    memberships: KvStore[Membership]
    join_requests: KvStore[JoinRequest]
    people: People
    index: MembershipIndex = field(default_factory=MembershipIndex)
    directory: CommunityIndex = field(default_factory=CommunityIndex)
    org: OrgIndex = field(default_factory=OrgIndex)
    followers: list[BucketFollower] = field(default_factory=list)
    own: dict[str, OwnWrites] = field(default_factory=dict)
    """Per bucket (members, communities, memberships), its index as handlers change it."""

    @classmethod
    def for_region(cls, region: str, keyring: Keyring | None = None) -> MembershipStore:
        """The region's stores; the sealed one (keys) seals with ``keyring``."""
        members, org = BUCKETS.store("members", Member, region), OrgIndex()
        made = cls(
            members=members,
            communities=BUCKETS.store("communities", Community, region),
            memberships=BUCKETS.store("memberships", Membership, region),
            join_requests=BUCKETS.store("join_requests", JoinRequest, region),
            people=People(
                BUCKETS.store("people", PersonLink, region),
                BUCKETS.store("keys", str, region, keyring),
                members,
                org.has_member,
            ),
            org=org,
        )
        for name, store, projection in (
            ("memberships", made.memberships, made.index),
            ("communities", made.communities, made.directory),
            ("org", made.members, made.org),
        ):
            own = made.own[store.bucket] = OwnWrites(projection)
            made.followers.append(
                BucketFollower(store.bucket, own, region=region, service=SERVICE, name=name)
            )
        return made

    def all(self) -> list[KvStore]:  # type: ignore[type-arg]
        return [
            self.members, self.communities, self.memberships, self.join_requests,
            self.people.links, self.people.keys,
        ]  # fmt: skip

    async def member(self, member_id: str) -> Versioned[Member] | None:
        return await self.members.get(member_id)

    async def member_of_person(self, person_id: str) -> Versioned[Member] | None:
        """The member the HR person ``person_id`` is, if they are one."""
        member_id = await self.people.member_of(person_id)
        return await self.member(member_id) if member_id else None

    async def community(self, community_id: str) -> Versioned[Community] | None:
        return await self.communities.get(community_id)

    async def membership(self, community_id: str, member_id: str) -> Membership | None:
        found = await self.memberships.get(membership_key(community_id, member_id))
        return found.value if found else None

    async def join_request(self, community_id: str, member_id: str) -> JoinRequest | None:
        found = await self.join_requests.get(membership_key(community_id, member_id))
        return found.value if found else None

    async def requests_for(self, community_id: str) -> list[JoinRequest]:
        return [entry.value async for _, entry in self.join_requests.items(f"{community_id}.*")]

    async def requests_of(self, member_id: str) -> list[JoinRequest]:
        return [entry.value async for _, entry in self.join_requests.items(f"*.{member_id}")]

    def write(
        self, store: KvStore[T], key: str, value: T, *, revision: int | None
    ) -> Awaitable[int | None]:
        """Set ``key`` to ``value`` if it is still at ``revision`` (None: if it does not exist),
        in its index now; awaited, the new revision, or None if someone wrote it first (the
        index is then set back to what is stored)."""

        async def stored() -> int | None:
            if revision is None:
                return await store.create(key, value)
            try:
                return await store.update(key, value, revision=revision)
            except StaleRevision:
                return None

        return self._own(store, key, store.encode(value), stored)

    def put(self, store: KvStore[T], key: str, value: T) -> Awaitable[int | None]:
        """Set ``key`` to ``value`` whatever it holds: in its index now, stored when awaited."""
        return self._own(store, key, store.encode(value), lambda: store.put(key, value))

    def delete(
        self, store: KvStore[Any], key: str, *, erase: bool = False
    ) -> Awaitable[int | None]:
        """Delete ``key`` (``erase``: securely, every revision): from its index now."""
        return self._own(store, key, None, lambda: (store.erase if erase else store.delete)(key))

    def _own(
        self,
        store: KvStore[T],
        key: str,
        data: bytes | None,
        stored: Callable[[], Awaitable[int | None]],
    ) -> Awaitable[int | None]:
        return self.own[store.bucket].write(key, data, stored, lambda: _stored(store, key))


async def _stored(store: KvStore[T], key: str) -> Stored:
    found = await store.get(key)
    return (store.encode(found.value), found.revision) if found else (None, None)
