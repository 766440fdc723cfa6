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

from services.notifications.domain.audience import Audience
from services.notifications.domain.preferences import Preferences, Watch
from shared.naming import Streams
from shared.tasks import pipelined
from tests.helpers import eventually, settled

N = int(os.environ.get("FANOUT_N", "5000"))


async def test_measure_one_question_to_a_watching_community(start_notifications):
    n = await start_notifications(chores_interval=30.0)  # as deployed (the tests' 0.2 s chore
    # looks at every member's digest five times a second: at 50,000, most of the time)
    js = n.nc.jetstream()
    members = [f"w{k:05d}" for k in range(N)]
    watching = replace(Preferences(), default_watch=Watch.EVERYTHING, quiet_hours=None,
                       daily_budget=100)  # fmt: skip
    await n.member("bob")
    await pipelined(n.store.preferences.put(member_id, watching) for member_id in members)
    # the members as membership's registrations and joins would leave them (written straight
    # to the audience bucket: the set-up of 50,000 through their events outlasts the hour)
    await pipelined(n.store.audience.put(member_id, Audience(member_id, "Europe/Berlin",
                                                             communities=("c1",)))
                    for member_id in members)  # fmt: skip

    async def all_in() -> bool:
        return len(n.store.people.by_community.get("c1", ())) == N

    await eventually(all_in, deadline=900, what=f"{N} members in c1")
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
