"""Matching's buckets, and the read models that follow them.

Matching learns only from events; what it learned is kept in its own buckets, so that the
read models can be rebuilt at any time (from a snapshot plus the changes since).

A handler reads its own writes from memory: each write below changes the read model at once
and returns an awaitable that stores it (see :mod:`shared.own_writes`), so a handler makes its
decision, applies it, and awaits all its writes together, pipelined. The one exception is
evidence of expertise, which the members model adds up rather than sets: it is applied by the
follower alone, and :meth:`MatchingStore.add_evidence` waits for it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from nats.js.errors import KeyNotFoundError
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
from shared.own_writes import OwnWrites, Stored
from shared.readmodel import BucketFollower, Table
from shared.storage import KvStore

SERVICE = Service.MATCHING
V = TypeVar("V")
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
    own: dict[str, OwnWrites] = field(default_factory=dict)
    """Per bucket name, the read model as the handlers change it (and its follower feeds)."""

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
        for name, bucket, projection in (
            ("members", made.members, made.model),
            ("questions", made.questions, made.question_index),
            ("routing", made.routing, made.open_routing),
            ("communities", made.communities, made.directory),
            ("mentoring", made.mentoring, made.mentorships),
            ("meetings", made.meetings, made.rounds),
            ("resources", made.resources, made.shared),
            ("confidential", made.confidential, made.secrets),
        ):
            own = made.own[name] = OwnWrites(projection)
            made.followers.append(
                BucketFollower(bucket.bucket, own, region=region, service=SERVICE, name=name)
            )
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
        return await self.change("members", self.members, profile_key(member_id), change, _PROFILE)

    async def add_evidence(self, member_id: str, answer_id: str, evidence: Evidence) -> None:
        """Evidence is never changed once stored, and the model adds it up: so it is created
        (a redelivery finds it there and adds nothing) and the follower applies it alone."""
        key = evidence_key(member_id, answer_id, evidence.kind)
        revision = await self.members.create_raw(key, _EVIDENCE.dump_json(evidence))
        if revision is not None:
            await self.settled("members", revision)

    def ask(self, member_id: str, question_id: str, routed: Routed) -> Awaitable[int | None]:
        """Record that ``question_id`` is routed to ``member_id``, unless it already was (a
        create: None then, and the model keeps what was stored)."""
        key, data = routed_key(member_id, question_id), _ROUTED.dump_json(routed)
        return self._write(
            "members", self.members, key, data, lambda: self.members.create_raw(key, data)
        )

    def save_routed(
        self, member_id: str, question_id: str, routed: Routed
    ) -> Awaitable[int | None]:
        """Set what came of a route (its outcome)."""
        key, data = routed_key(member_id, question_id), _ROUTED.dump_json(routed)
        return self._write(
            "members", self.members, key, data, lambda: self.members.put_raw(key, data)
        )

    async def erase_member(self, member_id: str) -> None:
        """Securely delete every fact about a member, then mark them erased."""
        await self.members.erase_prefix(f"{member_id}.")
        await self.put_member_fact(erased_key(member_id), {"erased": True}, _MARK)
        await self.follower("members").save_snapshot()

    # ------------------------------------------------------------------ any bucket

    def put(self, name: str, store: KvStore[Any], key: str, value: object) -> Awaitable[int | None]:
        """Set ``key`` of bucket ``name``: in its read model now, in the bucket when awaited."""
        data = store.encode(value)
        return self._write(name, store, key, data, lambda: store.put_raw(key, data))

    def create(
        self, name: str, store: KvStore[Any], key: str, value: object
    ) -> Awaitable[int | None]:
        """:meth:`put` if ``key`` does not exist yet; awaited, None if it did (the read model
        then keeps what is stored)."""
        data = store.encode(value)
        return self._write(name, store, key, data, lambda: store.create_raw(key, data))

    def delete(self, name: str, store: KvStore[Any], key: str) -> Awaitable[int | None]:
        return self._write(name, store, key, None, lambda: store.delete(key))

    def erase(self, name: str, store: KvStore[Any], key: str) -> Awaitable[int | None]:
        return self._write(name, store, key, None, lambda: store.erase(key))

    async def change(
        self,
        name: str,
        store: KvStore[Any],
        key: str,
        change: Callable[[V | None], V | None],
        adapter: TypeAdapter[V] | None = None,
    ) -> V | None:
        """Set ``key`` to ``change(its stored value)``, compare-and-set (again if someone wrote
        it meanwhile), then into the read model; ``change`` returning None leaves it. Returns
        the value afterwards."""
        decode = adapter.validate_json if adapter is not None else store.decode
        encode = adapter.dump_json if adapter is not None else store.encode
        result: list[V | None] = [None]
        written: list[bytes] = []

        def changed(data: bytes | None) -> bytes | None:
            held = decode(data) if data is not None else None
            value = change(held)
            result[0] = held if value is None else value
            written[:] = [] if value is None else [encode(value)]
            return written[0] if written else None

        revision = await store.change_raw(key, changed)
        if revision is not None:
            self.own[name].stored(key, written[0], revision)
        return result[0]

    def _write(
        self,
        name: str,
        store: KvStore[Any],
        key: str,
        data: bytes | None,
        stored: Callable[[], Awaitable[int | None]],
    ) -> Awaitable[int | None]:
        return self.own[name].write(key, data, stored, lambda: _stored(store, key))


async def _stored(store: KvStore[Any], key: str) -> Stored:
    try:
        entry = await store.kv.get(key)
    except KeyNotFoundError:  # deleted keys too
        return None, None
    return entry.value or None, entry.revision


_PROFILE = TypeAdapter(Profile)
_EVIDENCE = TypeAdapter(Evidence)
_ROUTED = TypeAdapter(Routed)
_MARK: TypeAdapter[dict[str, bool]] = TypeAdapter(dict[str, bool])
