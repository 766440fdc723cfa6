"""The envelope reads CloudEvents in both modes and explains what it cannot read."""

from __future__ import annotations

import json

import pytest

from shared.envelope import MalformedEvent, identify, read_cloudevent

EVENT = {
    "specversion": "1.0",
    "id": "e-1",
    "source": "/hr-directory",
    "type": "guild.ingest.hr.person_hired.v1",
    "data": {"person_id": "p1"},
}


def test_structured_mode_is_read_from_the_json_body():
    assert read_cloudevent(json.dumps(EVENT).encode(), None) == EVENT


def test_binary_mode_is_read_from_ce_headers_whatever_their_case():
    headers = {
        "CE-SpecVersion": "1.0",
        "ce-id": "e-1",
        "Ce-Source": "/hr-directory",
        "ce-type": "guild.ingest.hr.person_hired.v1",
        "Content-Type": "application/json",
    }
    attributes = read_cloudevent(b'{"person_id": "p1"}', headers)
    assert attributes == {**EVENT, "datacontenttype": "application/json"}


def test_binary_mode_values_are_percent_decoded_and_raw_values_pass():
    headers = {"ce-specversion": "1.0", "ce-id": "Euro%20%E2%82%AC%20sign", "ce-source": "/a b"}
    attributes = read_cloudevent(b"{}", headers)
    assert attributes["id"] == "Euro € sign"
    assert attributes["source"] == "/a b"


def test_binary_mode_rejects_invalid_utf8_in_headers():
    with pytest.raises(MalformedEvent, match="ce-id is not valid percent-encoded UTF-8"):
        read_cloudevent(b"{}", {"ce-specversion": "1.0", "ce-id": "%C0%A0"})


@pytest.mark.parametrize(
    ("body", "headers", "reason"),
    [
        (b"not json", None, "body is not JSON"),
        (b"[1, 2]", None, "not an object"),
        (b'{"id": "x"}', None, "no 'specversion'"),
        (b'{"specversion": "1.0", "data_base64": "AA=="}', None, "JSON data only"),
        (b"<xml/>", {"ce-specversion": "1.0", "content-type": "application/xml"}, "JSON data only"),
        (b"{oops", {"ce-specversion": "1.0"}, "binary-mode data is not valid JSON"),
    ],
)
def test_what_is_not_a_readable_cloudevent_is_rejected_with_a_reason(body, headers, reason):
    with pytest.raises(MalformedEvent, match=reason):
        read_cloudevent(body, headers)


def test_identify_finds_id_and_type_in_either_mode_or_falls_back_to_the_msg_id():
    assert identify(json.dumps(EVENT).encode(), {}) == ("e-1", EVENT["type"])
    assert identify(b"", {"ce-id": "b-1", "ce-type": "t"}) == ("b-1", "t")
    assert identify(b"garbage", {"Nats-Msg-Id": "m-1"}) == ("m-1", None)
    assert identify(b"garbage", None) == (None, None)


def test_a_body_leaves_absent_attributes_out_and_keeps_every_field_of_data():
    from datetime import UTC, datetime

    from shared.contracts.content import PostModeratedV1
    from shared.envelope import new_envelope, structured_body

    at = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    post = {"post_id": "p1", "kind": "question", "community_id": "c1", "community_name": "C",
            "visibility": "public", "author": {"member_id": "e1", "home_region": "eu"}}  # fmt: skip
    data = PostModeratedV1(post=post,
                           hidden=True, moderated_by="e1", moderated_at=at)  # fmt: skip
    envelope = new_envelope(event_id="e-9", source="/guild/eu/membership", event_type=data.TYPE,
                            data=data, region="eu", time=at)  # fmt: skip
    body = json.loads(structured_body(envelope))
    assert "subject" not in body
    assert "causationid" not in body
    assert body["time"] == "2026-12-01T09:30:00Z"
    assert body["data"] == data.model_dump(mode="json")
    assert body["data"]["reason"] is None, "nulls inside data are written"
    assert read_cloudevent(structured_body(envelope), None)["id"] == "e-9"
