"""Each channel against a real local receiver: an SMTP server (aiosmtpd, with STARTTLS and
a login), HTTP endpoints that verify Standard Webhooks signatures with the
``standardwebhooks`` package, and Slack- and Teams-like endpoints that answer 429 with
``Retry-After``, 503 and 410."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import ssl
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from guild_cli.receivers import HttpReceiver, MailSink, Received, Reply
from services.notifications.channels.apprise_urls import AppriseChannel
from services.notifications.channels.egress import Egress, system_resolver
from services.notifications.channels.email import EmailChannel, SmtpServer
from services.notifications.channels.webhooks import SlackChannel, TeamsChannel, WebhookChannel
from services.notifications.domain.endpoints import (
    Endpoint,
    EndpointKind,
    Message,
    Result,
    new_signing_secret,
)

NOW = datetime(2026, 11, 25, 10, tzinfo=UTC)
MESSAGE = Message(
    notification_id="3f2a9c1e0b7d4e6f8a1b2c3d4e5f6a7b",
    kind="question_for_you",
    title="A question you may be able to answer: pods cannot reach the API",
    body="Ana asked in Platform: pods cannot reach the API <after upgrade>",
    reasons=("answered 6 questions on kubernetes-networking, 2 accepted", "working hours now"),
    created_at=NOW,
    links=(("Open the question", "https://guild.example/q/1"),),
    unsubscribe_url="https://guild.example/v1/unsubscribe/tok3n",
)


def endpoint(kind: EndpointKind, address: str, **fields) -> Endpoint:
    return Endpoint(endpoint_id="e1", kind=kind, address=address, **fields)


@pytest.fixture
def egress():
    return Egress(allow_loopback=True)


# ------------------------------------------------------------------ e-mail


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1 (the mail relay's), and its file."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(datetime.now(UTC) - dt.timedelta(days=1))
        .not_valid_after(datetime.now(UTC) + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


async def test_email_goes_over_starttls_with_a_login_with_both_parts_and_unsubscribe_headers(
    tls_files,
):
    cert_file, key_file = tls_files
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    sink = MailSink(tls_context=context, logins={"guild": "s3cret"}).start()
    try:
        server = SmtpServer(
            host="127.0.0.1",
            port=sink.port,
            username="guild",
            password="s3cret",
            sender="Guild <guild@guild.example>",
            ca_file=str(cert_file),
        )
        channel = EmailChannel(server, b"server-secret", lambda: NOW)
        outcome = await channel.send(MESSAGE, endpoint(EndpointKind.EMAIL, "ana@corp.example"))
        sink.unknown.add("left@corp.example")
        refused = await channel.send(MESSAGE, endpoint(EndpointKind.EMAIL, "left@corp.example"))
    finally:
        sink.stop()
    assert outcome.result is Result.DELIVERED
    assert refused.result is Result.FAILED
    assert "550" in refused.reason
    [mail] = sink.messages
    assert sink.recipients == [["ana@corp.example"]]
    assert mail["Subject"] == MESSAGE.title
    assert mail["List-Unsubscribe"] == "<https://guild.example/v1/unsubscribe/tok3n>"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail["X-Notification-Id"] == MESSAGE.notification_id
    assert mail["Message-ID"].endswith("@guild.example>")
    assert MESSAGE.notification_id not in mail["Message-ID"]
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "working hours now" in text
    assert "&lt;after upgrade&gt;" in html


async def test_an_unreachable_mail_server_is_a_retry_not_a_failure():
    channel = EmailChannel(SmtpServer(host="127.0.0.1", port=9, timeout=2), b"k", lambda: NOW)
    outcome = await channel.send(MESSAGE, endpoint(EndpointKind.EMAIL, "ana@corp.example"))
    assert outcome.result is Result.RETRY


# ------------------------------------------------------------------ webhooks


async def test_webhooks_verify_with_the_standardwebhooks_package_during_a_secret_rotation(
    egress,
):
    old = endpoint(EndpointKind.WEBHOOK, "", secrets=(new_signing_secret(NOW),))
    async with HttpReceiver() as receiver:
        hook = replace(old, address=receiver.url + "/hooks/guild")
        channel = WebhookChannel(egress, lambda: NOW)
        first = await channel.send(MESSAGE, hook)
        rotated = hook.rotated(NOW)
        second = await channel.send(MESSAGE, rotated)
        after_overlap = await WebhookChannel(egress, lambda: NOW + dt.timedelta(days=2)).send(
            MESSAGE, rotated
        )
    assert [first.result, second.result, after_overlap.result] == [Result.DELIVERED] * 3
    old_secret, new_secret = hook.secrets[0].secret, rotated.secrets[0].secret
    signed = [r.headers["webhook-signature"].count("v1,") for r in receiver.requests]
    assert signed == [1, 2, 1]
    for request in receiver.requests:
        payload = Webhook(new_secret if request is not receiver.requests[0] else old_secret)
        assert payload.verify(request.body, request.headers)["data"]["title"] == MESSAGE.title
        assert request.headers["webhook-id"] == MESSAGE.notification_id
    Webhook(old_secret).verify(receiver.requests[1].body, receiver.requests[1].headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old_secret).verify(receiver.requests[2].body, receiver.requests[2].headers)


def scripted(*replies: Reply):
    """Answers each request with the next reply, then 200."""
    queue = list(replies)

    def respond(_: Received) -> Reply:
        return queue.pop(0) if queue else Reply()

    return respond


async def test_slack_like_endpoint_429_with_retry_after_then_503_then_ok_then_410(egress):
    async with HttpReceiver(
        scripted(
            Reply(429, {"Retry-After": "7"}, b"rate_limited"),
            Reply(503, {}, b"down"),
            Reply(200, {}, b"ok"),
            Reply(410, {}, b"no_service"),
        )
    ) as slack:
        channel = SlackChannel(egress, lambda: NOW)
        hook = endpoint(EndpointKind.SLACK, slack.url + "/services/T1/B1/x")
        outcomes = [await channel.send(MESSAGE, hook) for _ in range(4)]
    assert [o.result for o in outcomes] == [Result.RETRY, Result.RETRY, Result.DELIVERED,
                                            Result.GONE]  # fmt: skip
    assert outcomes[0].retry_after == 7
    assert outcomes[1].retry_after is None
    block_texts = str(slack.requests[0].body)
    assert "working hours now" in block_texts


async def test_teams_like_endpoint_gets_an_adaptive_card_and_202_counts_as_accepted(egress):
    async with HttpReceiver(
        scripted(Reply(202, {}, b""), Reply(429, {"Retry-After": "2"}), Reply(410))
    ) as teams:
        channel = TeamsChannel(egress, lambda: NOW)
        hook = endpoint(EndpointKind.TEAMS, teams.url + "/workflows/x?sig=abc")
        outcomes = [await channel.send(MESSAGE, hook) for _ in range(3)]
    assert [o.result for o in outcomes] == [Result.ACCEPTED, Result.RETRY, Result.GONE]
    card = json.loads(teams.requests[0].body)
    assert card["type"] == "message"
    attachment = card["attachments"][0]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert attachment["content"]["version"] == "1.2"
    assert attachment["content"]["actions"][0]["type"] == "Action.OpenUrl"


async def test_apprise_urls_reach_their_target_when_the_scheme_is_allowed():
    async with HttpReceiver() as target:
        allowed = AppriseChannel(frozenset({"json"}), system_resolver, allow_loopback=True)
        address = f"json://127.0.0.1:{target.port}/notify"
        sent = await allowed.send(MESSAGE, endpoint(EndpointKind.APPRISE, address))
        not_allowed = AppriseChannel(frozenset(), system_resolver, allow_loopback=True)
        refused = await not_allowed.send(MESSAGE, endpoint(EndpointKind.APPRISE, address))
        private = await AppriseChannel(frozenset({"json"}), system_resolver).send(
            MESSAGE, endpoint(EndpointKind.APPRISE, address)
        )
    assert sent.result is Result.DELIVERED
    assert b"pods cannot reach the API" in target.requests[0].body
    assert b"https://guild.example/q/1" in target.requests[0].body  # its links too
    assert refused.result is Result.FAILED
    assert "not allowed" in refused.reason
    assert private.result is Result.FAILED
    assert "loopback" in private.reason
    assert len(target.requests) == 1


# ------------------------------------------------------------------ what people wrote

HOSTILE = replace(
    MESSAGE,
    title="<!channel> pods & nodes: [your SSO login](https://evil.example)",
    body="Log in again at <https://evil.example|your SSO login> **now**",
    reasons=("you are a member of <!here> Platform",),
    links=(
        ("Open the question", "https://guild.example/q/1?from=mail&x=1"),
        ("Turn off: you are a member of <!here> Platform", "https://guild.example/v1/u/t"),
    ),
    unsubscribe_url=None,
)


def _strings(document: object) -> list[str]:
    """Every string in a JSON document."""
    if isinstance(document, str):
        return [document]
    if isinstance(document, dict):
        return [s for value in document.values() for s in _strings(value)]
    if isinstance(document, list):
        return [s for value in document for s in _strings(value)]
    return []


def _slack_texts(payload: dict) -> list[str]:
    """Every text Slack parses as mrkdwn: the fallback and each mrkdwn element."""
    texts = [payload["text"]]
    for block in payload["blocks"]:
        elements = [block.get("text"), *block.get("elements", [])]
        texts += [e["text"] for e in elements if e and e.get("type") == "mrkdwn"]
    return texts


async def test_slack_gets_what_people_wrote_escaped_so_it_cannot_ping_or_disguise_a_link(egress):
    async with HttpReceiver() as slack:
        hook = endpoint(EndpointKind.SLACK, slack.url + "/services/T1/B1/x")
        outcome = await SlackChannel(egress, lambda: NOW).send(HOSTILE, hook)
    assert outcome.result is Result.DELIVERED
    texts = _slack_texts(json.loads(slack.requests[0].body))
    everything = "\n".join(texts)
    assert "<!channel>" not in everything
    assert "<!here>" not in everything
    assert "<https://evil.example" not in everything
    assert "&lt;!channel&gt; pods &amp; nodes" in texts[0]
    assert "&lt;https://evil.example|your SSO login&gt;" in everything
    # Guild's own links stay links (the URL's & escaped too, as Slack reads it)
    assert "<https://guild.example/q/1?from=mail&amp;x=1|Open the question>" in everything
    turn_off = "<https://guild.example/v1/u/t|Turn off: you are a member of &lt;!here&gt; Platform>"
    assert turn_off in everything


async def test_teams_shows_what_people_wrote_as_plain_text_never_as_a_markdown_link(egress):
    async with HttpReceiver(scripted(Reply(202, {}, b""))) as teams:
        hook = endpoint(EndpointKind.TEAMS, teams.url + "/workflows/x?sig=abc")
        outcome = await TeamsChannel(egress, lambda: NOW).send(HOSTILE, hook)
    assert outcome.result is Result.ACCEPTED
    card = json.loads(teams.requests[0].body)["attachments"][0]["content"]
    markdown = [e["text"] for e in card["body"] if e["type"] == "TextBlock"]
    assert not any("](https://evil" in text for text in markdown)
    plain = [
        run["text"]
        for element in card["body"]
        if element["type"] == "RichTextBlock"
        for run in element["inlines"]
    ]
    assert HOSTILE.title in plain  # shown as written: a TextRun is never read as markdown
    assert HOSTILE.body in plain
    urls = [a["url"] for a in card["actions"]]
    assert urls == [url for _, url in HOSTILE.links]
    assert "https://evil.example" not in urls


async def test_mail_html_shows_what_people_wrote_as_text_not_markup():
    sink = MailSink().start()
    try:
        server = SmtpServer(host="127.0.0.1", port=sink.port, starttls=False)
        channel = EmailChannel(server, b"k", lambda: NOW)
        sent = await channel.send(HOSTILE, endpoint(EndpointKind.EMAIL, "ana@corp.example"))
    finally:
        sink.stop()
    assert sent.result is Result.DELIVERED
    html = sink.messages[0].get_body(("html",)).get_content()
    assert "<https://evil.example" not in html
    assert "&lt;https://evil.example|your SSO login&gt;" in html
    assert 'href="https://evil.example"' not in html
    assert "&lt;!here&gt;" in html


async def test_a_title_with_line_breaks_is_one_subject_line_and_adds_no_header():
    sink = MailSink().start()
    try:
        server = SmtpServer(host="127.0.0.1", port=sink.port, starttls=False)
        channel = EmailChannel(server, b"k", lambda: NOW)
        broken = replace(MESSAGE, title="Pods down\r\nBcc: everyone@corp.example\n  again")
        sent = await channel.send(broken, endpoint(EndpointKind.EMAIL, "ana@corp.example"))
    finally:
        sink.stop()
    assert sent.result is Result.DELIVERED
    mail = sink.messages[0]
    assert mail["Subject"] == "Pods down Bcc: everyone@corp.example again"
    assert mail["Bcc"] is None
    assert sink.recipients == [["ana@corp.example"]]
