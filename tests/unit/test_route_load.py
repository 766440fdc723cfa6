"""Routing load kept as routes are recorded (``RouteLog``, ``MemberModel.load``) gives the same
answers as counting a member's whole routing history, which is what routing did before: the
old scan is kept here as the oracle, and both are asked about random histories."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from pydantic import TypeAdapter

from services.matching.domain.profiles import Profile
from services.matching.domain.records import Outcome, Routed, profile_key, routed_key
from services.matching.domain.routing import RESPONSE_WINDOW, Load, RouteLog
from services.matching.index.members import MemberModel

NOW = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)
ROUTED = TypeAdapter(Routed)
PROFILE = TypeAdapter(Profile)


def scanned_load(routes: Mapping[str, Routed], now: datetime) -> Load:
    """The oracle: routing's load as it was computed for every candidate of every question,
    from every route the member ever had."""
    day, week = now - timedelta(days=1), now - timedelta(days=7)
    outcomes: Counter[str] = Counter()
    today = [r.at for r in routes.values() if r.at > day]
    this_week = [r.at for r in routes.values() if r.at > week]
    for routed in routes.values():
        if routed.at > now - RESPONSE_WINDOW:
            outcomes[routed.outcome] += 1
    return Load(
        last_day=len(today),
        last_week=len(this_week),
        answered=outcomes[Outcome.ANSWERED],
        ignored=outcomes[Outcome.IGNORED],
        declined=outcomes[Outcome.DECLINED],
        oldest_today=min(today, default=None),
        oldest_this_week=min(this_week, default=None),
    )


def random_route(rng: random.Random) -> Routed:
    # whole hours, so that many routes share a time and windows end exactly on some
    at = NOW - timedelta(hours=rng.choice([0, 1, 24, 25, 24 * 7, 24 * 8, rng.randrange(5000)]))
    return Routed(at=at, outcome=rng.choice(list(Outcome)), wave=rng.randrange(1, 4))


def moments(rng: random.Random) -> list[datetime]:
    exact = [NOW, NOW + timedelta(days=1), NOW + timedelta(days=7), NOW + RESPONSE_WINDOW]
    return exact + [NOW + timedelta(hours=rng.randrange(-48, 24 * 200)) for _ in range(5)]


def test_kept_load_equals_the_scan_of_the_whole_history_on_random_histories():
    rng = random.Random(12)
    for _ in range(300):
        log, routes = RouteLog(), {}
        for _ in range(rng.randrange(60)):
            # new routes, outcomes set again on routes already recorded, routes taken back
            question_id = f"q{rng.randrange(25)}"
            if question_id in routes and rng.random() < 0.1:
                log.forget(question_id)  # a route taken back
                del routes[question_id]
            else:
                routed = random_route(rng)
                log.record(question_id, routed)
                routes[question_id] = routed
            for now in moments(rng):
                assert log.load(now) == scanned_load(routes, now)
        assert RouteLog(routes).load(NOW) == scanned_load(routes, NOW)  # as restored


def test_recording_the_same_route_again_counts_it_once():
    log = RouteLog()
    routed = Routed(at=NOW - timedelta(hours=2))
    for _ in range(3):
        log.record("q1", routed)
    assert log.load(NOW).last_day == 1
    log.record("q1", Routed(at=routed.at, outcome=Outcome.ANSWERED))
    assert (log.load(NOW).last_day, log.load(NOW).answered) == (1, 1)


def test_a_route_taken_back_from_the_model_no_longer_counts():
    model = MemberModel()
    model.apply(profile_key("ben"), PROFILE.dump_json(profile("ben")))
    for question_id in ("q1", "q2"):
        routed = Routed(at=NOW - timedelta(hours=1))
        model.apply(routed_key("ben", question_id), ROUTED.dump_json(routed))
    model.apply(routed_key("ben", "q2"), None)  # its create failed: taken back
    assert model.load("ben", NOW).last_day == 1
    assert set(model.routes_of("ben")) == {"q1"}
    assert model.routed_about("q2") == {}


def test_the_member_model_keeps_the_load_through_changes_erasure_and_a_snapshot():
    rng = random.Random(5)
    model, truth = MemberModel(), {f"m{i}": {} for i in range(6)}
    for member_id in truth:
        model.apply(profile_key(member_id), PROFILE.dump_json(profile(member_id)))
    for _ in range(400):
        member_id, question_id = rng.choice(list(truth)), f"q{rng.randrange(40)}"
        routed = random_route(rng)
        model.apply(routed_key(member_id, question_id), ROUTED.dump_json(routed))
        truth[member_id][question_id] = routed
    model.apply("m0.x", b'{"erased": true}')
    del truth["m0"]
    restored = MemberModel()
    restored.restore(model.snapshot())
    for now in moments(rng):
        for held in (model, restored):
            assert {m: held.load(m, now) for m in truth} == {
                m: scanned_load(routes, now) for m, routes in truth.items()
            }
    for question_id in (f"q{i}" for i in range(40)):
        expected = {m: r[question_id] for m, r in truth.items() if question_id in r}
        assert model.routed_about(question_id) == expected
        assert restored.routed_about(question_id) == expected


def profile(member_id: str) -> Profile:
    return Profile(
        member_id=member_id,
        home_region="eu",
        region="eu",
        timezone="Europe/Berlin",
        skills=(),
        languages=("en",),
        revision=1,
    )
