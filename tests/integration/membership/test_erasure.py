"""Erasure: after the HR erasure request, no stream, bucket or snapshot of the region (its
JetStream files on disk, raw bytes) and no service's log file holds the member's name, e-mail,
the free text they wrote about themselves or their HR person id; nothing links their member
id to them any more; and the erasure event was published for the other services.

The services run as processes (``python -m services.<name>``, at DEBUG), each writing its own
log file as it would in production, and are restarted once after the erasure so that their
snapshots are written and read again.

Kept on purpose: content keeps the member's posts (threads keep their sense) under the
pseudonym the erasure event carries, drawn at random (so does matching with the questions they
asked), so the question's text is not searched for. The member id (drawn at random by
membership, not the HR id) stays as the key (subject) of the delete and purge markers that
tell read models the key went, and in the public events, immutable facts that carry ids,
never personal fields; it is searched for in everything else the region's streams and
buckets hold. See docs/architecture.md, "Personal data and erasure".
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx
from nats.js.api import RetentionPolicy

from shared.contracts import membership as m
from shared.naming import Streams
from shared.storage import scan, walk
from tests import access
from tests.helpers import FAST_RETRIES, events_of_type, eventually, publish_raw, settled
from tests.slice import World, hire_data

PERSON = "zq4417"
NAME, EMAIL = "Zdenka Quibbleworth", "zdenka.quibbleworth@example.com"
ABOUT = "Collector of rare Xylophone-tuning tricks"
GOALS = "Become the Wobblegong platform lead"
REQUEST = "Hi, I keep bees on the Wobblegong roof"
PERSONAL = (NAME, EMAIL, ABOUT, GOALS, REQUEST)
SERVICES = ("membership", "content", "matching", "notifications")


def region_files(streams: Path, region: str) -> list[Path]:
    """Every file of every stream and bucket of ``region`` (snapshots and dead letters
    included), as JetStream keeps them on disk."""
    suffix = region.lower()
    return [
        path
        for directory in streams.iterdir()
        if directory.name.lower().endswith(f"_{suffix}")
        for path in directory.rglob("*")
        if path.is_file()
    ]


def raw_hits(files: list[Path], searched: tuple[str, ...]) -> list[str]:
    return [f"{path}: {s!r}" for path in files for s in searched if s.encode() in path.read_bytes()]


async def stored_ids(nc, region: str, member_id: str) -> list[str]:
    """Where the member id is in what the region's streams and buckets hold (bodies and
    headers; the keys of markers aside), public events aside."""
    js, hits = nc.jetstream(), []
    for info in await js.streams_info():
        stream = info.config.name or ""
        if not stream.lower().endswith(f"_{region}") or stream == Streams(region).events:
            continue
        work_queue = info.config.retention == RetentionPolicy.WORK_QUEUE  # the outbox, fan-outs
        reader = walk(js, stream) if work_queue else scan(js, stream)
        hits += [
            f"{stream} #{sequence} {subject}"
            async for sequence, subject, headers, data in reader
            if member_id.encode() in data or member_id in json.dumps(headers)
        ]
    return hits


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start(
    name: str, nats_url: str, region: str, log: Path, port: int, identities: dict
) -> subprocess.Popen:
    fast = {f"GUILD_{key.upper()}": str(value) for key, value in FAST_RETRIES.items()}
    env = {**os.environ, **fast, "NATS_URL": nats_url, "GUILD_REGION": region,
           f"GUILD_{name.upper()}_HTTP_PORT": str(port), "GUILD_LOG_LEVEL": "DEBUG",
           **identities.get(name, {})}  # fmt: skip
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", f"services.{name}"], env=env,
                                stdout=out, stderr=subprocess.STDOUT)  # fmt: skip


async def ready(port: int) -> bool:
    try:
        async with httpx.AsyncClient() as client:
            return (await client.get(f"http://127.0.0.1:{port}/readyz", timeout=1)).is_success
    except httpx.HTTPError:
        return False


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


async def test_after_erasure_nothing_of_the_region_holds_the_personal_data(
    nats_server, region, tmp_path
):
    url = nats_server.url
    nc = await access.connect(url, own_server=True)
    world = World(nc, region)
    logs = [tmp_path / f"{name}.log" for name in SERVICES]
    ports = [free_port() for _ in SERVICES]
    identities = await access.service_environments(url, region, own_server=True)
    processes = [start(n, url, region, log, port, identities)
                 for n, log, port in zip(SERVICES, logs, ports, strict=True)]  # fmt: skip
    try:
        for port in ports:
            await eventually(lambda p=port: ready(p), deadline=60, what="services ready")
        await use_guild_as(world, nc, region)
        post = await eventually(lambda: _question_by_zq(world), what="zq's question")
        await eventually(lambda: _named_in_inbox(world, world.id("fac")), what="fac told")
        await settled(nc, region)
        assert raw_hits(region_files(nats_server.streams_dir, region), (*PERSONAL, PERSON)), (
            "the test must first find the data it then expects erased"
        )

        await world.publish(
            "guild.ingest.hr.erasure_requested.v1",
            {"person_id": PERSON, "request_ref": "PRIV-2026-17"},
            event_id=None,
            msg_id=True,
            source="/hr-directory/privacy-office",
        )

        async def erased():
            return await events_of_type(nc, Streams(region).events, m.MemberErasedV1.TYPE)

        (erasure,) = await eventually(erased, what="erasure event")
        member_id = world.id(PERSON)
        assert erasure["data"]["member"] == {"member_id": member_id, "home_region": region}
        assert erasure["data"]["request_ref"] == "PRIV-2026-17"
        await settled(nc, region)
        fac = world.id("fac")
        gone = await world.refused(
            "qry", "membership", "get_member", {"viewer_id": fac, "member_id": member_id}
        )
        assert gone["code"] == "not_found"
        assert await world.member_of(PERSON) is None  # the HR id leads nowhere any more
        kept = await world.qry("content", "get_post", {"viewer_id": fac, "post_id": post})
        assert kept["post"]["author_id"] == erasure["data"]["pseudonym"]
        assert not await _named_in_inbox(world, fac)
        await _restart_and_settle(processes, ports, logs, url, region, nc, identities)
        found = await stored_ids(nc, region, member_id)
        assert found == [], "\n".join(found)
    finally:
        stop(processes)
    await nc.drain()
    nats_server.stop()  # everything JetStream holds is on disk now

    assert raw_hits(region_files(nats_server.streams_dir, region), (*PERSONAL, PERSON)) == []
    assert raw_hits(logs, (*PERSONAL, PERSON)) == []


async def use_guild_as(world: World, nc, region: str) -> None:
    """The member is hired, becomes someone's manager, joins a community, asks to join a
    gated one, writes their profile, is changed by HR, and an HR event naming them is
    dead-lettered."""
    await world.hire(hire_data("fac", "Lena Vogel", "eu", "Europe/Berlin", {"go": "expert"}))
    await world.hire(
        {**hire_data(PERSON, NAME, "eu", "Europe/Prague", {"go": "advanced"}), "email": EMAIL}
    )
    report = hire_data("rep1", "Rui Pinto", "eu", "Europe/Lisbon", {"go": "beginner"})
    await world.hire({**report, "manager_id": PERSON})
    fac, zq, _ = await world.wait_for_members("fac", PERSON, "rep1")
    await world.cmd(
        "membership",
        "create_community",
        {"actor_id": fac, "community_id": "golang", "name": "Go"},
    )
    await world.cmd(
        "membership",
        "create_community",
        {"actor_id": fac, "community_id": "gated", "name": "Gated", "access": "gated"},
    )
    await world.cmd("membership", "join_community", {"member_id": zq, "community_id": "golang"})
    await world.cmd(
        "membership",
        "request_to_join",
        {"member_id": zq, "community_id": "gated", "message": REQUEST},
    )
    await world.cmd(
        "membership",
        "update_profile",
        {
            "member_id": zq,
            "about": ABOUT,
            "request_id": "profile-1",
            "mentoring_wish": {"topics": ["leadership"], "goals": GOALS},
        },
    )
    await world.publish(
        "guild.ingest.hr.person_changed.v1",
        {"person_id": PERSON, "display_name": NAME, "team": "Platform"},
        event_id=None,
        msg_id=True,
        source="/hr-directory",
    )
    # an HR event membership cannot read: dead-lettered, with the name in it
    await publish_raw(
        nc,
        f"ingest.{region}.hr-directory.hr.person_changed.v1",
        json.dumps(
            {
                "specversion": "1.0",
                "id": "broken",
                "source": "/hr-directory",
                "type": "guild.ingest.hr.person_changed.v1",
                "data": {"person_id": PERSON, "display_name": NAME, "email": "not-an-email"},
            }
        ).encode(),
    )
    await world.content_sees(zq, "golang")


async def _named_in_inbox(world: World, member_id: str) -> bool:
    return any(NAME in json.dumps(item) for item in await world.inbox(member_id))


async def _restart_and_settle(processes, ports, logs, url, region, nc, identities) -> None:
    """Each service stops (writing its snapshots) and starts again from them."""
    stop(processes)
    processes[:] = [start(n, url, region, log, port, identities) for n, log, port in
                    zip(SERVICES, [log.with_suffix(".2.log") for log in logs], ports,
                        strict=True)]  # fmt: skip
    logs += [log.with_suffix(".2.log") for log in logs]
    for port in ports:
        await eventually(lambda p=port: ready(p), deadline=60, what="services ready again")
    await settled(nc, region)


async def _question_by_zq(world):
    reply = await world.reply(
        "cmd",
        "content",
        "post_question",
        {
            "actor_id": world.id(PERSON),
            "community_id": "golang",
            "title": "Generics or interfaces?",
            "text": "When do you reach for generics?",
            "tags": ["go"],
        },
    )
    return reply["result"]["post_id"] if reply["ok"] else None
