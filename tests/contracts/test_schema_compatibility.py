"""Public events are a contract: within a version, fields are only ever added."""

from __future__ import annotations

import copy
import json

import pytest

from shared.contracts import REGISTRY
from tests.contracts.schema_snapshots import (
    current_schema,
    incompatibilities,
    snapshot_path,
)


@pytest.mark.parametrize("event_type", sorted(REGISTRY))
def test_every_contract_is_compatible_with_its_recorded_schema(event_type):
    path = snapshot_path(event_type)
    assert path.exists(), (
        f"no schema snapshot for {event_type}; run: python -m tests.contracts.schema_snapshots"
    )
    assert incompatibilities(json.loads(path.read_text()), current_schema(event_type)) == []


def test_every_contract_field_is_described():
    for event_type, contract in REGISTRY.items():
        for name, field in contract.model_fields.items():
            assert field.description, f"{event_type}.{name} has no description"


def test_the_check_catches_removed_retyped_and_newly_required_fields():
    old = current_schema("guild.ingest.hr.person_hired.v1")
    new = copy.deepcopy(old)
    del new["properties"]["title"]
    new["properties"]["region"] = {"type": "integer"}
    new["required"].append("languages")
    assert sorted(incompatibilities(old, new)) == [
        "(root).languages: now required (old publishers do not send it)",
        "(root).region: type changed",
        "(root).title: removed",
    ]


def test_adding_an_optional_field_is_compatible():
    old = current_schema("guild.ingest.hr.person_hired.v1")
    new = copy.deepcopy(old)
    new["properties"]["nickname"] = {"type": "string", "default": ""}
    assert incompatibilities(old, new) == []
