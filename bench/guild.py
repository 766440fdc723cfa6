"""Guild as a black box: nats-server and the four services as processes this benchmark owns.

:class:`GuildProcesses` starts the embedded nats-server (loopback, file storage) and each
service with ``python -m services.<name>``, as ``guild up`` does, and stops every one of them
by pid (SIGTERM, then SIGKILL) in :meth:`GuildProcesses.stop_all`, which callers run in a
``finally``; should the benchmark itself be killed, the kernel stops them too (they die with
their parent). A service can be paused (SIGSTOP) so that a backlog builds up in front of it and
resumed (SIGCONT) to time how fast it drains.

:class:`RssSampler` reads each process's resident set from ``/proc/<pid>/status`` a few times
a second (peak and end); :class:`LagSampler` reads every durable consumer of the region
(``num_pending`` + ``num_ack_pending``) and keeps each one's largest lag and how fast it grew;
:func:`cpu_seconds` reads a process's CPU time from ``/proc/<pid>/stat`` (which process a
step of the set-up spends its time in).

Under load (a 50,000-member set-up, a step that cannot keep up) nats-server answers its
JetStream API slowly: every request the harness makes of it (stream and consumer info) is sent
again when it times out, a bounded number of times (:func:`answered`), and :func:`settled`
waits for a region that is slow but still progressing (anything new stored, any lag changed)
until a deadline the caller scales with the size, showing on stderr every ~10 s what is stored
and which consumers lag most; it gives up early only when nothing has moved for ``stall``
seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self, TypeVar

import httpx
import nats
from nats.aio.client import Client
from nats.js.errors import NotFoundError, ServiceUnavailableError

from guild_cli.identities import Identities
from guild_cli.nats_server import EmbeddedNats
from guild_cli.processes import die_with_parent
from guild_cli.provisioning import PEERS_VARIABLE, provision_region
from guild_cli.receivers import free_port
from shared.credentials import connection_options
from shared.naming import Streams
from shared.publishers import PUBLISHERS
from shared.sealing import KEYS_FILE_VARIABLE, keyring_file

SERVICES = ("membership", "content", "matching", "notifications")
T = TypeVar("T")

BENCH_SETTINGS = {
    "GUILD_LOG_FORMAT": "text",
    "GUILD_LOG_LEVEL": "WARNING",
    "GUILD_MATCHING_EXPERTS_PER_QUESTION": "10",
    "GUILD_MATCHING_QUESTIONS_PER_DAY": "1000000",
    "GUILD_MATCHING_QUESTIONS_PER_WEEK": "1000000",
    "GUILD_MATCHING_INTROS_PER_NEWCOMER": "0",
    "GUILD_NOTIFICATIONS_CHANNELS": '["inbox"]',
}
"""Every question is routed to 10 people however many questions a member was already asked
(budgets far beyond a run); newcomers get no intros (set-up joins thousands at once, and intros
are no path measured here); notifications deliver to the inbox only (the console channel
would print each message)."""


class GuildProcesses:
    """nats-server and the services of one region, as child processes."""

    def __init__(
        self,
        folder: Path,
        region: str,
        *,
        env: dict[str, str] | None = None,
        region_server: tuple[EmbeddedNats, Identities] | None = None,
        peers: Sequence[str] = (),
    ) -> None:
        """One region on a server of its own, or (``region_server``) on one region's server
        of several (``guild_cli.regions``, started by the caller) with its identities, its
        ``peers`` the other regions."""
        self.folder = folder
        self.region = region
        self.peers = list(peers)
        sealing = {KEYS_FILE_VARIABLE: str(keyring_file(folder / "sealing.keys"))}
        self.env = {**os.environ, **BENCH_SETTINGS, **sealing, **(env or {})}
        if self.peers:
            self.env[PEERS_VARIABLE] = json.dumps(self.peers)
        self.own_server = region_server is None
        self.server, self.identities = region_server or (
            EmbeddedNats(folder / "nats", die_with_parent=True),
            Identities(folder / "identities"),
        )
        if self.own_server:
            self.server.authority = self.identities.authority
        self.ports = {name: free_port() for name in SERVICES}
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.credentials: dict[str, Path] = {}

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def admin(self) -> dict[str, Any]:
        """nats-py ``connect`` options of the provisioning identity (the benchmark's own)."""
        return connection_options(self.server.admin_credentials)

    async def start_server(self) -> None:
        """nats-server with authorization, the region provisioned as the admin and every
        identity's credential issued, as ``guild up`` does."""
        if self.own_server:
            self.server.start()
        admin = self.server.admin_credentials
        needs = await provision_region(self.url, self.region, admin, self.env, self.peers)
        self.credentials = self.identities.issue_region(self.region, needs)

    def start(self, *names: str) -> None:
        for name in names or SERVICES:
            env = {
                **self.env,
                "NATS_URL": self.url,
                "GUILD_REGION": self.region,
                f"GUILD_{name.upper()}_HTTP_PORT": str(self.ports[name]),
                "GUILD_NATS_CREDENTIALS": str(self.credentials[name]),
                "GUILD_PROVISION": "false",
            }
            with (self.folder / f"{name}.log").open("ab") as log:
                self.processes[name] = subprocess.Popen(
                    [sys.executable, "-m", f"services.{name}"],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    preexec_fn=die_with_parent(),
                )

    async def ready(self, *names: str) -> None:
        """Until each service answers its readiness probe (two minutes at most)."""
        for name in names or tuple(self.processes):
            await until(lambda n=name: self._ready(n), f"{name} ready", deadline=120)

    async def _ready(self, name: str) -> bool:
        process = self.processes[name]
        if process.poll() is not None:
            raise RuntimeError(
                f"{name} exited with {process.returncode}: see {self.folder / (name + '.log')}"
            )
        try:
            async with httpx.AsyncClient() as client:
                url = f"http://127.0.0.1:{self.ports[name]}/readyz"
                return (await client.get(url, timeout=1)).status_code == 200
        except httpx.HTTPError:
            return False

    def pids(self) -> dict[str, int]:
        return {name: p.pid for name, p in self.processes.items() if p.poll() is None}

    def pids_with_server(self) -> dict[str, int]:
        """The services' pids and nats-server's (as ``nats-server``)."""
        server = self.server.process
        alive = server is not None and server.poll() is None
        return {**self.pids(), **({"nats-server": server.pid} if alive and server else {})}

    def pause(self, *names: str) -> None:
        for name in names:
            self.processes[name].send_signal(signal.SIGSTOP)

    def resume(self, *names: str) -> None:
        for name in names:
            self.processes[name].send_signal(signal.SIGCONT)

    def stop(self, *names: str) -> None:
        """SIGTERM each (resumed first, if paused), SIGKILL what has not exited in 30 s."""
        chosen = [self.processes[n] for n in names or tuple(self.processes)]
        for process in chosen:
            if process.poll() is None:
                process.send_signal(signal.SIGCONT)
                process.terminate()
        for process in chosen:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def stop_all(self) -> None:
        try:
            self.stop()
        finally:
            if self.own_server:
                self.server.stop()


async def until(
    probe: Callable[[], Awaitable[Any]], what: str, deadline: float = 60, every: float = 0.05
) -> Any:
    """Poll ``probe`` every ``every`` s until it returns something true; fail after
    ``deadline`` seconds."""
    end = time.monotonic() + deadline
    while True:
        if value := await probe():
            return value
        if time.monotonic() > end:
            raise TimeoutError(f"{what}: not within {deadline:.0f} s")
        await asyncio.sleep(every)


API_TIMEOUT = 10.0
"""Seconds to wait for one JetStream API answer (nats-py's default is 5)."""
API_ATTEMPTS = 6
"""How many times a JetStream API request is sent before :func:`answered` gives up."""


async def answered(
    request: Callable[[], Awaitable[T]],
    what: str,
    *,
    attempts: int = API_ATTEMPTS,
    pause: float = 1.0,
) -> T:
    """The answer to a JetStream API request, sent again when it times out or JetStream says
    it is unavailable for now, ``attempts`` times in all, with pauses of ``pause`` seconds
    doubling up to five times that; TimeoutError naming ``what`` if none was answered."""
    for attempt in range(1, attempts + 1):
        try:
            return await request()
        except (nats.errors.TimeoutError, ServiceUnavailableError) as error:
            if attempt == attempts:
                raise TimeoutError(f"{what}: no answer in {attempts} attempts") from error
            await asyncio.sleep(pause * min(5.0, 2.0 ** (attempt - 1)))
    raise AssertionError("unreachable")


async def durable_lags(nc: Client, region: str) -> dict[str, int]:
    """Each durable consumer of ``region`` (as ``<stream>/<name>``): pending + ack pending."""
    js, lags = nc.jetstream(timeout=API_TIMEOUT), {}
    for stream in Streams(region).all(PUBLISHERS):
        try:
            infos = await answered(lambda s=stream: js.consumers_info(s), f"consumers of {stream}")
        except NotFoundError:
            continue  # a stream nobody provisioned in this run
        for info in infos:
            if info.config.durable_name:
                lags[f"{stream}/{info.name}"] = info.num_pending + info.num_ack_pending
    return lags


@dataclass(frozen=True)
class RegionState:
    """What the streams of a region hold and how far behind its durable consumers are."""

    last_sequences: tuple[int, ...]
    stored: int
    lags: dict[str, int]

    @property
    def pending(self) -> int:
        return sum(self.lags.values())

    def largest_lags(self, count: int = 3) -> str:
        worst = sorted(((lag, name) for name, lag in self.lags.items() if lag), reverse=True)
        return ", ".join(f"{name} {lag:,}" for lag, name in worst[:count]) or "none"


async def region_state(nc: Client, region: str) -> RegionState:
    js = nc.jetstream(timeout=API_TIMEOUT)
    infos = await answered(js.streams_info, "streams info")
    mine = [i for i in infos if (i.config.name or "").lower().endswith(f"_{region}")]
    return RegionState(
        last_sequences=tuple(i.state.last_seq for i in mine),
        stored=sum(i.state.messages for i in mine),
        lags=await durable_lags(nc, region),
    )


def say(line: str) -> None:
    """A progress line on stderr (the report on stdout stays the figures)."""
    print(line, file=sys.stderr, flush=True)


async def settled(
    nc: Client,
    region: str,
    *,
    deadline: float = 300,
    stall: float = 120,
    quiet: float = 0.5,
    report_every: float = 10,
) -> float:
    """Until every durable consumer of ``region`` has nothing pending and nothing new was
    stored for ``quiet`` seconds: the services have done what they were going to do. Returns
    the seconds it took. Waits while anything moves, up to ``deadline`` seconds; fails sooner
    if nothing was stored and no lag changed for ``stall`` seconds. Every ``report_every``
    seconds it says on stderr what is stored and which consumers lag most."""
    started = time.monotonic()
    moved = reported = started
    polls, before = 0, await region_state(nc, region)
    while True:
        if not before.pending:
            await asyncio.sleep(quiet)
            after = await region_state(nc, region)
            if after.last_sequences == before.last_sequences and not after.pending:
                return time.monotonic() - started
        else:
            polls += 1
            await asyncio.sleep(min(1.0, 0.05 * 2**polls))  # 0.1 s at first, then every second
            after = await region_state(nc, region)
        now = time.monotonic()
        if after != before:
            moved = now
        waited = f"region {region} to settle ({now - started:.0f} s)"
        if now - moved > stall:
            raise TimeoutError(
                f"{waited}: nothing moved for {stall:.0f} s; lags {after.largest_lags()}"
            )
        if now - started > deadline:
            raise TimeoutError(
                f"{waited}: not within {deadline:.0f} s; lags {after.largest_lags()}"
            )
        if now - reported >= report_every:
            reported = now
            say(
                f"settling {region}: {now - started:.0f} s, {after.stored:,} stored, pending "
                f"{after.pending:,}, largest lags {after.largest_lags()}"
            )
        before = after


def rss_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds process ``pid`` has used (``/proc/<pid>/stat``)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Sampling(ABC):
    """Calls :meth:`sample` every ``every`` seconds while it is entered (``with``), and once
    more on the way out."""

    every: float = 0.5

    @abstractmethod
    async def sample(self) -> None:
        """What each kind does (a subclass says)."""

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(Exception):  # a slow reply: the next sample counts
                await self.sample()
            await asyncio.sleep(self.every)

    def __enter__(self) -> Self:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *_: object) -> None:
        self._task.cancel()


@dataclass
class RssSampler(Sampling):
    """Peak and last resident set (MB) of each named process, four times a second."""

    pids: Callable[[], dict[str, int]]
    every: float = 0.25
    peak: dict[str, float] = field(default_factory=dict)
    end: dict[str, float] = field(default_factory=dict)

    async def sample(self) -> None:
        self.sample_now()

    def sample_now(self) -> None:
        for name, pid in self.pids().items():
            if (kb := rss_kb(pid)) is not None:
                self.end[name] = kb / 1024
                self.peak[name] = max(self.peak.get(name, 0.0), kb / 1024)

    def __exit__(self, *_: object) -> None:
        super().__exit__()
        self.sample_now()

    def figures(self) -> dict[str, dict[str, float]]:
        return {
            name: {"peak_mb": round(self.peak[name], 1), "end_mb": round(self.end[name], 1)}
            for name in sorted(self.peak)
        }


@dataclass
class LagSampler(Sampling):
    """Each durable consumer's lag (pending + ack pending), twice a second: the largest of
    each since the last :meth:`reset`, and how fast each grew over a stretch of time."""

    nc: Client
    region: str
    every: float = 0.5
    worst: dict[str, int] = field(default_factory=dict)
    samples: list[tuple[float, dict[str, int]]] = field(default_factory=list)

    async def sample(self) -> None:
        lags = await durable_lags(self.nc, self.region)
        self.samples.append((time.monotonic(), lags))
        for name, lag in lags.items():
            self.worst[name] = max(self.worst.get(name, 0), lag)

    def growth(self, start: float, end: float) -> dict[str, float]:
        """Each consumer's lag growth per second from the first to the last sample taken
        between ``start`` and ``end`` (monotonic times); empty with fewer than two."""
        within = [(at, lags) for at, lags in self.samples if start <= at <= end]
        if len(within) < 2:
            return {}
        (first_at, first), (last_at, last) = within[0], within[-1]
        return {
            name: round((lag - first.get(name, 0)) / (last_at - first_at), 1)
            for name, lag in last.items()
        }

    def reset(self) -> dict[str, int]:
        worst, self.worst, self.samples = self.worst, {}, []
        return worst


async def call(
    nc: Client,
    kind: str,
    region: str,
    service: str,
    name: str,
    payload: dict[str, Any],
    *,
    timeout: float = 30,
    attempts: int = 5,
) -> dict[str, Any]:
    """A command or query over NATS request-reply; its result, or RuntimeError with the error.
    A command gets a ``request_id``; a request without a reply in ``timeout`` seconds, or one
    still running (``in_progress``), is sent again with the same id, ``attempts`` times in all
    (the service answers a repeated command from what it did the first time)."""
    if kind == "cmd":
        payload = {**payload, "request_id": str(uuid.uuid4())}
    subject, body = f"{kind}.{region}.{service}.{name}", json.dumps(payload).encode()
    for attempt in range(1, attempts + 1):
        try:
            reply = json.loads((await nc.request(subject, body, timeout=timeout)).data)
        except nats.errors.TimeoutError:
            if attempt == attempts:
                raise
            continue
        if reply["ok"]:
            return dict(reply["result"] or {})
        if reply["error"]["code"] != "in_progress" or attempt == attempts:
            break
        await asyncio.sleep(0.5 * attempt)
    raise RuntimeError(f"{kind} {service}.{name}: {reply['error']}")


async def stream_state(nc: Client, region: str) -> dict[str, dict[str, int]]:
    """Messages and bytes stored in each stream of ``region`` (KV buckets are streams too)."""
    js, found = nc.jetstream(timeout=API_TIMEOUT), {}
    for info in await answered(js.streams_info, "streams info"):
        name = info.config.name or ""
        if name.lower().endswith(f"_{region}"):
            found[name] = {"messages": info.state.messages, "bytes": info.state.bytes}
    return found


@contextlib.asynccontextmanager
async def running_guild(folder: Path, region: str) -> AsyncIterator[tuple[GuildProcesses, Client]]:
    """nats-server and the four services of ``region`` started and ready, and a client
    connected to the server; on the way out the client is closed and every process stopped."""
    guild = GuildProcesses(folder, region)
    try:
        await guild.start_server()
        guild.start()
        await guild.ready()
        nc = await nats.connect(guild.url, **guild.admin)
        try:
            yield guild, nc
        finally:
            await nc.close()
    finally:
        guild.stop_all()
