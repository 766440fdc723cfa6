"""Generate the published contract documents from the code, or check that they are current.

    .venv/bin/python -m tools.docs            # write docs/asyncapi/*.json and docs/reference.md
    .venv/bin/python -m tools.docs --check    # exit 1 if they differ from what the code says

* ``docs/asyncapi/<service>.json``: each service's AsyncAPI 3.0 document, as FastStream
  generates it from the service's subscribers and declared publishers, with the schemas of
  the commands and queries added (their endpoints validate by hand, to always reply).
* ``docs/reference.md``: every command, query and event, with an example (validated against
  its model) and the tests that exercise it over a real nats-server.
"""

from __future__ import annotations

import json
import sys
import types
import typing
from collections.abc import Callable
from datetime import date, datetime, time
from enum import Enum
from pathlib import Path
from typing import Any

from faststream.specification import AsyncAPI
from pydantic import BaseModel

from services.content import bootstrap as content
from services.content.settings import ContentSettings
from services.matching import bootstrap as matching
from services.matching.settings import MatchingSettings
from services.membership import bootstrap as membership
from services.membership.settings import MembershipSettings
from services.notifications import bootstrap as notifications
from services.notifications.settings import NotificationsSettings
from shared.contracts import REGISTRY
from shared.naming import (
    Scope,
    Service,
    command_subject,
    ingest_subject,
    personal_filter,
    publisher_source,
    query_subject,
)
from shared.publishers import first_sender

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
REGION = "eu"
VERSION = "0.1.0"

SERVICES: dict[str, tuple[types.ModuleType, Callable[..., Any]]] = {
    "membership": (membership, lambda: MembershipSettings(region=REGION)),
    "content": (content, lambda: ContentSettings(region=REGION)),
    "matching": (matching, lambda: MatchingSettings(region=REGION)),
    "notifications": (notifications, lambda: NotificationsSettings(region=REGION)),
}

# ------------------------------------------------------------------ AsyncAPI


def _hoist(schema: dict[str, Any], into: dict[str, Any]) -> dict[str, Any]:
    for name, definition in schema.pop("$defs", {}).items():
        into.setdefault(name, definition)
    return schema


def asyncapi(service: str) -> dict[str, Any]:
    module, settings = SERVICES[service]
    app = module.build_app(settings())
    spec: dict[str, Any] = (
        AsyncAPI(
            app.broker,
            title=f"Guild {service}",
            version=VERSION,
            schema_version="3.0.0",
            description=(module.__doc__ or "").strip()
            + f" (region {REGION!r} shown; every subject "
            "carries the deployment's region).",
        )
        .to_specification()
        .to_jsonable()
    )
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    for kind, name, request_type, _ in requests(service):
        channel = f"{kind}.{REGION}.{service}.{name}:{request_type.__name__}"
        message = spec["components"]["messages"].get(f"{channel}:SubscribeMessage")
        if message is None:
            continue
        schema = request_type.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas[request_type.__name__] = _hoist(schema, schemas)
        message["payload"] = {"$ref": f"#/components/schemas/{request_type.__name__}"}
    return spec


# ------------------------------------------------------------------ reference


def requests(service: str) -> list[tuple[str, str, type[BaseModel], Callable[..., Any]]]:
    module, _ = SERVICES[service]
    found = [("cmd", n, r, h) for n, (r, h) in getattr(module, "COMMANDS", {}).items()]
    found += [("qry", n, r, h) for n, (r, h) in getattr(module, "QUERIES", {}).items()]
    return found


LENA, EMILY, MARCUS = "m-7f3a9c2e5b1d4a6c8e0f", "m-1b8d4f6a2c9e7b3d5f1a", "m-4c6e8a0b2d4f6a8c0e2b"
BOSS, BOSS_OF_BOSS = "m-9d1f3b5c7e9a1c3e5b7d", "m-0a2c4e6b8d0f2a4c6e8b"
"""Member ids in the examples, as membership draws them (HR ids such as e1001 are only in
HR events and find_member)."""
EXAMPLES: dict[str, Any] = {
    "member_id": LENA, "person_id": "e1001", "actor_id": LENA, "viewer_id": EMILY,
    "author_id": LENA, "asker_id": LENA, "decided_by": MARCUS, "changed_by": MARCUS,
    "flagged_by": EMILY, "moderated_by": MARCUS, "endorsed_by": EMILY, "accepted_by": LENA,
    "deleted_by": LENA, "manager_id": "e3001", "successor_id": "e2001",
    "community_id": "k8s-ops", "community_name": "Kubernetes Operators",
    "name": "Kubernetes Operators", "display_name": "Lena Vogel",
    "email": "lena.vogel@example.com", "region": "eu", "home_region": "eu",
    "timezone": "Europe/Berlin", "title": "How do we rotate etcd certificates?",
    "question_title": "How do we rotate etcd certificates?",
    "text": "Our etcd peer certificates expire next month. What is the safe order?",
    "body": "Rotate the peers one at a time, checking member health after each.",
    "description": "Everyone who runs Kubernetes in production.",
    "summary": "Rotate the peers one at a time...", "item": "GoLand seat",
    "details": "Spare seats until the renewal in March.",
    "message": "I run our clusters in Lisbon.",
    "reason": "outdated advice", "about": "Platform engineer, ex-SRE.",
    "repository_url": "https://git.example.com/platform/retryx", "language": "Go",
    "licence": "internal", "location": "remote", "week": "2026-W48", "skill": "etcd",
    "request_ref": "PRIV-2026-17", "question_ref": "portal-991", "catalogue_ref": "lib-7",
    "legal_entity": "ACME GmbH", "team": "Platform", "cursor": None,
    "notification_id": "82d966ccebd1f1d3edb1dc8307d6883c", "channel": "inbox",
    "kind": "question", "resource_kind": "licence_seats", "quantity": 2, "position": 1,
    "remaining": 1, "handed_over": 2, "revision": 7, "limit": 20, "value": 1,
    "languages": ["en", "de"], "changed": ["skills"],
    "reasons": ["you facilitate Kubernetes Operators"],
    "facilitator_ids": [MARCUS], "maintainer_ids": [LENA], "maintainers": [LENA],
    "allowed_regions": ["eu"], "allowed_legal_entities": [], "region_scope": [],
    "manager_chain": [BOSS, BOSS_OF_BOSS], "cause_type": "guild.membership.member_joined.v1",
    "local": {LENA: "Tue 1 Dec 09:30-10:00 (Europe/Berlin)",
              EMILY: "Tue 1 Dec 08:30-09:00 (Europe/London)"},
    "proposal_id": f"{EMILY}--{LENA}", "by": LENA, "state": "proposed", "round": 1480,
    "members": [{"member_id": LENA, "home_region": "eu"},
                {"member_id": EMILY, "home_region": "us"}],
    "similarity": 0.82, "why": "outside working hours", "wave": 1,
}  # fmt: skip
ID_LIKE = ("post_id", "question_id", "answer_id", "offer_id", "claim_id", "cause_id",
           "on_post_id", "source_post_id", "request_id")  # fmt: skip


def _unwrap(annotation: Any) -> Any:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return _unwrap(next(a for a in args if a is not type(None)))
    if origin is typing.Annotated:
        return _unwrap(args[0])
    return annotation


def _value(name: str, annotation: Any) -> Any:
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return next(iter(annotation)).value
    if typing.get_origin(annotation) is typing.Literal:
        return typing.get_args(annotation)[0]
    if name in EXAMPLES:
        return EXAMPLES[name]
    if name in ID_LIKE:
        return "7c3e1a2b-5d6f-4a8b-9c0d-1e2f3a4b5c6d" if name != "request_id" else "req-42"
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is list:
        return [_value(name.removesuffix("s"), args[0])] if args else []
    if origin is dict:
        return {"eu": 2, "us": 1}
    if isinstance(annotation, type):
        for kind, value in (
            (bool, True),
            (int, 1),
            (float, 7.5),
            (datetime, "2026-11-25T09:00:00Z"),
            (date, "2026-12-01"),
            (time, "09:00"),
        ):
            if issubclass(annotation, kind):
                return value
        if issubclass(annotation, BaseModel):
            return example(annotation)
    return "kubernetes"


def example(model: type[BaseModel]) -> dict[str, Any]:
    """A valid instance of ``model`` with realistic values (checked by validating it)."""
    fields = model.model_fields
    value = {
        n: _value(n, f.annotation)
        for n, f in fields.items()
        if f.is_required() or n in EXAMPLES or (n in ID_LIKE and n != "request_id")
    }
    if "skills" in fields and "Skill" in str(fields["skills"].annotation):
        value["skills"] = [{"name": "kubernetes", "level": "expert"}]
    if "working_hours" in fields:
        value.pop("working_hours", None)
    return model.model_validate(value).model_dump(mode="json", exclude_none=True)


def envelope_example(event_type: str) -> dict[str, Any]:
    contract = REGISTRY[event_type]
    return {
        "specversion": "1.0",
        "id": "0b9a7c55-1f7e-5d4a-8c33-6a2b9e0f4d21",
        "source": publisher_source(first_sender(contract)) + f"/{REGION}"
        if contract.SCOPE is Scope.INGEST
        else f"/guild/{REGION}/" + event_type.split(".")[1],
        "type": event_type,
        "time": "2026-11-25T09:00:00Z",
        "data": example(contract),
    }


def tested_in(*needles: str) -> list[str]:
    """The test modules that mention any of ``needles`` (a name, a type)."""
    found = []
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        if "unit" in path.parts or "contracts" in path.parts:
            continue
        text = path.read_text()
        if any(needle in text for needle in needles):
            found.append(str(path.relative_to(ROOT)))
    return found


def _block(document: Any) -> str:
    return "```json\n" + json.dumps(document, indent=2, ensure_ascii=False) + "\n```\n"


def _tests(found: list[str]) -> str:
    return ", ".join(f"`{t}`" for t in found) if found else "**none**"


def first_paragraph(docstring: str | None) -> str:
    """A docstring's first paragraph, on one line."""
    paragraph = (docstring or "").strip().split("\n\n", 1)[0]
    return " ".join(line.strip() for line in paragraph.splitlines())


def subject_of(event_type: str) -> str:
    contract = REGISTRY[event_type]
    if contract.SCOPE is Scope.PERSONAL:
        return personal_filter(REGION, event_type)
    if contract.SCOPE is Scope.INGEST:
        return ingest_subject(REGION, first_sender(contract), event_type)
    return contract.subject_in(REGION)


def reference() -> str:
    lines = [
        "# Reference: every command, query and event",
        "",
        "Generated by `.venv/bin/python -m tools.docs` from the code (CI checks it is current);",
        f"subjects are shown for region `{REGION}`. Replies follow the request-reply format of",
        "[events.md](events.md#commands-and-queries-request-reply); every command also takes an",
        "optional `request_id` (a repeat returns the first reply and changes nothing).",
        "Each item names the tests that exercise it over a real nats-server.",
        "",
    ]
    for service in SERVICES:
        items = requests(service)
        if not items:
            continue
        lines += [f"## {service}: commands and queries", ""]
        for kind, name, request_type, handler in items:
            subject = (command_subject if kind == "cmd" else query_subject)(
                REGION, Service(service), name
            )
            summary = first_paragraph(handler.__doc__ or request_type.__doc__)
            tests = _tests(tested_in(f'"{name}"', f'.{name}"'))
            lines += [
                f"### `{subject}`",
                "",
                summary,
                "",
                f"Request `{request_type.__name__}`; tested in {tests}.",
                "",
                _block(example(request_type)),
            ]
    lines += ["## Events", "", "| type | subject | scope |", "|---|---|---|"]
    for event_type in sorted(REGISTRY):
        contract = REGISTRY[event_type]
        lines.append(f"| `{event_type}` | `{subject_of(event_type)}` | {contract.SCOPE.value} |")
    lines.append("")
    for event_type in sorted(REGISTRY):
        contract = REGISTRY[event_type]
        doc = first_paragraph(contract.__doc__)
        found = tested_in(contract.__name__, event_type)
        lines += [
            f"### `{event_type}`",
            "",
            doc,
            "",
            f"Subject `{subject_of(event_type)}`; tested in {_tests(found)}.",
            "",
            _block(envelope_example(event_type)),
        ]
    return "\n".join(lines)


def untested() -> list[str]:
    """Every command, query and event that no test over a real nats-server mentions."""
    missing = [
        f"{kind} {service}.{name}"
        for service in SERVICES
        for kind, name, _, _ in requests(service)
        if not tested_in(f'"{name}"', f'.{name}"')
    ]
    missing += [
        event_type
        for event_type, contract in sorted(REGISTRY.items())
        if not tested_in(contract.__name__, event_type)
    ]
    return missing


def outputs() -> dict[Path, str]:
    files = {DOCS / "reference.md": reference()}
    for service in SERVICES:
        spec = asyncapi(service)
        files[DOCS / "asyncapi" / f"{service}.json"] = (
            json.dumps(spec, indent=2, sort_keys=True) + "\n"
        )
    return files


def main(argv: list[str]) -> int:
    files = outputs()
    if argv[:1] == ["--check"]:
        stale = [
            str(p.relative_to(ROOT))
            for p, text in files.items()
            if not p.exists() or p.read_text() != text
        ]
        if stale:
            print("out of date (run: .venv/bin/python -m tools.docs): " + ", ".join(stale))
            return 1
        return 0
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
