"""Matching's read model of members: profiles, evidence of expertise, routing history; and the
ranking of who is most likely to answer a question well.

The ranking (measured in docs/matching.md) multiplies two estimates:

* **availability**: how likely the member is to be answering now, from their answers with
  time: the mean, over several time scales (1, 7, 30 and 180 days, and all time), of their
  share of everyone's recent answers. No single window has to be guessed, and someone who
  answered yesterday counts as much as someone steadily active for a year.
* **fit**: how much more likely the question's terms (its tags and the content words of its
  title) are under the member's history than under everyone's: a Dirichlet-smoothed
  likelihood ratio per term, averaged geometrically over the terms. The history is what they
  answered (an accepted answer counts twice) fading with a one-year half-life. Declared
  skills lift it (by 1 + the level's weight per term: an expert's x5, a beginner's x1.5,
  averaged geometrically like the terms); they do not fade, and they do not count as history,
  which would make a broad profile look less fit than a narrow one.

Everything is kept in columns (numpy arrays and ``array`` postings), so that ranking 100,000
members is a handful of vector operations.

Each member's routing history is a :class:`~services.matching.domain.routing.RouteLog`, which
keeps how much they were asked lately as routes are recorded (budgets and rotation read it per
candidate, without counting the history again); with it, per question, who it was routed to.
Both are rebuilt from the routes a snapshot or the bucket holds.
"""

from __future__ import annotations

import json
import math
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from pydantic import TypeAdapter

from services.matching.domain.profiles import LEVEL_WEIGHT, Profile
from services.matching.domain.records import (
    ACCEPTED,
    ACTIVITY,
    ANSWER,
    RETRACTED,
    SIGN,
    UNACCEPTED,
    Routed,
)
from services.matching.domain.routing import Load, RouteLog
from services.matching.domain.text import skill_terms
from shared.readmodel import Names, group_columns, groups_from, pack, unpack

DAY = 86_400.0
T0 = datetime(2000, 1, 1, tzinfo=UTC).timestamp()
FIT_HALF_LIFE = 365 * DAY
ACTIVITY_HALF_LIVES: tuple[float | None, ...] = (1 * DAY, 7 * DAY, 30 * DAY, 180 * DAY, None)
"""None: all time, no fading."""
UNIFORM_SHARE = 0.05
"""Availability everyone has, whatever their history: lets a declared expert who never
answered be ranked, and ranks by fit alone where nobody has answered yet."""
CACHED_POSTINGS = 2_000
"""Terms with at least this many postings keep their per-member totals between changes."""
LOG_NO_MATCH = math.log(0.5)
"""A member whose skills and history share no term with the question keeps half of their
score: they come after everyone who knows something about it, not before those whose profile
also covers other topics (which the likelihood ratio alone would let happen)."""
REBASE_AFTER = 256.0
"""Half-lives after which activity columns are rescaled, to stay far from overflow."""
KIND_CODE = {ANSWER: 1, ACCEPTED: 2, RETRACTED: -1, UNACCEPTED: -2}


class Column:
    """A growable numpy column indexed by member code."""

    def __init__(self, dtype: Any, data: np.ndarray | None = None) -> None:
        self.data = data if data is not None else np.zeros(1024, dtype=dtype)

    def ensure(self, size: int) -> None:
        if size > len(self.data):
            grown = np.zeros(max(size, 2 * len(self.data)), dtype=self.data.dtype)
            grown[: len(self.data)] = self.data
            self.data = grown


class Postings:
    """Per term: which members, how much, and what kind of evidence; append-only."""

    def __init__(self) -> None:
        self.members: list[array[int]] = []
        self.weights: list[array[float]] = []
        self.kinds: list[array[int]] = []
        self._totals: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._positive: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def add(self, term: int, member: int, weight: float, kind: int) -> None:
        while len(self.members) <= term:
            self.members.append(array("i"))
            self.weights.append(array("f"))
            self.kinds.append(array("b"))
        self.members[term].append(member)
        self.weights[term].append(weight)
        self.kinds[term].append(kind)
        if (held := self._totals.get(term)) is not None:
            self._positive.pop(term, None)
            ids, sums = held
            at = int(np.searchsorted(ids, member))
            if at < len(ids) and ids[at] == member:
                sums[at] += weight
            else:
                self._totals[term] = (np.insert(ids, at, member), np.insert(sums, at, weight))

    def keep_totals(self) -> None:
        """Compute the totals of every common term now (after loading), not on a first query."""
        for term, members in enumerate(self.members):
            if len(members) >= CACHED_POSTINGS:
                self.totals(term)

    def totals(self, term: int) -> tuple[np.ndarray, np.ndarray]:
        """Per term: the members with postings (sorted, as numpy's index type: indexing
        with them then needs no conversion) and their totals. Kept, and updated as evidence
        arrives, for common terms: ranking then touches only the members a term hits,
        without summing its postings again."""
        if (held := self._totals.get(term)) is not None:
            return held
        members, weights, _ = self.of(term)
        if not len(members):
            return members.astype(np.intp), weights.astype(np.float64)
        ids, slot = np.unique(members, return_inverse=True)
        found = (ids.astype(np.intp), np.bincount(slot, weights=weights))
        if len(members) >= CACHED_POSTINGS:
            self._totals[term] = found
        return found

    def positive(self, term: int) -> tuple[np.ndarray, np.ndarray]:
        """The members whose total for ``term`` is above zero (most: only retractions take a
        total down) and their totals in single precision, ready for ranking; kept with the
        totals of common terms until the term's next posting."""
        if (held := self._positive.get(term)) is not None:
            return held
        ids, sums = self.totals(term)
        above = sums > 0
        found = (ids if above.all() else ids[above], sums[above].astype(np.float32))
        if term in self._totals:
            self._positive[term] = found
        return found

    def of(self, term: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if term >= len(self.members):
            empty = np.zeros(0)
            return empty.astype(np.int32), empty.astype(np.float32), empty.astype(np.int8)
        return (
            np.frombuffer(self.members[term], dtype=np.int32),
            np.frombuffer(self.weights[term], dtype=np.float32),
            np.frombuffer(self.kinds[term], dtype=np.int8),
        )

    def without(self, dropped: np.ndarray) -> Postings:
        """A copy without the postings of members in ``dropped`` (a boolean mask by code)."""
        kept = Postings()
        for term in range(len(self.members)):
            members, weights, kinds = self.of(term)
            keep = ~dropped[members] if len(members) else np.zeros(0, dtype=bool)
            kept.members.append(array("i", members[keep].tobytes()))
            kept.weights.append(array("f", weights[keep].tobytes()))
            kept.kinds.append(array("b", kinds[keep].tobytes()))
        return kept

    def columns(self, name: str) -> dict[str, Any]:
        return {
            **group_columns(f"{name}.m", dict(enumerate(self.members))),
            f"{name}.w": _concat(self.weights, "f"),
            f"{name}.k": _concat(self.kinds, "b"),
        }

    @classmethod
    def from_columns(cls, columns: dict[str, Any], name: str) -> Postings:
        made, offset = cls(), 0
        weights, kinds = columns[f"{name}.w"], columns[f"{name}.k"]
        members = groups_from(columns, f"{name}.m")
        for term in range(len(members)):
            size = len(members[term])
            made.members.append(members[term])
            made.weights.append(weights[offset : offset + size])
            made.kinds.append(kinds[offset : offset + size])
            offset += size
        return made


def _concat(parts: list[array[Any]], typecode: str) -> array[Any]:
    whole = array(typecode)
    for part in parts:
        whole.extend(part)
    return whole


def largest(values: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` largest values, in no order. Partitioning 100,000 values costs
    more than the rest of a ranking; so the values are first cut at a threshold that at least
    ``k`` of them reach: the k-th largest of an evenly spaced sample (about 32 k values)."""
    if k <= 0:
        return np.zeros(0, dtype=np.intp)
    candidates = np.arange(len(values))
    if len(values) > 64 * k:
        sample = np.sort(values[:: len(values) // (32 * k)])
        candidates = np.flatnonzero(values >= sample[-k])
    if len(candidates) <= k:
        return candidates
    kept = np.argpartition(values[candidates], len(candidates) - k)[-k:]
    return candidates[kept]


@dataclass(frozen=True)
class Ranked:
    member_id: str
    score: float
    availability: float
    fit: float
    knows: bool
    """Whether they declared or answered any of the question's terms."""


@dataclass(frozen=True)
class TermEvidence:
    term: str
    answers: int
    accepted: int
    declared: str | None


_PROFILE = TypeAdapter(Profile)
_PROFILES = TypeAdapter(list[Profile | None])
_ROUTED = TypeAdapter(Routed)
_ROUTES = TypeAdapter(dict[str, dict[str, Routed]])


class MemberModel:
    """The projection of matching's members bucket (see :mod:`..domain.records`)."""

    VERSION = "members-2"

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._cached: dict[str, Any] = {}
        """Per-member vectors that change only when the model does (availability, ...)."""
        self.codes = Names()
        self.profiles: list[Profile | None] = []
        self.regions = Names()
        self.home = Column(np.int32)
        self.known = Column(np.bool_)
        self.erased = Column(np.bool_)
        self.activity = [Column(np.float64) for _ in ACTIVITY_HALF_LIVES]
        self.activity_total = [0.0 for _ in ACTIVITY_HALF_LIVES]
        self.activity_ref = [0.0 for _ in ACTIVITY_HALF_LIVES]
        self.length_history = Column(np.float64)
        self.vocab = Names()
        self.history = Postings()
        self.declared = Postings()
        self.background_history = array("d")
        self.total_history = 0.0
        self.communities: dict[str, set[int]] = {}
        self.routes: dict[int, RouteLog] = {}
        self.asked: dict[str, list[int]] = {}
        """Per question, the members it was routed to (a few: a list takes a third of a set's
        memory)."""

    # ------------------------------------------------------------------ applying changes

    def apply(self, key: str, value: bytes | None) -> None:
        member_id, kind, rest = [*key.split(".", 2), "", ""][:3]
        if kind == "r" and (code := self.codes.get(member_id)) is not None:
            # routes change no ranking vector of a known code: the cached ones stay
            if value is not None:
                self.record_route(member_id, rest, _ROUTED.validate_json(value))
            elif (log := self.routes.get(code)) is not None:
                log.forget(rest)
                if code in (codes := self.asked.get(rest, [])):
                    codes.remove(code)
            return
        self._cached.clear()
        if kind == "x" or (kind == "p" and value is None):
            self.forget(member_id)
        elif value is None:
            return  # evidence is never deleted, only erased with its member
        elif kind == "p":
            self.set_profile(_PROFILE.validate_json(value))
        elif kind == "e":
            document = json.loads(value)
            at = datetime.fromisoformat(document["at"]).timestamp()
            self.add_evidence(member_id, at, document["terms"], document.get("kind", ANSWER))
        elif kind == "r":
            self.record_route(member_id, rest, _ROUTED.validate_json(value))

    def record_route(self, member_id: str, question_id: str, routed: Routed) -> None:
        code = self._code(member_id)
        log = self.routes.get(code)
        if log is None:
            log = self.routes[code] = RouteLog()
        log.record(question_id, routed)
        self._note_asked(question_id, code)

    def _note_asked(self, question_id: str, code: int) -> None:
        codes = self.asked.setdefault(question_id, [])
        if code not in codes:
            codes.append(code)

    def _code(self, member_id: str) -> int:
        code = self.codes.code(member_id)
        if code >= len(self.profiles):
            self.profiles.extend([None] * (code + 1 - len(self.profiles)))
            for column in (
                self.home,
                self.known,
                self.erased,
                self.length_history,
                *self.activity,
            ):
                column.ensure(code + 1)
        return code

    def _term(self, term: str) -> int:
        code = self.vocab.code(term)
        while len(self.background_history) <= code:
            self.background_history.append(0.0)
        return code

    def set_profile(self, profile: Profile) -> None:
        code = self._code(profile.member_id)
        held = self.profiles[code]
        if held is not None and not profile.newer_than(held):
            return
        self._declare(code, held.skills if held else (), -1)
        self._declare(code, profile.skills, +1)
        for community_id in held.communities if held else ():
            self.communities.get(community_id, set()).discard(code)
        for community_id in profile.communities:
            self.communities.setdefault(community_id, set()).add(code)
        self.profiles[code] = profile
        self.home.data[code] = self.regions.code(profile.home_region)
        self.known.data[code] = True
        self.erased.data[code] = False

    def _declare(self, code: int, skills: Iterable[tuple[str, str]], sign: int) -> None:
        for skill, level in skills:
            weight = sign * LEVEL_WEIGHT[level]
            for term in skill_terms(skill):
                self.declared.add(self._term(term), code, weight, 3 * sign)

    def add_evidence(self, member_id: str, at: float, terms: Sequence[str], kind: str) -> None:
        code, sign = self._code(member_id), SIGN[kind]
        weight = sign * 2.0 ** ((at - T0) / FIT_HALF_LIFE)
        for term in terms:
            term_code = self._term(term)
            self.history.add(term_code, code, weight, KIND_CODE[kind])
            self.background_history[term_code] += weight
        self.total_history += weight * len(terms)
        self.length_history.data[code] += weight * len(terms)
        if kind in ACTIVITY:
            self._count_activity(code, at, ACTIVITY[kind])

    def _count_activity(self, code: int, at: float, sign: int) -> None:
        for scale, half_life in enumerate(ACTIVITY_HALF_LIVES):
            if half_life is None:
                amount = float(sign)
            else:
                if (at - self.activity_ref[scale]) / half_life > REBASE_AFTER:
                    self._rebase(scale, at)
                amount = sign * 2.0 ** ((at - self.activity_ref[scale]) / half_life)
            self.activity[scale].data[code] += amount
            self.activity_total[scale] += amount

    def _rebase(self, scale: int, at: float) -> None:
        half_life = ACTIVITY_HALF_LIVES[scale]
        assert half_life is not None
        factor = 2.0 ** ((self.activity_ref[scale] - at) / half_life)
        self.activity[scale].data *= factor
        self.activity_total[scale] *= factor
        self.activity_ref[scale] = at

    def forget(self, member_id: str) -> None:
        """Erase everything about a member: profile, memberships, routing; their evidence is
        masked now and dropped from the next snapshot."""
        code = self.codes.get(member_id)
        if code is None:
            return
        held = self.profiles[code]
        if held is not None:
            self._declare(code, held.skills, -1)
            for community_id in held.communities:
                self.communities.get(community_id, set()).discard(code)
        self.profiles[code] = None
        self.known.data[code] = False
        self.erased.data[code] = True
        for scale, column in enumerate(self.activity):
            self.activity_total[scale] -= column.data[code]
            column.data[code] = 0.0
        for question_id in self.routes.pop(code, RouteLog()).routes:
            if code in (codes := self.asked.get(question_id, [])):
                codes.remove(code)
        self.codes.forget(member_id)

    # ------------------------------------------------------------------ reading

    def __len__(self) -> int:
        return int(self.known.data[: len(self.profiles)].sum())

    def profile(self, member_id: str) -> Profile | None:
        code = self.codes.get(member_id)
        return self.profiles[code] if code is not None else None

    def all_profiles(self) -> Iterable[Profile]:
        return (p for p in self.profiles if p is not None)

    def members_of(self, community_id: str) -> list[Profile]:
        codes = self.communities.get(community_id, set())
        return [p for c in sorted(codes) if (p := self.profiles[c]) is not None]

    def routes_of(self, member_id: str) -> dict[str, Routed]:
        code = self.codes.get(member_id)
        log = self.routes.get(code) if code is not None else None
        return log.routes if log is not None else {}

    def load(self, member_id: str, now: datetime) -> Load:
        """How much ``member_id`` was asked lately and how they responded (kept as routes are
        recorded: see :class:`~services.matching.domain.routing.RouteLog`)."""
        code = self.codes.get(member_id)
        log = self.routes.get(code) if code is not None else None
        return log.load(now) if log is not None else Load()

    def routed_about(self, question_id: str) -> dict[str, Routed]:
        """Who ``question_id`` was routed to, and how."""
        return {
            member_id: self.routes[code].routes[question_id]
            for code in self.asked.get(question_id, ())
            if (member_id := self.codes.names[code])
        }

    def mask(
        self,
        home_region: str | None = None,
        community_id: str | None = None,
        excluding: Iterable[str] = (),
    ) -> np.ndarray:
        """Members that may be ranked: known, homed in ``home_region``, in ``community_id``,
        not in ``excluding``."""
        size = len(self.profiles)
        allowed = self.known.data[:size].copy()
        for member_id in excluding:
            if (code := self.codes.get(member_id)) is not None:
                allowed[code] = False
        if home_region is not None:
            region = self.regions.get(home_region)
            allowed &= self.home.data[:size] == (region if region is not None else -1)
        if community_id is not None:
            inside = np.zeros(size, dtype=bool)
            inside[list(self.communities.get(community_id, ()))] = True
            allowed &= inside
        return allowed

    def caught_up(self) -> None:
        """After loading: the common terms' totals, so no question waits for them."""
        self.history.keep_totals()
        self.declared.keep_totals()

    def availability(self) -> np.ndarray:
        if (held := self._cached.get("availability")) is None:
            held = self._cached["availability"] = self._availability()
        return held

    def _availability(self) -> np.ndarray:
        size = len(self.profiles)
        share = np.zeros(size)
        for scale, column in enumerate(self.activity):
            if self.activity_total[scale] > 0:
                share += column.data[:size] / self.activity_total[scale]
        share /= len(self.activity)
        return share + UNIFORM_SHARE / max(len(self), 1)

    def log_scores(self, terms: Sequence[str], now: float) -> tuple[np.ndarray, np.ndarray]:
        """log(availability x fit) per member: how well each fits the question's terms (the
        likelihood ratio of the terms under their fading history, lifted by the skills they
        declared) times how likely they are to be answering; and whether they declared or
        answered any of the terms at all. Touches only the members each term hits: the rest
        start from a per-member base kept between changes."""
        codes = [c for t in dict.fromkeys(terms) if (c := self.vocab.get(t)) is not None]
        if not codes:
            size = len(self.profiles)
            return np.log(self.availability()), np.zeros(size, dtype=bool)
        fade = 2.0 ** (-(now - T0) / FIT_HALF_LIFE)
        answered = [c for c in codes if self.background_history[c] > 0]
        total = fade * self.total_history
        with_history = bool(answered) and total > 0
        base, mu = self._base(fade, now, with_history)
        scores, knows = base.copy(), np.zeros(len(base), dtype=bool)
        for code in answered if with_history else ():
            p = (fade * self.background_history[code] + 0.5) / (total + 1.0)
            members, weights = self.history.positive(code)
            self._lift(scores, knows, members, weights * np.float32(fade / (mu * p)), answered)
        for code in codes:
            members, weights = self.declared.positive(code)
            self._lift(scores, knows, members, weights, codes)
        scores -= knows * LOG_NO_MATCH
        return scores, knows

    @staticmethod
    def _lift(
        scores: np.ndarray, knows: np.ndarray, members: np.ndarray, ratio: np.ndarray, of: list[int]
    ) -> None:
        """Add one term's share of the geometric mean, log(1 + ratio) / terms."""
        lift = np.log1p(ratio)
        lift *= np.float32(1 / len(of))
        scores[members] += lift
        knows[members] = True

    def _base(self, fade: float, now: float, with_history: bool) -> tuple[np.ndarray, float]:
        """What a member's log score starts from before any term: their availability, the
        penalty for knowing no term, and (when the terms have a history) log(mu / (length
        + mu)), mu being the mean history length. Kept for the hour (fading moves it by 0.01%
        an hour) until the model changes."""
        key = ("base", with_history, int(now // 3600))
        if (held := self._cached.get(key)) is None:
            start, mu = np.log(self.availability()) + LOG_NO_MATCH, 1.0
            if with_history:
                size = len(self.profiles)
                lengths = np.maximum(fade * self.length_history.data[:size], 0.0)
                profiled = int(np.count_nonzero(lengths > 1e-9))
                mu = fade * self.total_history / max(profiled, 1)
                start += np.log(mu / (lengths + mu))
            held = self._cached[key] = (start, mu)
        return held

    def rank(
        self, terms: Sequence[str], now: float, allowed: np.ndarray, limit: int
    ) -> list[Ranked]:
        """The ``limit`` best members among ``allowed``, best first."""
        scores, knows = self.log_scores(terms, now)
        eligible = np.flatnonzero(allowed)
        best = eligible[largest(scores[eligible], limit)]
        # ties: whom matching has known longest (codes go in that order; member ids are
        # drawn at random, so ordering by them would be a lottery per deployment)
        best = sorted(best, key=lambda c: (-scores[c], c))
        availability = self.availability()
        return [
            Ranked(
                self.codes.names[c],
                score := math.exp(scores[c]),
                float(availability[c]),
                score / float(availability[c]),
                bool(knows[c]),
            )
            for c in best
        ]

    def evidence(self, member_id: str, terms: Sequence[str]) -> list[TermEvidence]:
        """For the reasons shown to people: per term, answers and acceptances, declared level."""
        code = self.codes.get(member_id)
        profile = self.profiles[code] if code is not None else None
        found = []
        for term in dict.fromkeys(terms):
            term_code = self.vocab.get(term)
            answers = accepted = 0
            if term_code is not None and code is not None:
                members, _, kinds = self.history.of(term_code)
                mine = kinds[members == code]
                answers = int(np.count_nonzero(mine == 1) - np.count_nonzero(mine == -1))
                accepted = int(np.count_nonzero(mine == 2) - np.count_nonzero(mine == -2))
            declared = profile.level_of(term.removeprefix("#")) if profile else None
            if answers or declared:
                found.append(TermEvidence(term, answers, accepted, declared))
        return found

    def recent_answers(self, member_id: str, now: float) -> float:
        """About how many answers in the last month (the 30-day column, faded to ``now``)."""
        code = self.codes.get(member_id)
        if code is None:
            return 0.0
        scale = ACTIVITY_HALF_LIVES.index(30 * DAY)
        half_life = 30 * DAY
        return float(
            self.activity[scale].data[code] * 2.0 ** ((self.activity_ref[scale] - now) / half_life)
        )

    # ------------------------------------------------------------------ snapshots

    def snapshot(self) -> bytes:
        size = len(self.profiles)
        erased = self.erased.data[:size]
        history = self.history.without(erased) if erased.any() else self.history
        numbers = {
            "activity_total": self.activity_total,
            "activity_ref": self.activity_ref,
            "total_history": self.total_history,
        }
        return pack(
            {
                "codes": self.codes.names,
                "regions": self.regions.names,
                "vocab": self.vocab.names,
                "home": array("i", self.home.data[:size].tobytes()),
                "known": self.known.data[:size].tobytes(),
                "erased": erased.tobytes(),
                "length_history": array("d", self.length_history.data[:size].tobytes()),
                **{
                    f"activity{i}": array("d", c.data[:size].tobytes())
                    for i, c in enumerate(self.activity)
                },
                "background_history": self.background_history,
                **history.columns("history"),
                **self.declared.columns("declared"),
                "profiles": _PROFILES.dump_json(self.profiles),
                "routes": _ROUTES.dump_json(
                    {str(code): log.routes for code, log in self.routes.items()}
                ),
                "numbers": json.dumps(numbers).encode(),
            }
        )

    def restore(self, data: bytes) -> None:
        c = unpack(data)
        self._reset()
        self.codes, self.regions, self.vocab = (
            Names(c["codes"]),
            Names(c["regions"]),
            Names(c["vocab"]),
        )
        self.home = Column(np.int32, np.frombuffer(c["home"], dtype=np.int32).copy())
        self.known = Column(np.bool_, np.frombuffer(c["known"], dtype=np.bool_).copy())
        self.erased = Column(np.bool_, np.frombuffer(c["erased"], dtype=np.bool_).copy())
        self.length_history = Column(np.float64, np.frombuffer(c["length_history"]).copy())
        self.activity = [
            Column(np.float64, np.frombuffer(c[f"activity{i}"]).copy())
            for i in range(len(ACTIVITY_HALF_LIVES))
        ]
        self.background_history = c["background_history"]
        self.history = Postings.from_columns(c, "history")
        self.declared = Postings.from_columns(c, "declared")
        self.profiles = _PROFILES.validate_json(c["profiles"])
        for code, routes in _ROUTES.validate_json(c["routes"]).items():
            self.routes[int(code)] = RouteLog(routes)
            for question_id in routes:
                self._note_asked(question_id, int(code))
        numbers = json.loads(c["numbers"])
        self.activity_total, self.activity_ref = numbers["activity_total"], numbers["activity_ref"]
        self.total_history = numbers["total_history"]
        for code, profile in enumerate(self.profiles):
            for community_id in profile.communities if profile else ():
                self.communities.setdefault(community_id, set()).add(code)
        self._grow_columns(len(self.profiles))

    def _grow_columns(self, size: int) -> None:
        for column in (
            self.home,
            self.known,
            self.erased,
            self.length_history,
            *self.activity,
        ):
            column.ensure(size)
