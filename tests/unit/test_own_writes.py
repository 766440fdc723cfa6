"""Matching's read models take a handler's own write at once, and the follower's later copies
of the bucket's changes neither undo it (an older value delivered late) nor hide what another
writer stored after it; a write that fails or is refused is taken back from the bucket."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from shared.own_writes import OwnWrites, Stored
from shared.readmodel import Table


def table() -> tuple[Table[str], OwnWrites]:
    model: Table[str] = Table(str, "test-1")
    return model, OwnWrites(model)


def confirmed(revision: int | None) -> Callable[[], Awaitable[int | None]]:
    async def stored() -> int | None:
        return revision

    return stored


def held_back(revision: int) -> tuple[asyncio.Event, Callable[[], Awaitable[int]]]:
    """A write whose PubAck arrives when the returned event is set."""
    gate = asyncio.Event()

    async def stored() -> int:
        await gate.wait()
        return revision

    return gate, stored


def bucket_holds(value: bytes | None, revision: int | None) -> Callable[[], Awaitable[Stored]]:
    async def read() -> Stored:
        return value, revision

    return read


async def test_a_write_is_in_the_model_before_it_is_confirmed_and_its_copy_changes_nothing():
    model, own = table()
    gate, stored = held_back(7)
    writing = asyncio.ensure_future(own.write("k", b'"mine"', stored, bucket_holds(None, None)))
    assert model.get("k") == "mine"  # at once, before any await
    gate.set()
    assert await writing == 7
    own.apply_at("k", b'"older"', 5)  # delivered late: stored before ours
    own.apply_at("k", b'"mine"', 7)
    assert model.get("k") == "mine"
    own.apply_at("k", b'"theirs"', 9)  # after ours: applied
    assert model.get("k") == "theirs"


async def test_changes_delivered_before_the_revision_is_known_are_applied_only_if_newer():
    model, own = table()
    gate, stored = held_back(10)
    writing = asyncio.ensure_future(own.write("k", b'"mine"', stored, bucket_holds(None, None)))
    own.apply_at("k", b'"older"', 4)
    assert model.get("k") == "mine"
    gate.set()
    await writing
    assert model.get("k") == "mine"

    newer = own.write("k", b'"mine again"', confirmed(20), bucket_holds(None, None))
    own.apply_at("k", b'"someone else, later"', 25)  # our revision 20 not known yet
    await newer
    assert model.get("k") == "someone else, later"


async def test_a_failed_write_is_taken_back_to_what_the_bucket_holds():
    model, own = table()
    own.apply_at("k", b'"stored"', 3)

    async def fails() -> int:
        raise TimeoutError("no PubAck")

    with pytest.raises(TimeoutError):
        await own.write("k", b'"mine"', fails, bucket_holds(b'"stored"', 3))
    assert model.get("k") == "stored"
    own.apply_at("k", b'"stored"', 3)  # the follower's copy of what the bucket held
    assert model.get("k") == "stored"


async def test_a_refused_create_leaves_the_model_with_what_was_stored():
    model, own = table()
    revision = await own.write("k", b'"mine"', confirmed(None), bucket_holds(b'"first"', 2))
    assert revision is None
    assert model.get("k") == "first"
    own.apply_at("k", b'"first"', 2)
    own.apply_at("k", b'"next"', 6)
    assert model.get("k") == "next"


async def test_a_delete_is_in_the_model_at_once_and_an_older_value_does_not_come_back():
    model, own = table()
    own.apply_at("k", b'"held"', 1)
    await own.write("k", None, confirmed(4), bucket_holds(None, None))
    assert model.get("k") is None
    own.apply_at("k", b'"held again, earlier"', 3)
    assert model.get("k") is None


async def test_a_compare_and_set_write_is_in_the_model_and_its_copy_skipped():
    model, own = table()
    own.stored("k", b'"cas"', 8)
    own.apply_at("k", b'"before"', 7)
    assert model.get("k") == "cas"
    own.apply_at("k", b'"after"', 9)
    assert model.get("k") == "after"


async def test_a_compare_and_set_write_the_follower_brought_first_is_not_applied_again():
    model = Counted(str, "test-1")
    own = OwnWrites(model)
    own.apply_at("k", b'"cas"', 8)  # the follower was quicker than the handler's PubAck
    own.stored("k", b'"cas"', 8)
    assert model.applied == [("k", b'"cas"')]


class Counted(Table[str]):
    """A table that notes every change applied to it."""

    def __init__(self, value_type: type[str], version: str) -> None:
        super().__init__(value_type, version)
        self.applied: list[tuple[str, bytes | None]] = []

    def apply(self, key: str, value: bytes | None) -> None:
        self.applied.append((key, value))
        super().apply(key, value)
