"""The buckets: posts, and the communities content has heard of."""

from __future__ import annotations

from dataclasses import dataclass

from services.content.domain.model import CommunityInfo, Post
from shared.messaging.provisioning import BucketSpec
from shared.naming import Service, bucket_name
from shared.storage import KvStore


def bucket_specs(region: str, replicas: int) -> list[BucketSpec]:
    return [
        BucketSpec(bucket_name(Service.CONTENT, purpose, region), description, replicas=replicas)
        for purpose, description in (
            ("posts", "Posts of every kind, by post id"),
            ("communities", "Communities content has heard of (from membership's events)"),
        )
    ]


@dataclass
class ContentStore:
    posts: KvStore[Post]
    communities: KvStore[CommunityInfo]

    @classmethod
    def for_region(cls, region: str) -> ContentStore:
        return cls(
            posts=KvStore(bucket_name(Service.CONTENT, "posts", region), Post),
            communities=KvStore(bucket_name(Service.CONTENT, "communities", region), CommunityInfo),
        )

    def all(self) -> list[KvStore[Post] | KvStore[CommunityInfo]]:
        return [self.posts, self.communities]

    async def community(self, community_id: str) -> CommunityInfo | None:
        found = await self.communities.get(community_id)
        return found.value if found else None

    async def post(self, post_id: str) -> Post | None:
        found = await self.posts.get(post_id)
        return found.value if found else None
