"""The README's sample of ``guild up --demo`` is what the demo prints.

The sample is rendered by tools/demo_sample.py from a real run: nats-server, the four
services and the demo's mail sink and webhook receiver, the demo company, its first newcomer
and question, printed by the demo's own code at the README's width. The services run on a
clock that starts at the sample's moment (who is at work decides who is asked), and the
delivery lines, printed in arrival order, are left out; so the same run prints the same
text at any hour and on any machine.
"""

from __future__ import annotations

import difflib
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from tests import access
from tools import demo_sample


def _authority():
    """The suite's authority where its server authorizes (decided when the session starts)."""
    return access.AUTHORITY if access.enabled else None


pytestmark = pytest.mark.e2e


async def test_the_readme_sample_is_what_the_demo_prints(nats_url, region, tmp_path):
    printed = await demo_sample.render(nats_url, region, tmp_path / "deliveries", _authority())
    shown = demo_sample.readme_block(demo_sample.README.read_text())
    diff = "\n".join(difflib.unified_diff(shown.splitlines(), printed.splitlines(), lineterm=""))
    assert shown == printed, f"run `.venv/bin/python -m tools.demo_sample`:\n{diff}"


async def test_the_demo_prints_the_same_twice_in_a_row(nats_url, region, tmp_path):
    """Nothing that changes between runs (ids, arrival order) reaches the sample."""
    first = await demo_sample.render(nats_url, region, tmp_path / "first", _authority())
    second = await demo_sample.render(nats_url, f"{region}b", tmp_path / "second", _authority())
    assert first == second


async def test_the_delivery_lines_the_readme_quotes_are_printed_by_the_demo(
    nats_url, region, tmp_path
):
    readme = demo_sample.README.read_text()
    quoted = re.findall(r"`((?:✉ mail to|⇢ webhook for) [^`]+)`", readme)
    assert len(quoted) >= 2, "the README quotes a mail line and a webhook line"
    _, shown = await demo_sample.run(nats_url, region, tmp_path / "deliveries", _authority())
    missing = [q for q in quoted if not any(line.startswith(f"{q} (") for line in shown)]
    assert missing == [], shown


def time_independent(sample: str) -> list[str]:
    """The sample's lines that do not depend on who is at work: the demo's narration, and the
    panels' titles and subtitles (the newcomer and what they joined, the question and its
    asker and tags)."""
    return [line for line in sample.splitlines() if line.startswith(("A new ", "╭", "╰"))]


@pytest.mark.slow
def test_a_real_guild_up_demo_prints_the_samples_panels(tmp_path):
    """``guild up --demo`` as a user runs it, in a terminal as wide as the README's sample, at
    whatever hour the test runs: the same newcomer, question and panels as the sample."""
    env = {**os.environ, "COLUMNS": str(demo_sample.WIDTH), "NO_COLOR": "1"}
    env.pop("NATS_URL", None)
    output = tmp_path / "guild-up.out"
    command = [sys.executable, "-m", "guild_cli", "up", "--demo", "--data-dir",
               str(tmp_path / "guild-data"), "--nats-port", "0", "--no-http"]  # fmt: skip
    with output.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 180
        while "Guild is running" not in output.read_text(errors="replace"):
            assert process.poll() is None, output.read_text(errors="replace")
            assert time.monotonic() < deadline, output.read_text(errors="replace")
            time.sleep(0.2)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
    printed = output.read_text(errors="replace").splitlines()
    expected = time_independent(demo_sample.readme_block(demo_sample.README.read_text()))
    assert len(expected) == 6
    missing = [line for line in expected if line not in (p.rstrip() for p in printed)]
    assert missing == [], "\n".join(printed)
