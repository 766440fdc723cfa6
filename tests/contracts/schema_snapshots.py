"""Snapshots of every contract's JSON schema, and the rule that keeps them compatible.

Run ``python -m tests.contracts.schema_snapshots`` to record the schema of a contract that
has no snapshot yet (for example a new ``...v2``). Existing snapshots are never rewritten:
within a version, a contract may only grow.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from shared.contracts import REGISTRY

SNAPSHOTS = Path(__file__).parent / "schemas"
IGNORED_KEYS = {"description", "title", "default", "examples"}


def snapshot_path(event_type: str) -> Path:
    return SNAPSHOTS / f"{event_type}.json"


def current_schema(event_type: str) -> dict[str, Any]:
    return REGISTRY[event_type].model_json_schema()


def _definitions(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = {"(root)": schema}
    found.update(schema.get("$defs", {}))
    return found


def _shape(node: Any) -> Any:
    """A property's schema without the words: what a field *is*, not how it is described."""
    if isinstance(node, dict):
        return {k: _shape(v) for k, v in node.items() if k not in IGNORED_KEYS}
    if isinstance(node, list):
        return [_shape(v) for v in node]
    return node


def incompatibilities(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What a change breaks: removed or retyped fields, or fields that became required."""
    problems = []
    new_definitions = _definitions(new)
    for name, old_definition in _definitions(old).items():
        new_definition = new_definitions.get(name)
        if new_definition is None:
            problems.append(f"{name}: definition removed")
            continue
        old_props = old_definition.get("properties", {})
        new_props = new_definition.get("properties", {})
        for field, old_field in old_props.items():
            if field not in new_props:
                problems.append(f"{name}.{field}: removed")
            elif _shape(old_field) != _shape(new_props[field]):
                problems.append(f"{name}.{field}: type changed")
        newly_required = set(new_definition.get("required", [])) - set(
            old_definition.get("required", [])
        )
        for field in sorted(newly_required):
            problems.append(f"{name}.{field}: now required (old publishers do not send it)")
    return problems


def record_missing() -> list[str]:
    SNAPSHOTS.mkdir(exist_ok=True)
    written = []
    for event_type in sorted(REGISTRY):
        path = snapshot_path(event_type)
        if not path.exists():
            path.write_text(json.dumps(current_schema(event_type), indent=2, sort_keys=True) + "\n")
            written.append(event_type)
    return written


if __name__ == "__main__":
    print("\n".join(f"recorded {t}" for t in record_missing()) or "every contract has a snapshot")
