"""What other members were told about an erased member is rewritten to speak of a former
member: every string of a stored JSON record, whichever way JSON encoded the name."""

from __future__ import annotations

import json

from services.notifications.domain.erasure import FORMER_MEMBER, Erased

ERASED = Erased.of("Zdeňka Quibbleworth", "zq@example.com")


def test_every_string_that_quotes_the_member_is_rewritten():
    item = {
        "title": "Zdeňka Quibbleworth joined Go",
        "reasons": ["mail zq@example.com"],
        "message": {"body": "Zdeňka Quibbleworth (works in eu) joined Go."},
        "attempts": 2,
    }
    for encoded in (json.dumps(item).encode(), json.dumps(item, ensure_ascii=False).encode()):
        rewritten = json.loads(ERASED.rewritten_json(encoded) or b"null")
        assert rewritten["title"] == f"{FORMER_MEMBER} joined Go"
        assert rewritten["reasons"] == [f"mail {FORMER_MEMBER}"]
        assert rewritten["message"]["body"].startswith(f"{FORMER_MEMBER} (works in eu)")
        assert rewritten["attempts"] == 2


def test_a_record_that_does_not_quote_the_member_is_left_alone():
    assert ERASED.rewritten_json(b'{"title": "Lena Vogel joined Go"}') is None
    assert ERASED.rewritten_json(b"not json, Zde\xc5\x88ka Quibbleworth") is None
