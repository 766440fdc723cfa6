"""People to meet: pairing rounds across regions, and meeting times both can make.

Every cadence period (a round) each community's members are paired: people from different
regions first, never a pair that met in the last few rounds, nobody snoozed or opted out.
Each pair gets up to three 30-minute slots inside both people's working hours in the coming
week, each shown in each person's own timezone.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from services.matching.domain.profiles import Profile, working_periods

SLOT = timedelta(minutes=30)
SLOTS = 3
HORIZON_DAYS = 7


@dataclass(frozen=True)
class Slot:
    start: datetime
    end: datetime
    local: tuple[tuple[str, str], ...]
    """(member id, the slot in their timezone)."""


@dataclass(frozen=True)
class Pair:
    first: Profile
    second: Profile
    reasons: tuple[str, ...]
    slots: tuple[Slot, ...]

    @property
    def key(self) -> str:
        return pair_key(self.first.member_id, self.second.member_id)


def pair_key(a: str, b: str) -> str:
    low, high = sorted((a, b))
    return f"{low}--{high}"


def round_of(moment: datetime, cadence: timedelta) -> int:
    """The round a moment belongs to: rounds are numbered from 2000-01-03 (a Monday)."""
    origin = datetime(2000, 1, 3, tzinfo=moment.tzinfo)
    return int((moment - origin) / cadence)


def shared_slots(a: Profile, b: Profile, start: datetime) -> tuple[Slot, ...]:
    """Up to three 30-minute slots inside both working hours, spread over different days."""
    found: list[Slot] = []
    used_days: set[date] = set()
    for begin_a, end_a in working_periods(a, start, HORIZON_DAYS + 1):
        for begin_b, end_b in working_periods(b, start, HORIZON_DAYS + 1):
            begin, end = max(begin_a, begin_b, start), min(end_a, end_b)
            begin = _next_half_hour(begin)
            if begin + SLOT <= end and begin.date() not in used_days:
                found.append(_slot(a, b, begin))
                used_days.add(begin.date())
    return tuple(sorted(found, key=lambda s: s.start)[:SLOTS])


def _next_half_hour(moment: datetime) -> datetime:
    """``moment`` rounded up to the next full or half hour."""
    rounded = moment.replace(minute=0, second=0, microsecond=0)
    while rounded < moment:
        rounded += timedelta(minutes=30)
    return rounded


def _slot(a: Profile, b: Profile, begin: datetime) -> Slot:
    end = begin + SLOT
    return Slot(begin, end, tuple((p.member_id, shown(begin, end, p.timezone)) for p in (a, b)))


def shown(begin: datetime, end: datetime, timezone: str) -> str:
    zone = ZoneInfo(timezone)
    local_begin, local_end = begin.astimezone(zone), end.astimezone(zone)
    return (
        f"{local_begin:%a} {local_begin.day} {local_begin:%b %H:%M}-{local_end:%H:%M} ({timezone})"
    )


def pair_reasons(a: Profile, b: Profile, community_name: str) -> tuple[str, ...]:
    said = [f"both in {community_name}"]
    if a.region != b.region:
        said.append(f"{a.region} and {b.region}: you have not met through Guild")
    shared = sorted(set(dict(a.skills)) & set(dict(b.skills)))
    if shared:
        said.append("both work with " + ", ".join(shared[:3]))
    common = sorted(set(a.languages) & set(b.languages))
    if common:
        said.append("you share " + ", ".join(common))
    return tuple(said)


def can_meet(profile: Profile, today: date) -> bool:
    return profile.open_to_intros and profile.available_on(today)


def pair_round(
    members: Sequence[Profile],
    *,
    recent_pairs: Iterable[str],
    community_name: str,
    start: datetime,
    seed: str,
) -> list[Pair]:
    """Pairs for one round of one community. Deterministic for a seed (the community and the
    round), so a retried round proposes the same pairs."""
    today = start.date()
    pool = sorted((m for m in members if can_meet(m, today)), key=lambda m: m.member_id)
    random.Random(seed).shuffle(pool)
    met = set(recent_pairs)
    pairs: list[Pair] = []
    while len(pool) >= 2:
        first = pool.pop(0)
        best = _best_partner(first, pool, met, start)
        if best is None:
            continue
        partner, slots = best
        pool.remove(partner)
        pairs.append(Pair(first, partner, pair_reasons(first, partner, community_name), slots))
    return pairs


def _best_partner(
    person: Profile, pool: Sequence[Profile], met: set[str], start: datetime
) -> tuple[Profile, tuple[Slot, ...]] | None:
    """Another region first, then shared skills; they must not have met lately and must
    have working hours in common."""
    ranked = sorted(
        (p for p in pool if pair_key(person.member_id, p.member_id) not in met),
        key=lambda p: (
            p.region == person.region,
            -len(set(dict(p.skills)) & set(dict(person.skills))),
        ),
    )
    for partner in ranked:
        slots = shared_slots(person, partner, start)
        if slots:
            return partner, slots
    return None
