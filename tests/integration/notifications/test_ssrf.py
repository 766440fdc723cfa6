"""No member-configured URL reaches an internal address: a matrix of address forms, names
that resolve inside, and a redirect, with the loopback setting off (its default). A canary
listens on loopback; no connection may reach it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from guild_cli.receivers import HttpReceiver, Reply
from services.notifications.channels.egress import Egress, Refused, check_url
from services.notifications.channels.webhooks import WebhookChannel
from services.notifications.domain.endpoints import (
    Endpoint,
    EndpointKind,
    Message,
    Result,
    new_signing_secret,
)

NOW = datetime(2026, 11, 25, 10, tzinfo=UTC)
MESSAGE = Message("n1", "answer", "Your question was answered", "...", (), NOW)
NAMES = {
    "canary.corp.example": ["127.0.0.1"],
    "private.corp.example": ["10.1.2.3"],
    "metadata.corp.example": ["169.254.169.254"],
    "mixed.corp.example": ["93.184.216.34", "192.168.0.10"],
    "mapped.corp.example": ["::ffff:127.0.0.1"],
    "v6loopback.corp.example": ["::1"],
    "v6unique.corp.example": ["fd12:3456::1"],
    "v6linklocal.corp.example": ["fe80::1"],
    "shared.corp.example": ["100.64.0.1"],
}


async def resolve(host: str, port: int) -> list[str]:
    """A resolver whose answers the test controls (what a hostile DNS zone would say)."""
    if host == "localhost":
        return ["127.0.0.1"]
    return NAMES[host]


@pytest.fixture
async def canary():
    async with HttpReceiver() as listener:
        yield listener
    assert listener.connections == 0, "a connection reached the canary"


@pytest.fixture
def egress():
    return Egress(allow_loopback=False, resolver=resolve)


URL_FORMS = [
    ("http://127.0.0.1:{port}/", "loopback"),
    ("https://127.0.0.1:{port}/", "loopback"),
    ("https://127.0.0.1/", "loopback"),
    ("https://localhost:{port}/", "port"),
    ("https://localhost/", "loopback"),
    ("https://[::1]:{port}/", "loopback"),
    ("https://[::ffff:127.0.0.1]:{port}/", "loopback"),
    ("https://[::ffff:7f00:1]/", "loopback"),
    ("https://2130706433:{port}/", "non-standard form"),
    ("https://0x7f000001/", "non-standard form"),
    ("https://0x7f.0.0.1/", "non-standard form"),
    ("https://0177.0.0.1/", "not a valid URL"),
    ("https://127.1/", "non-standard form"),
    ("https://0.0.0.0/", "not a unicast address"),
    ("https://10.0.0.1/", "private"),
    ("https://172.16.5.4/", "private"),
    ("https://192.168.1.1/", "private"),
    ("https://100.64.0.1/", "not a public address"),
    ("https://169.254.169.254/latest/meta-data/", "metadata"),
    ("https://169.254.10.10/", "link-local"),
    ("https://[fd00:ec2::254]/", "metadata"),
    ("https://[fe80::1]/", "link-local"),
    ("https://[fc00::1]/", "private"),
    ("https://metadata.google.internal/computeMetadata/v1/", "metadata"),
    ("https://private.corp.example/hook", "private"),
    ("https://metadata.corp.example/", "metadata"),
    ("https://mixed.corp.example/", "private"),
    ("https://mapped.corp.example/", "loopback"),
    ("https://v6loopback.corp.example/", "loopback"),
    ("https://v6unique.corp.example/", "private"),
    ("https://v6linklocal.corp.example/", "link-local"),
    ("https://shared.corp.example/", "not a public address"),
    ("https://user:pass@canary.corp.example/", "user name"),
    ("ftp://canary.corp.example/", "only https"),
    ("http://canary.corp.example/", "only https"),
]


@pytest.mark.parametrize(("form", "why"), URL_FORMS)
async def test_a_webhook_to_an_internal_address_is_refused_and_never_connects(
    form, why, canary, egress
):
    url = form.format(port=canary.port)
    hook = Endpoint(endpoint_id="e1", kind=EndpointKind.WEBHOOK, address=url,
                    secrets=(new_signing_secret(NOW),))  # fmt: skip
    outcome = await WebhookChannel(egress, lambda: NOW).send(MESSAGE, hook)
    assert outcome.result is Result.FAILED
    assert outcome.reason.startswith("refused")
    assert why in outcome.reason


@pytest.mark.parametrize(
    "host", ["canary.corp.example", "mapped.corp.example", "v6loopback.corp.example", "localhost"]
)
async def test_the_check_at_connect_time_holds_when_the_saved_url_was_fine(host, canary, egress):
    """The URL check cannot see where a name points; the connection check sees the address
    it is about to use (so a name re-pointed after it was saved, DNS rebinding, is caught)."""
    with pytest.raises(Refused, match="loopback"):
        await egress.client.post(f"http://{host}:{canary.port}/", content=b"{}")


async def test_a_redirect_to_an_internal_address_is_not_followed(canary):
    """The first hop has to be reachable, so this one allows loopback; the redirect target
    would be reachable too, and is still never contacted."""
    egress = Egress(allow_loopback=True)
    redirect = Reply(302, {"location": f"http://127.0.0.1:{canary.port}/latest/meta-data"})
    async with HttpReceiver(lambda _: redirect) as first_hop:
        hook = Endpoint(endpoint_id="e1", kind=EndpointKind.WEBHOOK, address=first_hop.url,
                        secrets=(new_signing_secret(NOW),))  # fmt: skip
        outcome = await WebhookChannel(egress, lambda: NOW).send(MESSAGE, hook)
    assert outcome.result is Result.FAILED
    assert "redirects are not followed" in outcome.reason
    assert len(first_hop.requests) == 1


def test_loopback_is_refused_by_default_and_allowed_only_by_the_explicit_setting():
    with pytest.raises(Refused):
        check_url("http://127.0.0.1:8080/hook")
    assert check_url("http://127.0.0.1:8080/hook", allow_loopback=True).port == 8080
    with pytest.raises(Refused, match="only https"):
        check_url("http://example.com/hook", allow_loopback=True)
    assert Egress().allow_loopback is False
