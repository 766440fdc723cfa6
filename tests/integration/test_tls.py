"""Over TLS: a server that requires mutual TLS (and credentials), a service that connects with
its certificate and credential, and clients without either refused."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import nats
import pytest
from typer.testing import CliRunner

from guild_cli.main import app as cli
from guild_cli.nats_server import EmbeddedNats, ServerTls
from services.content.bootstrap import build_app
from services.content.settings import ContentSettings
from shared.credentials import connection_options, tls_context
from shared.messaging.provisioning import apply
from shared.naming import Service, status_subject
from tests import access
from tests.helpers import running, settings_for
from tests.tls import Certificates, make_certificates


async def test_a_service_connects_over_mutual_tls_and_plain_or_anonymous_clients_do_not(
    tmp_path: Path, region: str
) -> None:
    certs = make_certificates(tmp_path / "certs")
    tls = ServerTls(certs.server_cert, certs.server_key, certs.ca)
    with EmbeddedNats(tmp_path / "nats", authority=access.AUTHORITY, tls=tls) as server:
        with pytest.raises(Exception):  # noqa: B017, PT011 (plain TCP: the server wants TLS)
            await nats.connect(
                server.url, allow_reconnect=False, max_reconnect_attempts=0,
                **access.admin_options(own_server=True),
            )  # fmt: skip
        no_client_cert = tls_context(certs.ca)
        with pytest.raises(Exception):  # noqa: B017, PT011 (TLS without a client certificate)
            await nats.connect(
                server.url, tls=no_client_cert, allow_reconnect=False, max_reconnect_attempts=0,
                **access.admin_options(own_server=True),
            )  # fmt: skip

        client_tls = tls_context(certs.ca, certs.client_cert, certs.client_key)
        settings = settings_for(
            ContentSettings, region, server.url, provision=False,  # provisioned below
            nats_tls_ca=certs.ca, nats_tls_cert=certs.client_cert, nats_tls_key=certs.client_key,
        )  # fmt: skip
        app = build_app(settings)
        admin = await nats.connect(server.url, tls=client_tls, **connection_options(access.ADMIN))
        try:
            await apply(admin.jetstream(), app.topology)
            async with running(app):  # its credential issued from its grants, then started
                reply = await admin.request(status_subject(region, Service.CONTENT), b"", 10)
                assert json.loads(reply.data)["ready"] is True
                shown = await _guild_status(server.url, region, certs)
                assert {s["service"]: s["ready"] for s in shown}["content"] is True
        finally:
            await admin.close()


async def _guild_status(url: str, region: str, certs: Certificates) -> list[dict]:
    """``guild status --json`` over TLS, as an operator with the TLS settings in the
    environment (exit code 1: the other three services are not running)."""
    env = {
        **access.operator_environment(region, own_server=True),
        "GUILD_NATS_TLS_CA": str(certs.ca),
        "GUILD_NATS_TLS_CERT": str(certs.client_cert),
        "GUILD_NATS_TLS_KEY": str(certs.client_key),
    }
    arguments = ["status", "--json", "--nats-url", url, "--region", region]
    result = await asyncio.to_thread(CliRunner().invoke, cli, arguments, env=env)
    assert result.exit_code == 1, result.output
    return json.loads(result.stdout)
