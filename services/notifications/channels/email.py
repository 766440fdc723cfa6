"""E-mail over SMTP: a text and an HTML part, and one-click unsubscribe (RFC 8058).

The SMTP server is the operator's (``GUILD_NOTIFICATIONS_SMTP_*``), not a member's, so it is
not subject to the checks of :mod:`.egress`. Each mail carries:

* ``List-Unsubscribe`` with the HTTPS link that turns this kind of mail off for the member
  (a POST does it; a GET only shows a button, since link scanners fetch links), and
  ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``;
* ``X-Notification-Id``, stable across retries, and a ``Message-ID`` derived from it with a
  server secret (deterministic, so a mailbox that already has it can drop a resend; not
  guessable, so nobody can pre-empt it).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import html
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from services.notifications.channels.egress import Refused
from services.notifications.domain.endpoints import (
    Endpoint,
    EndpointKind,
    Message,
    Outcome,
    Result,
)

MAIL_POLICY = policy.default.clone(max_line_length=998)
"""Header lines up to RFC 5322's limit: a long ``List-Unsubscribe`` URL must stay one URL,
not be split into encoded words that mail programs do not read there."""


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int = 587
    starttls: bool = True
    username: str | None = None
    password: str | None = None
    sender: str = "Guild <guild@localhost>"
    ca_file: str | None = None
    """Trust this CA (an internal mail relay's) instead of the system's."""
    timeout: float = 30.0
    list_id: str = "Guild notifications <notifications.guild.local>"


class EmailChannel:
    kind = EndpointKind.EMAIL

    def __init__(
        self,
        server: SmtpServer,
        secret: bytes = b"",
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.server, self.secret, self.clock = server, secret, clock
        """``secret`` keys the Message-IDs; the service sets the region's own at start-up."""

    async def check(self, address: str) -> None:
        name, parsed = parseaddr(address)
        local, _, domain = parsed.rpartition("@")
        if name or parsed != address.strip() or not local or "." not in domain or " " in parsed:
            raise Refused("not an e-mail address (write it as name@example.com)")

    def compose(self, message: Message, to: str) -> EmailMessage:
        mail = EmailMessage(policy=MAIL_POLICY)
        mail["From"] = self.server.sender
        mail["To"] = to
        mail["Subject"] = one_line(message.title)
        mail["Date"] = format_datetime(self.clock())
        mail["Message-ID"] = self._message_id(message.notification_id)
        mail["X-Notification-Id"] = message.notification_id
        mail["List-Id"] = self.server.list_id
        if message.unsubscribe_url:
            mail["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
            mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        mail.set_content(_text(message))
        mail.add_alternative(_html(message), subtype="html")
        return mail

    def _message_id(self, notification_id: str) -> str:
        digest = hmac.new(self.secret, notification_id.encode(), hashlib.sha256).hexdigest()
        domain = self.server.sender.rsplit("@", 1)[-1].strip(" >") or "guild.local"
        return f"<{digest[:40]}@{domain}>"

    async def send(self, message: Message, endpoint: Endpoint) -> Outcome:
        mail = self.compose(message, endpoint.address)
        return await asyncio.to_thread(self._submit, mail, endpoint.address)

    def _submit(self, mail: EmailMessage, to: str) -> Outcome:
        server = self.server
        try:
            with smtplib.SMTP(server.host, server.port, timeout=server.timeout) as smtp:
                smtp.ehlo()
                if server.starttls:
                    smtp.starttls(context=ssl.create_default_context(cafile=server.ca_file))
                    smtp.ehlo()
                if server.username:
                    smtp.login(server.username, server.password or "")
                smtp.send_message(mail, to_addrs=[to])
        except smtplib.SMTPRecipientsRefused as refused:
            code, said = next(iter(refused.recipients.values()))
            return _answer(code, said)
        except smtplib.SMTPResponseException as error:
            return _answer(error.smtp_code, error.smtp_error)
        except (OSError, smtplib.SMTPException) as error:
            return Outcome(Result.RETRY, f"mail server unreachable: {type(error).__name__}")
        return Outcome(Result.DELIVERED, "accepted by the mail server")


def one_line(text: str) -> str:
    """A header value from what people wrote: its line breaks would end the header (the
    mail library refuses them), so every run of whitespace is one space."""
    return " ".join(text.split())


def _answer(code: int, said: bytes | str) -> Outcome:
    text = said.decode("utf-8", "replace") if isinstance(said, bytes) else said
    result = Result.RETRY if 400 <= code < 500 else Result.FAILED
    return Outcome(result, f"SMTP {code}: {text[:120]}")


def _text(message: Message) -> str:
    lines = [message.title, "", message.body, ""]
    if message.reasons:
        lines.append("Why you get this: " + "; ".join(message.reasons))
    lines += [f"{label}: {url}" for label, url in message.links]
    if message.unsubscribe_url:
        lines.append(f"Stop these e-mails: {message.unsubscribe_url}")
    return "\n".join(lines) + "\n"


def _html(message: Message) -> str:
    e = html.escape
    body = "<br>".join(e(line) for line in message.body.splitlines())
    parts = [f"<h2>{e(message.title)}</h2>", f"<p>{body}</p>"]
    if message.reasons:
        parts.append(f"<p><small>Why you get this: {e('; '.join(message.reasons))}</small></p>")
    parts += [f'<p><a href="{e(url)}">{e(label)}</a></p>' for label, url in message.links]
    if message.unsubscribe_url:
        parts.append(f'<p><small><a href="{e(message.unsubscribe_url)}">Stop these e-mails</a>'
                     "</small></p>")  # fmt: skip
    return "<!doctype html><html><body>" + "".join(parts) + "</body></html>\n"
