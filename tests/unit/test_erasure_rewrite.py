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


ANA = Erased.of("Ana", "ana@example.com")


def rewritten(erased: Erased, document: dict) -> dict:
    return json.loads(erased.rewritten_json(json.dumps(document).encode()) or b"null")


def test_only_whole_words_are_rewritten():
    item = {
        "title": "Ana brought banana bread, Banana and Anastasia thank Ana.",
        "body": "Write to ana@example.com, not bana@example.com or ana@example.com.au",
    }

    got = rewritten(ANA, item)

    assert got["title"] == (
        f"{FORMER_MEMBER} brought banana bread, Banana and Anastasia thank {FORMER_MEMBER}."
    )
    assert got["body"] == (f"Write to {FORMER_MEMBER}, not bana@example.com or ana@example.com.au")


def test_ids_keys_and_links_are_left_alone_only_texts_that_quote_people_change():
    item = {
        "notification_id": "Ana",
        "cause_id": "Ana",
        "kind": "member_joined",
        "title": "Ana joined Go",
        "reasons": ["Ana asked"],
        "links": [["Open", "https://g/Ana"]],
        "message": {"headline": "Ana joined", "unsubscribe_url": "https://g/u/Ana"},
    }

    got = rewritten(ANA, item)

    assert (got["notification_id"], got["cause_id"]) == ("Ana", "Ana")
    assert got["links"] == [["Open", "https://g/Ana"]]
    assert got["message"]["unsubscribe_url"] == "https://g/u/Ana"
    assert got["title"] == f"{FORMER_MEMBER} joined Go"
    assert got["reasons"] == [f"{FORMER_MEMBER} asked"]
    assert got["message"]["headline"] == f"{FORMER_MEMBER} joined"


def test_a_dead_letters_excerpt_is_rewritten_as_the_json_it_holds():
    original = {"member_id": "lena", "message": {"title": "Ana joined", "links": [["x", "/Ana"]]}}
    letter = {"reason": "HTTP 503", "body": json.dumps(original), "subject": "outbox.eu.lena"}

    got = json.loads(rewritten(ANA, letter)["body"])

    assert got["message"] == {"title": f"{FORMER_MEMBER} joined", "links": [["x", "/Ana"]]}
