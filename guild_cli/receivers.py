"""Local receivers for notifications: an HTTP endpoint and an SMTP mail sink, on loopback.

The demo starts them so that deliveries can be seen (and saved as files); the tests script
them (answer 429, 503, 410, redirect) to check what Guild does with each answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class Received:
    """One HTTP request as the receiver saw it; header names in lower case."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass(frozen=True)
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"


REASONS = {200: "OK", 202: "Accepted", 302: "Found", 400: "Bad Request", 404: "Not Found",
           410: "Gone", 429: "Too Many Requests", 500: "Internal Server Error",
           503: "Service Unavailable"}  # fmt: skip


class HttpReceiver:
    """A minimal HTTP/1.1 server: records every request and answers what ``respond`` says
    (200 "ok" by default). ``connections`` counts every TCP connection, even ones that
    never send a request (a canary)."""

    def __init__(self, respond: Callable[[Received], Reply] | None = None) -> None:
        self.respond = respond or (lambda _: Reply())
        self.requests: list[Received] = []
        self.connections = 0
        self.port = 0
        self._server: asyncio.Server | None = None
        self._arrived = asyncio.Event()

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    async def start(self) -> HttpReceiver:
        self._server = await asyncio.start_server(self._serve, LOOPBACK, 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()

    async def __aenter__(self) -> HttpReceiver:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        """Until ``count`` requests have arrived (fails after ``timeout`` seconds)."""
        async with asyncio.timeout(timeout):
            while len(self.requests) < count:
                self._arrived.clear()
                await self._arrived.wait()
        return self.requests

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            request = await self._read(reader)
            if request is None:
                return
            self.requests.append(request)
            self._arrived.set()
            reply = self.respond(request)
            head = [f"HTTP/1.1 {reply.status} {REASONS.get(reply.status, 'Status')}",
                    f"content-length: {len(reply.body)}", "connection: close",
                    *(f"{k}: {v}" for k, v in reply.headers.items())]  # fmt: skip
            writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + reply.body)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            writer.close()

    @staticmethod
    async def _read(reader: asyncio.StreamReader) -> Received | None:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        if not lines[0]:
            return None
        method, path, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        return Received(method, path, headers, body, time.monotonic())


def free_port() -> int:
    """A port nobody listens on right now (aiosmtpd needs one before it starts)."""
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Mailed:
    """One mail the sink accepted: the bytes as received, and the message parsed from them."""

    raw: bytes
    """Exactly what the client sent after DATA (save these: re-serialising the parsed
    message refolds its headers)."""
    message: EmailMessage
    recipients: list[str]


class MailSink:
    """An SMTP server (aiosmtpd) that keeps every message it accepts.

    ``tls_context`` turns on STARTTLS (and requires it); ``logins`` (user -> password)
    requires authentication."""

    def __init__(
        self,
        *,
        tls_context: Any = None,
        logins: dict[str, str] | None = None,
        on_message: Callable[[Mailed], None] | None = None,
    ) -> None:
        self.on_message = on_message
        self.mailed: list[Mailed] = []
        self.messages: list[EmailMessage] = []
        self.unknown: set[str] = set()
        """Addresses answered with 550 (no such user)."""
        self.recipients: list[list[str]] = []
        self.tls_context, self.logins = tls_context, logins
        self._controller: Any = None
        self.port = 0

    def start(self) -> MailSink:
        from aiosmtpd.controller import Controller

        options: dict[str, Any] = {}
        if self.tls_context is not None:
            options |= {"tls_context": self.tls_context, "require_starttls": True}
        if self.logins is not None:
            options |= {"authenticator": self._authenticate, "auth_required": True}
        self.port = free_port()
        self._controller = Controller(self, hostname=LOOPBACK, port=self.port, **options)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str,
                      auth_data: Any) -> Any:  # fmt: skip
        from aiosmtpd.smtp import AuthResult, LoginPassword

        ok = (
            isinstance(auth_data, LoginPassword)
            and self.logins is not None
            and self.logins.get(auth_data.login.decode()) == auth_data.password.decode()
        )
        return AuthResult(success=ok)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address in self.unknown:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw: bytes = envelope.original_content
        mail = message_from_bytes(raw, policy=policy.default)
        assert isinstance(mail, EmailMessage)
        mailed = Mailed(raw, mail, list(envelope.rcpt_tos))
        self.mailed.append(mailed)
        self.messages.append(mail)
        self.recipients.append(mailed.recipients)
        if self.on_message is not None:
            self.on_message(mailed)
        return "250 Message accepted for delivery"
