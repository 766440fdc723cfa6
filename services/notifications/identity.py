"""Who is signed in: bearer JWTs checked against the configured issuer's keys (its JWKS).

The key set is fetched with an async client under a bounded timeout, cached, and refreshed in
the background once it is older than ``max_age``: a request never waits for a refresh, only
for the first fetch (or for a key id it has not seen, at most once per ``retry_after``), and
the event loop never waits at all, so consumers and probes carry on while the identity
provider takes its time. A key set that cannot be fetched costs that request a 503.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any, Protocol

import httpx
import jwt

from services.notifications.settings import NotificationsSettings
from shared.bounded_json import load_json

log = logging.getLogger("guild.notifications.identity")

ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256", "EdDSA"]
MAX_JWKS_BYTES = 512 * 1024


class NotSignedIn(Exception):
    """The token is missing, expired or not valid: the request is not signed in (401)."""


class SignInUnavailable(Exception):
    """Sign-in cannot be checked now: not configured, or the issuer's keys unreachable (503)."""


class KeySource(Protocol):
    async def key(self, kid: str | None) -> Any:
        """The public key with id ``kid``; :class:`NotSignedIn` if the issuer has none."""
        ...


def _find(keys: jwt.PyJWKSet, kid: str | None) -> Any | None:
    return next((k.key for k in keys.keys if kid is None or k.key_id == kid), None)


class JwksFile:
    """A JWKS file on local disk, read again when it changes (keys rotated)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._held: tuple[float, jwt.PyJWKSet] | None = None

    async def key(self, kid: str | None) -> Any:
        try:
            changed = self.path.stat().st_mtime
            if self._held is None or self._held[0] != changed:
                self._held = (changed, jwt.PyJWKSet.from_json(self.path.read_text()))
        except (OSError, jwt.PyJWTError, ValueError) as error:
            why = f"the identity provider's key file cannot be read: {error}"
            raise SignInUnavailable(why) from None
        found = _find(self._held[1], kid)
        if found is None:
            raise NotSignedIn(f"no key {kid!r} in the issuer's key set")
        return found


class JwksUrl:
    """An issuer's published JWKS, fetched without blocking and cached."""

    def __init__(
        self, url: str, *, timeout: float, max_age: float = 300.0, retry_after: float = 30.0
    ) -> None:
        self.url, self.timeout = url, timeout
        self.max_age, self.retry_after = max_age, retry_after
        self._keys: jwt.PyJWKSet | None = None
        self._fetched_at = self._tried_at = float("-inf")
        self._fetching: asyncio.Task[None] | None = None

    async def key(self, kid: str | None) -> Any:
        now = time.monotonic()
        if self._keys is None:
            await self._fetch_once()
        elif now - self._fetched_at > self.max_age:
            self._start_fetch()  # keep answering with the keys held meanwhile
        found = _find(self._keys, kid) if self._keys else None
        if found is None and self._keys is not None and now - self._tried_at > self.retry_after:
            await self._fetch_once()  # perhaps a key rotated in since the last fetch
            found = _find(self._keys, kid)
        if self._keys is None:
            raise SignInUnavailable("the identity provider's keys cannot be fetched now")
        if found is None:
            raise NotSignedIn(f"no key {kid!r} in the issuer's key set")
        return found

    def _start_fetch(self) -> asyncio.Task[None]:
        """One fetch at a time, shared by every request that needs it."""
        if self._fetching is None or self._fetching.done():
            self._fetching = asyncio.create_task(self._fetch(), name="jwks-fetch")
        return self._fetching

    async def _fetch_once(self) -> None:
        await asyncio.shield(self._start_fetch())

    async def _fetch(self) -> None:
        """Fetch the key set; on failure keep the keys held (logged), never raise."""
        self._tried_at = time.monotonic()
        try:
            async with asyncio.timeout(self.timeout):
                keys = jwt.PyJWKSet.from_dict(load_json(await self._download()))
        except (TimeoutError, httpx.HTTPError, jwt.PyJWTError, ValueError) as error:
            log.warning("identity provider's keys not fetched; keeping those held",
                        extra={"url": self.url, "error": repr(error),
                               "held": self._keys is not None})  # fmt: skip
            return
        self._keys, self._fetched_at = keys, time.monotonic()

    async def _download(self) -> bytes:
        body = bytearray()
        async with (
            httpx.AsyncClient(timeout=self.timeout) as client,
            client.stream("GET", self.url, headers={"accept": "application/json"}) as response,
        ):
            response.raise_for_status()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_JWKS_BYTES:
                    raise ValueError(f"the key set is larger than {MAX_JWKS_BYTES} bytes")
        return bytes(body)


def key_source(settings: NotificationsSettings) -> KeySource | None:
    if settings.jwks_url:
        return JwksUrl(settings.jwks_url, timeout=settings.jwks_timeout,
                       max_age=settings.jwks_max_age)  # fmt: skip
    if settings.jwks_file:
        return JwksFile(Path(settings.jwks_file))
    return None


class Tokens:
    """Checks bearer tokens against the configured issuer and key set."""

    def __init__(self, settings: NotificationsSettings, keys: KeySource | None = None) -> None:
        self.issuer, self.audience = settings.jwt_issuer, settings.jwt_audience
        self.claim = settings.jwt_member_claim
        self.keys = keys or key_source(settings)

    async def person_id(self, token: str) -> str:
        """The person the token was issued to (their HR person id, in the member claim)."""
        if not self.issuer or self.keys is None:
            raise SignInUnavailable("sign-in is not configured in this region (GUILD_NOTIFICA"
                                    "TIONS_JWT_ISSUER and a JWKS)")  # fmt: skip
        try:
            key = await self.keys.key(jwt.get_unverified_header(token).get("kid"))
            claims = jwt.decode(
                token, key, algorithms=ALGORITHMS, issuer=self.issuer, audience=self.audience,
                options={"require": ["exp", "iss", "aud", self.claim]},
            )  # fmt: skip
        except jwt.ExpiredSignatureError:
            raise NotSignedIn("the token has expired") from None
        except (jwt.PyJWTError, ValueError) as error:
            raise NotSignedIn(f"the token is not valid: {error}") from None
        person_id = claims.get(self.claim)
        if not isinstance(person_id, str) or not person_id:
            raise NotSignedIn(f"the token names no person in {self.claim!r}")
        return person_id
