"""A measurement, not part of the suite (its name is not test_*): one question to N members
homed here who watch its community (every one of them gets it in their inbox at once),
through the real service on a real nats-server; prints how long until every inbox has it.

    FANOUT_N=5000 .venv/bin/python -m pytest tests/integration/notifications/measure_fanout.py -q -s

Indicative only (a shared machine); docs/performance.md has the benchmarks."""

from __future__ import annotations

import cProfile
import os
import time
from dataclasses import replace

from services.notifications.domain.preferences import Preferences, Watch
from shared.naming import Streams
from shared.tasks import pipelined
from tests.helpers import eventually, settled

N = int(os.environ.get("FANOUT_N", "5000"))


async def test_measure_one_question_to_a_watching_community(notifications):
    n = notifications
    js = n.nc.jetstream()
    members = [f"w{k:05d}" for k in range(N)]
    watching = replace(Preferences(), default_watch=Watch.EVERYTHING, quiet_hours=None,
                       daily_budget=100)  # fmt: skip
    await pipelined(n.store.preferences.put(member_id, watching) for member_id in members)
    await n.community(members)
    await n.member("bob")
    await settled(n.nc, n.region, deadline=900)
    inbox = Streams(n.region).inbox
    before = (await js.stream_info(inbox)).state.messages
    profile = cProfile.Profile() if os.environ.get("FANOUT_PROFILE") else None
    if profile is not None:  # FANOUT_PROFILE=<file>: a profile of the fan-out alone
        profile.enable()
    started = time.monotonic()
    await n.question("bob", "Which CNI do you run?")

    async def every_inbox() -> bool:
        return (await js.stream_info(inbox)).state.messages >= before + N

    await eventually(every_inbox, deadline=600, what="every inbox")
    took = time.monotonic() - started
    if profile is not None:
        profile.disable()
        profile.dump_stats(os.environ["FANOUT_PROFILE"])
    print(f"\none question to {N} watching members: every inbox after {took:.2f} s "
          f"({N / took:.0f} members/s)")  # fmt: skip
