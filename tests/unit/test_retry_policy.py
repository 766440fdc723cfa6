"""Retries back off exponentially, with jitter, up to a ceiling."""

from __future__ import annotations

from shared.messaging.provisioning import RetryPolicy


def test_delays_grow_exponentially_within_twenty_percent_jitter():
    policy = RetryPolicy(max_deliver=10, first_delay=1.0, max_delay=300.0)
    for attempt, base in [(1, 1.0), (2, 2.0), (3, 4.0), (6, 32.0)]:
        delay = policy.delay_after(attempt)
        assert 0.8 * base <= delay <= 1.2 * base


def test_delays_never_exceed_the_ceiling_plus_jitter():
    policy = RetryPolicy(max_deliver=50, first_delay=1.0, max_delay=10.0)
    assert max(policy.delay_after(n) for n in range(1, 50)) <= 12.0
