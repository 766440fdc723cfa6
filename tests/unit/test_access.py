"""The grants generated from what the services declare, and the credentials that carry them."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.content.bootstrap import build_app as build_content
from services.content.settings import ContentSettings
from services.matching.bootstrap import build_app as build_matching
from services.matching.settings import MatchingSettings
from shared import access
from shared.credentials import (
    Authority,
    CredentialsError,
    check_credentials,
    connection_options,
    decode_jwt,
    read_creds_jwt,
)
from shared.naming import Streams
from shared.publishers import PUBLISHERS


def _content() -> access.Grants:
    return build_content(ContentSettings(region="eu")).grants()


def _matching() -> access.Grants:
    return build_matching(MatchingSettings(region="eu")).grants()


def test_a_service_may_publish_its_own_events_and_nobody_elses() -> None:
    grants = _content()
    assert "evt.eu.pub.content.question_posted.v1" in grants.publish
    assert not any(s.startswith("evt.eu.pub.membership.") for s in grants.publish)
    assert not any(s.startswith(("ingest.", "inbox.", "personal.")) for s in grants.publish)


def test_no_service_may_manage_streams_or_durable_consumers() -> None:
    for grants in (_content(), _matching()):
        for subject in access.MANAGEMENT:
            assert subject in grants.publish_deny


def test_a_service_pulls_only_from_its_own_durables_and_reads_its_own_buckets() -> None:
    grants = _content()
    events = Streams("eu").events
    assert f"$JS.API.CONSUMER.MSG.NEXT.{events}.content-membership" in grants.publish
    assert not any("matching-" in s for s in grants.publish)
    assert "$KV.content_posts_eu.>" in grants.publish
    assert not any(s.startswith("$KV.") and "content_" not in s for s in grants.publish)


def test_in_a_region_only_the_owner_reaches_a_durable_consumer() -> None:
    region = access.region_grants([_content(), _matching()], [access.operator("eu")])
    content, matching, operator = region
    events = Streams("eu").events
    for subject in (
        f"$JS.API.CONSUMER.MSG.NEXT.{events}.matching-content",
        f"$JS.API.CONSUMER.CREATE.{events}.matching-content.x",
        f"$JS.API.CONSUMER.DELETE.{events}.matching-content",
        f"$JS.ACK.{events}.matching-content.1.2.3.4.5",
    ):
        assert not content.may_publish(subject), subject
        assert not operator.may_publish(subject), subject  # it reads every stream: denied
    assert matching.may_publish(f"$JS.API.CONSUMER.MSG.NEXT.{events}.matching-content")
    assert operator.may_publish(f"$JS.API.CONSUMER.MSG.NEXT.{events}.scan-0123456789ab")


def test_a_filtered_scan_creates_consumers_only_with_its_filter() -> None:
    grants = access.scan("notifications", "eu", "INBOX_EU", ["inbox.eu.*"])
    assert "$JS.API.CONSUMER.CREATE.INBOX_EU.*.inbox.eu.*" in grants.publish
    assert "$JS.API.CONSUMER.CREATE.INBOX_EU.*" not in grants.publish
    assert "$JS.API.DIRECT.GET.INBOX_EU" not in grants.publish


def test_a_publisher_may_publish_only_its_ingest_subjects() -> None:
    hr = access.publisher("hr-directory", "eu", PUBLISHERS["hr-directory"])
    assert "ingest.eu.hr-directory.hr.person_hired.v1" in hr.publish
    assert not any(s.startswith(("ingest.eu.content", "evt.", "cmd.")) for s in hr.publish)
    assert hr.subscribe == ("_INBOX_hr_directory_eu.>",)


def test_a_credential_carries_its_grants_and_its_inbox(tmp_path: Path) -> None:
    authority = Authority.create()
    path = tmp_path / "content.creds"
    path.write_text(authority.issue(_content()))
    claims = decode_jwt(read_creds_jwt(path))
    assert claims["name"] == "content@eu"
    assert claims["iss"] == authority.account_key
    assert "evt.eu.pub.content.question_posted.v1" in claims["nats"]["pub"]["allow"]
    assert claims["nats"]["resp"]["max"] == 1
    assert connection_options(path)["inbox_prefix"] == "_INBOX_content_eu"


def test_an_identity_name_must_be_a_token() -> None:
    with pytest.raises(ValueError, match="identity"):
        access.base("HR Directory", "eu")


def test_the_authority_keeps_its_keys_owner_only(tmp_path: Path) -> None:
    first = Authority.load_or_create(tmp_path / "ids")
    again = Authority.load_or_create(tmp_path / "ids")
    assert again.account_key == first.account_key
    for key_file in (tmp_path / "ids").iterdir():
        assert key_file.stat().st_mode & 0o077 == 0


def test_a_missing_credential_is_an_error_at_once_not_a_wait_for_nats(tmp_path: Path) -> None:
    with pytest.raises(CredentialsError, match=r"missing\.creds"):
        check_credentials(tmp_path / "missing.creds")
    (tmp_path / "other.creds").write_text("not a credential")
    with pytest.raises(CredentialsError, match="not a NATS credentials file"):
        check_credentials(tmp_path / "other.creds")


def test_the_portal_sends_members_requests_but_replays_no_dead_letter() -> None:
    portal = access.publishing_system("portal", "eu")
    assert portal.may_publish("cmd.eu.membership.join_community")
    assert portal.may_publish("qry.eu.content.community_posts")
    assert not portal.may_publish("cmd.eu.content.replay_dead_letter")
    assert access.operator("eu").may_publish("cmd.eu.content.replay_dead_letter")
    chat_bot = access.publishing_system("chat-bot", "eu")
    assert not chat_bot.may_publish("cmd.eu.membership.join_community")
