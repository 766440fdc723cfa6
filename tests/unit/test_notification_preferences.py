"""What a member's preferences decide for one notification: now, later, digest or not at
all; in the member's own time, across daylight-saving changes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time

from services.notifications.domain.preferences import (
    Cadence,
    Preferences,
    Priority,
    Watch,
    Window,
    decide,
    next_digest,
)

BERLIN = Preferences(timezone="Europe/Berlin")


def verdict(prefs=BERLIN, *, at, priority=Priority.NORMAL, community="c1", for_me=True,
            reasons=frozenset({"mention"}), sent=0):  # fmt: skip
    return decide(prefs, now=at, priority=priority, community_id=community, for_me=for_me,
                  reasons=reasons, interruptions_today=sent)  # fmt: skip


def test_inside_quiet_hours_an_alert_waits_for_the_morning_in_the_members_time():
    late = datetime(2026, 11, 25, 22, 30, tzinfo=UTC)  # 23:30 in Berlin
    held = verdict(at=late)
    assert (held.action, held.why) == ("defer", "quiet hours")
    assert held.until == datetime(2026, 11, 26, 7, 0, tzinfo=UTC)  # 08:00 in Berlin
    assert verdict(at=datetime(2026, 11, 26, 7, 0, tzinfo=UTC)).action == "now"
    assert verdict(at=late, priority=Priority.CRITICAL).action == "now"


def test_working_hours_only_waits_for_the_next_working_day():
    prefs = replace(BERLIN, working_hours_only=True, quiet_hours=None)
    friday_evening = datetime(2026, 11, 27, 17, 30, tzinfo=UTC)  # 18:30 Friday in Berlin
    held = verdict(prefs, at=friday_evening)
    assert (held.action, held.why) == ("defer", "outside your working hours")
    assert held.until == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # Monday 09:00


def test_a_daily_digest_stays_at_eight_local_across_the_autumn_change():
    prefs = replace(BERLIN, digest_at=time(8))
    saturday = datetime(2026, 10, 24, 6, 30, tzinfo=UTC)  # 08:30 CEST, after that day's
    sunday_due = next_digest(prefs, saturday)
    monday_due = next_digest(prefs, sunday_due)
    assert sunday_due == datetime(2026, 10, 25, 7, 0, tzinfo=UTC)  # 08:00 CET (UTC+1)
    assert monday_due == datetime(2026, 10, 26, 7, 0, tzinfo=UTC)
    friday = datetime(2026, 10, 23, 5, 0, tzinfo=UTC)
    assert next_digest(prefs, friday) == datetime(2026, 10, 23, 6, 0, tzinfo=UTC)  # CEST


def test_a_weekly_digest_is_due_on_its_weekday():
    prefs = replace(BERLIN, digest=Cadence.WEEKLY, digest_weekday=1, digest_at=time(9))
    wednesday = datetime(2026, 11, 25, 12, tzinfo=UTC)
    assert next_digest(prefs, wednesday) == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def test_beyond_the_daily_budget_items_go_to_the_digest_except_high_priority():
    noon = datetime(2026, 11, 25, 11, tzinfo=UTC)
    over = verdict(at=noon, sent=5)
    assert (over.action, over.why) == ("overflow", "over today's budget of 5")
    assert over.until == datetime(2026, 11, 26, 8, 0, tzinfo=UTC)  # tomorrow 09:00 Berlin
    assert verdict(at=noon, sent=4).action == "now"
    assert verdict(at=noon, sent=9, priority=Priority.HIGH).action == "now"


def test_watch_levels_and_reasons_turned_off():
    noon = datetime(2026, 11, 25, 11, tzinfo=UTC)
    muted = replace(BERLIN, watch=(("c1", Watch.MUTED),))
    assert verdict(muted, at=noon).action == "suppress"
    assert verdict(muted, at=noon, community="c2").action == "now"
    assert verdict(at=noon, for_me=False).action == "digest"  # the default: for me
    everything = replace(BERLIN, default_watch=Watch.EVERYTHING)
    assert verdict(everything, at=noon, for_me=False).action == "now"
    no_digest = replace(BERLIN, digest=Cadence.OFF)
    assert verdict(no_digest, at=noon, for_me=False).action == "suppress"
    off = replace(BERLIN, reasons_off=frozenset({"tag:go", "community:c1"}))
    some = verdict(off, at=noon, reasons=frozenset({"tag:go", "mention"}))
    assert some.action == "now"
    every = verdict(off, at=noon, reasons=frozenset({"tag:go", "community:c1"}))
    assert (every.action, every.why) == ("suppress", "you turned off every reason for it")


def test_a_window_across_midnight():
    quiet = Window(time(22), time(6))
    assert quiet.contains(time(23))
    assert quiet.contains(time(5, 59))
    assert not quiet.contains(time(6))
    assert not quiet.contains(time(12))
