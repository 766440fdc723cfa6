"""A moving member's handover: sealed for one member, pair of regions and part; refused
without a keyring, to a region that is no peer, or in clear; split into parts that fit."""

from __future__ import annotations

import base64
from dataclasses import replace

import pytest

from services.notifications.domain.audience import Audience
from shared.contracts.handover import HandoverEntry
from shared.contracts.membership import MemberHandoverV1
from shared.contracts.notifications import NotificationsHandoverV1
from shared.moves import PART_BYTES, MoveRefused, Moves, in_parts
from shared.naming import handover_subject, handovers_from, handovers_to
from shared.sealing import Keyring, SealingError, new_key_line

KEYS = Keyring.parse(new_key_line("h1"), "test")
RECORDS = [HandoverEntry(bucket="members", key="m-1", value='{"display_name": "Ana Lima"}')]


def handover(**changes: object) -> MemberHandoverV1:
    made = MemberHandoverV1.of(RECORDS, KEYS, member_id="m-1", from_region="eu", to_region="us")
    return made.model_copy(update=changes)


def test_a_handover_holds_nothing_in_clear_and_opens_with_the_keyring() -> None:
    sent = handover()
    assert "Ana Lima" not in sent.model_dump_json()
    assert sent.entries(KEYS) == RECORDS
    assert sent.subject == "handover.eu.us.membership.member_handover.v1.m-1"


@pytest.mark.parametrize(
    "changes",
    [{"member_id": "m-2"}, {"to_region": "apac"}, {"from_region": "us"}, {"part": 2}],
)
def test_a_sealed_handover_does_not_open_as_another_members_or_regions_or_part(
    changes: dict[str, object],
) -> None:
    with pytest.raises(SealingError):
        handover(**changes).entries(KEYS)


def test_another_keyring_or_another_services_type_does_not_open_it() -> None:
    with pytest.raises(SealingError):
        handover().entries(Keyring.parse(new_key_line("h1"), "other"))
    sent = handover()
    as_notifications = NotificationsHandoverV1(**sent.model_dump())
    with pytest.raises(SealingError):
        as_notifications.entries(KEYS)


def test_a_handover_in_clear_is_refused() -> None:
    plain = base64.b64encode(b'[{"bucket": "members", "key": "m-1", "value": "{}"}]').decode()
    with pytest.raises(SealingError, match="not sealed"):
        handover(sealed=plain).entries(KEYS)


def test_a_move_needs_a_peer_region_and_the_handover_keyring() -> None:
    assert Moves(("us",), KEYS).keys_for("us") is KEYS
    with pytest.raises(MoveRefused, match="'mars' is not a peer"):
        Moves(("us",), KEYS).keys_for("mars")
    with pytest.raises(MoveRefused, match="no handover keyring"):
        Moves(("us",), None).keys_for("us")


def test_handover_subjects_reach_the_destination_alone() -> None:
    subject = handover_subject("eu", "us", MemberHandoverV1.TYPE, "m-1")
    arrivals, departures = (
        handovers_to("us", MemberHandoverV1.TYPE),
        handovers_from("eu", MemberHandoverV1.TYPE),
    )
    assert arrivals == "handover.*.us.membership.member_handover.v1.*"
    assert departures == "handover.eu.*.membership.member_handover.v1.*"
    assert subject.startswith("handover.eu.us.")


def test_records_go_in_parts_that_each_fit_and_keep_their_order() -> None:
    big = [HandoverEntry(bucket="inbox", key=str(n), value="x" * 100_000) for n in range(7)]
    parts = in_parts(big)
    assert [len(p) for p in parts] == [2, 2, 2, 1]
    assert [e for p in parts for e in p] == big
    assert all(sum(len(e.value) for e in p) <= PART_BYTES for p in parts)
    assert in_parts([]) == [[]]  # a member with nothing kept still gets one (empty) part


def test_a_handed_over_audience_keeps_the_newer_profile_and_every_community() -> None:
    learned_here = Audience("m-1", "America/New_York", ("go",), ("k8s",), revision=9)
    brought = Audience("m-1", "Europe/Lisbon", ("sre",), ("sre", "k8s"), revision=5)
    merged = learned_here.merged(brought)
    assert (merged.timezone, merged.interests, merged.revision) == ("America/New_York", ("go",), 9)
    assert merged.communities == ("k8s", "sre")
    assert brought.merged(learned_here) == replace(learned_here, communities=("sre", "k8s"))


def test_a_handover_that_opens_but_holds_no_records_is_refused() -> None:
    context = "handover/guild.membership.member_handover.v1/m-1/eu->us/1"
    sealed = base64.b64encode(KEYS.seal(b'{"not": "a list of records"}', context)).decode()
    with pytest.raises(SealingError, match="does not hold records"):
        handover(sealed=sealed).entries(KEYS)
