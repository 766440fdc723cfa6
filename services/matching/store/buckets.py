"""The profiles bucket, and loading it into the in-memory index at start-up."""

from __future__ import annotations

from dataclasses import dataclass, field

from nats.js import JetStreamContext

from services.matching.domain.model import ExpertiseIndex, Profile
from shared.messaging.provisioning import BucketSpec
from shared.naming import Service, bucket_name
from shared.storage import KvStore


def bucket_specs(region: str, replicas: int) -> list[BucketSpec]:
    return [
        BucketSpec(
            bucket_name(Service.MATCHING, "profiles", region),
            "Matching's read model: every member's public profile and communities",
            replicas=replicas,
        )
    ]


@dataclass
class MatchingStore:
    profiles: KvStore[Profile]
    index: ExpertiseIndex = field(default_factory=ExpertiseIndex)

    @classmethod
    def for_region(cls, region: str) -> MatchingStore:
        return cls(profiles=KvStore(bucket_name(Service.MATCHING, "profiles", region), Profile))

    async def load(self, _js: JetStreamContext) -> None:
        """Rebuild the index from the bucket (at start-up, before consuming)."""
        async for _, entry in self.profiles.items():
            self.index.upsert(entry.value)

    async def save(self, profile: Profile) -> None:
        await self.profiles.put(profile.member_id, profile)

    async def forget(self, member_id: str) -> None:
        self.index.remove(member_id)
        await self.profiles.delete(member_id)
