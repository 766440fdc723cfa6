"""The rule that tells a member of one topic (a question) once, whatever events bring it."""

from __future__ import annotations

import pytest

from services.notifications.domain.model import Delivery, tell_once
from services.notifications.domain.preferences import Action

AT = "2026-12-01T10:00:00+00:00"


def told(action: Action, cause: str = "posted") -> Delivery:
    return Delivery(action, AT, cause_id=cause)


@pytest.mark.parametrize(
    ("earlier", "now", "expected"),
    [
        (None, Action.DIGEST, (True, None)),  # the first to tell
        (told(Action.NOW), Action.NOW, (False, None)),  # it reached her inbox: not again
        (told(Action.OVERFLOW), Action.NOW, (False, None)),
        (told(Action.DEFER), Action.DIGEST, (False, None)),
        (told(Action.DIGEST), Action.NOW, (True, "posted")),  # takes the digest item's place
        (told(Action.DIGEST), Action.DEFER, (True, "posted")),
        (told(Action.DIGEST), Action.DIGEST, (False, None)),  # one digest item is enough
        (told(Action.SUPPRESS), Action.DIGEST, (True, None)),  # not sent: gives way
        (told(Action.NOW, cause="routed"), Action.NOW, (True, None)),  # its own redelivery
    ],
)
def test_a_topic_is_told_once_by_the_most_pressing_notification(earlier, now, expected):
    assert tell_once(earlier, "routed", now) == expected
