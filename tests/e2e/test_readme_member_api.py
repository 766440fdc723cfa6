"""A newcomer reaches the member self-service API with a demo token, following the README
only: after `./guild up --demo`, its curl command (with the port `guild up` printed) answers
200 with the member's inbox."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.test_guild_up import GuildUp

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


def readme_api_command() -> str:
    """The one command of the README's sh blocks that calls the API with `guild token`."""
    blocks = re.findall(r"```sh\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    (command,) = [line for block in blocks for line in block.splitlines()
                  if "guild token" in line and line.startswith("curl")]  # fmt: skip
    return command


def notifications_port(output: str) -> str:
    """Where `guild up` says notifications listens, as the README tells the reader to look."""
    found = re.search(r"notifications\s.*?health http://127\.0\.0\.1:(\d+)/readyz", output)
    assert found, output
    return found.group(1)


async def test_the_readmes_member_api_command_answers_200_after_guild_up_demo(tmp_path):
    written = readme_api_command()
    assert written.startswith('curl -H "Authorization: Bearer $(./guild token e1001)" ')
    data_dir = tmp_path / "guild-data"
    up = GuildUp(data_dir, "--demo")
    try:
        await up.running()
        command = written.replace("<port>", notifications_port(up.text()))
        # ./guild is the bootstrap that ends in exec'ing the environment's `guild`; calling
        # that directly keeps a stale install stamp from reinstalling during the test
        guild = str(Path(sys.executable).parent / "guild")
        env = {"GUILD_DATA_DIR": str(data_dir), "PATH": "/usr/bin:/bin"}

        def shell(line: str) -> str:
            done = subprocess.run(["sh", "-c", line.replace("./guild ", f"{guild} ")], cwd=ROOT,
                                  env=env, capture_output=True, text=True, timeout=60)  # fmt: skip
            assert done.returncode == 0, done.stderr
            return done.stdout

        page = json.loads(shell(command))
        status = shell(command + " -o /dev/null -s -w '%{http_code}'")
        over_nats = json.loads(shell("./guild inbox e1001 --json"))
    finally:
        assert up.interrupt() == 0, up.text()
    assert status == "200"
    assert page["member_id"] == over_nats["member_id"]  # e1001's member id, drawn by membership
    assert page["member_id"] != "e1001"
    assert page["items"], page  # the facilitator was alerted in the demo
    assert (data_dir / "identity" / "signing-key.pem").stat().st_mode & 0o777 == 0o600
