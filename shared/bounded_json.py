"""The one JSON reader for input Guild did not write: size and nesting bounded before parsing.

``json.loads`` recurses once per nesting level, so a body of 10,000 ``[`` raises
``RecursionError``, which is not a ``ValueError`` and escapes every handler that expects
malformed input. :func:`load_json` measures the nesting with a scan that does not recurse,
refuses what is too large or too deep, and refuses ``NaN`` and ``Infinity``, which Python
accepts but JSON (RFC 8259) does not. Every refusal is an :class:`UnreadableJson`, a
``ValueError`` whose message is a reason a publisher can act on.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 64
"""Far deeper than any Guild contract (an event with a list of objects is 4 levels)."""

MAX_BYTES = 64 * 1024 * 1024
"""The largest max_payload nats-server can be configured with: no message it delivers is
larger, whatever the deployment's setting (the server's own limit bounds what arrives; a
lower bound here would refuse valid messages of a server configured above the default 1 MiB).
HTTP bodies have their own, lower limit."""

MAX_PROBLEMS = 20
"""How many problems of a validation failure a reply or a dead letter lists (a request or an
event with thousands of bad items is told about the first few: what reports it must fit)."""


def json_size(text: str) -> int:
    """The bytes ``text`` takes as a JSON string."""
    return len(json.dumps(text, ensure_ascii=False).encode())


def clip(text: str, limit: int) -> str:
    """``text`` cut so that its JSON string takes at most ``limit`` bytes."""
    while json_size(text) > limit:
        text = text[: max(len(text) * limit // json_size(text) - 8, 0)]
    return text


_BRACKETS_AND_STRINGS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)
_OPENING = frozenset(b"[{")


class UnreadableJson(ValueError):
    """The input is not JSON Guild will read; the message says why."""


def load_json(data: bytes | str, *, max_depth: int = MAX_DEPTH, max_bytes: int = MAX_BYTES) -> Any:
    """Parse ``data`` as JSON, refusing input larger than ``max_bytes``, nested deeper than
    ``max_depth``, holding ``NaN``/``Infinity``, or not JSON at all (with the reason)."""
    raw = data.encode() if isinstance(data, str) else data
    if len(raw) > max_bytes:
        raise UnreadableJson(f"JSON larger than {max_bytes} bytes ({len(raw)} bytes)")
    if (depth := nesting_depth(raw, stop_above=max_depth)) > max_depth:
        raise UnreadableJson(f"JSON nested deeper than {max_depth} levels (at least {depth})")
    try:
        return json.loads(raw, parse_constant=_refuse_constant)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UnreadableJson(f"not JSON ({error})") from None


def nesting_depth(raw: bytes, *, stop_above: int) -> int:
    """The deepest nesting of arrays and objects in ``raw`` (brackets inside strings do not
    count), scanning no further once it is above ``stop_above``; 0 (not scanned) when it
    has too few brackets to be above it."""
    if raw.count(b"[") + raw.count(b"{") <= stop_above:
        return 0  # cannot be nested deeper than it has brackets (counted in C, no scan)
    depth = deepest = 0
    for token in _BRACKETS_AND_STRINGS.finditer(raw):
        first = token.group()[0]
        if first in _OPENING:
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > stop_above:
                    return deepest
        elif first != ord('"'):
            depth -= 1
    return deepest


def _refuse_constant(name: str) -> Any:
    raise UnreadableJson(f"{name} is not a JSON number (RFC 8259 has no NaN or Infinity)")
