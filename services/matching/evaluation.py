"""How well matching routes questions, measured on real Stack Exchange data.

    python -m services.matching.evaluation --data ../shared/data/stackexchange/ai [--json]
    guild eval routing --data DIR [--json]            # the same, from the guild command

The site's history is replayed in time order through Guild's own event contracts (answerers
and askers become members, questions, answers and acceptances become content events) and the
code matching runs in production (the inbound translations and the members read model, fed
the bytes its bucket would hold). Every question posted after the first ``--warmup`` of the
time span whose accepted answerer had answered before is a query: matching ranks the members
for it *before* its own answers are replayed. Scored: where the accepted answerer landed
(Hit@5, Hit@10, MRR), where the best-placed of its answerers landed (the same), and nDCG@10
(accepted answerer 2, other answerers 1). Two baselines are computed by the same harness on
the same replay: the most active answerers, and tag overlap with past answers.

Nothing is learned from the future: a member's history holds only answers created before
the query, and an acceptance is replayed a week after the accepted answer was posted (the
dump does not say when it was accepted; a week is conservative). Nothing in the ranking
knows which site it is ranking.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from services.matching.domain.profiles import Profile
from services.matching.domain.records import (
    ACCEPTED,
    AnswerRecord,
    Evidence,
    evidence_key,
    profile_key,
)
from services.matching.domain.text import question_terms
from services.matching.events import inbound
from services.matching.index.members import MemberModel
from shared.contracts.content import (
    AnswerAcceptedV1,
    AnswerPostedV1,
    PostKind,
    PostRef,
    QuestionPostedV1,
)
from shared.contracts.membership import MemberProfile, MemberRegisteredV1
from shared.contracts.values import MemberRef, Tag, Visibility

REGION = "eval"
COMMUNITY = "site"
ACCEPTANCE_DELAY = timedelta(days=7)
_EVIDENCE = TypeAdapter(Evidence)
_PROFILE = TypeAdapter(Profile)
_TAG: TypeAdapter[str] = TypeAdapter(Tag)


# ------------------------------------------------------------------ the data


@dataclass(frozen=True)
class Site:
    name: str
    questions: list[dict[str, Any]]
    answers: list[dict[str, Any]]


def load(directory: Path) -> Site:
    def lines(name: str) -> list[dict[str, Any]]:
        path = directory / name
        if not path.exists():
            raise SystemExit(f"{path} not found: the data directory needs {name}")
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    return Site(directory.name, lines("questions.jsonl"), lines("answers.jsonl"))


def moment(text: str) -> datetime:
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def member_id(user: int | None) -> str:
    return f"u{user}" if user is not None else "unknown"


# ------------------------------------------------------------------ the replay


@dataclass(order=True)
class Step:
    at: datetime
    order: int
    kind: str = field(compare=False)
    item: dict[str, Any] = field(compare=False)


def timeline(site: Site) -> list[Step]:
    """Questions and answers as they happened; each acceptance a week after its answer."""
    answers = {a["id"]: a for a in site.answers}
    steps = [Step(moment(q["created"]), 1, "question", q) for q in site.questions]
    steps += [Step(moment(a["created"]), 2, "answer", a) for a in site.answers]
    for question in site.questions:
        accepted = answers.get(question.get("accepted_answer_id"))
        if accepted is not None:
            at = moment(accepted["created"]) + ACCEPTANCE_DELAY
            steps.append(Step(at, 3, "acceptance", {"question": question, "answer": accepted}))
    return sorted(steps)


@dataclass
class Replay:
    """Feeds a site's history to matching's read model, as its bucket would."""

    model: MemberModel = field(default_factory=MemberModel)
    questions: dict[int, QuestionPostedV1] = field(default_factory=dict)
    records: dict[int, AnswerRecord] = field(default_factory=dict)
    members: set[str] = field(default_factory=set)
    answered: Counter[str] = field(default_factory=Counter)
    last_answer: dict[str, datetime] = field(default_factory=dict)
    tag_answers: dict[str, Counter[str]] = field(default_factory=dict)
    dropped_tags: Counter[str] = field(default_factory=Counter)

    def register(self, user: str, at: datetime) -> None:
        if user in self.members:
            return
        self.members.add(user)
        event = MemberRegisteredV1(
            member=MemberProfile(member_id=user, home_region=REGION, region=REGION, timezone="UTC"),
            revision=1,
            registered_at=at,
        )
        profile = inbound.profile_of(event.member, event.revision)
        self.model.apply(profile_key(user), _PROFILE.dump_json(profile))

    def question(self, item: dict[str, Any], at: datetime) -> QuestionPostedV1:
        asker = member_id(item.get("owner_user_id"))
        self.register(asker, at)
        event = QuestionPostedV1(
            question_id=f"q{item['id']}",
            community_id=COMMUNITY,
            community_name=COMMUNITY,
            visibility=Visibility.PUBLIC,
            asker=MemberRef(member_id=asker, home_region=REGION),
            title=item["title"],
            text=item.get("body") or "",
            tags=self._valid_tags(item.get("tags") or []),
            posted_at=at,
        )
        self.questions[item["id"]] = event
        return event

    def _valid_tags(self, tags: list[str]) -> list[str]:
        valid = []
        for tag in tags:
            try:
                valid.append(_TAG.validate_python(tag))
            except ValidationError:
                self.dropped_tags[tag] += 1
        return valid

    def answer(self, item: dict[str, Any], at: datetime) -> None:
        question = self.questions.get(item["question_id"])
        if question is None or item.get("owner_user_id") is None:
            return
        author = member_id(item["owner_user_id"])
        self.register(author, at)
        event = AnswerPostedV1(
            answer=PostRef(
                post_id=f"a{item['id']}",
                kind=PostKind.ANSWER,
                community_id=COMMUNITY,
                community_name=COMMUNITY,
                visibility=Visibility.PUBLIC,
                author=MemberRef(member_id=author, home_region=REGION),
            ),
            question_id=question.question_id,
            question_title=question.title,
            question_tags=question.tags,
            asker=question.asker,
            first_answer=False,
            posted_at=at,
        )
        record = inbound.answer_record(event)
        self.records[item["id"]] = record
        self._add(record.author_id, record.answer_id, inbound.evidence_of(record))
        self.answered[author] += 1
        self.last_answer[author] = at
        self.tag_answers.setdefault(author, Counter()).update(question.tags)

    def acceptance(self, item: dict[str, Any], at: datetime) -> None:
        record = self.records.get(item["answer"]["id"])
        question = self.questions.get(item["question"]["id"])
        if record is None or question is None:
            return
        event = AnswerAcceptedV1(
            answer=PostRef(
                post_id=record.answer_id,
                kind=PostKind.ANSWER,
                community_id=COMMUNITY,
                community_name=COMMUNITY,
                visibility=Visibility.PUBLIC,
                author=MemberRef(member_id=record.author_id, home_region=REGION),
            ),
            question_id=question.question_id,
            question_tags=question.tags,
            accepted_by=question.asker.member_id,
            accepted_at=at,
        )
        evidence = inbound.evidence_of(record, ACCEPTED)
        self._add(event.answer.author.member_id, record.answer_id, evidence)

    def _add(self, member: str, answer_id: str, evidence: Evidence) -> None:
        key = evidence_key(member, answer_id, evidence.kind)
        self.model.apply(key, _EVIDENCE.dump_json(evidence))


# ------------------------------------------------------------------ ranking and scoring

Ranker = Callable[[Replay, QuestionPostedV1, list[str]], list[str]]


def guild(replay: Replay, question: QuestionPostedV1, candidates: list[str]) -> list[str]:
    allowed = replay.model.mask(home_region=REGION, excluding=[question.asker.member_id])
    ranked = replay.model.rank(
        question_terms(question.title, question.tags),
        question.posted_at.timestamp(),
        allowed,
        limit=len(replay.members),
    )
    wanted = set(candidates)
    return [r.member_id for r in ranked if r.member_id in wanted]


def most_active(replay: Replay, question: QuestionPostedV1, candidates: list[str]) -> list[str]:
    """Most answers so far; ties: the most recent answer, then the id."""
    return sorted(
        candidates,
        key=lambda m: (-replay.answered[m], -replay.last_answer[m].timestamp(), m),
    )


def tag_overlap(replay: Replay, question: QuestionPostedV1, candidates: list[str]) -> list[str]:
    """Past answers on the question's tags (each shared tag counts); ties: most answers."""
    tags = set(question.tags)

    def overlap(member: str) -> int:
        return sum(n for tag, n in replay.tag_answers[member].items() if tag in tags)

    return sorted(candidates, key=lambda m: (-overlap(m), -replay.answered[m], m))


RANKERS: dict[str, Ranker] = {
    "guild": guild,
    "most active": most_active,
    "tag overlap": tag_overlap,
}


@dataclass
class Scores:
    queries: int = 0
    sums: Counter[str] = field(default_factory=Counter)

    def add(self, order: list[str], accepted: str, answerers: set[str]) -> None:
        self.queries += 1
        rank = {member: i + 1 for i, member in enumerate(order)}
        first = rank.get(accepted, math.inf)
        best = min((rank.get(m, math.inf) for m in answerers), default=math.inf)
        for prefix, position in (("accepted", first), ("any", best)):
            self.sums[f"{prefix} hit@5"] += position <= 5
            self.sums[f"{prefix} hit@10"] += position <= 10
            self.sums[f"{prefix} mrr"] += 1 / position
        gains = {m: 2 if m == accepted else 1 for m in answerers}
        dcg = sum(gains.get(m, 0) / math.log2(i + 2) for i, m in enumerate(order[:10]))
        ideal = sum(g / math.log2(i + 2) for i, g in enumerate(sorted(gains.values())[::-1][:10]))
        self.sums["ndcg@10"] += dcg / ideal

    def means(self) -> dict[str, float]:
        return {name: round(total / self.queries, 3) for name, total in self.sums.items()}


def queries(site: Site, warmup: float) -> Iterator[tuple[Step, Replay]]:
    """Replays the site; yields each query just before its own answers are replayed."""
    steps = timeline(site)
    posted = [s.at for s in steps if s.kind != "acceptance"]
    start, end = min(posted), max(posted)
    cut = start + (end - start) * warmup
    replay = Replay()
    handlers = {
        "question": replay.question,
        "answer": replay.answer,
        "acceptance": replay.acceptance,
    }
    for step in steps:
        handlers[step.kind](step.item, step.at)
        if step.kind == "question" and step.at >= cut:
            yield step, replay


def evaluate(site: Site, warmup: float = 0.2) -> dict[str, Any]:
    answers_by_question: dict[int, list[dict[str, Any]]] = {}
    for answer in site.answers:
        answers_by_question.setdefault(answer["question_id"], []).append(answer)
    by_id = {a["id"]: a for a in site.answers}
    scores = {name: Scores() for name in RANKERS}
    for step, replay in queries(site, warmup):
        question = replay.questions[step.item["id"]]
        accepted = by_id.get(step.item.get("accepted_answer_id"))
        if accepted is None or accepted.get("owner_user_id") is None:
            continue
        target = member_id(accepted["owner_user_id"])
        candidates = [m for m in replay.answered if m != question.asker.member_id]
        if target not in candidates:
            continue  # the accepted answerer had never answered: nobody could know them
        answerers = {
            member_id(a["owner_user_id"])
            for a in answers_by_question.get(step.item["id"], [])
            if a.get("owner_user_id") is not None
        } & set(candidates)
        for name, ranker in RANKERS.items():
            scores[name].add(ranker(replay, question, candidates), target, answerers)
    return {
        "site": site.name,
        "questions": len(site.questions),
        "answers": len(site.answers),
        "warmup": warmup,
        "queries": scores["guild"].queries,
        "rankers": {name: s.means() for name, s in scores.items()},
    }


# ------------------------------------------------------------------ output

COLUMNS = (
    "accepted hit@5",
    "accepted hit@10",
    "accepted mrr",
    "any hit@5",
    "any hit@10",
    "any mrr",
    "ndcg@10",
)


def table(result: dict[str, Any]) -> str:
    lines = [
        f"site {result['site']}: {result['questions']} questions, {result['answers']} answers; "
        f"{result['queries']} queries (after the first {result['warmup']:.0%} of the time span, "
        "accepted answerer seen before)",
        "",
        f"{'ranker':<14}" + "".join(f"{c:>17}" for c in COLUMNS),
    ]
    for name, means in result["rankers"].items():
        lines.append(f"{name:<14}" + "".join(f"{means[c]:>17.3f}" for c in COLUMNS))
    guild_mrr = result["rankers"]["guild"]["accepted mrr"]
    for name in ("most active", "tag overlap"):
        base = result["rankers"][name]["accepted mrr"]
        lines.append(f"guild vs {name}: MRR (accepted) x{guild_mrr / base:.2f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="a site's folder")
    parser.add_argument("--warmup", type=float, default=0.2, help="share of the time span")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    result = evaluate(load(args.data), args.warmup)
    print(json.dumps(result, indent=2) if args.json else table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
