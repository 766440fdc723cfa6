"""The one envelope of every Guild event: CloudEvents 1.0 attribute names.

Read tolerantly, write one way:

* **Reading** accepts both CloudEvents modes of the NATS protocol binding. A
  ``Content-Type: application/cloudevents...`` header means *structured* mode, whatever other
  headers say; otherwise a ``ce-specversion`` header means *binary* mode (header names are
  case-insensitive, values are percent-decoded) and the body is the JSON ``data``; otherwise
  the message must be structured: a JSON object with ``specversion``, ``id``, ``source``,
  ``type`` and ``data``. JSON is read through :func:`shared.bounded_json.load_json` (size and
  nesting bounded, no ``NaN``); ``data`` must be JSON (``datacontenttype``), attribute names
  lowercase ``a-z0-9`` as the spec requires, and ``time`` must carry its offset.
* **Writing** is always structured mode with ``content-type: application/cloudevents+json``,
  so a stored message is self-contained (dead letters, replays and ``nats stream view`` show
  the whole event).

Guild's own extension attributes: ``region`` (where the event was first published) and
``causationid`` (the id of the event that caused this one).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Generic, Literal, TypeVar
from urllib.parse import unquote

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.bounded_json import UnreadableJson, load_json

SPECVERSION = "1.0"
STRUCTURED_CONTENT_TYPE = "application/cloudevents+json"
JSON_CONTENT_TYPE = "application/json"
ATTRIBUTE_NAME = re.compile(r"^[a-z0-9]{1,64}$")
"""CloudEvents: attribute names are lowercase a-z and 0-9 (20 characters recommended)."""

DataT = TypeVar("DataT")


class MalformedEvent(ValueError):
    """The message is not a CloudEvent Guild can read. It will never succeed: dead-letter it."""


class Envelope(BaseModel, Generic[DataT]):
    """A CloudEvent whose ``data`` is one of Guild's contracts."""

    model_config = ConfigDict(frozen=True, extra="allow")

    specversion: Literal["1.0"] = Field(description="CloudEvents version; always '1.0'.")
    id: str = Field(
        min_length=1,
        max_length=256,
        description="Unique per source. Re-sending the same event must reuse its id.",
    )
    source: str = Field(
        min_length=1,
        max_length=512,
        description="Who published it, as a URI reference (e.g. '/hr-directory/eu').",
    )
    type: str = Field(
        min_length=1,
        max_length=256,
        description="The versioned event type, e.g. 'guild.ingest.hr.person_hired.v1'.",
    )
    time: AwareDatetime | None = Field(
        default=None, description="When it happened (RFC 3339, with its offset)."
    )
    subject: str | None = Field(
        default=None, description="What it is about, e.g. a member or post id."
    )
    datacontenttype: str | None = Field(
        default=JSON_CONTENT_TYPE, description="Media type of data; Guild accepts JSON only."
    )
    dataschema: str | None = Field(default=None, description="URI of the data's schema.")
    region: str | None = Field(
        default=None, description="Extension: the region where the event was first published."
    )
    causationid: str | None = Field(
        default=None, description="Extension: id of the event that caused this one."
    )
    data: DataT = Field(description="The event's payload, as defined by its contract.")


_ANY_ENVELOPE = Envelope[Any]
"""Held here: pydantic keeps its parametrised classes only weakly, and ``Envelope[Any]``
built anew (a schema generated) whenever the collector had taken it cost every published event."""


def structured_body(envelope: Envelope[Any]) -> bytes:
    """The bytes Guild publishes for ``envelope`` (structured mode). Absent optional attributes
    are left out; inside ``data`` every field is written, nulls included."""
    absent = {name for name, value in envelope.__dict__.items() if value is None}
    absent.discard("data")
    absent.update(name for name, value in (envelope.model_extra or {}).items() if value is None)
    return envelope.model_dump_json(exclude=absent).encode()


def new_envelope(
    *,
    event_id: str,
    source: str,
    event_type: str,
    data: DataT,
    region: str,
    subject: str | None = None,
    causation_id: str | None = None,
    time: datetime | None = None,
) -> Envelope[DataT]:
    """Build the envelope of an event Guild publishes."""
    return _ANY_ENVELOPE(
        specversion="1.0",
        id=event_id,
        source=source,
        type=event_type,
        time=time or datetime.now(UTC),
        subject=subject,
        region=region,
        causationid=causation_id,
        data=data,
    )


def read_cloudevent(body: bytes, headers: Mapping[str, str] | None) -> dict[str, Any]:
    """Turn a NATS message into CloudEvent attributes plus ``data`` (not yet validated).

    Raises :class:`MalformedEvent` with a reason a publisher can act on.
    """
    lowered = {name.lower(): value for name, value in (headers or {}).items()}
    attributes = _read_binary(body, lowered) if _is_binary(lowered) else _read_structured(body)
    _check_attribute_names(attributes)
    return attributes


def _is_binary(headers: Mapping[str, str]) -> bool:
    """The NATS binding: a CloudEvents content type means structured mode, even beside
    ``ce-*`` headers; otherwise ``ce-specversion`` means binary mode."""
    if _media_type(headers.get("content-type")).startswith("application/cloudevents"):
        return False
    return "ce-specversion" in headers


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def _read_binary(body: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        name.removeprefix("ce-"): _header_value(name, value)
        for name, value in headers.items()
        if name.startswith("ce-")
    }
    content_type = attributes.get("datacontenttype") or headers.get("content-type")
    if content_type:
        attributes["datacontenttype"] = content_type
    _check_json_content(content_type)
    attributes["data"] = _json_data(body)
    return attributes


def _read_structured(body: bytes) -> dict[str, Any]:
    try:
        document = load_json(body)
    except UnreadableJson as error:
        raise MalformedEvent(
            f"body is not JSON Guild reads ({error}) and there is no ce-specversion header; "
            "send a CloudEvent in structured mode (JSON body) or binary mode (ce-* headers)"
        ) from None
    if not isinstance(document, dict):
        raise MalformedEvent(
            f"body is JSON {type(document).__name__}, not an object; expected a CloudEvent"
        )
    if "specversion" not in document:
        raise MalformedEvent(
            "JSON body has no 'specversion' attribute and there is no ce-specversion header: "
            "not a CloudEvent"
        )
    if "data_base64" in document:
        raise MalformedEvent("'data_base64' is not supported: Guild accepts JSON data only")
    content_type = document.get("datacontenttype")
    if content_type is not None and not isinstance(content_type, str):
        raise MalformedEvent("datacontenttype must be a string")
    _check_json_content(content_type)
    return document


def _check_attribute_names(attributes: Mapping[str, Any]) -> None:
    for name in attributes:
        if name != "data" and not ATTRIBUTE_NAME.match(name):
            shown = name if len(name) <= 64 else f"{name[:64]}..."
            raise MalformedEvent(
                f"attribute name {shown!r} is not allowed: CloudEvents attribute names are "
                "lowercase letters a-z and digits 0-9 only"
            )


def _header_value(name: str, raw: str) -> str:
    """Percent-decode a binary-mode attribute value; values already raw pass unchanged."""
    value = raw[1:-1] if len(raw) >= 2 and raw[0] == raw[-1] == '"' else raw
    try:
        return unquote(value, errors="strict")
    except UnicodeDecodeError:
        raise MalformedEvent(f"header {name} is not valid percent-encoded UTF-8") from None


def _check_json_content(content_type: str | None) -> None:
    media_type = _media_type(content_type) or JSON_CONTENT_TYPE
    if not (media_type in (JSON_CONTENT_TYPE, "text/json") or media_type.endswith("+json")):
        raise MalformedEvent(
            f"datacontenttype {media_type[:100]!r} is not supported: Guild accepts JSON data only"
        )


def _json_data(body: bytes) -> Any:
    if not body:
        return None
    try:
        return load_json(body)
    except UnreadableJson as error:
        raise MalformedEvent(f"binary-mode data is not valid JSON ({error})") from None


def identify(body: bytes, headers: Mapping[str, str] | None) -> tuple[str | None, str | None]:
    """Best effort, for logs and dead letters: the (id, type) of a possibly malformed message,
    read from where its content mode puts them (binary: the ce-* headers; structured: the
    body), the other place filling what is missing."""
    lowered = {name.lower(): value for name, value in (headers or {}).items()}
    in_headers = (lowered.get("ce-id"), lowered.get("ce-type"))
    try:
        document = load_json(body)
    except UnreadableJson:
        document = None
    in_body = (
        (_str_or_none(document.get("id")), _str_or_none(document.get("type")))
        if isinstance(document, dict)
        else (None, None)
    )
    first, second = (in_headers, in_body) if _is_binary(lowered) else (in_body, in_headers)
    event_id, event_type = first[0] or second[0], first[1] or second[1]
    return event_id or lowered.get("nats-msg-id"), event_type


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None
