"""Bare loops: each service hop's work written directly on nats-py, the best a careful engineer
would write with the same libraries. The baseline of the hop benchmark.

Every loop is the same shape: a durable pull consumer over the hop's input subjects, from a
given stream sequence (so it sees the same backlog the service drained); ``fetch(100)``;
each message validated as the same contract (the same ``Envelope[...]`` pydantic model); the
hop's work done with the service's own domain code where the hop has any; every write
(events, KV records, inbox items) sent with ``publish_async`` so that the whole batch's
PubAcks are in flight at once; then every message acked. It runs on the event loop Guild's
services run on (``GUILD_EVENT_LOOP``, asyncio's by default; ``--event-loop``). What each
hop writes:

* ``membership`` (``person_hired``): the member (the domain's own ``member_from_hire``) and
  the HR link as KV records; ``member_registered``, ``member_contact`` and
  ``member_confidential`` built by membership's own event functions.
* ``content`` (``question_asked``): the post as a KV record; ``question_posted``.
* ``matching`` (``question_posted``): chooses the experts with matching's own code (its member
  index loaded with the profiles the members' events carry, and the routing handler's
  ``_choose_experts``: rank, budgets, rotation, reasons; each pick fed back into the index as
  its read model would be), and publishes ``experts_suggested``. With ``--records``, also the
  question, its routing state and one routed record per person asked (Guild's durable
  records), pipelined with the event.
* ``notifications`` (``question_posted``, ``experts_suggested``, ``similar_questions_found``):
  decides for each member with notifications' own ``decide`` (default preferences, held in
  memory); writes one ledger record and one inbox item per person pushed at once, for a
  personal alert (the experts, the asker) a delivery status per person, for a push held
  for quiet hours the push kept until they end, one digest record per (community, item)
  for everyone it waits for, and one status event per input: what Guild writes for them.

Outputs go to ``bench.<region>.<hop>.>`` in a stream the benchmark made for them and KV
buckets ``bench_<hop>_<region>``. Run by the hop benchmark as a process; it prints ``ready``
when loaded and its consumer is made, starts consuming on a line ``go`` on stdin, and stops
on SIGTERM.

    python -m bench.bare_loops matching --url nats://... --region hop --start 1234 [--records]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import uuid
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import asdict, is_dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import nats
from nats.aio.client import Client
from nats.js.api import ConsumerConfig, DeliverPolicy
from nats.js.errors import BadRequestError
from pydantic import TypeAdapter

from services.matching.domain.records import Routed, routed_key
from services.matching.domain.routing import RoutingState, Wave
from services.matching.events import inbound
from services.matching.events import public as matching_events
from services.matching.handlers.questions import _choose_experts
from services.matching.index.members import MemberModel
from services.matching.settings import MatchingSettings
from services.membership.events import public as membership_events
from services.membership.handlers.hr import member_from_hire
from services.notifications.domain.preferences import Action, Preferences, Priority, decide
from shared.contracts import content as c
from shared.contracts import matching as x
from shared.contracts import membership as m
from shared.contracts.base import Contract
from shared.contracts.ingest import PersonHiredV1, QuestionAskedV1
from shared.contracts.notifications import InboxItem
from shared.credentials import connection_options
from shared.envelope import Envelope, new_envelope, structured_body
from shared.ids import derived_id
from shared.loop import run

_ROUTED: TypeAdapter[Routed] = TypeAdapter(Routed)
Write = tuple[str, bytes]
"""A subject and what to publish on it."""

INPUTS: dict[str, list[type[Contract]]] = {
    "membership": [PersonHiredV1],
    "content": [QuestionAskedV1],
    "matching": [c.QuestionPostedV1],
    "notifications": [c.QuestionPostedV1, x.ExpertsSuggestedV1, x.SimilarQuestionsFoundV1],
}


def input_subject(contract: type[Contract], region: str) -> str:
    return contract.subject_in(region)


def event_body(contract: Contract, region: str, source: str, cause: str | None = None) -> bytes:
    envelope = new_envelope(
        event_id=str(uuid.uuid4()),
        source=source,
        event_type=contract.TYPE,
        data=contract,
        region=region,
        causation_id=cause,
    )
    return structured_body(envelope)


def json_bytes(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), default=_plain).encode()


def _plain(value: Any) -> Any:
    return asdict(value) if is_dataclass(value) and not isinstance(value, type) else str(value)


class Hop(ABC):
    """The work of one hop: from one validated event, the writes it makes."""

    def __init__(self, name: str, region: str, records: bool) -> None:
        self.name, self.region, self.records = name, region, records
        self.out = f"bench.{region}.{name}"
        self.bucket = f"$KV.bench_{name}_{region}"
        self.source = f"/bench/{region}/{name}"

    async def load(self, nc: Client) -> None:  # noqa: B027 (a hop may keep nothing)
        """Read what the hop keeps in memory (from the events the services published)."""

    @abstractmethod
    def work(self, event: Envelope[Any]) -> list[Write]:
        """What each kind does (a subclass says)."""

    def event(self, contract: Contract, cause: str) -> Write:
        name = contract.TYPE.split(".")[-2]
        return f"{self.out}.{name}", event_body(contract, self.region, self.source, cause)

    def record(self, key: str, value: Any) -> Write:
        return f"{self.bucket}.{key}", json_bytes(value)


class MembershipHop(Hop):
    def work(self, event: Envelope[Any]) -> list[Write]:
        hire: PersonHiredV1 = event.data
        member_id = uuid.uuid4().hex[:16]
        member = member_from_hire(
            hire, member_id, None, home_region=self.region, at=event.time or datetime.now(UTC)
        )
        registered = membership_events.member_registered(member, 1)
        return [
            self.record(f"members.{member_id}", registered.member.model_dump(mode="json")),
            self.record(f"people.{derived_id('person', hire.person_id)}", member_id),
            self.event(registered, event.id),
            self.event(membership_events.member_contact(member, 1), event.id),
            self.event(membership_events.member_confidential(member, [], 1), event.id),
        ]


class ContentHop(Hop):
    def work(self, event: Envelope[Any]) -> list[Write]:
        asked: QuestionAskedV1 = event.data
        post_id = derived_id("question", event.source, asked.question_ref)
        posted = c.QuestionPostedV1(
            question_id=post_id,
            community_id=asked.community_id,
            community_name=asked.community_id,
            visibility="public",
            asker={"member_id": asked.asker_id, "home_region": self.region},
            title=asked.title,
            text=asked.text,
            tags=asked.tags,
            posted_at=datetime.now(UTC),
        )
        return [
            self.record(f"posts.{post_id}", posted.model_dump(mode="json")),
            self.event(posted, event.id),
        ]


async def member_events(nc: Client, region: str) -> list[Envelope[Any]]:
    """Every member_registered / member_updated / member_joined of ``region``, in order."""
    js, found = nc.jetstream(), []
    subjects = [m.MemberRegisteredV1, m.MemberUpdatedV1, m.MemberJoinedV1]
    for contract in subjects:
        subject = contract.subject_in(region)
        info = await js.stream_info(f"EVENTS_{region.upper()}", subjects_filter=subject)
        total = sum((info.state.subjects or {}).values())
        if not total:
            continue
        sub = await js.pull_subscribe(
            subject,
            stream=f"EVENTS_{region.upper()}",
            config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL),
        )
        while total > 0:
            batch = await sub.fetch(min(total, 500), timeout=10)
            for msg in batch:
                found.append(Envelope[contract].model_validate_json(msg.data))  # type: ignore[valid-type]
                await msg.ack()
            total -= len(batch)
        await sub.unsubscribe()
    return found


class MatchingHop(Hop):
    def __init__(self, name: str, region: str, records: bool) -> None:
        super().__init__(name, region, records)
        settings = MatchingSettings(
            region=region,
            experts_per_question=10,
            questions_per_day=10**6,
            questions_per_week=10**6,
        )
        self.policy = settings.policy()
        self.model = MemberModel()
        self.ranking = SimpleNamespace(
            store=SimpleNamespace(model=self.model), region=region, policy=self.policy
        )
        """What matching's ranking reads of its handler's dependencies: the member index,
        the region and the policy."""

    async def load(self, nc: Client) -> None:
        latest: dict[str, tuple[int, Any]] = {}
        for event in await member_events(nc, self.region):
            data = event.data
            if isinstance(data, m.MemberRegisteredV1 | m.MemberUpdatedV1):
                held = latest.get(data.member.member_id)
                if held is None or held[0] < data.revision:
                    latest[data.member.member_id] = (data.revision, data.member)
        for revision, member in latest.values():
            self.model.set_profile(inbound.profile_of(member, revision))
        self.model.caught_up()

    def work(self, event: Envelope[Any]) -> list[Write]:
        question = inbound.question_record(event.data)
        now = datetime.now(UTC)
        state = RoutingState(
            question.question_id, question.community_id, question.posted_at, next_at=now
        )
        picks, held = _choose_experts(question, state, 1, self.ranking, now)  # type: ignore[arg-type]
        wave = Wave(1, now, tuple(p.member_id for p in picks))
        routed = _ROUTED.dump_json(Routed(at=now, wave=1))
        for pick in picks:  # what matching's read model learns from each routed record
            self.model.apply(routed_key(pick.member_id, question.question_id), routed)
        suggested = matching_events.experts_suggested(
            question, event.data.community_name, wave, picks, held, now
        )
        writes = [self.event(suggested, event.id)]
        if self.records:
            state = state.with_wave(wave, None)
            writes += [
                self.record(f"questions.{question.question_id}", question),
                self.record(f"routing.{question.question_id}", state),
                *(
                    (f"{self.bucket}.{routed_key(p.member_id, question.question_id)}", routed)
                    for p in picks
                ),
            ]
        return writes


class NotificationsHop(Hop):
    def __init__(self, name: str, region: str, records: bool) -> None:
        super().__init__(name, region, records)
        self.communities: dict[str, set[str]] = defaultdict(set)
        self.preferences: dict[str, Preferences] = {}
        self.sent_today: dict[str, int] = defaultdict(int)

    async def load(self, nc: Client) -> None:
        for event in await member_events(nc, self.region):
            if isinstance(event.data, m.MemberJoinedV1):
                member_id = event.data.member.member_id
                self.communities[event.data.community_id].add(member_id)
                self.preferences.setdefault(member_id, Preferences())

    def push(
        self,
        cause: str,
        member_id: str,
        kind: str,
        title: str,
        why: str,
        community_id: str | None,
        priority: Priority,
        for_me: bool,
        personal: bool = False,
    ) -> list[Write]:
        """The member's decision and, if it reaches their inbox, the ledger record and the
        item; for a personal alert (``personal``) its delivery status too, and for one held
        for quiet hours the push kept until they end (what Guild writes for them)."""
        prefs = self.preferences.get(member_id, Preferences())
        verdict = decide(
            prefs,
            now=datetime.now(UTC),
            priority=priority,
            community_id=community_id,
            for_me=for_me,
            reasons=frozenset({f"community:{community_id}"}),
            interruptions_today=self.sent_today[member_id],
        )
        if not verdict.action.to_inbox:
            return []
        if verdict.action.interrupts:
            self.sent_today[member_id] += 1
        notification_id = derived_id("notification", cause, member_id, "inbox")
        item = InboxItem(
            notification_id=notification_id,
            member_id=member_id,
            kind=kind,
            title=title,
            body=title,
            reasons=[why],
            reason_keys=[],
            cause_id=cause,
            created_at=datetime.now(UTC),
        )
        writes = [
            self.record(
                f"ledger.{member_id}.{notification_id}",
                {"action": verdict.action.value, "why": verdict.why},
            ),
            (f"{self.out}.inbox.{member_id}", item.model_dump_json().encode()),
        ]
        if personal:
            status = {"notification_id": notification_id, "member_id": member_id,
                      "channel": "inbox", "kind": kind, "cause_id": cause}  # fmt: skip
            writes.append((f"{self.out}.delivered", json_bytes(status)))
        if verdict.action is Action.DEFER:
            held = {"until": verdict.until, "why": verdict.why, "title": title, "kind": kind}
            writes.append(self.record(f"held.{member_id}.{notification_id}", held))
        return writes

    def work(self, event: Envelope[Any]) -> list[Write]:
        data, writes = event.data, []
        if isinstance(data, c.QuestionPostedV1):
            for member_id in self.communities.get(data.community_id, ()):
                if member_id != data.asker.member_id:
                    writes += self.push(
                        event.id,
                        member_id,
                        "new_question",
                        data.title,
                        f"you are in {data.community_name}",
                        data.community_id,
                        Priority.NORMAL,
                        False,
                    )
            writes.append(
                self.record(
                    f"digest.{data.community_id}.{data.question_id}",
                    {"title": data.title, "at": data.posted_at},
                )
            )
        elif isinstance(data, x.ExpertsSuggestedV1):
            for suggestion in data.suggestions:
                writes += self.push(
                    event.id,
                    suggestion.member.member_id,
                    "question_for_you",
                    data.title,
                    "; ".join(suggestion.reasons),
                    data.community_id,
                    Priority.HIGH,
                    True,
                    personal=True,
                )
        elif isinstance(data, x.SimilarQuestionsFoundV1):
            writes += self.push(
                event.id,
                data.asker.member_id,
                "similar_questions",
                data.title,
                "you asked a question",
                None,
                Priority.NORMAL,
                True,
                personal=True,
            )
        pushed = sum(1 for subject, _ in writes if ".inbox." in subject)
        writes.append((f"{self.out}.status", json_bytes({"cause_id": event.id, "pushed": pushed})))
        return writes


HOPS: dict[str, Callable[[str, str, bool], Hop]] = {
    "membership": MembershipHop,
    "content": ContentHop,
    "matching": MatchingHop,
    "notifications": NotificationsHop,
}


def validator(contracts: list[type[Contract]]) -> Callable[[Any], Envelope[Any]]:
    """Validate a message as the contract its type names (the envelope's ``type``)."""
    models = {k.TYPE: Envelope[k] for k in contracts}  # type: ignore[valid-type]

    def validate(msg: Any) -> Envelope[Any]:
        kind = json.loads(msg.data)["type"]
        return models[kind].model_validate_json(msg.data)

    return validate


async def consume(
    nc: Client, hop: Hop, stream: str, start: int, go: Awaitable[None], stopping: asyncio.Event
) -> None:
    js = nc.jetstream()
    subjects = [input_subject(k, hop.region) for k in INPUTS[hop.name]]
    config = ConsumerConfig(
        durable_name=f"bare-{hop.name}",
        filter_subjects=subjects,
        deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
        opt_start_seq=start,
        ack_wait=60,
        max_ack_pending=10_000,
    )
    await js.add_consumer(stream, config)
    sub = await js.pull_subscribe_bind(f"bare-{hop.name}", stream=stream)
    validate = validator(INPUTS[hop.name])
    print("ready", flush=True)
    await go
    while not stopping.is_set():
        try:
            batch = await sub.fetch(100, timeout=0.5)
        except TimeoutError:
            continue
        pending = []
        for msg in batch:
            for subject, body in hop.work(validate(msg)):
                pending.append(await js.publish_async(subject, body))
        await asyncio.gather(*pending)
        for msg in batch:
            await msg.ack()


async def main(args: argparse.Namespace) -> None:
    nc = await nats.connect(args.url, **connection_options(args.credentials))
    js = nc.jetstream()
    hop = HOPS[args.hop](args.hop, args.region, args.records)
    for name in ("stream", "bucket"):
        try:
            if name == "stream":
                await js.add_stream(
                    name=f"BENCH_{args.hop.upper()}_{args.region.upper()}",
                    subjects=[f"{hop.out}.>"],
                )
            else:
                await js.create_key_value(bucket=f"bench_{args.hop}_{args.region}")
        except BadRequestError:
            pass  # made by an earlier run
    await hop.load(nc)
    stopping, loop = asyncio.Event(), asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stopping.set)
    go = loop.run_in_executor(None, sys.stdin.readline)
    try:
        await consume(nc, hop, args.stream, args.start, go, stopping)
    finally:
        await nc.drain()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("hop", choices=sorted(HOPS))
    parser.add_argument("--url", required=True)
    parser.add_argument("--credentials", type=Path, help="a NATS credentials file")
    parser.add_argument("--region", required=True)
    parser.add_argument("--stream", required=True, help="the input stream")
    parser.add_argument("--start", type=int, required=True, help="first input sequence")
    parser.add_argument("--records", action="store_true", help="matching: durable records too")
    parser.add_argument(
        "--event-loop",
        choices=["asyncio", "uvloop"],
        default=os.environ.get("GUILD_EVENT_LOOP", "asyncio"),
        help="the loop to run on: Guild's services' (GUILD_EVENT_LOOP, asyncio by default)",
    )
    arguments = parser.parse_args()
    run(main(arguments), arguments.event_loop)
