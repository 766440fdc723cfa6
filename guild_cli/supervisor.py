"""Running the four services as child processes, each on its own, as in production.

Each service is ``python -m services.<name>`` with its settings in the environment and its
log in ``<data dir>/logs/<name>.log``. Children run in their own session, so Ctrl-C or a
closed terminal reaches only ``guild``, which then stops the services first (SIGTERM, then
SIGKILL after a grace period) and NATS last; if ``guild`` itself is killed, the kernel stops
them (see :mod:`guild_cli.processes`). A service that exits on its own is restarted with a
growing pause; so is one whose ``/healthz`` says its event loop is stuck, or stops answering.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from guild_cli.client import GuildClient
from guild_cli.identity import DemoIdentity
from guild_cli.processes import die_with_parent
from shared.credentials import CREDENTIALS_VARIABLE
from shared.naming import Service
from shared.sealing import KEYS_FILE_VARIABLE, KEYS_VARIABLE

SERVICES = (Service.MEMBERSHIP, Service.CONTENT, Service.MATCHING, Service.NOTIFICATIONS)
STOP_GRACE = 20.0
"""Seconds a service has to finish the messages in hand after SIGTERM, before SIGKILL."""
STUCK_GRACE = 5.0
"""The same for a service whose loop is stuck (it cannot act on SIGTERM until it turns)."""
MISSED_PROBES = 3
"""Unanswered /healthz probes in a row (after a first answer) that make a service stuck."""


@dataclass
class ServiceProcess:
    service: Service
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    http_port: int | None = None
    restarts: int = 0
    next_start: float = 0.0
    answered: bool = False
    missed: int = 0

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.answered, self.missed = False, 0
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", f"services.{self.service.value}"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=die_with_parent(),
            )

    @property
    def pid(self) -> int | None:
        return None if self.process is None else self.process.pid

    async def stuck(self, client: httpx.AsyncClient) -> bool:
        """Whether the service says its loop is stuck (503 on /healthz), or has stopped
        answering its probes after it once did."""
        if self.http_port is None or self.exit_code() is not None:
            return False
        try:
            response = await client.get(f"http://127.0.0.1:{self.http_port}/healthz", timeout=2)
        except httpx.HTTPError:
            self.missed += 1
            return self.answered and self.missed >= MISSED_PROBES
        self.answered, self.missed = True, 0
        return response.status_code == 503

    def exit_code(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def signal_stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def wait_stopped(self, timeout: float = STOP_GRACE) -> int | None:
        """Wait for the exit that :meth:`signal_stop` asked for; kill if it does not come."""
        if self.process is None:
            return None
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()

    def log_tail(self, lines: int = 12) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@dataclass
class Supervisor:
    nats_url: str
    region: str
    data_dir: Path
    http_ports: dict[Service, int] = field(default_factory=dict)
    extra_env: dict[str, str] = field(default_factory=dict)
    children: list[ServiceProcess] = field(default_factory=list)
    credentials: dict[str, Path] = field(default_factory=dict)
    """Each service's credentials file (by service name); none: a server without
    authorization, and the services provision for themselves."""
    sealing_keys: Path | None = None
    """The keyring the services seal secrets and addresses with (see shared.sealing)."""

    def start_all(self) -> None:
        sign_in = DemoIdentity.create(self.data_dir).settings_env()  # the member API's issuer
        for service in SERVICES:
            env = {
                **(sign_in if service is Service.NOTIFICATIONS else {}),
                **os.environ,
                "NATS_URL": self.nats_url,
                "GUILD_REGION": self.region,
                "PYTHONUNBUFFERED": "1",
                **self.extra_env,
            }
            if self.sealing_keys is not None:
                env.pop(KEYS_VARIABLE, None)
                env[KEYS_FILE_VARIABLE] = str(self.sealing_keys)
            if service.value in self.credentials:  # provisioned by the admin beforehand
                env[CREDENTIALS_VARIABLE] = str(self.credentials[service.value])
                env["GUILD_PROVISION"] = "false"
            port = self.http_ports.get(service)
            if port:
                env[f"GUILD_{service.value.upper()}_HTTP_PORT"] = str(port)
            log = self.data_dir / "logs" / f"{service.value}.log"
            child = ServiceProcess(service, env, log, http_port=port)
            child.start()
            self.children.append(child)

    async def wait_ready(self, client: GuildClient, timeout: float = 60.0) -> None:
        """Until every service reports ready; raises with the log tail if one exits."""
        deadline = time.monotonic() + timeout
        pending = list(self.children)
        while pending:
            for child in list(pending):
                if (code := child.exit_code()) is not None:
                    raise RuntimeError(
                        f"{child.service.value} exited with code {code} while starting; "
                        f"last lines of {child.log_path}:\n{child.log_tail()}"
                    )
                status = await client.status(child.service)
                if status and status.get("ready"):
                    pending.remove(child)
            if pending and time.monotonic() > deadline:
                names = ", ".join(c.service.value for c in pending)
                raise RuntimeError(f"not ready after {timeout:.0f}s: {names}")
            await asyncio.sleep(0.2)

    def restart_exited(self) -> list[str]:
        """Restart services that exited on their own; returns what happened, for the user."""
        notes = []
        now = time.monotonic()
        for child in self.children:
            code = child.exit_code()
            if code is None or now < child.next_start:
                continue
            child.restarts += 1
            pause = min(2.0**child.restarts, 30.0)
            notes.append(
                f"{child.service.value} exited with code {code}; restarting "
                f"(restart {child.restarts}). Last lines of its log:\n{child.log_tail(6)}"
            )
            child.next_start = now + pause
            child.start()
        return notes

    async def restart_stuck(self, client: httpx.AsyncClient) -> list[str]:
        """Restart services whose event loop is stuck; returns what happened, for the user."""
        notes = []
        for child in self.children:
            if not await child.stuck(client):
                continue
            child.restarts += 1
            notes.append(
                f"{child.service.value} is stuck (its /healthz says its loop does not turn, or "
                f"it stopped answering); restarting it (restart {child.restarts})"
            )
            child.signal_stop()
            await asyncio.to_thread(child.wait_stopped, STUCK_GRACE)
            child.start()
        return notes

    def pids(self) -> dict[str, int]:
        return {c.service.value: c.pid for c in self.children if c.pid is not None}

    def stop_all(self) -> dict[str, int | None]:
        """SIGTERM every service at once (each finishes what it holds), then wait for each."""
        for child in self.children:
            child.signal_stop()
        return {child.service.value: child.wait_stopped() for child in self.children}
