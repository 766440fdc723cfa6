"""What a member reads: a link to the post each message is about, through the portal's URL
template (checked at start-up), and one way to turn off each distinct reason."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.notifications.domain.links import DEFAULT_PORTAL_URL, Links
from services.notifications.domain.model import Post, Reason, turn_offs
from services.notifications.settings import NotificationsSettings


def test_a_message_links_to_its_post_through_the_portal_template():
    portal = "https://intranet.example/guild/{community_id}/q/{post_id}?via=mail"
    links = Links("http://127.0.0.1:8083", portal_url=portal)
    url = links.post(Post("q 1/2", "platform", "Open the question"))
    assert url == "https://intranet.example/guild/platform/q/q%201%2F2?via=mail"
    assert "{post_id}" in DEFAULT_PORTAL_URL
    assert Links("http://x").post(Post("p1", "c1")) == DEFAULT_PORTAL_URL.format(
        post_id="p1", community_id="c1"
    )


@pytest.mark.parametrize(
    ("template", "said"),
    [
        ("https://intranet.example/guild/{community_id}", "{post_id}"),
        ("https://intranet.example/{post}", "post"),
        ("https://intranet.example/{post_id", "template"),
        ("ftp://intranet.example/{post_id}", "http"),
        ("https:///posts/{post_id}", "host"),
        ("https://intranet.example/{post_id.__class__}", "post_id"),
    ],
)
def test_a_portal_template_that_cannot_make_a_link_is_refused_at_start_up(template, said):
    with pytest.raises(ValidationError, match=said):
        NotificationsSettings(region="eu", portal_url=template)
    assert NotificationsSettings(region="eu").portal_url == DEFAULT_PORTAL_URL


def test_turn_off_links_are_one_per_distinct_reason_named_after_what_they_turn_off():
    reasons = (
        Reason("kind:question_for_you", "answered 6 questions on kubernetes, 2 accepted"),
        Reason("kind:question_for_you", "working hours now (10:30 your time)"),
        Reason("mention", "bob mentioned you"),
        Reason("tag:kubernetes", "you follow kubernetes"),
        Reason("kind:unheard_of", "something new"),
    )
    assert turn_offs(reasons) == [
        ("kind:question_for_you", "Turn off: questions matched to you"),
        ("mention", "Turn off: mentions of you"),
        ("tag:kubernetes", "Turn off: you follow kubernetes"),
        ("kind:unheard_of", "Turn off: notifications like this one"),
    ]
