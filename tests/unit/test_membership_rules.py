"""Membership's rules without I/O: registering a hire, who may see a community, joining."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from services.membership.domain import model
from services.membership.domain.model import (
    ACTIVE,
    DEPARTED,
    GATED,
    PRIVATE,
    PUBLIC,
    SNOOZED,
    ApprovalRequired,
    Community,
    InvalidChange,
    Member,
    Skill,
    UnknownCommunity,
)

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def hire(member_id: str = "ana", **fields: object) -> Member:
    values: dict[str, object] = {
        "member_id": member_id,
        "home_region": "eu",
        "region": "eu",
        "timezone": "Europe/Berlin",
        "display_name": "Ana Example",
        "email": "ana@example.com",
        "skills": (Skill("go", "advanced"),),
        "languages": ("en",),
        "title": "Engineer",
        "manager_id": None,
        "registered_at": NOW,
    } | fields
    return Member(**values)  # type: ignore[arg-type]


def community(access: str = PUBLIC, **fields: object) -> Community:
    values: dict[str, object] = {
        "community_id": "k8s",
        "home_region": "eu",
        "name": "Kubernetes Operators",
        "description": "",
        "access": access,
        "topics": ("kubernetes",),
        "facilitator_ids": ("fac",),
        "created_at": NOW,
    } | fields
    return Community(**values)  # type: ignore[arg-type]


# ------------------------------------------------------------------ register


def test_register_stores_a_new_hire_as_reported():
    candidate = hire()
    assert model.register(None, candidate) is candidate


def test_register_takes_hr_data_but_keeps_what_the_member_said_themselves():
    existing = replace(
        hire(skills=(Skill("rust", "expert"),), about="I run the platform team"),
        registered_at=datetime(2025, 1, 1, tzinfo=UTC),
    )
    again = hire(display_name="Ana B. Example", title="Lead", skills=(Skill("go", "beginner"),))
    member = model.register(existing, again)
    assert (member.display_name, member.title) == ("Ana B. Example", "Lead")
    assert member.skills == (Skill("rust", "expert"),)
    assert member.about == "I run the platform team"
    assert member.registered_at == existing.registered_at


def test_register_takes_the_hires_skills_when_the_member_declared_none():
    member = model.register(hire(skills=()), hire(skills=(Skill("go", "advanced"),)))
    assert member.skills == (Skill("go", "advanced"),)


def test_register_makes_a_departed_member_who_is_hired_again_active():
    assert model.register(hire(status=DEPARTED), hire()).status == ACTIVE


def test_register_keeps_a_snooze():
    assert model.register(hire(status=SNOOZED), hire()).status == SNOOZED


# ------------------------------------------------------------------ can_see


@pytest.mark.parametrize(
    ("access", "is_member", "seen"),
    [
        (PUBLIC, False, True),
        (GATED, False, True),
        (PRIVATE, False, False),
        (PRIVATE, True, True),
    ],
)
def test_only_a_private_community_is_hidden_and_only_from_non_members(access, is_member, seen):
    assert model.can_see(community(access), is_member) is seen


def test_a_community_hidden_from_the_viewer_is_unknown_to_them():
    with pytest.raises(UnknownCommunity):
        model.require_visible("k8s", community(PRIVATE), viewer_is_member=False)
    with pytest.raises(UnknownCommunity):
        model.require_visible("k8s", None, viewer_is_member=False)
    model.require_visible("k8s", community(PRIVATE), viewer_is_member=True)


# ------------------------------------------------------------------ joining


def test_anyone_joins_a_public_community_and_a_facilitator_joins_with_the_role():
    assert model.join_directly(community(), hire(), NOW).role == "member"
    assert model.join_directly(community(), hire("fac"), NOW).role == "facilitator"


def test_joining_a_gated_community_needs_approval():
    with pytest.raises(ApprovalRequired):
        model.join_directly(community(GATED), hire(), NOW)


def test_joining_a_private_community_answers_as_if_it_did_not_exist():
    """Its existence is for its members only, so an outsider gets not_found, not forbidden."""
    with pytest.raises(UnknownCommunity):
        model.join_directly(community(PRIVATE), hire(), NOW)


def test_nobody_joins_an_archived_community_or_after_leaving_the_company():
    with pytest.raises(InvalidChange):
        model.join_directly(community(archived=True), hire(), NOW)
    with pytest.raises(InvalidChange):
        model.join_directly(community(), hire(status=DEPARTED), NOW)
