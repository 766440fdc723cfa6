"""The examples in docs/events.md are valid for the contracts they illustrate."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from shared.contracts import REGISTRY
from shared.contracts.content import PostQuestion
from shared.contracts.membership import CreateCommunity, JoinCommunity
from shared.contracts.notifications import GetInbox
from shared.envelope import Envelope
from shared.naming import Scope

DOC = Path(__file__).resolve().parents[2] / "docs" / "events.md"
REQUESTS = {
    "command membership.create_community": CreateCommunity,
    "command membership.join_community": JoinCommunity,
    "command content.post_question": PostQuestion,
    "query notifications.inbox": GetInbox,
}
EXAMPLE = re.compile(r"<!-- example: (?P<what>[^>]+?) -->\s*```json\n(?P<body>.*?)```", re.S)


def examples() -> list[tuple[str, Any]]:
    return [(m["what"], json.loads(m["body"])) for m in EXAMPLE.finditer(DOC.read_text())]


def test_the_document_has_examples_of_ingest_events_commands_and_queries():
    kinds = {what.split()[0] for what, _ in examples()}
    assert {"guild.ingest.hr.person_hired.v1", "command", "query"} <= kinds


@pytest.mark.parametrize(("what", "example"), examples(), ids=[w for w, _ in examples()])
def test_each_example_is_valid(what, example):
    if what in REQUESTS:
        REQUESTS[what].model_validate(example)
    else:
        envelope = Envelope[REGISTRY[what]].model_validate(example)
        assert envelope.type == what


def test_every_count_of_events_the_document_states_is_the_codes():
    own = sum(1 for contract in REGISTRY.values() if contract.SCOPE is not Scope.INGEST)
    stated = [int(n) for n in re.findall(r"\ball (\d+)\b", DOC.read_text())]
    assert all(n == own for n in stated), (stated, own)


def test_every_event_type_the_document_names_exists():
    named = set(re.findall(r"`(guild\.[a-z_.]+\.v\d+)`", DOC.read_text()))
    assert named, "the document names no event types"
    assert sorted(named - set(REGISTRY)) == []
