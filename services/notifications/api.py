"""The member self-service HTTP API: a member's channels, preferences and inbox, and the
links in messages. It runs in the notifications process, on the service's own FastStream
broker connection and store, and calls the same handlers as NATS request-reply.

Every ``/v1/members/{member_id}/...`` request needs a bearer JWT signed by the configured
issuer (keys from its JWKS), for this audience, not expired, whose member claim is that
member: a member reaches only their own data. ``/v1/unsubscribe/{token}`` needs none (the
signed link is the proof); a GET only shows a button, since mail scanners fetch links.
"""

import html
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import jwt
from fastapi import Depends, FastAPI, HTTPException, Query
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import Request as HttpRequest

from services.notifications.handlers import Deps, selfservice
from services.notifications.settings import NotificationsSettings
from shared.contracts import notifications as n
from shared.messaging.rpc import Rejected

R = TypeVar("R")
STATUS = {"not_found": 404, "invalid_request": 422, "forbidden": 403, "conflict": 409}
ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256", "EdDSA"]


class Tokens:
    """Checks bearer tokens against the configured issuer and key set."""

    def __init__(self, settings: NotificationsSettings) -> None:
        self.issuer, self.audience = settings.jwt_issuer, settings.jwt_audience
        self.claim = settings.jwt_member_claim
        self._client = jwt.PyJWKClient(settings.jwks_url) if settings.jwks_url else None
        self._file = Path(settings.jwks_file) if settings.jwks_file else None
        self._file_keys: tuple[float, jwt.PyJWKSet] | None = None

    @property
    def configured(self) -> bool:
        return bool(self.issuer and (self._client or self._file))

    def _keys_from_file(self) -> jwt.PyJWKSet:
        """The file's key set, read again only when the file changed (keys rotated)."""
        assert self._file is not None
        changed = self._file.stat().st_mtime
        if self._file_keys is None or self._file_keys[0] != changed:
            self._file_keys = (changed, jwt.PyJWKSet.from_json(self._file.read_text()))
        return self._file_keys[1]

    def _key(self, token: str) -> Any:
        if self._client is not None:
            return self._client.get_signing_key_from_jwt(token).key
        kid = jwt.get_unverified_header(token).get("kid")
        for key in self._keys_from_file().keys:
            if kid is None or key.key_id == kid:
                return key.key
        raise jwt.InvalidTokenError(f"no key {kid!r} in the issuer's key set")

    def member_id(self, token: str) -> str:
        """The member the token was issued to; :class:`HTTPException` 401 if it is not valid."""
        if not self.configured:
            raise HTTPException(503, "sign-in is not configured in this region (GUILD_NOTIFICA"
                                "TIONS_JWT_ISSUER and a JWKS)")  # fmt: skip
        try:
            claims = jwt.decode(
                token, self._key(token), algorithms=ALGORITHMS, issuer=self.issuer,
                audience=self.audience, options={"require": ["exp", "iss", "aud", self.claim]},
            )  # fmt: skip
        except jwt.ExpiredSignatureError:
            raise _unauthorized("the token has expired") from None
        except (jwt.PyJWTError, ValueError, OSError) as error:
            raise _unauthorized(f"the token is not valid: {error}") from None
        member_id = claims.get(self.claim)
        if not isinstance(member_id, str) or not member_id:
            raise _unauthorized(f"the token names no member in {self.claim!r}")
        return member_id


def _unauthorized(why: str) -> HTTPException:
    return HTTPException(401, why, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


async def _run(handler: Callable[[Any, Deps], Awaitable[R]], request: Any, deps: Deps) -> R:
    try:
        return await handler(request, deps)
    except Rejected as rejected:
        body = rejected.body
        raise HTTPException(STATUS.get(body.code, 400), body.model_dump(mode="json")) from None


def build_api(deps: Deps, settings: NotificationsSettings) -> FastAPI:
    tokens = Tokens(settings)
    bearer = HTTPBearer(auto_error=False)
    api = FastAPI(
        title="Guild notifications: member self-service",
        version="1",
        description=__doc__,
        docs_url="/docs",
        openapi_url="/openapi.json",
        redoc_url=None,
    )

    async def member(
        member_id: str,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> str:
        if credentials is None:
            raise HTTPException(401, "sign in: send 'Authorization: Bearer <token>'",
                                headers={"WWW-Authenticate": "Bearer"})  # fmt: skip
        if tokens.member_id(credentials.credentials) != member_id:
            raise HTTPException(403, "a member can only reach their own notifications")
        return member_id

    Me = Annotated[str, Depends(member)]
    base = "/v1/members/{member_id}"

    @api.get(base + "/endpoints", response_model=n.EndpointList, tags=["channels"])
    async def list_endpoints(member_id: Me) -> n.EndpointList:
        return await _run(selfservice.list_endpoints, n.ListEndpoints(member_id=member_id), deps)

    @api.post(base + "/endpoints", response_model=n.EndpointAdded, status_code=201,
              tags=["channels"])  # fmt: skip
    async def add_endpoint(member_id: Me, body: n.EndpointBody) -> n.EndpointAdded:
        command = n.AddEndpoint(member_id=member_id, **body.model_dump())
        return await _run(selfservice.add_endpoint, command, deps)

    @api.delete(base + "/endpoints/{endpoint_id}", status_code=204, tags=["channels"])
    async def remove_endpoint(member_id: Me, endpoint_id: str) -> None:
        command = n.EndpointRequest(member_id=member_id, endpoint_id=endpoint_id)
        await _run(selfservice.remove_endpoint, command, deps)

    @api.put(base + "/endpoints/{endpoint_id}/enabled", response_model=n.EndpointView,
             tags=["channels"])  # fmt: skip
    async def switch_endpoint(member_id: Me, endpoint_id: str, body: n.Switch) -> n.EndpointView:
        command = n.SwitchEndpoint(member_id=member_id, endpoint_id=endpoint_id,
                                   enabled=body.enabled)  # fmt: skip
        return await _run(selfservice.switch_endpoint, command, deps)

    @api.post(base + "/endpoints/{endpoint_id}/verify", response_model=n.Verified,
              tags=["channels"])  # fmt: skip
    async def verify_endpoint(member_id: Me, endpoint_id: str) -> n.Verified:
        command = n.EndpointRequest(member_id=member_id, endpoint_id=endpoint_id)
        return await _run(selfservice.verify_endpoint, command, deps)

    @api.post(base + "/endpoints/{endpoint_id}/rotate-secret", response_model=n.EndpointAdded,
              tags=["channels"])  # fmt: skip
    async def rotate_secret(member_id: Me, endpoint_id: str) -> n.EndpointAdded:
        command = n.EndpointRequest(member_id=member_id, endpoint_id=endpoint_id)
        return await _run(selfservice.rotate_secret, command, deps)

    @api.get(base + "/preferences", response_model=n.PreferencesDoc, tags=["preferences"])
    async def get_preferences(member_id: Me) -> n.PreferencesDoc:
        query = n.GetPreferences(member_id=member_id)
        return await _run(selfservice.get_preferences, query, deps)

    @api.put(base + "/preferences", response_model=n.PreferencesDoc, tags=["preferences"])
    async def set_preferences(member_id: Me, body: n.PreferencesDoc) -> n.PreferencesDoc:
        command = n.SetPreferences(member_id=member_id, preferences=body)
        return await _run(selfservice.set_preferences, command, deps)

    @api.get(base + "/inbox", response_model=n.InboxPage, tags=["inbox"])
    async def inbox(
        member_id: Me,
        view: n.InboxView = "inbox",
        limit: Annotated[int, Query(ge=1, le=200)] = 20,
        before: Annotated[int | None, Query(ge=1)] = None,
    ) -> n.InboxPage:
        query = n.GetInbox(member_id=member_id, view=view, limit=limit, before=before)
        return await _run(selfservice.get_inbox, query, deps)

    @api.post(base + "/inbox/mark", response_model=n.Marked, tags=["inbox"])
    async def mark(member_id: Me, body: n.MarkBody) -> n.Marked:
        command = n.MarkInbox(member_id=member_id, **body.model_dump())
        return await _run(selfservice.mark_inbox, command, deps)

    @api.get("/v1/unsubscribe/{token}", response_class=HTMLResponse, tags=["links"])
    async def unsubscribe_form(token: str) -> HTMLResponse:
        """Shows a button; nothing changes until it is pressed (a POST)."""
        action = html.escape(f"/v1/unsubscribe/{token}")
        return HTMLResponse(
            "<!doctype html><title>Guild</title><form method=post action=\"" + action + "\">"
            "<p>Turn these notifications off?</p><button>Turn off</button></form>"
        )  # fmt: skip

    @api.post("/v1/unsubscribe/{token}", tags=["links"])
    async def unsubscribe(token: str, request: HttpRequest) -> Any:
        """One-click (RFC 8058: ``List-Unsubscribe=One-Click``) or the form's button."""
        done = await _run(selfservice.unsubscribe, n.Unsubscribe(token=token), deps)
        if "text/html" in request.headers.get("accept", ""):
            return HTMLResponse(f"<!doctype html><p>Done: {html.escape(done.turned_off)} "
                                "turned off.</p>")  # fmt: skip
        return JSONResponse(json.loads(done.model_dump_json()))

    return api
