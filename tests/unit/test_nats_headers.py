"""One rule strips the headers that act on a JetStream publish (``Nats-*``), whatever their
case: a copy or a replay must not be deduplicated, rolled up or expired by the original's."""

from __future__ import annotations

from shared.naming import without_nats_headers


def test_nats_headers_go_whatever_their_case_and_the_others_stay():
    headers = {"Nats-Msg-Id": "1", "NATS-Rollup": "sub", "nats-ttl": "5s", "ce-id": "e-1",
               "content-type": "application/json", "Natsy": "kept"}  # fmt: skip
    assert without_nats_headers(headers) == {"ce-id": "e-1", "content-type": "application/json",
                                             "Natsy": "kept"}  # fmt: skip
