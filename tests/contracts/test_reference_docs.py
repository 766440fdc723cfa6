"""The published contract documents match the code, and every contract is exercised."""

from __future__ import annotations

import pytest

from tools import docs


@pytest.fixture(scope="module")
def generated() -> dict:
    return docs.outputs()


def test_reference_and_asyncapi_documents_are_current(generated: dict) -> None:
    stale = [
        str(path.relative_to(docs.ROOT))
        for path, text in generated.items()
        if not path.exists() or path.read_text() != text
    ]
    assert not stale, f"run `.venv/bin/python -m tools.docs`; out of date: {stale}"


def test_every_command_query_and_event_is_exercised_over_real_nats() -> None:
    assert docs.untested() == []


def test_reference_lists_every_registered_event(generated: dict) -> None:
    reference = generated[docs.DOCS / "reference.md"]
    missing = [t for t in docs.REGISTRY if f"### `{t}`" not in reference]
    assert missing == []
