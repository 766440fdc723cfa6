"""One key per (cause, member, channel): the ledger's key and the inbox item's id."""

from __future__ import annotations

from services.notifications.domain.model import delivery_key


def test_the_same_cause_member_and_channel_always_give_the_same_key():
    assert delivery_key("e1", "m1", "inbox") == delivery_key("e1", "m1", "inbox")


def test_any_difference_gives_another_key():
    keys = {
        delivery_key("e1", "m1", "inbox"),
        delivery_key("e2", "m1", "inbox"),
        delivery_key("e1", "m2", "inbox"),
        delivery_key("e1", "m1", "console"),
        delivery_key("e1m", "1", "inbox"),
    }
    assert len(keys) == 5
