"""`guild up --demo` brings the system up with demo data and says what happened; stopping it
and starting it again keeps the members, the posts and the inboxes."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

import httpx
import nats
import pytest

from guild_cli.demo_data import NEWCOMERS, PEOPLE
from services.notifications.store.buckets import NotificationsStore
from shared.credentials import connection_options
from shared.sealing import Keyring
from tests.helpers import eventually, settled
from tests.integration.test_deleting_keys import raw_hits

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


class GuildUp:
    """``guild up`` as a user runs it, in a terminal of 200 columns."""

    def __init__(self, data_dir: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.output = data_dir.parent / f"guild-up-{time.monotonic_ns()}.out"
        env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", **(env or {})}
        env.pop("NATS_URL", None)
        with self.output.open("wb") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "guild_cli",
                    "up",
                    "--data-dir",
                    str(data_dir),
                    "--nats-port",
                    "0",
                    *args,
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
            )
        self.data_dir = data_dir

    def text(self) -> str:
        return self.output.read_text(errors="replace")

    async def running(self) -> str:
        async def said_running() -> bool:
            assert self.process.poll() is None, self.text()
            return "Guild is running" in self.text()

        await eventually(said_running, deadline=120, what="guild up running")
        return json.loads((self.data_dir / "state.json").read_text())["nats_url"]

    def interrupt(self, sig: signal.Signals = signal.SIGINT) -> int:
        self.process.send_signal(sig)  # Ctrl-C by default
        try:
            return self.process.wait(timeout=60)
        finally:
            if self.process.poll() is None:
                self.process.kill()

    def children(self) -> dict[int, str]:
        """The processes guild up started (pid: command line), as the kernel knows them."""
        found = {}
        for task in Path(f"/proc/{self.process.pid}/task").iterdir():
            for pid in (task / "children").read_text().split():
                with contextlib.suppress(OSError):
                    found[int(pid)] = Path(f"/proc/{pid}/cmdline").read_bytes().decode()
        return found

    def service_pid(self, name: str) -> int | None:
        return next((p for p, c in self.children().items() if f"services.{name}" in c), None)


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, dead but not yet reaped, does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


async def all_gone(pids: Iterable[int]) -> None:
    async def none_alive() -> bool:
        return not [pid for pid in pids if alive(pid)]

    await eventually(none_alive, deadline=60, what="every process of guild up to exit")


async def snapshot(url: str, data_dir: Path) -> dict:
    """What a user would check: a member, the demo question, inboxes (once all is delivered),
    read as the admin of the ``guild up`` on ``data_dir``."""
    nc = await nats.connect(url, **connection_options(data_dir / "nats" / "admin.creds"))
    try:
        await settled(nc, "local")

        async def query(subject: str, payload: dict) -> dict:
            return json.loads((await nc.request(subject, json.dumps(payload).encode(), 10)).data)

        async def member_id(person_id: str) -> str:
            found = await query("qry.local.membership.find_member", {"person_id": person_id})
            return str(found["result"]["member_id"])

        ids = {p: await member_id(p) for p in ("e1001", "e2001", "e4001")}
        member = await query(
            "qry.local.membership.get_member",
            {"viewer_id": ids["e4001"], "member_id": ids["e4001"]},
        )
        info = await nc.jetstream().stream_info("EVENTS_LOCAL", subjects_filter=">")
        posted = await nc.jetstream().get_last_msg(
            "EVENTS_LOCAL", "evt.local.pub.content.question_posted.v1"
        )
        question_id = json.loads(posted.data)["data"]["question_id"]
        post = await query(
            "qry.local.content.get_post", {"viewer_id": ids["e1001"], "post_id": question_id}
        )
        inboxes = {
            p: (await query("qry.local.notifications.inbox", {"member_id": m, "limit": 200}))[
                "result"
            ]
            for p, m in ids.items()
        }
        return {"member": member, "post": post, "inboxes": inboxes, "events": info.state.messages}
    finally:
        await nc.drain()


async def test_guild_up_demo_then_restart_keeps_everything(tmp_path):
    data_dir = tmp_path / "guild-data"
    first = GuildUp(data_dir, "--demo")
    try:
        url = await first.running()
        output = first.text()
        assert "Priya Raman joined Kubernetes Operators" in output
        assert "Lena Vogel (e1001)" in output  # a facilitator, alerted
        assert "you facilitate Kubernetes Operators" in output
        assert "asked: How do we rotate etcd certificates without downtime?" in output
        # the experts alerted, with their reasons; or, when nobody who fits is at work at the
        # hour the test runs, who the question waits for
        assert "knows " in output or "Nobody who fits is at work right now" in output, output
        assert "people matching proposed to meet" in output
        assert "both work with kubernetes" in output  # an intro, with its reason
        # real deliveries: the facilitators' mail and webhooks, printed and saved as files
        assert "✉ mail to e1001@demo.local: Priya Raman joined Kubernetes Operators" in output
        assert "⇢ webhook for e2001: Priya Raman joined Kubernetes Operators" in output
        saved = sorted(p.suffix for p in (data_dir / "deliveries").iterdir())
        assert ".eml" in saved
        assert ".json" in saved
        await _member_api_answers(output)
        before = await snapshot(url, data_dir)
        secrets = await sealed_values(url, data_dir)
    finally:
        assert first.interrupt() == 0, first.text()
    assert_nowhere_in_clear(secrets, data_dir / "nats")
    assert (
        "stopped: membership (exit 0), content (exit 0), matching (exit 0), "
        "notifications (exit 0), nats" in first.text()
    )
    assert before["member"]["ok"]
    assert before["post"]["ok"]
    assert before["inboxes"]["e4001"]["items"]

    second = GuildUp(data_dir)
    try:
        url = await second.running()
        after = await snapshot(url, data_dir)
    finally:
        assert second.interrupt() == 0, second.text()
    assert after["member"] == before["member"]
    assert after["post"] == before["post"]
    for member_id, inbox in before["inboxes"].items():
        # nothing lost, nothing twice; matching's rounds may have added proposals since
        kept = after["inboxes"][member_id]["items"]
        assert all(item in kept for item in inbox["items"]), member_id
        ids = [item["notification_id"] for item in kept]
        assert len(ids) == len(set(ids)), member_id
    assert after["events"] >= before["events"]


async def sealed_values(url: str, data_dir: Path) -> dict[str, str]:
    """What must never be on disk in clear after the demo, opened with the keys of the
    ``guild up`` on ``data_dir``: every channel's address and webhook signing secret, and the
    region's own keys (the link-signing key among them); by where they were found."""
    keys = Keyring.read(data_dir / "sealing.keys")
    store = NotificationsStore.for_region("local", keys)
    nc = await nats.connect(url, **connection_options(data_dir / "nats" / "admin.creds"))
    try:
        for kv in (store.endpoints, store.keys):
            await kv.bind(nc.jetstream())
        found: dict[str, str] = {}
        async for member_id, held in store.endpoints.items():
            for endpoint in held.value.endpoints:
                found[endpoint.address] = f"{member_id}'s {endpoint.kind} address"
                for secret in endpoint.secrets:
                    found[secret.secret] = f"{member_id}'s webhook secret"
        async for name, value in store.keys.items():
            found[value.value] = f"the region's {name} key"
    finally:
        await nc.drain()
    assert any("webhook secret" in what for what in found.values()), found
    assert "the region's links key" in found.values(), found
    return found


def assert_nowhere_in_clear(values: dict[str, str], store_dir: Path) -> None:
    """No file under ``store_dir`` (every stream's and bucket's blocks and indexes) holds any
    of ``values`` as it is, nor the region's keys as raw bytes."""
    files = [path.read_bytes() for path in store_dir.rglob("*") if path.is_file()]
    for value, what in values.items():
        needles = [value.encode()]
        if what.startswith("the region's"):
            needles.append(bytes.fromhex(value))
        leaked = [needle for needle in needles if any(needle in data for data in files)]
        assert not leaked, f"{what} is on disk in clear"


async def _member_api_answers(output: str) -> None:
    """The notifications process serves its member API beside its health endpoints."""
    base = re.search(r"notifications\s.*?health (http://127\.0\.0\.1:\d+)/readyz", output)
    assert base, output
    async with httpx.AsyncClient(base_url=base.group(1)) as client:
        described = (await client.get("/openapi.json")).json()
        assert "/v1/members/{member_id}/inbox" in described["paths"]
        anonymous = await client.get("/v1/members/e1001/inbox")
    assert anonymous.status_code == 401


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGTERM], ids=["sighup", "sigterm"])
async def test_closing_the_terminal_stops_every_process_of_guild_up(tmp_path, sig):
    guild = GuildUp(tmp_path / "guild-data")
    try:
        await guild.running()
        started = guild.children()
        assert len(started) == 5, started  # nats-server and the four services
        assert guild.interrupt(sig) == 0, guild.text()
    finally:
        if guild.process.poll() is None:
            guild.process.kill()
    await all_gone(started)
    assert "stopped: membership (exit 0), content (exit 0)" in guild.text()


async def test_no_process_of_guild_up_outlives_it_when_it_is_killed(tmp_path):
    guild = GuildUp(tmp_path / "guild-data")
    try:
        await guild.running()
        started = guild.children()
    finally:
        guild.process.kill()
        guild.process.wait()
    await all_gone(started)


async def test_a_second_guild_up_on_the_same_data_directory_is_refused(tmp_path):
    data_dir = tmp_path / "guild-data"
    first = GuildUp(data_dir)
    try:
        url = await first.running()
        second = GuildUp(data_dir)
        code = second.process.wait(timeout=60)
        assert first.process.poll() is None
    finally:
        first.interrupt()
    assert code == 1
    (line,) = second.text().strip().splitlines()
    assert f"pid {first.process.pid}" in line
    assert url in line
    assert "already running" in line


async def test_guild_up_restarts_a_service_whose_loop_is_stuck(tmp_path):
    hook = Path(__file__).parent / "stuck_loop"
    guild = GuildUp(
        tmp_path / "guild-data",
        env={"PYTHONPATH": str(hook), "GUILD_LOOP_STALL_AFTER": "1"},
    )
    try:
        await guild.running()
        stuck = guild.service_pid("matching")
        assert stuck is not None
        os.kill(stuck, signal.SIGUSR1)  # its event loop stops turning

        async def replaced() -> bool:
            again = guild.service_pid("matching")
            return not alive(stuck) and again is not None and again != stuck

        await eventually(replaced, deadline=90, what="matching restarted")
    finally:
        assert guild.interrupt() == 0, guild.text()
    assert "matching is stuck" in guild.text()  # said once its output is flushed


async def test_guild_up_regions_runs_each_region_and_status_shows_their_links(tmp_path):
    """``guild up --regions eu,us,apac``: a hub and a server per region, the four services in
    each; ``guild status`` reports every region's services and that each region's events
    stream sources the other two without error."""
    data_dir = tmp_path / "guild-data"
    regions = GuildUp(data_dir, "--regions", "eu,us,apac", "--no-http")
    try:
        await regions.running()
        status = subprocess.run(
            [sys.executable, "-m", "guild_cli", "status", "--json", "--data-dir", str(data_dir)],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    finally:
        assert regions.interrupt() == 0, regions.text()
    assert status.returncode == 0, status.stdout + status.stderr
    report = {entry["region"]: entry for entry in json.loads(status.stdout)}
    assert set(report) == {"eu", "us", "apac"}
    for name, entry in report.items():
        assert all(service["ready"] for service in entry["services"]), entry
        peers = {f"EVENTS_{peer.upper()}" for peer in report if peer != name}
        assert {link["from"] for link in entry["links"]} == peers, entry
        assert all(link["error"] is None for link in entry["links"]), entry


async def test_guild_up_regions_demo_keeps_each_members_personal_data_in_their_home_region(
    tmp_path,
):
    """``guild up --regions eu,us,apac --demo``: the demo company hired in its three regions,
    its communities joined across them, a newcomer and a question alerting members homed
    elsewhere; afterwards no region's JetStream store holds, in any byte, the name, e-mail
    or demo channel address of a member homed in another region (and each holds its own)."""
    data_dir, names = tmp_path / "guild-data", ("eu", "us", "apac")
    regions = GuildUp(data_dir, "--regions", ",".join(names), "--demo", "--no-http")
    try:
        await regions.running()
        output = regions.text()
        assert "Priya Raman joined Kubernetes Operators" in output  # apac, into eu's community
        assert "Marcus Johnson (e2001)" in output  # us facilitator of it, alerted
        assert "asked: How do we rotate etcd certificates without downtime?" in output
    finally:
        assert regions.interrupt() == 0, regions.text()
    hired = [*PEOPLE, NEWCOMERS[0][0]]
    stores = {r: data_dir / "regions" / r / "jetstream" for r in names}
    for person in hired:
        home = person.region if person.region in names else names[0]
        assert raw_hits(stores[home], person.name), (home, person.name)
        for region in (r for r in names if r != home):
            for personal in (person.name, person.email, f"{person.person_id}@demo.local"):
                assert raw_hits(stores[region], personal) == [], (region, personal)
