"""Matching's buckets, and the read models that follow them.

Matching learns only from events; what it learned is kept in its own buckets, so that the
read models can be rebuilt at any time (from a snapshot plus the changes since).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import TypeAdapter

from services.matching.domain.mentoring import Mentorship
from services.matching.domain.profiles import Profile
from services.matching.domain.records import (
    AnswerRecord,
    CommunityInfo,
    Evidence,
    QuestionRecord,
    Routed,
    erased_key,
    evidence_key,
    profile_key,
    routed_key,
)
from services.matching.domain.routing import RoutingState
from services.matching.domain.sharing import Confidential, Need, Offer
from services.matching.index.members import MemberModel
from services.matching.index.questions import QuestionIndex
from shared.messaging.provisioning import Bucket, Buckets
from shared.naming import Service
from shared.readmodel import BucketFollower, Table
from shared.storage import KvStore

SERVICE = Service.MATCHING
BUCKETS = Buckets(SERVICE, {
    "members": Bucket("Per member: public profile, evidence of expertise, routing history",
                      secure=True),
    "questions": Bucket("Questions seen, for similar questions and routing (askers' ids)",
                        secure=True),
    "answers": Bucket("Answers seen, to turn acceptances and deletions into evidence"),
    "routing": Bucket("Open questions being routed: waves sent, when to look again"),
    "communities": Bucket("Communities: visibility, facilitators, home region"),
    "mentoring": Bucket("Mentoring proposals and agreements: <mentor>--<mentee>"),
    "meetings": Bucket("Rounds of people to meet: <community>.<round> -> pairs"),
    "resources": Bucket("Open resource offers and requests: offer.<post> / need.<post>"),
    "confidential": Bucket("Open to a move, manager chain (home region only)", secure=True),
})  # fmt: skip


@dataclass(frozen=True)
class MeetingRound:
    """The pairs a community's round proposed (pair keys)."""

    pairs: tuple[str, ...]


Resource = Offer | Need


@dataclass
class MatchingStore:
    members: KvStore[bytes]
    questions: KvStore[QuestionRecord]
    answers: KvStore[AnswerRecord]
    routing: KvStore[RoutingState]
    communities: KvStore[CommunityInfo]
    mentoring: KvStore[Mentorship]
    meetings: KvStore[MeetingRound]
    resources: KvStore[Resource]
    confidential: KvStore[Confidential]
    model: MemberModel = field(default_factory=MemberModel)
    question_index: QuestionIndex = field(default_factory=QuestionIndex)
    open_routing: Table[RoutingState] = field(
        default_factory=lambda: Table(RoutingState, "routing-1")
    )
    directory: Table[CommunityInfo] = field(
        default_factory=lambda: Table(CommunityInfo, "communities-1")
    )
    mentorships: Table[Mentorship] = field(default_factory=lambda: Table(Mentorship, "mentoring-1"))
    rounds: Table[MeetingRound] = field(default_factory=lambda: Table(MeetingRound, "meetings-1"))
    shared: Table[Resource] = field(default_factory=lambda: Table(Resource, "resources-1"))  # type: ignore[arg-type]
    secrets: Table[Confidential] = field(
        default_factory=lambda: Table(Confidential, "confidential-1")
    )
    followers: list[BucketFollower] = field(default_factory=list)

    @classmethod
    def for_region(cls, region: str) -> MatchingStore:
        def store(purpose: str, value_type: type) -> KvStore:  # type: ignore[type-arg]
            return BUCKETS.store(purpose, value_type, region)

        made = cls(
            members=store("members", bytes),
            questions=store("questions", QuestionRecord),
            answers=store("answers", AnswerRecord),
            routing=store("routing", RoutingState),
            communities=store("communities", CommunityInfo),
            mentoring=store("mentoring", Mentorship),
            meetings=store("meetings", MeetingRound),
            resources=store("resources", Resource),
            confidential=store("confidential", Confidential),
        )
        made.followers = [
            BucketFollower(bucket.bucket, projection, region=region, service=SERVICE, name=name)
            for name, bucket, projection in (
                ("members", made.members, made.model),
                ("questions", made.questions, made.question_index),
                ("routing", made.routing, made.open_routing),
                ("communities", made.communities, made.directory),
                ("mentoring", made.mentoring, made.mentorships),
                ("meetings", made.meetings, made.rounds),
                ("resources", made.resources, made.shared),
                ("confidential", made.confidential, made.secrets),
            )
        ]
        return made

    def kv_stores(self) -> list[KvStore]:  # type: ignore[type-arg]
        return [
            self.members,
            self.questions,
            self.answers,
            self.routing,
            self.communities,
            self.mentoring,
            self.meetings,
            self.resources,
            self.confidential,
        ]

    def follower(self, name: str) -> BucketFollower:
        return next(f for f in self.followers if f.name == name)

    async def settled(self, name: str, revision: int) -> None:
        """Until the read model of bucket ``name`` reflects ``revision`` (read your writes)."""
        await self.follower(name).wait_for(revision)

    # ------------------------------------------------------------------ members

    async def put_member_fact(self, key: str, value: object, adapter: TypeAdapter) -> int:  # type: ignore[type-arg]
        revision = await self.members.put_raw(key, adapter.dump_json(value))
        await self.settled("members", revision)
        return revision

    async def change_profile(
        self, member_id: str, change: Callable[[Profile | None], Profile | None]
    ) -> Profile | None:
        """Change a member's profile as stored now (not as the read model has it yet: a join
        and a registration handled at once must not undo each other); ``change`` returning
        None changes nothing. Returns the profile as it is afterwards."""
        result: list[Profile | None] = []

        def changed(data: bytes | None) -> bytes | None:
            held = _PROFILE.validate_json(data) if data is not None else None
            profile = change(held)
            result[:] = [profile or held]
            return _PROFILE.dump_json(profile) if profile is not None else None

        revision = await self.members.change_raw(profile_key(member_id), changed)
        if revision is not None:
            await self.settled("members", revision)
        return result[0]

    async def add_evidence(self, member_id: str, answer_id: str, evidence: Evidence) -> None:
        await self.put_member_fact(
            evidence_key(member_id, answer_id, evidence.kind), evidence, _EVIDENCE
        )

    async def save_routed(self, member_id: str, question_id: str, routed: Routed) -> None:
        await self.put_member_fact(routed_key(member_id, question_id), routed, _ROUTED)

    async def erase_member(self, member_id: str) -> None:
        """Securely delete every fact about a member, then mark them erased."""
        await self.members.erase_prefix(f"{member_id}.")
        await self.put_member_fact(erased_key(member_id), {"erased": True}, _MARK)
        await self.follower("members").save_snapshot()

    # ------------------------------------------------------------------ others

    async def put(self, name: str, store: KvStore, key: str, value: object) -> int:  # type: ignore[type-arg]
        revision = await store.put(key, value)
        await self.settled(name, revision)
        return revision

    async def delete(self, name: str, store: KvStore, key: str) -> None:  # type: ignore[type-arg]
        await self.settled(name, await store.delete(key))

    async def erase(self, name: str, store: KvStore, key: str) -> None:  # type: ignore[type-arg]
        await self.settled(name, await store.erase(key))


_PROFILE = TypeAdapter(Profile)
_EVIDENCE = TypeAdapter(Evidence)
_ROUTED = TypeAdapter(Routed)
_MARK: TypeAdapter[dict[str, bool]] = TypeAdapter(dict[str, bool])
