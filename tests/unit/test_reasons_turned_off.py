"""A reason the member turned off is gone from their notification: it is not listed, offers
no turn-off link, and neither it nor the kind it gave the notification makes it interrupt
them (issue 12: before, a question mentioning someone who had turned mentions off still
interrupted them as a high-priority mention, and listed the mention)."""

from __future__ import annotations

from datetime import UTC, datetime

from services.notifications.domain.model import Notification, Reason, Recipient, verdict_for
from services.notifications.domain.preferences import Action, Preferences, Priority

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # 11:00 in Berlin: no quiet hours
MENTION = Reason("mention", "bob mentioned you")
TAG = Reason("tag:kubernetes", "you follow kubernetes")
COMMUNITY = Reason("community:c1", "you are a member of Community c1")


def mention_in_community(*reasons: Reason) -> Notification:
    return Notification(
        recipient=Recipient("ana", "eu"),
        kind="mention",
        title="bob mentioned you in Community c1: Rotating certificates?",
        body="...",
        reasons=reasons,
        community_id="c1",
        for_me=True,
        general=("new_question", "New question in Community c1: Rotating certificates?"),
    )


def verdict(notification: Notification, prefs: Preferences, spent: int = 0) -> Action:
    return verdict_for(prefs, notification, now=NOW, interruptions_today=spent).action


def test_a_turned_off_mention_is_not_listed_and_does_not_make_it_interrupt() -> None:
    prefs = Preferences(timezone="Europe/Berlin", reasons_off=frozenset({"mention"}))
    seen = mention_in_community(MENTION, COMMUNITY).without(prefs.reasons_off)

    assert seen.reasons == (COMMUNITY,)
    assert (seen.kind, seen.title) == ("new_question", "New question in Community c1: "
                                       "Rotating certificates?")  # fmt: skip
    assert seen.priority < Priority.HIGH  # a new question's, not a mention's
    assert not seen.for_me  # only the community is left: what the watch level says of it
    assert verdict(seen, prefs) is Action.DIGEST  # default watch: for-me items only
    # with the mention on, the same question interrupts her, over budget too (high priority)
    on = Preferences(timezone="Europe/Berlin")
    kept = mention_in_community(MENTION, COMMUNITY).without(on.reasons_off)
    assert kept.reasons == (MENTION, COMMUNITY)
    assert verdict(kept, on, spent=on.daily_budget) is Action.NOW


def test_a_turned_off_tag_leaves_the_mention_that_is_still_on() -> None:
    prefs = Preferences(timezone="Europe/Berlin", reasons_off=frozenset({"tag:kubernetes"}))
    seen = mention_in_community(MENTION, TAG, COMMUNITY).without(prefs.reasons_off)

    assert seen.reasons == (MENTION, COMMUNITY)
    assert seen.kind == "mention"
    assert seen.for_me


def test_every_reason_turned_off_is_still_suppressed_with_its_reason() -> None:
    prefs = Preferences(timezone="Europe/Berlin",
                        reasons_off=frozenset({"mention", "community:c1"}))  # fmt: skip
    seen = mention_in_community(MENTION, COMMUNITY).without(prefs.reasons_off)

    assert verdict(seen, prefs) is Action.SUPPRESS
