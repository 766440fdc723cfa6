"""Content's buckets, and the indexes that follow them.

A handler reads its own writes of posts and reactions from memory: :meth:`ContentStore.save_post`
and :meth:`ContentStore.save_reaction` change the index at once and return an awaitable that
stores the change (see :mod:`shared.own_writes`); the follower's later copy is skipped. Nobody
waits for a follower: a command that replies with what it wrote reads it from the index, and
two messages handled at once decide from each other's changes.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

from services.content.domain.model import (
    Claim,
    CommunityInfo,
    Joined,
    MemberInfo,
    Post,
    Reaction,
)
from services.content.store.index import (
    JoinedIndex,
    PostIndex,
    ReactionIndex,
    communities_table,
    members_table,
)
from shared.messaging.provisioning import Bucket, Buckets
from shared.naming import Service
from shared.own_writes import OwnWrites, Stored
from shared.readmodel import BucketFollower, Table
from shared.storage import DeadLetters, KvStore, Versioned

SERVICE = Service.CONTENT
BUCKETS = Buckets(SERVICE, {
    "posts": Bucket("Posts of every kind, by post id (their authors' ids)", secure=True),
    "reactions": Bucket("Votes and endorsements: <post>.<member>", secure=True),
    "claims": Bucket("Claims on resource offers: <offer>.<claim>"),
    "communities": Bucket("Communities content has heard of (from membership's events)"),
    "joined": Bucket("Who is in which community: <community>.<member> (from membership's events)",
                     secure=True),
    "members": Bucket("Members' work region and legal entity (from membership's events)",
                      secure=True),
    "pulses": Bucket("Weekly pulses already published: <community>.<week>"),
    "elsewhere": Bucket("Posts held by another region: <post> -> that region (ids only)"),
})  # fmt: skip


@dataclass
class ContentStore:
    posts: KvStore[Post]
    reactions: KvStore[Reaction]
    claims: KvStore[Claim]
    communities: KvStore[CommunityInfo]
    joined: KvStore[Joined]
    members: KvStore[MemberInfo]
    pulses: KvStore[str]
    dead_letters: DeadLetters
    elsewhere: KvStore[str]
    index: PostIndex = field(default_factory=PostIndex)
    votes: ReactionIndex = field(default_factory=ReactionIndex)
    directory: Table[CommunityInfo] = field(default_factory=communities_table)
    membership: JoinedIndex = field(default_factory=JoinedIndex)
    people: Table[MemberInfo] = field(default_factory=members_table)
    held_by: Table[str] = field(default_factory=lambda: Table(str, "elsewhere-1"))
    """Posts another region holds, and which (from its public events)."""
    followers: list[BucketFollower] = field(default_factory=list)
    own: dict[str, OwnWrites] = field(init=False)
    """The post and reaction indexes as the handlers change them (their followers feed them)."""

    storing: Counter[str] = field(default_factory=Counter)
    """Post ids with a write of ours in flight (being stored by a message handled now)."""

    def __post_init__(self) -> None:
        self.own = {"posts": OwnWrites(self.index), "reactions": OwnWrites(self.votes)}

    @classmethod
    def for_region(cls, region: str) -> ContentStore:
        def store(purpose: str, value_type: type) -> KvStore:  # type: ignore[type-arg]
            return BUCKETS.store(purpose, value_type, region)

        members = store("members", MemberInfo)
        made = cls(
            posts=store("posts", Post),
            reactions=store("reactions", Reaction),
            claims=store("claims", Claim),
            communities=store("communities", CommunityInfo),
            joined=store("joined", Joined),
            members=members,
            pulses=store("pulses", str),
            dead_letters=DeadLetters(region, SERVICE, via=members),
            elsewhere=store("elsewhere", str),
        )
        made.followers = [
            BucketFollower(bucket.bucket, projection, region=region, service=SERVICE, name=name)
            for name, bucket, projection in (
                ("posts", made.posts, made.own["posts"]),
                ("reactions", made.reactions, made.own["reactions"]),
                ("communities", made.communities, made.directory),
                ("joined", made.joined, made.membership),
                ("members", made.members, made.people),
                ("elsewhere", made.elsewhere, made.held_by),
            )
        ]
        return made

    def all(self) -> list[KvStore]:  # type: ignore[type-arg]
        return [
            self.posts,
            self.reactions,
            self.claims,
            self.communities,
            self.joined,
            self.members,
            self.pulses,
            self.elsewhere,
        ]

    async def post(self, post_id: str) -> Versioned[Post] | None:
        return await self.posts.get(post_id)

    def region_holding(self, post_id: str) -> str | None:
        """The region that holds ``post_id``, if another one does (from memory)."""
        return self.held_by.get(post_id)

    async def note_held_by(self, post_id: str, region: str) -> None:
        self.held_by.items[post_id] = region
        await self.elsewhere.put(post_id, region)

    async def posts_in_order(self, post_ids: list[str]) -> list[Post]:
        """The posts of ``post_ids`` that still exist, in that order (read concurrently)."""
        found = await asyncio.gather(*(self.posts.get(post_id) for post_id in post_ids))
        return [entry.value for entry in found if entry is not None]

    def save_post(self, post: Post, *, revision: int | None = None) -> Awaitable[int | None]:
        """Store ``post``: into the index now, into the bucket when awaited, as a create
        (None if the id is taken: the index then holds what is stored) or, given ``revision``,
        a compare-and-set (raises :class:`~shared.storage.StaleRevision` if it changed)."""
        key, posts = post.post_id, self.posts

        def stored() -> Awaitable[int | None]:
            if revision is None:
                return posts.create(key, post)
            return posts.update(key, post, revision=revision)

        data = posts.encode(post)
        write = self.own["posts"].write(key, data, stored, lambda: _stored(posts, key))
        self.storing[key] += 1
        return self._stored_post(key, write)

    async def _stored_post(self, key: str, write: Awaitable[int | None]) -> int | None:
        try:
            return await write
        finally:
            self.storing[key] -= 1
            if not self.storing[key]:
                del self.storing[key]

    def save_reaction(self, reaction: Reaction) -> Awaitable[int | None]:
        """Set one member's reaction to a post: in the index now, in the bucket when awaited."""
        key, reactions = reaction.key, self.reactions
        return self.own["reactions"].write(
            key,
            reactions.encode(reaction),
            lambda: reactions.put(key, reaction),
            lambda: _stored(reactions, key),
        )

    def reaction(self, post_id: str, member_id: str) -> Reaction:
        """A member's reaction to a post as the index holds it (none yet: a neutral one)."""
        vote, endorsed = self.votes.held.get(f"{post_id}.{member_id}", (0, False))
        return Reaction(post_id, member_id, vote, endorsed)

    def community(self, community_id: str) -> CommunityInfo | None:
        return self.directory.get(community_id)

    def is_member(self, community_id: str, member_id: str) -> bool:
        return self.membership.is_member(community_id, member_id)

    async def claims_of(self, offer_id: str) -> list[Versioned[Claim]]:
        found = [entry async for _, entry in self.claims.items(f"{offer_id}.*")]
        return sorted(found, key=lambda entry: (entry.value.claimed_at, entry.revision))


async def _stored(store: KvStore[Any], key: str) -> Stored:
    """A key as the bucket holds it, to set the index back after a write that failed."""
    found = await store.get(key)
    return (store.encode(found.value), found.revision) if found else (None, None)
