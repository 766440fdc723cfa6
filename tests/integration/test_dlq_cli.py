"""``guild dlq``: a letter's original is replayed byte for byte from where the letter keeps it
(not from the letter's excerpt), replayed letters are marked, a selection can be replayed, and
mistakes are one-line errors."""

from __future__ import annotations

import asyncio
import json

from typer.testing import CliRunner, Result

from guild_cli.main import app as cli
from services.membership.bootstrap import build_app
from services.membership.settings import MembershipSettings
from shared.messaging.consumer import StoredOriginal, bounded_letter
from shared.naming import Service, dead_letter_subject
from tests import access
from tests.helpers import cloudevent, dead_letters, eventually, running, settings_for
from tests.slice import World, hire_data

CHANGED = "guild.ingest.hr.person_changed.v1"
HR_CONSUMER = "membership-ingest-hr-directory"


async def guild(nats_url: str, region: str, *args: str) -> Result:
    runner = CliRunner()
    options = ["--nats-url", nats_url, "--region", region]
    env = access.operator_environment(region)
    return await asyncio.to_thread(runner.invoke, cli, ["dlq", *args, *options], env=env)


async def region_of(world: World, member_id: str) -> str | None:
    reply = await world.reply(
        "qry", "membership", "get_member", {"viewer_id": member_id, "member_id": member_id}
    )
    return reply["result"]["profile"]["region"] if reply["ok"] else None


async def test_a_replay_after_the_cause_is_fixed_reads_the_original_and_marks_the_letter(
    nc, nats_url, region
):
    world = World(nc, region)
    change = {"person_id": "ana", "region": "us"}
    padding = "p" * (nc.max_payload - 2_000)  # an extension attribute: the letter is an excerpt
    async with running(build_app(settings_for(MembershipSettings, region, nats_url))):
        event = {**cloudevent(CHANGED, change, source="/hr-directory"), "padding": padding}
        await nc.jetstream().publish(f"ingest.{region}.hr-directory.hr.person_changed.v1",
                                     json.dumps(event).encode(),
                                     headers={"Nats-Msg-Id": event["id"]})  # fmt: skip
        (letter,) = await eventually(lambda: dead_letters(nc, region), what="the change given up")
        assert "is not registered (yet)" in letter.reason
        assert letter.body_truncated

        await world.hire(hire_data("ana", "Ana", "eu", "Europe/Lisbon", {}))
        (ana,) = await world.wait_for_members("ana")
        replayed = await guild(nats_url, region, "replay", "--consumer", HR_CONSUMER)
        assert replayed.exit_code == 0, replayed.output
        assert "1 dead letter(s) replayed" in replayed.output
        await eventually(lambda: _is(region_of(world, ana), "us"), what="the change applied")

        listed = await guild(nats_url, region, "list", "--json")
        again = await guild(nats_url, region, "replay", "--all")
    assert listed.exit_code == 0, listed.output
    (shown,) = json.loads(listed.stdout)
    assert shown["event_id"] == event["id"]
    assert len(shown["replays"]) == 1
    assert shown["replays"][0]["replayed_at"]
    assert "0 dead letter(s) replayed" in again.output  # a filter leaves out replayed letters


async def _is(value: object, expected: object) -> bool:
    return await value == expected  # type: ignore[misc]


async def test_dlq_mistakes_are_one_line_errors_not_tracebacks(nc, nats_url, region):
    async with running(build_app(settings_for(MembershipSettings, region, nats_url))):
        missing = await guild(nats_url, region, "replay", "999")
        nothing = await guild(nats_url, region, "replay")
        bad_time = await guild(nats_url, region, "replay", "--since", "yesterday")
    for result in (missing, nothing, bad_time):
        assert result.exit_code != 0
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert "Traceback" not in result.output
        assert len(result.output.strip().splitlines()) == 1, result.output
    assert "no dead letter with sequence 999" in missing.output


async def test_a_replay_that_fails_again_says_why_on_the_full_subject(nc, nats_url, region):
    subject = (
        f"ingest.{region}.hr-directory.hr.{'k' * 600}.v1"  # longer than a letter's 512 characters
    )
    event = cloudevent("guild.ingest.hr.unknown.v1", {"person_id": "ana"}, source="/hr-directory")
    async with running(build_app(settings_for(MembershipSettings, region, nats_url))):
        await nc.jetstream().publish(subject, json.dumps(event).encode(),
                                     headers={"Nats-Msg-Id": event["id"]})  # fmt: skip
        (letter,) = await eventually(lambda: dead_letters(nc, region), what="the letter")
        assert letter.original is not None
        replayed = await guild(nats_url, region, "replay", "--all")
        listed = await guild(nats_url, region, "list", "--json")
    assert replayed.exit_code == 1, replayed.output
    assert "0 dead letter(s) replayed" in replayed.output
    assert "event type 'guild.ingest.hr.unknown.v1' does not belong on " + subject in (
        replayed.output.replace("\n", "")
    )
    (shown,) = json.loads(listed.stdout)
    assert shown["replays"] == []  # a replay that failed leaves the letter as it was


async def test_every_letter_is_read_however_many_there_are(nc, nats_url, region):
    js = nc.jetstream()
    subject = dead_letter_subject(region, Service.MEMBERSHIP, HR_CONSUMER)
    original = StoredOriginal(f"ingest.{region}.hr-directory.hr.x.v1", {}, b"{}")
    letter = bounded_letter(original, service="membership",
                            consumer=HR_CONSUMER, stream="INGEST_HR_DIRECTORY_EU",
                            sequence=1, deliveries=1,
                            reason="why", error_type="PoisonMessage", kept=None)  # fmt: skip
    body = letter.model_dump_json().encode()
    count = 10_050
    async with running(build_app(settings_for(MembershipSettings, region, nats_url))):
        for start in range(0, count, 500):
            batch = range(start, min(start + 500, count))
            await asyncio.gather(*(js.publish(subject, body) for _ in batch))
        listed = await guild(nats_url, region, "list", "--json", "--limit", str(count + 1))
        newest = await guild(nats_url, region, "replay", str(count))
    assert listed.exit_code == 0, listed.output
    assert len(json.loads(listed.stdout)) == count
    # found and run again by membership (its original, "{}", is no CloudEvent: it fails again)
    assert f"dead letter {count}: JSON body has no 'specversion'" in newest.output
