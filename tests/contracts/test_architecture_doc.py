"""docs/architecture.md's services table says what each service publishes, as declared in
code (each service's ``publishes(...)``, exported into its AsyncAPI document, which
test_reference_docs keeps current)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from shared.contracts import REGISTRY

DOCS = Path(__file__).resolve().parents[2] / "docs"
SERVICES = ("membership", "content", "matching", "notifications")
SCOPE_WORDS = {"pub": "public", "local": "local", "personal": "personal", "handover": "handover"}
GROUP = re.compile(r"(?P<scope>public|local|personal|handover): (?P<names>(?:`[a-z_]+`(?:, )?)+)")


def table_row(service: str) -> list[str]:
    text = (DOCS / "architecture.md").read_text()
    row = next(line for line in text.splitlines() if line.startswith(f"| {service} |"))
    return [cell.strip() for cell in row.strip("|").split("|")]


def documented(service: str) -> set[tuple[str, str]]:
    publishes = table_row(service)[3]
    return {
        (group["scope"], name)
        for group in GROUP.finditer(publishes)
        for name in re.findall(r"`([a-z_]+)`", group["names"])
    }


def declared(service: str) -> set[tuple[str, str]]:
    spec = json.loads((DOCS / "asyncapi" / f"{service}.json").read_text())
    sent = [name for name, op in spec["operations"].items() if op["action"] == "send"]
    return {(SCOPE_WORDS[REGISTRY[t].SCOPE.value], t.split(".")[2]) for t in sent}


@pytest.mark.parametrize("service", SERVICES)
def test_the_services_table_lists_every_event_a_service_publishes_with_its_scope(service):
    assert declared(service), f"no events declared for {service}"
    assert documented(service) == declared(service)
