"""Content's rules without I/O: who may see a community's content and who may post there."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.content.domain import model
from services.content.domain.model import (
    CommunityInfo,
    InvalidChange,
    MemberInfo,
    NotAllowed,
    Post,
    UnknownCommunity,
    UnknownPost,
)

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def community(access: str = "public", **fields: object) -> CommunityInfo:
    visibility = "private" if access == "private" else "public"
    values: dict[str, object] = {
        "community_id": "k8s",
        "name": "Kubernetes Operators",
        "visibility": visibility,
        "access": access,
        "facilitator_ids": ("fac",),
    } | fields
    return CommunityInfo(**values)  # type: ignore[arg-type]


def author(active: bool = True) -> MemberInfo:
    return MemberInfo(member_id="ana", home_region="eu", region="eu", active=active)


def post(**fields: object) -> Post:
    values: dict[str, object] = {
        "post_id": "p1",
        "kind": "question",
        "community_id": "k8s",
        "author_id": "ana",
        "title": "How?",
        "body": "",
        "tags": (),
        "posted_at": NOW,
        "origin": "guild",
    } | fields
    return Post(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("access", "is_member", "seen"),
    [
        ("public", False, True),
        ("gated", False, True),
        ("private", False, False),
        ("private", True, True),
    ],
)
def test_only_a_private_communitys_content_is_hidden_and_only_from_non_members(
    access, is_member, seen
):
    assert model.can_see(community(access), is_member) is seen


def test_a_hidden_post_is_seen_by_its_author_and_the_facilitators_only():
    hidden = post(hidden=True)
    assert model.can_see_post(hidden, community(), "ana", is_member=True)
    assert model.can_see_post(hidden, community(), "fac", is_member=True)
    assert not model.can_see_post(hidden, community(), "bob", is_member=True)


def test_a_deleted_post_is_seen_by_nobody():
    assert not model.can_see_post(post(deleted=True), community(), "ana", is_member=True)


def test_anyone_active_posts_in_a_public_community():
    model.require_can_post(community(), author(), is_member=False)


@pytest.mark.parametrize("access", ["gated", "private"])
def test_only_members_post_in_a_gated_or_private_community(access):
    model.require_can_post(community(access), author(), is_member=True)
    with pytest.raises(NotAllowed):
        model.require_can_post(community(access), author(), is_member=False)


def test_an_unknown_or_departed_member_does_not_post():
    with pytest.raises(NotAllowed):
        model.require_can_post(community(), None, is_member=False)
    with pytest.raises(NotAllowed):
        model.require_can_post(community(), author(active=False), is_member=True)


def test_nobody_posts_in_an_archived_community():
    with pytest.raises(InvalidChange):
        model.require_can_post(community(archived=True), author(), is_member=True)


def test_a_community_hidden_from_the_viewer_is_unknown_to_them():
    with pytest.raises(UnknownCommunity):
        model.require_visible("k8s", community("private"), viewer_is_member=False)
    with pytest.raises(UnknownCommunity):
        model.require_visible("k8s", None, viewer_is_member=True)
    assert model.require_visible("k8s", community("private"), viewer_is_member=True)


def test_only_an_offer_has_offer_details():
    with pytest.raises(UnknownPost):
        model.offer_details(post())
