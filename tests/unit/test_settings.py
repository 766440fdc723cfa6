"""Settings: per-service prefix first, then the deployment-wide prefix, then NATS_URL."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.matching.settings import MatchingSettings
from services.membership.settings import MembershipSettings


def test_the_service_prefix_wins_over_the_deployment_prefix(monkeypatch):
    monkeypatch.setenv("GUILD_REGION", "eu")
    monkeypatch.setenv("GUILD_MEMBERSHIP_REGION", "us")
    assert MembershipSettings().region == "us"
    assert MatchingSettings().region == "eu"


def test_nats_url_falls_back_to_the_conventional_variable(monkeypatch):
    monkeypatch.setenv("GUILD_REGION", "eu")
    monkeypatch.setenv("NATS_URL", "nats://10.0.0.1:4222")
    assert MembershipSettings().nats_url == "nats://10.0.0.1:4222"
    monkeypatch.setenv("GUILD_NATS_URL", "nats://10.0.0.2:4222")
    assert MembershipSettings().nats_url == "nats://10.0.0.2:4222"


def test_the_region_must_be_given_and_valid(monkeypatch):
    monkeypatch.delenv("GUILD_REGION", raising=False)
    with pytest.raises(ValidationError, match="region"):
        MembershipSettings()
    monkeypatch.setenv("GUILD_REGION", "Europe West")
    with pytest.raises(ValidationError, match="not valid"):
        MembershipSettings()


def test_lists_come_as_json(monkeypatch):
    monkeypatch.setenv("GUILD_REGION", "eu")
    monkeypatch.setenv("GUILD_PEER_REGIONS", '["us", "apac"]')
    assert MembershipSettings().peer_regions == ["us", "apac"]
