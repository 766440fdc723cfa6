"""Signing in to the member API against an identity provider's JWKS URL: the key set is
fetched without blocking the event loop (the consumers and the health probes carry on while
the identity provider takes its time), cached, and a provider that never answers costs a
bounded wait and a 503, never a hang."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from shared.runtime import LoopHeartbeat, health_app
from shared.tasks import cancel_and_wait
from tests.helpers import eventually
from tests.integration.notifications.test_api import ISSUER, Issuer, bearer


class SlowIdentityProvider:
    """Serves ``/jwks`` only once :attr:`release` is set; counts what was asked."""

    def __init__(self, jwks: bytes) -> None:
        self.jwks = jwks
        self.release = asyncio.Event()
        self.asked = 0
        self.port = 0
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/jwks"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            await reader.readuntil(b"\r\n\r\n")
            self.asked += 1
            await self.release.wait()
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
                         + str(len(self.jwks)).encode() + b"\r\nconnection: close\r\n\r\n"
                         + self.jwks)  # fmt: skip
            await writer.drain()
        writer.close()

    async def __aenter__(self) -> SlowIdentityProvider:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.release.set()
        assert self._server is not None
        self._server.close()


@pytest.fixture
def issuer(tmp_path) -> Issuer:
    return Issuer(tmp_path)


@pytest.fixture
async def slow_idp(issuer) -> AsyncIterator[SlowIdentityProvider]:
    async with SlowIdentityProvider(issuer.jwks.read_bytes()) as server:
        yield server


def asgi_client(app: Callable) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://guild")


async def test_a_slow_identity_provider_does_not_stall_consumers_or_probes(
    start_notifications, issuer, slow_idp
):
    n = await start_notifications(jwt_issuer=ISSUER, jwks_url=slow_idp.url)
    await n.member("ana")
    await n.contact("ana", "hr-ana")
    heartbeat = LoopHeartbeat(stall_after=1.0)
    beating = asyncio.create_task(heartbeat.beat())
    probes_app = health_app(n.app, heartbeat, asyncio.get_running_loop())
    async with asgi_client(n.app.api) as api, asgi_client(probes_app) as probes:
        signed_in = asyncio.create_task(
            api.get("/v1/members/ana/inbox", headers=bearer(issuer.token("hr-ana")))
        )

        async def asked() -> bool:
            return slow_idp.asked == 1

        await eventually(asked, what="the JWKS asked for")
        # while the identity provider holds its answer: events are consumed, probes answer
        cause = await n.answer("ana", "bob", "While the keys are on their way")
        (item,) = await eventually(lambda: n.inbox("ana"), what="the event processed")
        assert item.cause_id == cause
        assert (await probes.get("/healthz")).status_code == 200
        assert not signed_in.done()

        slow_idp.release.set()
        answer = await signed_in
        assert answer.status_code == 200, answer.text
        assert answer.json()["items"][0]["cause_id"] == cause
        again = await api.get("/v1/members/ana/inbox", headers=bearer(issuer.token("hr-ana")))
        assert again.status_code == 200
    await cancel_and_wait(beating)
    assert slow_idp.asked == 1  # cached: one fetch for both requests


async def test_an_identity_provider_that_never_answers_costs_a_bounded_wait_and_a_503(
    start_notifications, issuer, slow_idp
):
    n = await start_notifications(jwt_issuer=ISSUER, jwks_url=slow_idp.url, jwks_timeout=0.5)
    async with asgi_client(n.app.api) as api:
        answer = await api.get("/v1/members/ana/inbox", headers=bearer(issuer.token("hr-ana")))
    assert answer.status_code == 503
    error = answer.json()["error"]
    assert error["code"] == "unavailable"
    assert "identity provider" in error["message"]
