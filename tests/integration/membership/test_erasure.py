"""Erasure: after the HR erasure request, no bucket or stream that membership or content owns
holds the member's name, e-mail or free-text profile, not even in the raw bytes on disk; and
the erasure event was published for the other services."""

from __future__ import annotations

import json
from pathlib import Path

import nats

from shared.contracts import membership as m
from shared.naming import Streams
from tests.helpers import events_of_type, eventually, publish_raw, running, settled
from tests.slice import World, all_services, hire_data

NAME, EMAIL = "Zdenka Quibbleworth", "zdenka.quibbleworth@example.com"
ABOUT = "Collector of rare Xylophone-tuning tricks"
GOALS = "Become the Wobblegong platform lead"
SECRETS = (NAME, EMAIL, ABOUT, GOALS)


def owned_stream_dirs(store: Path, region: str) -> list[Path]:
    """The on-disk directories of every stream membership or content owns or writes."""
    streams = store / "$G" / "streams"
    suffix = region.upper()
    shared_streams = {
        f"{name}_{suffix}"
        for name in (
            "EVENTS",
            "INGEST",
            "PERSONAL",
            "DLQ",
            "DLQ_ORIGINALS",
            "SNAPSHOTS",
            "ADVISORIES",
        )
    }
    return [
        d
        for d in streams.iterdir()
        if d.name in shared_streams
        or (d.name.startswith(("KV_membership_", "KV_content_")) and d.name.endswith(region))
    ]


def raw_hits(directories: list[Path]) -> list[str]:
    hits = []
    for directory in directories:
        for path in directory.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                hits += [
                    f"{path.relative_to(directory.parent)}: {s!r}"
                    for s in SECRETS
                    if s.encode() in data
                ]
    return hits


async def test_after_erasure_no_owned_store_holds_the_personal_data(nats_server, region):
    url = nats_server.url
    nc = await nats.connect(url)
    world = World(nc, region)
    apps = all_services(region, url)
    async with running(*apps):
        await world.hire(hire_data("fac", "Lena Vogel", "eu", "Europe/Berlin", {"go": "expert"}))
        await world.hire(
            {**hire_data("zq", NAME, "eu", "Europe/Prague", {"go": "advanced"}), "email": EMAIL}
        )
        await world.wait_for_members("fac", "zq")
        await world.cmd(
            "membership",
            "create_community",
            {"actor_id": "fac", "community_id": "golang", "name": "Go"},
        )
        await world.cmd(
            "membership",
            "create_community",
            {"actor_id": "fac", "community_id": "gated", "name": "Gated", "access": "gated"},
        )
        await world.cmd(
            "membership", "join_community", {"member_id": "zq", "community_id": "golang"}
        )
        await world.cmd(
            "membership",
            "request_to_join",
            {"member_id": "zq", "community_id": "gated", "message": f"Hi, {NAME} here"},
        )
        await world.cmd(
            "membership",
            "update_profile",
            {
                "member_id": "zq",
                "about": ABOUT,
                "request_id": "profile-1",
                "mentoring_wish": {"topics": ["leadership"], "goals": GOALS},
            },
        )
        await world.publish(
            "guild.ingest.hr.person_changed.v1",
            {"person_id": "zq", "display_name": NAME, "team": "Platform"},
            event_id=None,
            msg_id=True,
            source="/hr",
        )
        # an HR event membership cannot read: dead-lettered, with the name in it
        await publish_raw(
            nc,
            f"ingest.{region}.hr.person_changed.v1",
            json.dumps(
                {
                    "specversion": "1.0",
                    "id": "broken",
                    "source": "/hr",
                    "type": "guild.ingest.hr.person_changed.v1",
                    "data": {"person_id": "zq", "display_name": NAME, "email": "not-an-email"},
                }
            ).encode(),
        )
        await world.content_sees("zq", "golang")
        post = await eventually(lambda: _question_by_zq(world), what="zq's question")
        await settled(nc, region)
        assert raw_hits(owned_stream_dirs(nats_server.store_dir, region)), (
            "the test must first find the data it then expects erased"
        )

        await world.publish(
            "guild.ingest.hr.erasure_requested.v1",
            {"person_id": "zq", "request_ref": "PRIV-2026-17"},
            event_id=None,
            msg_id=True,
            source="/privacy-office",
        )

        async def erased():
            return await events_of_type(nc, Streams(region).events, m.MemberErasedV1.TYPE)

        (erasure,) = await eventually(erased, what="erasure event")
        assert erasure["data"]["member"] == {"member_id": "zq", "home_region": region}
        assert erasure["data"]["request_ref"] == "PRIV-2026-17"
        await settled(nc, region)
        gone = await world.refused(
            "qry", "membership", "get_member", {"viewer_id": "fac", "member_id": "zq"}
        )
        assert gone["code"] == "not_found"
        kept = await world.qry("content", "get_post", {"viewer_id": "fac", "post_id": post})
        assert kept["post"]["author_id"].startswith("erased-")
    await nc.drain()
    nats_server.stop()  # everything JetStream holds is on disk now

    assert raw_hits(owned_stream_dirs(nats_server.store_dir, region)) == []


async def _question_by_zq(world):
    reply = await world.reply(
        "cmd",
        "content",
        "post_question",
        {
            "actor_id": "zq",
            "community_id": "golang",
            "title": "Generics or interfaces?",
            "text": "When do you reach for generics?",
            "tags": ["go"],
        },
    )
    return reply["result"]["post_id"] if reply["ok"] else None
