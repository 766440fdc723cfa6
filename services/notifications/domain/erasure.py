"""What notifications keep of an erased member inside other members' records: nothing. Texts
that quoted them (an inbox item "Zdenka joined Go", a push waiting for quiet hours to end, a
digest item) are rewritten to speak of a former member instead."""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from typing import Any

FORMER_MEMBER = "A former member"


@dataclass(frozen=True)
class Erased:
    """The personal data of an erased member that texts about them may quote (their display
    name, their e-mail address), and what texts say instead (for a member who moved away:
    what they say of anyone homed in another region)."""

    personal: tuple[str, ...]
    shown_as: str = FORMER_MEMBER

    @classmethod
    def of(cls, *personal: str, shown_as: str = FORMER_MEMBER) -> Erased:
        return cls(tuple(sorted({p for p in personal if p}, key=len, reverse=True)), shown_as)

    def quoted_in(self, data: bytes) -> bool:
        """Whether ``data`` (JSON as stored) may quote them: a cheap test before decoding."""
        return any(form in data for text in self.personal for form in _encodings(text))

    def rewrite(self, text: str) -> str:
        """``text`` with every whole-word quote of them (not "Ana" inside "Banana", not an
        address inside a longer one) rewritten."""
        for quoted in self.personal:
            text = _whole_word(quoted).sub(self.shown_as, text)
        return text

    def rewritten_json(self, data: bytes) -> bytes | None:
        """``data`` (a JSON document) with the texts that quote them rewritten (see
        :data:`QUOTING`); None if nothing quotes them."""
        if not self.quoted_in(data):
            return None
        try:
            document = json.loads(data)
        except ValueError:
            return None
        changed = self._rewritten(document, quoting=False)
        return None if changed == document else json.dumps(changed).encode()

    def _rewritten(self, value: Any, *, quoting: bool) -> Any:
        if isinstance(value, str):
            return self._rewritten_text(value) if quoting else value
        if isinstance(value, list):
            return [self._rewritten(item, quoting=quoting) for item in value]
        if isinstance(value, dict):
            return {k: self._rewritten(v, quoting=k in QUOTING) for k, v in value.items()}
        return value

    def _rewritten_text(self, text: str) -> str:
        """A text field; one holding a JSON document (a dead letter's excerpt of the message
        it could not deliver) is rewritten as that document."""
        if text[:1] in ("{", "["):
            try:
                document = json.loads(text)
            except ValueError:
                return self.rewrite(text)  # a cut excerpt: its text as it is
            return json.dumps(self._rewritten(document, quoting=False))
        return self.rewrite(text)


QUOTING = frozenset({"title", "body", "headline", "reasons", "why", "text", "asker"})
"""The fields whose text may quote a person (headlines, messages, reasons, why a delivery
failed, who asked a question kept for digests); ids, keys, kinds and links are never
rewritten."""


@functools.cache
def _whole_word(quoted: str) -> re.Pattern[str]:
    """``quoted`` as a whole word: no letter, digit or address character just before it,
    none (nor a dot going on into a longer address) just after."""
    return re.compile(r"(?<![\w.@+-])" + re.escape(quoted) + r"(?![\w@-]|\.\w)")


def _encodings(text: str) -> tuple[bytes, ...]:
    """``text`` as JSON may hold it: raw UTF-8, or with non-ASCII characters escaped."""
    return text.encode(), json.dumps(text)[1:-1].encode()
