"""A small NATS client for the CLI: requests with Guild's reply format, events, stream reads."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nats
from nats.aio.client import Client
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.errors import NoStreamResponseError

from shared.credentials import connection_options, tls_from_environment
from shared.naming import Service, command_subject, query_subject, status_subject
from shared.storage import scan


class GuildError(RuntimeError):
    """A request was refused or nobody answered; the message says which and why, ``code`` is
    the refusal's error code (``not_found``, ...) when a service gave one."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class StoredMessage:
    sequence: int
    subject: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def cloudevent(event_type: str, data: dict[str, Any], *, source: str, event_id: str) -> bytes:
    """A structured-mode CloudEvent, as any internal system would publish it."""
    return json.dumps(
        {
            "specversion": "1.0",
            "id": event_id,
            "source": source,
            "type": event_type,
            "time": datetime.now(UTC).isoformat(),
            "datacontenttype": "application/json",
            "data": data,
        }
    ).encode()


class _Refusals:
    """nats-py's error callback: quiet (a failed connection becomes one :class:`GuildError`
    instead of nats-py's own log lines with a traceback), keeping the server's permissions
    violations, which arrive apart from the publish or request they refuse."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    async def note(self, error: Exception) -> None:
        if "permissions violation" in str(error).lower():
            self.seen.append(str(error).lower())

    def of(self, subject: str) -> bool:
        return any(subject.lower() in refusal for refusal in self.seen)


PAGE = 200
"""Messages fetched at a time when reading a stream."""


class GuildClient:
    def __init__(self, nc: Client, region: str, refusals: _Refusals | None = None) -> None:
        self.nc = nc
        self.region = region
        self.refusals = refusals or _Refusals()

    @classmethod
    async def connect(cls, url: str, region: str, credentials: Path | None = None) -> GuildClient:
        """Connect as the identity of ``credentials`` (none: a server without authorization)."""
        options, refusals = connection_options(credentials), _Refusals()
        if (tls := tls_from_environment()) is not None:
            options["tls"] = tls
        try:
            nc = await nats.connect(
                url, connect_timeout=3, max_reconnect_attempts=3, error_cb=refusals.note, **options
            )
        except Exception as error:
            raise GuildError(
                f"cannot reach NATS at {url} ({type(error).__name__}): is Guild running?"
            ) from None
        return cls(nc, region, refusals)

    async def close(self) -> None:
        await self.nc.drain()

    async def _request(self, subject: str, payload: dict[str, Any], timeout: float) -> Any:
        try:
            reply = await self.nc.request(subject, json.dumps(payload).encode(), timeout=timeout)
        except NoRespondersError:
            raise GuildError(f"no service answers on {subject}: is it running?") from None
        except TimeoutError:  # nats-py raises its own and, on some paths, asyncio's
            raise GuildError(f"no answer on {subject} within {timeout}s") from None
        document = json.loads(reply.data)
        if not document.get("ok"):
            error = document.get("error", {})
            code = error.get("code", "error")
            raise GuildError(f"{code}: {error.get('message', document)}", code=code)
        return document.get("result")

    async def command(
        self, service: Service, name: str, payload: dict[str, Any], timeout: float = 10
    ) -> Any:
        return await self._request(command_subject(self.region, service, name), payload, timeout)

    async def query(
        self, service: Service, name: str, payload: dict[str, Any], timeout: float = 10
    ) -> Any:
        return await self._request(query_subject(self.region, service, name), payload, timeout)

    async def status(self, service: Service, timeout: float = 1.0) -> dict[str, Any] | None:
        try:
            reply = await self.nc.request(status_subject(self.region, service), b"", timeout)
        except (NoRespondersError, NatsTimeoutError):
            return None
        status: dict[str, Any] = json.loads(reply.data)
        return status

    async def publish(
        self, subject: str, body: bytes, *, msg_id: str, headers: dict[str, str] | None = None
    ) -> int:
        """Publish to JetStream (waiting for the PubAck); returns the stream sequence."""
        all_headers = {**(headers or {}), "Nats-Msg-Id": msg_id}
        try:
            ack = await self.nc.jetstream().publish(subject, body, headers=all_headers)
        except NoStreamResponseError:
            raise GuildError(f"no stream stores subject {subject}") from None
        except (NatsTimeoutError, TimeoutError):
            if self.refusals.of(subject):
                raise GuildError(f"not permitted to publish on {subject}") from None
            raise GuildError(f"no PubAck for {subject}: is NATS overloaded?") from None
        return ack.seq

    async def read_stream(
        self, stream: str, subject: str = ">", limit: int | None = None
    ) -> list[StoredMessage]:
        """The messages of ``stream`` on ``subject``, oldest first: all of them, or the first
        ``limit`` (read with :func:`shared.storage.scan`, which counts what is pending first,
        so a subject with no messages is an empty list, not a wait that times out)."""
        found: list[StoredMessage] = []
        async for sequence, stored_subject, headers, data in scan(
            self.nc.jetstream(), stream, subject, batch=PAGE
        ):
            if limit is not None and len(found) >= limit:
                break
            found.append(StoredMessage(sequence, stored_subject, headers, data))
        return found
