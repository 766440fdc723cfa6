"""A service's log is JSON lines only, FastStream's and uvicorn's records included, and a NATS
outage leaves warnings in it, no errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from guild_cli.nats_server import EmbeddedNats
from tests import access
from tests.e2e.test_health import codes_are
from tests.e2e.test_standalone_services import free_port
from tests.helpers import eventually

pytestmark = pytest.mark.e2e


async def test_a_service_log_is_json_lines_without_errors_across_nats_restarts(tmp_path):
    server = EmbeddedNats(tmp_path / "nats", port=free_port(), authority=access.AUTHORITY).start()
    port, log_path = free_port(), tmp_path / "content.log"
    env = {
        **os.environ,
        "NATS_URL": server.url,
        "GUILD_REGION": "logs",
        "GUILD_CONTENT_HTTP_PORT": str(port),
        "GUILD_LOG_FORMAT": "json",
        **(await access.service_environments(server.url, "logs", own_server=True)).get(
            "content", {}
        ),
    }
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "services.content"], env=env, stdout=log, stderr=log
        )
    try:
        await eventually(codes_are(port, {"/readyz": 200}), deadline=30)
        for _ in range(2):
            server.stop()
            await eventually(codes_are(port, {"/readyz": 503}), deadline=30)
            server.start()
            await eventually(codes_are(port, {"/readyz": 200}), deadline=30)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
        server.stop()
    text = log_path.read_text()
    assert "\x1b[" not in text
    records = [json.loads(line) for line in text.splitlines()]  # each line is one JSON object
    assert {"reconnected to NATS", "stopped"} <= {r["message"] for r in records}
    assert [r for r in records if r["level"] in ("ERROR", "CRITICAL")] == []
