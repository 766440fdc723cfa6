"""Derived ids are name-based UUIDs (version 5) in Guild's namespace: an id derived before the
formatting was written by hand (stored keys, ``Nats-Msg-Id`` values in the duplicate window)
is the id derived now, for every kind of part."""

from __future__ import annotations

import uuid

import pytest

from shared.ids import GUILD_NAMESPACE, derived_id

PARTS = [
    ("question", "/chat-bot", "ref-1"),
    ("/guild/eu/content", "0c9e4f5a-0000-4000-8000-000000000000", "question_posted"),
    ("e1001",),
    ("ünïcödé", "名前", "emoji 🎉"),
    ("", ""),
    ("a" * 5000,),
]


@pytest.mark.parametrize("parts", PARTS)
def test_a_derived_id_is_the_uuid5_of_its_parts(parts: tuple[str, ...]) -> None:
    expected = uuid.uuid5(GUILD_NAMESPACE, "\x1f".join(parts))
    assert derived_id(*parts) == str(expected)
    assert uuid.UUID(derived_id(*parts)).version == 5


def test_parts_are_not_merely_concatenated() -> None:
    assert derived_id("ab", "c") != derived_id("a", "bc")


def test_a_derived_id_needs_a_part() -> None:
    with pytest.raises(ValueError, match="at least one part"):
        derived_id()
