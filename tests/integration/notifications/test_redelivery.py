"""An event's writes go out together (pipelined); a handler that fails half-way through them
is retried, and the redelivered event sends nothing twice: every member has one inbox item
and one push. Failures are injected once, at the inbox and at the ledger."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from guild_cli.receivers import HttpReceiver
from services.notifications.channels.inbox import InboxChannel
from services.notifications.domain.model import PART_KEYS
from shared.storage import KvStore
from tests.helpers import eventually, settled

MEMBERS = [f"m{k:02d}" for k in range(12)]


class Crash(Exception):
    """Injected: the handler fails here once."""


def fail_once(original, after: int, counts=lambda *args: True):
    """``original`` (an async method) that raises :class:`Crash` on call number ``after`` of
    those ``counts`` holds for."""
    calls = Counter()

    async def failing(self, *args, **kwargs):
        calls["n"] += counts(*args)
        if calls["n"] == after and counts(*args):
            raise Crash(f"injected at call {after}")
        return await original(self, *args, **kwargs)

    return failing, calls


@pytest.mark.parametrize("where", ["inbox", "ledger"])
async def test_a_question_redelivered_after_a_crash_half_way_reaches_each_member_once(
    notifications, monkeypatch, where
):
    n = notifications
    await n.member("bob")
    async with HttpReceiver() as receiver:
        for member_id in MEMBERS:
            await n.member(member_id, interests=("kubernetes",))  # for them: pushed at once
            await n.prefer(member_id, quiet_hours=None)
            await n.webhook(member_id, f"{receiver.url}/{member_id}")
        if where == "inbox":
            failing, calls = fail_once(InboxChannel.send, after=len(MEMBERS) // 2)
            monkeypatch.setattr(InboxChannel, "send", failing)
        else:  # the ledger's one write for the part's members: its record
            failing, calls = fail_once(KvStore.create, after=1,
                                       counts=lambda key, _: key.startswith(PART_KEYS))  # fmt: skip
            monkeypatch.setattr(KvStore, "create", failing)

        cause = await n.question("bob", "Which CNI?", tags=("kubernetes",))

        async def everyone_told():
            found = [[i for i in await n.inbox(m) if i.cause_id == cause] for m in MEMBERS]
            return found if all(found) else None

        await eventually(everyone_told, what="every member's inbox item")
        await receiver.wait_for(len(MEMBERS))
        await settled(n.nc, n.region)
        assert calls["n"] > (len(MEMBERS) // 2 if where == "inbox" else 1)  # failed once, went on
        for member_id in MEMBERS:
            items = [i for i in await n.inbox(member_id) if i.cause_id == cause]
            assert len(items) == 1, member_id
        pushed = Counter(r.path.strip("/") for r in receiver.requests)
        assert pushed == dict.fromkeys(MEMBERS, 1)
        ids = {r.headers["webhook-id"] for r in receiver.requests}
        assert len(ids) == len(MEMBERS)
        titles = {json.loads(r.body)["data"]["title"] for r in receiver.requests}
        assert titles == {"New question in Community c1: Which CNI?"}
