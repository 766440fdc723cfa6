"""What notifications keep of an erased member inside other members' records: nothing. Texts
that quoted them (an inbox item "Zdenka joined Go", a push waiting for quiet hours to end, a
digest item) are rewritten to speak of a former member instead."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

FORMER_MEMBER = "A former member"


@dataclass(frozen=True)
class Erased:
    """The personal data of an erased member that texts about them may quote (their display
    name, their e-mail address)."""

    personal: tuple[str, ...]

    @classmethod
    def of(cls, *personal: str) -> Erased:
        return cls(tuple(sorted({p for p in personal if p}, key=len, reverse=True)))

    def quoted_in(self, data: bytes) -> bool:
        """Whether ``data`` (JSON as stored) may quote them: a cheap test before decoding."""
        return any(form in data for text in self.personal for form in _encodings(text))

    def rewrite(self, text: str) -> str:
        for quoted in self.personal:
            text = text.replace(quoted, FORMER_MEMBER)
        return text

    def rewritten_json(self, data: bytes) -> bytes | None:
        """``data`` (a JSON document) with every string that quotes them rewritten; None if
        nothing quotes them."""
        if not self.quoted_in(data):
            return None
        try:
            document = json.loads(data)
        except ValueError:
            return None
        changed = self._rewritten(document)
        return None if changed == document else json.dumps(changed).encode()

    def _rewritten(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.rewrite(value)
        if isinstance(value, list):
            return [self._rewritten(item) for item in value]
        if isinstance(value, dict):
            return {key: self._rewritten(item) for key, item in value.items()}
        return value


def _encodings(text: str) -> tuple[bytes, ...]:
    """``text`` as JSON may hold it: raw UTF-8, or with non-ASCII characters escaped."""
    return text.encode(), json.dumps(text)[1:-1].encode()
