"""What deploy/ ships is valid: the NATS configurations, and the settings example."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from guild_cli.nats_server import nats_server_binary
from services.matching.settings import MatchingSettings
from services.notifications.settings import NotificationsSettings
from shared import access
from shared.credentials import Authority
from tests.tls import make_certificates

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


@pytest.mark.parametrize("config", sorted((DEPLOY / "nats").glob("*.conf")), ids=lambda p: p.name)
def test_each_nats_configuration_is_accepted_by_nats_server(config, tmp_path):
    """As an operator deploys it: beside the authorization block `guild identity
    server-config` writes for it."""
    shipped = tmp_path / config.name
    shipped.write_text(config.read_text().replace("/etc/nats/", f"{tmp_path.as_posix()}/"))
    authority = Authority.create()
    (tmp_path / "auth.conf").write_text(authority.server_config())
    (tmp_path / "leaf.creds").write_text(authority.issue(access.leaf()))
    make_certificates(tmp_path / "tls")
    result = subprocess.run(
        [str(nats_server_binary()), "-t", "-c", str(shipped)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env={**os.environ, "GUILD_ACCOUNT_KEY": authority.account_key},
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_each_production_configuration_says_what_it_promises():
    for config in (DEPLOY / "nats").glob("*.conf"):
        text = config.read_text()
        assert "Durability promise" in text
        assert "sync_interval: always" in text or "jetstream" not in text  # the hub stores none
        assert 'include "auth.conf"' in text  # authorization: no client without a credential
        assert "verify: true" in text  # mutual TLS for clients


def test_the_settings_example_is_what_the_services_accept(monkeypatch):
    for line in (DEPLOY / "services" / "guild.env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            name, value = line.split("=", 1)
            monkeypatch.setenv(name, value)
    matching, notifications = MatchingSettings(), NotificationsSettings()
    assert matching.region == "eu"
    assert matching.peer_regions == ["us", "apac"]
    assert matching.provision is False
    assert notifications.channels == ["inbox", "console"]
