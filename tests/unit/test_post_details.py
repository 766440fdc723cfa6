"""A post's kind-specific details are a typed record per kind, stored as the same JSON as
before (so posts already in the bucket read back) and shown in the same public shape."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from pydantic import TypeAdapter

from services.content.domain import model
from services.content.domain.model import (
    JobDetails,
    NoDetails,
    OfferDetails,
    Post,
    RequestDetails,
    SoftwareDetails,
)
from services.content.events.public import post_view

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
POST = TypeAdapter(Post)


def stored(kind: str, details: dict[str, object]) -> bytes:
    """A post as the bucket held it before details were typed."""
    return json.dumps({
        "post_id": "p1", "kind": kind, "community_id": "k8s", "author_id": "ana",
        "title": "A title", "body": "", "tags": [], "posted_at": "2026-11-25T09:00:00Z",
        "origin": "guild", "details": details,
    }).encode()  # fmt: skip


OLD_OFFER = {
    "resource_kind": "licence",
    "item": "IDE seats",
    "quantity": 3,
    "expires_at": "2026-12-01T00:00:00+00:00",
    "allowed_regions": ["eu"],
    "allowed_legal_entities": [],
    "handed_to": ["c1"],
    "closed": None,
}
OLD = {
    "practice": ({}, NoDetails),
    "question": ({}, NoDetails),
    "software": (
        {
            "repository_url": "https://git.example/x",
            "language": "go",
            "licence": "MIT",
            "maintainers": ["ana"],
        },
        SoftwareDetails,
    ),
    "resource_offer": (OLD_OFFER, OfferDetails),
    "resource_request": (
        {"resource_kind": "licence", "item": "IDE seats", "quantity": 1, "needed_by": None},
        RequestDetails,
    ),
    "job": (
        {"skills": ["go"], "location": "remote", "closing_date": "2026-12-20"},
        JobDetails,
    ),
}


@pytest.mark.parametrize("kind", list(OLD))
def test_a_stored_post_reads_back_with_the_record_of_its_kind(kind):
    details, record = OLD[kind]
    post = POST.validate_json(stored(kind, details))
    assert type(post.details) is record
    again = POST.validate_json(POST.dump_json(post))
    assert again == post


def test_an_offers_details_are_typed_values_not_strings():
    offer = POST.validate_json(stored("resource_offer", OLD_OFFER)).details
    assert isinstance(offer, OfferDetails)
    assert offer.quantity == 3
    assert offer.expires_at == datetime(2026, 12, 1, tzinfo=UTC)
    assert offer.allowed_regions == ("eu",)
    assert offer.handed_to == ("c1",)


def test_a_job_closing_date_is_a_date():
    job = POST.validate_json(stored("job", OLD["job"][0])).details
    assert isinstance(job, JobDetails)
    assert job.closing_date == date(2026, 12, 20)


def test_details_that_do_not_fit_the_kind_are_refused():
    with pytest.raises(ValueError, match="job"):
        Post(
            post_id="p1", kind="job", community_id="k8s", author_id="ana", title="t", body="",
            tags=(), posted_at=NOW, origin="guild",
            details=OfferDetails(resource_kind="licence", item="x", quantity=1),
        )  # fmt: skip


def test_the_public_view_of_an_offer_keeps_its_shape():
    offer = POST.validate_json(stored("resource_offer", OLD_OFFER))
    shown = post_view(offer).details
    unchanged = {name: value for name, value in OLD_OFFER.items() if name != "handed_to"}
    assert shown == unchanged | {"closed_at": None, "remaining": 2}


def test_closing_an_offer_records_why_and_when():
    offer = POST.validate_json(stored("resource_offer", OLD_OFFER))
    closed = model.closed(offer, "closed", NOW)
    assert isinstance(closed.details, OfferDetails)
    assert (closed.details.closed, closed.details.closed_at) == ("closed", NOW)
    assert model.offer_closed(closed) == "closed"
