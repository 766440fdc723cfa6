"""Who to alert about a question now, and when the next wave goes out.

The ranking says who is most likely to answer well; routing decides who is asked *now*:

* only people at work (in their working hours, in their timezone: a question asked in Europe
  at night reaches people in the Americas or Asia who are working);
* nobody beyond their budget (questions per day and per week);
* fair rotation: the more someone was asked this week, the lower they come, so the same few
  are not asked every time; and how they responded to earlier routing (answered, ignored,
  declined) raises or lowers them;
* spread across regions: each pick from a work region halves the next one's pull from it.

While a question stays unanswered, waves follow: the next people in the ranking (sooner, when
the next region's working day starts and the last wave was short of people), and finally the
community's facilitators. An answer stops it all.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from services.matching.domain.profiles import Profile, at_work, local_time, next_at_work
from services.matching.domain.records import Outcome, Routed

REGION_SPREAD = 0.5
"""Each pick from a work region multiplies the next candidate from that region by this."""
RESPONSE_WINDOW = timedelta(days=180)


@dataclass(frozen=True)
class Budget:
    per_day: int = 3
    per_week: int = 10


@dataclass(frozen=True)
class Load:
    """How much a member was asked lately, and how they responded."""

    last_day: int = 0
    last_week: int = 0
    answered: int = 0
    ignored: int = 0
    declined: int = 0
    oldest_this_week: datetime | None = None
    oldest_today: datetime | None = None

    @property
    def response(self) -> float:
        """2(a+1)/(a+i+2d+2): 1 without history, up to 2 for someone who always answers,
        towards 0 for someone who ignores or declines."""
        return 2 * (self.answered + 1) / (self.answered + self.ignored + 2 * self.declined + 2)

    @property
    def rotation(self) -> float:
        return 1 / (1 + self.last_week)


class RouteLog:
    """One member's routing history, and how much they were asked lately, kept as routes are
    recorded (set again as their outcome becomes known) rather than counted from every route
    each time a question is routed: the times of their routes, and of each outcome, stay
    sorted, so the counts :class:`Load` needs for any ``now`` are a few bisections. A route
    leaves a window by time alone (nothing to expire); its outcome moves it between lists.
    The load found is kept until a route is recorded or the first route leaves a window, so
    a member who is a candidate for many questions in a row costs a comparison each."""

    def __init__(self, routes: Mapping[str, Routed] | None = None) -> None:
        self.routes: dict[str, Routed] = dict(routes or {})
        self._asked = sorted(r.at for r in self.routes.values())
        self._by_outcome: dict[Outcome, list[datetime]] = {}
        for routed in self.routes.values():
            self._by_outcome.setdefault(routed.outcome, []).append(routed.at)
        for times in self._by_outcome.values():
            times.sort()
        self._kept: tuple[datetime, datetime | None, Load] | None = None
        """The load found at a moment, and until when it holds (None: for ever)."""

    def record(self, question_id: str, routed: Routed) -> None:
        """``question_id`` was routed to the member (or its outcome changed): set, not added,
        so recording the same route again changes nothing."""
        held = self.routes.get(question_id)
        if held == routed:
            return
        if held is not None:
            self.forget(question_id)
        self.routes[question_id] = routed
        insort(self._asked, routed.at)
        insort(self._by_outcome.setdefault(routed.outcome, []), routed.at)
        self._kept = None

    def forget(self, question_id: str) -> None:
        """The route of ``question_id`` is gone (a write of it taken back)."""
        held = self.routes.pop(question_id, None)
        if held is not None:
            _remove(self._asked, held.at)
            _remove(self._by_outcome[held.outcome], held.at)
            self._kept = None

    def load(self, now: datetime) -> Load:
        """How much they were asked in the day and the week before ``now``, and how they
        responded to what was routed to them within :data:`RESPONSE_WINDOW`."""
        kept = self._kept
        if kept is not None and kept[0] <= now and (kept[1] is None or now < kept[1]):
            return kept[2]
        leaves: list[datetime] = []
        """When the oldest route in each window leaves it (a count then drops)."""
        last_day, oldest_today = _in_window(self._asked, now, DAY, leaves)
        last_week, oldest_this_week = _in_window(self._asked, now, WEEK, leaves)
        responded = {
            outcome: _in_window(self._by_outcome.get(outcome, []), now, RESPONSE_WINDOW, leaves)
            for outcome in (Outcome.ANSWERED, Outcome.IGNORED, Outcome.DECLINED)
        }
        load = Load(
            last_day=last_day,
            last_week=last_week,
            answered=responded[Outcome.ANSWERED][0],
            ignored=responded[Outcome.IGNORED][0],
            declined=responded[Outcome.DECLINED][0],
            oldest_today=oldest_today,
            oldest_this_week=oldest_this_week,
        )
        self._kept = (now, min(leaves, default=None), load)
        return load


DAY, WEEK = timedelta(days=1), timedelta(days=7)


def _in_window(
    times: list[datetime], now: datetime, window: timedelta, leaves: list[datetime]
) -> tuple[int, datetime | None]:
    """How many of ``times`` (sorted) are after ``now - window``, and the oldest of them (whose
    leaving the window is added to ``leaves``)."""
    first = bisect_right(times, now - window)
    if first == len(times):
        return 0, None
    leaves.append(times[first] + window)
    return len(times) - first, times[first]


def _remove(times: list[datetime], at: datetime) -> None:
    del times[bisect_left(times, at)]


@dataclass(frozen=True)
class TermCount:
    """Evidence behind a suggestion: answers (and acceptances) on a term, declared level."""

    term: str
    answers: int
    accepted: int
    declared: str | None


@dataclass(frozen=True)
class Candidate:
    profile: Profile
    score: float
    evidence: tuple[TermCount, ...] = ()
    recent_answers: float = 0.0


@dataclass(frozen=True)
class Pick:
    member_id: str
    home_region: str
    score: float
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Held:
    member_id: str
    home_region: str
    not_before: datetime
    why: str


def over_budget(load: Load, budget: Budget, now: datetime) -> tuple[datetime, str] | None:
    """None if the member may be asked now; otherwise when they may be again, and why not."""
    if load.last_week >= budget.per_week:
        since = load.oldest_this_week or now
        return since + timedelta(days=7), "asked enough this week"
    if load.last_day >= budget.per_day:
        since = load.oldest_today or now
        return since + timedelta(days=1), "asked enough today"
    return None


def choose(
    candidates: Sequence[Candidate],
    loads: Mapping[str, Load],
    *,
    now: datetime,
    how_many: int,
    budget: Budget,
) -> tuple[list[Candidate], list[Held]]:
    """Who to alert now among ``candidates`` (ranked, already eligible), and who is held."""
    available: list[tuple[float, Candidate]] = []
    held: list[Held] = []
    for candidate in candidates:
        profile, load = candidate.profile, loads.get(candidate.profile.member_id, Load())
        if (over := over_budget(load, budget, now)) is not None:
            held.append(_held(profile, *over))
        elif not at_work(profile, now):
            held.append(_held(profile, next_at_work(profile, now), "outside working hours"))
        else:
            available.append((candidate.score * load.response * load.rotation, candidate))
    return _spread(available, how_many), held


def _held(profile: Profile, when: datetime, why: str) -> Held:
    return Held(profile.member_id, profile.home_region, when, why)


def _spread(available: list[tuple[float, Candidate]], how_many: int) -> list[Candidate]:
    chosen: list[Candidate] = []
    per_region: Counter[str] = Counter()
    pool = list(available)
    while pool and len(chosen) < how_many:
        best = max(
            range(len(pool)),
            key=lambda i: (
                pool[i][0] * REGION_SPREAD ** per_region[pool[i][1].profile.region],
                pool[i][1].profile.member_id,
            ),
        )
        _, candidate = pool.pop(best)
        chosen.append(candidate)
        per_region[candidate.profile.region] += 1
    return chosen


def reasons(candidate: Candidate, load: Load, now: datetime) -> tuple[str, ...]:
    """Why someone is asked, in words they can read: told to them, so in the second person."""
    said: list[str] = []
    tags = [e for e in candidate.evidence if e.term.startswith("#") and e.answers > 0]
    for found in sorted(tags, key=lambda e: (-e.answers, e.term))[:2]:
        accepted = f", {found.accepted} accepted" if found.accepted > 0 else ""
        said.append(f"answered {_count(found.answers, 'question')} on {found.term[1:]}{accepted}")
    words = [e.term for e in candidate.evidence if not e.term.startswith("#") and e.answers > 0]
    if not tags and words:
        said.append("answered questions about " + ", ".join(words[:3]))
    said += _declared_skills(candidate.evidence)
    if candidate.recent_answers >= 1:
        said.append(
            f"answered about {_count(round(candidate.recent_answers), 'question')} this month"
        )
    routed = load.answered + load.ignored + load.declined
    if routed:
        said.append(
            f"answered {load.answered} of the last {_count(routed, 'question')} sent to you"
        )
    said.append(f"working hours now ({local_time(candidate.profile, now):%H:%M} your time)")
    return tuple(said)


def _declared_skills(evidence: Sequence[TermCount]) -> list[str]:
    """The skills they declared that the question is about, and where the question says so:
    in its tags, or (for a skill not tagged) in its title."""
    tagged = {e.term[1:]: e.declared for e in evidence if e.declared and e.term.startswith("#")}
    titled = {
        e.term: e.declared
        for e in evidence
        if e.declared and not e.term.startswith("#") and e.term not in tagged
    }
    said = []
    for skills, where in (
        (tagged, "the question is tagged with"),
        (titled, "the question's title names"),
    ):
        if skills:
            listed = ", ".join(f"{skill} ({level})" for skill, level in list(skills.items())[:3])
            said.append(f"knows {listed}, which {where}")
    return said


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


# ------------------------------------------------------------------ waves


@dataclass(frozen=True)
class Wave:
    number: int
    at: datetime
    member_ids: tuple[str, ...]
    facilitators: bool = False


@dataclass(frozen=True)
class RoutingState:
    """One question's routing in this region."""

    question_id: str
    community_id: str
    posted_at: datetime
    waves: tuple[Wave, ...] = ()
    declined: tuple[str, ...] = ()
    next_at: datetime | None = None
    """When to look again (None: nothing more to do)."""
    answered: bool = False
    closed: str | None = None
    """Why routing ended: 'answered', 'facilitators told', 'deleted'."""

    @property
    def alerted(self) -> set[str]:
        return {m for wave in self.waves for m in wave.member_ids}

    @property
    def expert_waves(self) -> int:
        return sum(1 for wave in self.waves if not wave.facilitators)

    def with_wave(self, wave: Wave, next_at: datetime | None) -> RoutingState:
        return replace(self, waves=(*self.waves, wave), next_at=next_at)

    def close(self, why: str) -> RoutingState:
        return replace(self, next_at=None, closed=why, answered=self.answered or why == "answered")


@dataclass(frozen=True)
class Escalation:
    after: timedelta = timedelta(hours=4)
    """A question still unanswered this long after the last wave gets the next one."""
    expert_waves: int = 3
    """Waves of experts before the community's facilitators are told."""
    soonest: timedelta = timedelta(minutes=30)
    """A short wave is topped up when the next region wakes up, but not sooner than this."""


def next_look(
    state: RoutingState, wave: Wave, held: Iterable[Held], want: int, policy: Escalation
) -> datetime | None:
    """When the question should be looked at again after ``wave``."""
    if wave.facilitators:
        return None
    escalate = wave.at + policy.after
    if len(wave.member_ids) >= want:
        return escalate
    waking = [h.not_before for h in held if h.why == "outside working hours"]
    sooner = min(waking, default=escalate)
    return max(min(sooner, escalate), wave.at + policy.soonest)


@dataclass(frozen=True)
class Plan:
    """What to do for a question now."""

    experts: bool = False
    facilitators: bool = False
    number: int = 0


def due(state: RoutingState, now: datetime, policy: Escalation) -> Plan:
    if state.closed or state.answered or state.next_at is None or now < state.next_at:
        return Plan()
    number = len(state.waves) + 1
    if state.expert_waves >= policy.expert_waves:
        return Plan(facilitators=True, number=number)
    return Plan(experts=True, number=number)
