"""The demo's saved deliveries are what was sent: a mail is saved as the bytes the mail
sink received, so its headers read as the mail program got them."""

from __future__ import annotations

from dataclasses import replace

from guild_cli.demo_deliveries import DemoDeliveries
from services.notifications.channels.email import EmailChannel, SmtpServer
from services.notifications.domain.endpoints import Endpoint, EndpointKind, Result
from tests.integration.notifications.test_channels import MESSAGE, NOW

LONG_UNSUBSCRIBE = "http://127.0.0.1:8083/v1/unsubscribe/" + "eyJtZW1iZXIiOiJlMTAwMSJ9" * 6 + ".sig"


def _header_line(raw: bytes, name: bytes) -> bytes:
    """The header's whole line as written (with any folded continuation lines)."""
    head = raw.split(b"\r\n\r\n", 1)[0].replace(b"\r\n", b"\n")
    lines = head.split(b"\n")
    start = next(i for i, line in enumerate(lines) if line.lower().startswith(name.lower() + b":"))
    end = start + 1
    while end < len(lines) and lines[end][:1] in (b" ", b"\t"):
        end += 1
    return b"\n".join(lines[start:end])


async def test_a_saved_mail_keeps_the_list_unsubscribe_line_exactly_as_sent(tmp_path):
    message = replace(MESSAGE, unsubscribe_url=LONG_UNSUBSCRIBE)
    deliveries = await DemoDeliveries(tmp_path, lambda _: None).start()
    try:
        server = SmtpServer(host="127.0.0.1", port=deliveries.mail.port, starttls=False)
        channel = EmailChannel(server, b"k", lambda: NOW)
        sent = channel.compose(message, "e1001@demo.local").as_bytes()
        mailbox = Endpoint("m1", EndpointKind.EMAIL, "e1001@demo.local")
        outcome = await channel.send(message, mailbox)
        assert outcome.result is Result.DELIVERED
        saved = sorted(tmp_path.glob("*.eml"))  # saved before the sink answered 250
    finally:
        await deliveries.stop()
    raw = saved[0].read_bytes()
    line = _header_line(raw, b"List-Unsubscribe")
    assert line == f"List-Unsubscribe: <{LONG_UNSUBSCRIBE}>".encode()
    assert line == _header_line(sent, b"List-Unsubscribe")
    assert b"=?" not in line
