"""The inbox items of one event to many members are written from JSON made once for all of
them (issue 12: a pydantic item validated and written per member of a fan-out), and read
exactly as the contract writes them."""

from __future__ import annotations

from dataclasses import replace

import pytest
from pydantic import ValidationError

from services.notifications.channels.inbox import InboxChannel
from services.notifications.domain.model import Dispatch, Notification, Reason, Recipient
from shared.contracts.notifications import InboxItem


def dispatch(member_id: str, title: str = "New question in Platform: Which CNI?") -> Dispatch:
    notification = Notification(recipient=Recipient(member_id, "eu"), kind="new_question",
                                title=title, body='bob asked: "Which CNI?"\n\nÜber alles',
                                reasons=(Reason("community:c1", "you are a member of Platform"),
                                         Reason("tag:k8s", "you follow k8s")))  # fmt: skip
    return Dispatch(f'id-"{member_id}"', "posted-1", "question_posted", "inbox", notification)


def test_the_items_of_one_event_share_what_they_have_in_common_byte_for_byte():
    channel = InboxChannel(None, "eu")  # type: ignore[arg-type]
    first = InboxItem.model_validate_json(channel.item_json(dispatch("m001")))

    written = channel.item_json(dispatch("m002"))

    second = InboxItem.model_validate_json(written)
    assert second == first.model_copy(update={"notification_id": 'id-"m002"', "member_id": "m002"})
    assert written == second.model_dump_json().encode()


def test_another_text_is_written_anew_and_a_member_id_is_still_checked():
    channel = InboxChannel(None, "eu")  # type: ignore[arg-type]
    channel.item_json(dispatch("m001"))

    other = InboxItem.model_validate_json(channel.item_json(dispatch("m002", title="Another")))

    assert other.title == "Another"
    written = channel.item_json(replace(dispatch("m003", title="Another"), notification_id="0f3a"))
    plain = InboxItem.model_validate_json(written)
    assert (plain.notification_id, plain.member_id) == ("0f3a", "m003")
    assert written == plain.model_dump_json().encode()
    with pytest.raises(ValidationError):
        channel.item_json(dispatch("not an id", title="Another"))
