"""Subjects, streams and buckets carry the region; a type maps mechanically to its subject."""

from __future__ import annotations

import pytest

from shared.contracts.ingest import PersonHiredV1
from shared.contracts.membership import MemberContactV1, MemberJoinedV1
from shared.contracts.notifications import NotificationDeliveredV1
from shared.naming import (
    Scope,
    Service,
    Streams,
    any_region_event_subject,
    bucket_name,
    check_region,
    consumer_name,
    ingest_subject,
    personal_filter,
    publisher_of,
    source_belongs_to,
)


def test_each_scope_has_its_subject_and_stream():
    streams = Streams("eu")
    assert ingest_subject("eu", "hr-directory", PersonHiredV1.TYPE) == (
        "ingest.eu.hr-directory.hr.person_hired.v1"
    )
    assert MemberJoinedV1.subject_in("eu") == "evt.eu.pub.membership.member_joined.v1"
    assert NotificationDeliveredV1.subject_in("eu").startswith("evt.eu.local.notifications.")
    assert MemberContactV1.subject_in("eu", "m1") == "personal.eu.membership.member_contact.v1.m1"
    assert streams.ingest_of("hr-directory") == "INGEST_HR_DIRECTORY_EU"
    assert streams.for_scope(Scope.PUBLIC) == streams.for_scope(Scope.LOCAL) == "EVENTS_EU"
    assert streams.for_scope(Scope.PERSONAL) == "PERSONAL_EU"


def test_filters_match_any_region_or_any_key():
    assert any_region_event_subject(Scope.PUBLIC, MemberJoinedV1.TYPE) == (
        "evt.*.pub.membership.member_joined.v1"
    )
    assert (
        personal_filter("us", MemberContactV1.TYPE) == "personal.us.membership.member_contact.v1.*"
    )


def test_owned_names_say_who_owns_them():
    assert consumer_name(Service.MATCHING, "questions") == "matching-questions"
    assert bucket_name(Service.MEMBERSHIP, "members", "apac") == "membership_members_apac"


@pytest.mark.parametrize("region", ["", "EU", "eu-west", "e.u", "1eu", "averyveryverylongregion"])
def test_a_region_that_would_break_subjects_is_refused(region):
    with pytest.raises(ValueError, match="region"):
        check_region(region)


def test_personal_subjects_need_a_safe_key():
    with pytest.raises(ValueError, match="key"):
        MemberContactV1.subject_in("eu", "a.b")
    with pytest.raises(ValueError, match="needs a key"):
        MemberContactV1.subject_in("eu")


def test_an_ingest_subject_names_its_publisher_and_sources_belong_below_it():
    assert publisher_of("ingest.eu.portal.content.question_asked.v1") == "portal"
    assert publisher_of("evt.eu.pub.content.question_posted.v1") is None
    assert source_belongs_to("/portal", "portal")
    assert source_belongs_to("/portal/eu-intranet", "portal")
    assert not source_belongs_to("/portal-evil", "portal")
    assert not source_belongs_to("/hr-directory", "portal")
    with pytest.raises(ValueError, match="ingest_subject"):
        PersonHiredV1.subject_in("eu")
