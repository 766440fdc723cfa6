"""The buckets: members, communities, and memberships (``<community>.<member>``)."""

from __future__ import annotations

from dataclasses import dataclass

from services.membership.domain.model import Community, Member, Membership, membership_key
from shared.messaging.provisioning import BucketSpec
from shared.naming import Service, bucket_name
from shared.storage import KvStore, Versioned


def bucket_specs(region: str, replicas: int) -> list[BucketSpec]:
    return [
        BucketSpec(bucket_name(Service.MEMBERSHIP, purpose, region), description, replicas=replicas)
        for purpose, description in (
            ("members", "Members homed in this region, by member id"),
            ("communities", "Communities, by community id"),
            ("memberships", "Who is in which community: <community>.<member>"),
        )
    ]


@dataclass
class MembershipStore:
    members: KvStore[Member]
    communities: KvStore[Community]
    memberships: KvStore[Membership]

    @classmethod
    def for_region(cls, region: str) -> MembershipStore:
        return cls(
            members=KvStore(bucket_name(Service.MEMBERSHIP, "members", region), Member),
            communities=KvStore(bucket_name(Service.MEMBERSHIP, "communities", region), Community),
            memberships=KvStore(bucket_name(Service.MEMBERSHIP, "memberships", region), Membership),
        )

    def all(self) -> list[KvStore[Member] | KvStore[Community] | KvStore[Membership]]:
        return [self.members, self.communities, self.memberships]

    async def member(self, member_id: str) -> Versioned[Member] | None:
        return await self.members.get(member_id)

    async def community(self, community_id: str) -> Community | None:
        found = await self.communities.get(community_id)
        return found.value if found else None

    async def membership(self, community_id: str, member_id: str) -> Membership | None:
        found = await self.memberships.get(membership_key(community_id, member_id))
        return found.value if found else None

    async def members_of(self, community_id: str) -> list[Membership]:
        return [entry.value async for _, entry in self.memberships.items(f"{community_id}.*")]

    async def communities_of(self, member_id: str) -> list[str]:
        return [
            entry.value.community_id async for _, entry in self.memberships.items(f"*.{member_id}")
        ]
