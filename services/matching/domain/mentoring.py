"""Mentoring: mentees matched to mentors, good for the whole community.

A pair fits when the mentor offers topics the mentee wishes for; timezone overlap (hours of
working time in common) and a shared language make it better. The assignment maximises, over
everyone, first how many mentees get a mentor and then how well the pairs fit, never giving a
mentor more mentees than their capacity (pending proposals count). A first-come-first-served
assignment can leave a mentee without the only mentor who fits them because someone else,
who had alternatives, asked first; this does not.

It is a minimum-cost flow (source -> mentee -> mentor -> sink, capacities 1 and the mentor's
free places), solved by successive shortest paths; communities have hundreds of mentees and
mentors, not millions.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from services.matching.domain.profiles import Profile, working_periods

PROPOSED, AGREED, DECLINED = "proposed", "agreed", "declined"
MATCH_BONUS = 1_000.0
"""Worth more than any fit: matching one more mentee beats matching fewer, better."""


@dataclass(frozen=True)
class Mentorship:
    """A proposal between a mentor and a mentee, and where it stands."""

    mentor_id: str
    mentor_home: str
    mentee_id: str
    mentee_home: str
    topics: tuple[str, ...]
    proposed_at: datetime
    mentor_accepted: bool = False
    mentee_accepted: bool = False
    declined_by: str | None = None

    @property
    def key(self) -> str:
        return proposal_id(self.mentor_id, self.mentee_id)

    @property
    def state(self) -> str:
        if self.declined_by:
            return DECLINED
        return AGREED if self.mentor_accepted and self.mentee_accepted else PROPOSED

    def holds_a_place(self, now: datetime, expiry: timedelta) -> bool:
        """Agreed pairs hold a mentor's place; proposals do until they expire."""
        if self.state == AGREED:
            return True
        return self.state == PROPOSED and now - self.proposed_at < expiry


def proposal_id(mentor_id: str, mentee_id: str) -> str:
    return f"{mentor_id}--{mentee_id}"


@dataclass(frozen=True)
class Fit:
    mentor: Profile
    mentee: Profile
    topics: tuple[str, ...]
    score: float
    reasons: tuple[str, ...]


def overlap_hours(a: Profile, b: Profile, week_of: datetime) -> float:
    """Working hours the two have in common in a week."""
    total = 0.0
    for begin_a, end_a in working_periods(a, week_of, 7):
        for begin_b, end_b in working_periods(b, week_of, 7):
            common = min(end_a, end_b) - max(begin_a, begin_b)
            total += max(common.total_seconds(), 0) / 3600
    return total


def fit(mentor: Profile, mentee: Profile, week_of: datetime) -> Fit | None:
    offer = mentor.mentoring_offer
    if offer is None or mentor.member_id == mentee.member_id:
        return None
    topics = tuple(t for t in mentee.mentoring_wish if t in offer.topics)
    if not topics:
        return None
    hours = overlap_hours(mentor, mentee, week_of)
    languages = sorted(set(mentor.languages) & set(mentee.languages))
    score = 10.0 * len(topics) + min(hours, 40.0) / 4 + (5.0 if languages else 0.0)
    said = [f"{', '.join(topics)}: wished for and offered"]
    said.append(
        f"{round(hours)} working hours a week in common"
        if hours >= 1
        else "no working hours in common: asynchronous mentoring"
    )
    if languages:
        said.append("you share " + ", ".join(languages))
    return Fit(mentor, mentee, topics, score, tuple(said))


def assign(
    mentees: Sequence[Profile],
    mentors: Sequence[Profile],
    free_places: Mapping[str, int],
    *,
    excluded: Iterable[str],
    week_of: datetime,
) -> list[Fit]:
    """The best assignment for everyone: as many mentees as possible, then the best fits."""
    banned = set(excluded)
    fits = {
        (e.member_id, m.member_id): f
        for e in mentees
        for m in mentors
        if free_places.get(m.member_id, 0) > 0
        and proposal_id(m.member_id, e.member_id) not in banned
        and (f := fit(m, e, week_of)) is not None
    }
    if not fits:
        return []
    flow = _MinCostFlow()
    source, sink = "source", "sink"
    for mentee_id, mentor_id in fits:
        flow.add(source, f"e:{mentee_id}", 1, 0.0)
        flow.add(
            f"e:{mentee_id}", f"m:{mentor_id}", 1, -(MATCH_BONUS + fits[mentee_id, mentor_id].score)
        )
        flow.add(f"m:{mentor_id}", sink, free_places[mentor_id], 0.0)
    chosen = flow.solve(source, sink)
    return sorted(
        (fits[e.removeprefix("e:"), m.removeprefix("m:")] for e, m in chosen),
        key=lambda f: (-f.score, f.mentee.member_id),
    )


class _MinCostFlow:
    """Successive shortest paths (Bellman-Ford: costs are negative) on a small graph."""

    def __init__(self) -> None:
        self.edges: list[list[Any]] = []  # [head, capacity left, cost, reverse edge]
        self.graph: dict[str, list[int]] = {}
        self.tails: list[str] = []
        self._seen: set[tuple[str, str]] = set()

    def add(self, tail: str, head: str, capacity: int, cost: float) -> None:
        if (tail, head) in self._seen:
            return
        self._seen.add((tail, head))
        for node in (tail, head):
            self.graph.setdefault(node, [])
        self.graph[tail].append(len(self.edges))
        self.edges.append([head, capacity, cost, len(self.edges) + 1])
        self.tails.append(tail)
        self.graph[head].append(len(self.edges))
        self.edges.append([tail, 0, -cost, len(self.edges) - 1])
        self.tails.append(head)

    def solve(self, source: str, sink: str) -> list[tuple[str, str]]:
        while (path := self._cheapest_path(source, sink)) is not None:
            cost = sum(self.edges[i][2] for i in path)
            if cost >= 0:
                break  # another mentee would not improve the whole
            for i in path:
                self.edges[i][1] -= 1
                self.edges[self.edges[i][3]][1] += 1
        return [
            (self.tails[i], edge[0])
            for i, edge in enumerate(self.edges)
            if self.tails[i].startswith("e:")
            and edge[0].startswith("m:")
            and edge[1] == 0
            and i % 2 == 0
        ]

    def _cheapest_path(self, source: str, sink: str) -> list[int] | None:
        """Shortest path by cost with capacity left (SPFA: Bellman-Ford driven by a queue)."""
        distance = dict.fromkeys(self.graph, math.inf)
        via: dict[str, int] = {}
        distance[source] = 0.0
        queue, queued = deque([source]), {source}
        while queue:
            tail = queue.popleft()
            queued.discard(tail)
            for i in self.graph[tail]:
                head, capacity, cost, _ = self.edges[i]
                if capacity > 0 and distance[tail] + cost < distance[head] - 1e-9:
                    distance[head] = distance[tail] + cost
                    via[head] = i
                    if head not in queued:
                        queue.append(head)
                        queued.add(head)
        if distance.get(sink, math.inf) == math.inf:
            return None
        path, node = [], sink
        while node != source:
            path.append(via[node])
            node = self.tails[via[node]]
        return path[::-1]
