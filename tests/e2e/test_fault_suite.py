"""The fault suite's short form (tests/faults.py): services killed, stopped and restarted,
nats-server killed and restarted, under a steady load; nothing lost, nothing duplicated."""

from __future__ import annotations

import pytest

from tests.faults import SHORT, fast_retries, run

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


async def test_under_kills_and_a_server_restart_nothing_is_lost_or_duplicated(
    tmp_path, monkeypatch
):
    for name, value in fast_retries().items():
        monkeypatch.setenv(name, value)
    report = await run(SHORT, tmp_path)
    print(report.line())
    assert report.kills >= 2, report.line()  # the faults happened
    assert report.server_restarts == 1, report.line()
    assert report.stops == 1, report.line()
    assert (dict(report.lost), dict(report.duplicated)) == ({}, {}), report.line()
