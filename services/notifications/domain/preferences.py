"""A member's notification preferences, and what they decide for one notification: send it
now, hold it until a window opens, keep it for the digest, or not send it (and why).

Every time is the member's own (their IANA timezone); moments are computed with ``zoneinfo``
from the local wall-clock time each time, so a daily digest at 08:00 stays at 08:00 across
daylight-saving changes. A local time that does not exist on a spring-forward day (02:30 in
Berlin on the last Sunday of March) is read as the same moment with the earlier offset,
which is 03:30 after the change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import IntEnum, StrEnum
from zoneinfo import ZoneInfo


class Watch(StrEnum):
    """How closely a member follows one community."""

    EVERYTHING = "everything"
    """Every new post interrupts them (within their windows and budget)."""
    FOR_ME = "for_me"
    """Only what is for them interrupts (mentions, their posts, matching's picks); the rest
    of the community goes to the digest."""
    DIGEST = "digest"
    """Nothing from the community interrupts; all of it goes to the digest."""
    MUTED = "muted"
    """Nothing from the community at all (critical items still arrive)."""


class Cadence(StrEnum):
    OFF = "off"
    DAILY = "daily"
    WEEKLY = "weekly"


class Priority(IntEnum):
    LOW = 0
    """Recommendations: the first to go to the digest."""
    NORMAL = 1
    HIGH = 2
    """Addressed to the member and waiting on them (a question routed to them)."""
    CRITICAL = 3
    """Must arrive at once whatever the preferences (an erasure confirmation)."""


@dataclass(frozen=True)
class Window:
    """A daily window in local time; it may wrap midnight (20:00-08:00)."""

    start: time
    end: time

    def contains(self, moment: time) -> bool:
        if self.start <= self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end


@dataclass(frozen=True)
class Preferences:
    """What a member chose; a new member gets these defaults, meant to make the first week
    useful and quiet: what is for them arrives (not between 20:00 and 08:00, at most five
    interruptions a day), everything else in a daily digest at 09:00."""

    timezone: str = ""
    """IANA timezone; empty: the one in the member's profile."""
    default_watch: Watch = Watch.FOR_ME
    watch: tuple[tuple[str, Watch], ...] = ()
    """(community id, watch level) for communities not at the default."""
    quiet_hours: Window | None = Window(time(20), time(8))
    working_hours_only: bool = False
    working_hours: Window = Window(time(9), time(17))
    working_days: tuple[int, ...] = (1, 2, 3, 4, 5)
    digest: Cadence = Cadence.DAILY
    digest_at: time = time(9)
    digest_weekday: int = 1
    """For a weekly digest: ISO weekday (1 = Monday)."""
    daily_budget: int = 5
    """Interruptions a day; beyond it, all but high-priority items go to the digest."""
    reasons_off: frozenset[str] = field(default_factory=frozenset)
    """Reason keys the member turned off (e.g. 'tag:kubernetes', 'community:c1')."""
    channels_off: frozenset[str] = field(default_factory=frozenset)
    """'<kind>/<endpoint id>': kinds of notification a member does not want on one of their
    endpoints (unsubscribing from one kind of mail adds one); '*/<endpoint id>' for all."""

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone or "UTC")

    def wants(self, kind: str, endpoint_id: str) -> bool:
        """Whether notifications of ``kind`` go to that endpoint."""
        return not {f"{kind}/{endpoint_id}", f"*/{endpoint_id}"} & self.channels_off

    def watching(self, community_id: str | None) -> Watch:
        if community_id is None:
            return Watch.FOR_ME
        return dict(self.watch).get(community_id, self.default_watch)


class Action(StrEnum):
    """What is done with one notification for one member (kept in the ledger as its value)."""

    NOW = "now"
    """The inbox and the member's endpoints."""
    DEFER = "defer"
    """The inbox now, the endpoints at ``until``."""
    OVERFLOW = "overflow"
    """The inbox now, the endpoints not at all (the item is in the digest due at ``until``,
    if the member has one)."""
    DIGEST = "digest"
    """Only in the digest due at ``until``."""
    SUPPRESS = "suppress"
    """Nothing."""

    @property
    def to_inbox(self) -> bool:
        return self in (Action.NOW, Action.DEFER, Action.OVERFLOW)

    @property
    def interrupts(self) -> bool:
        """Counted against the day's budget: it reaches the member's endpoints."""
        return self in (Action.NOW, Action.DEFER)


@dataclass(frozen=True)
class Verdict:
    action: Action
    why: str = ""
    until: datetime | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.action, Action):
            raise TypeError(f"a verdict's action is an Action, not {self.action!r}")


NOW = Verdict(Action.NOW)


def decide(
    prefs: Preferences,
    *,
    now: datetime,
    priority: Priority,
    community_id: str | None,
    for_me: bool,
    reasons: frozenset[str],
    interruptions_today: int,
) -> Verdict:
    """What to do with one notification for the member, by these rules in order: critical
    items go now; items whose every reason was turned off, or from a muted community, are
    not sent; what the watch level keeps out of interruptions goes to the digest; beyond the
    daily budget, all but high-priority items go to the inbox and the digest instead of the
    member's endpoints; inside quiet hours (or
    outside working hours, if the member asked for that) an item waits for the window."""
    if priority is Priority.CRITICAL:
        return NOW
    if reasons and reasons <= prefs.reasons_off:
        return Verdict(Action.SUPPRESS, "you turned off every reason for it")
    watch = prefs.watching(community_id)
    if watch is Watch.MUTED:
        return Verdict(Action.SUPPRESS, "you muted this community")
    if watch is Watch.DIGEST or (watch is Watch.FOR_ME and not for_me):
        return _to_digest(prefs, now, "you follow this community in your digest")
    if interruptions_today >= prefs.daily_budget and priority < Priority.HIGH:
        why = f"over today's budget of {prefs.daily_budget}"
        if prefs.digest is Cadence.OFF:
            return Verdict(Action.OVERFLOW, f"{why}, and your digest is off: in your inbox only")
        return Verdict(Action.OVERFLOW, why, next_digest(prefs, now))
    opens = window_opens(prefs, now)
    if opens is not None:
        why = "quiet hours" if _in_quiet_hours(prefs, now) else "outside your working hours"
        return Verdict(Action.DEFER, why, opens)
    return NOW


def _to_digest(prefs: Preferences, now: datetime, why: str) -> Verdict:
    if prefs.digest is Cadence.OFF:
        return Verdict(Action.SUPPRESS, f"{why}, and your digest is off")
    return Verdict(Action.DIGEST, why, next_digest(prefs, now))


def _local(prefs: Preferences, now: datetime) -> datetime:
    return now.astimezone(prefs.zone)


def _at(prefs: Preferences, day: date, moment: time) -> datetime:
    """``moment`` on local ``day``, in UTC."""
    return datetime.combine(day, moment, tzinfo=prefs.zone).astimezone(UTC)


def _in_quiet_hours(prefs: Preferences, now: datetime) -> bool:
    quiet = prefs.quiet_hours
    return quiet is not None and quiet.contains(_local(prefs, now).time())


def _at_work(prefs: Preferences, now: datetime) -> bool:
    local = _local(prefs, now)
    return local.isoweekday() in prefs.working_days and prefs.working_hours.contains(local.time())


def window_opens(prefs: Preferences, now: datetime) -> datetime | None:
    """None if the member may be interrupted now; else when they next may be (UTC). A
    closed window opens only when quiet hours end or a working day starts."""
    if _open(prefs, now):
        return None
    local = _local(prefs, now)
    edges = [prefs.working_hours.start] if prefs.working_hours_only else []
    if prefs.quiet_hours is not None:
        edges.append(prefs.quiet_hours.end)
    candidates = sorted(
        _at(prefs, local.date() + timedelta(days=offset), edge)
        for offset in range(8)
        for edge in edges
    )
    for candidate in candidates:
        if candidate > now and _open(prefs, candidate):
            return candidate
    return now + timedelta(days=1)  # no open window in a week: never hold longer than a day


def _open(prefs: Preferences, moment: datetime) -> bool:
    return not _in_quiet_hours(prefs, moment) and (
        not prefs.working_hours_only or _at_work(prefs, moment)
    )


def next_digest(prefs: Preferences, now: datetime) -> datetime:
    """When the member's next digest is due (UTC), strictly after ``now``."""
    local = _local(prefs, now)
    for offset in range(8):
        day = local.date() + timedelta(days=offset)
        if prefs.digest is Cadence.WEEKLY and day.isoweekday() != prefs.digest_weekday:
            continue
        due = _at(prefs, day, prefs.digest_at)
        if due > now:
            return due
    raise AssertionError("a digest is due within eight days")


def last_digest(prefs: Preferences, now: datetime) -> datetime | None:
    """When the member's latest digest was due (UTC), at or before ``now``; None if they
    have none."""
    if prefs.digest is Cadence.OFF:
        return None
    return _digest_before(prefs, now + timedelta(microseconds=1))


def _digest_before(prefs: Preferences, moment: datetime) -> datetime:
    """The latest digest moment strictly before ``moment``."""
    local = _local(prefs, moment)
    for offset in range(9):
        day = local.date() - timedelta(days=offset)
        if prefs.digest is Cadence.WEEKLY and day.isoweekday() != prefs.digest_weekday:
            continue
        due = _at(prefs, day, prefs.digest_at)
        if due < moment:
            return due
    raise AssertionError("a digest was due within nine days")


def digest_covers(prefs: Preferences, due: datetime) -> datetime:
    """Since when the digest due at ``due`` lists what waited for it (the digest before)."""
    return _digest_before(prefs, due)
