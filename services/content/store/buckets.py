"""Content's buckets, and the indexes that follow them."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

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
    index: PostIndex = field(default_factory=PostIndex)
    votes: ReactionIndex = field(default_factory=ReactionIndex)
    directory: Table[CommunityInfo] = field(default_factory=communities_table)
    membership: JoinedIndex = field(default_factory=JoinedIndex)
    people: Table[MemberInfo] = field(default_factory=members_table)
    followers: list[BucketFollower] = field(default_factory=list)

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
        )
        made.followers = [
            BucketFollower(bucket.bucket, projection, region=region, service=SERVICE, name=name)
            for name, bucket, projection in (
                ("posts", made.posts, made.index),
                ("reactions", made.reactions, made.votes),
                ("communities", made.communities, made.directory),
                ("joined", made.joined, made.membership),
                ("members", made.members, made.people),
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
        ]

    async def post(self, post_id: str) -> Versioned[Post] | None:
        return await self.posts.get(post_id)

    async def posts_in_order(self, post_ids: list[str]) -> list[Post]:
        """The posts of ``post_ids`` that still exist, in that order (read concurrently)."""
        found = await asyncio.gather(*(self.posts.get(post_id) for post_id in post_ids))
        return [entry.value for entry in found if entry is not None]

    async def wait_for_posts(self, revision: int) -> None:
        await self.followers[0].wait_for(revision)

    async def wait_for_reactions(self, revision: int) -> None:
        await self.followers[1].wait_for(revision)

    def community(self, community_id: str) -> CommunityInfo | None:
        return self.directory.get(community_id)

    def is_member(self, community_id: str, member_id: str) -> bool:
        return self.membership.is_member(community_id, member_id)

    async def claims_of(self, offer_id: str) -> list[Versioned[Claim]]:
        found = [entry async for _, entry in self.claims.items(f"{offer_id}.*")]
        return sorted(found, key=lambda entry: (entry.value.claimed_at, entry.revision))
