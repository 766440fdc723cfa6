"""The member self-service HTTP API: a member's channels, preferences and inbox, and the
links in messages. It runs in the notifications process, on the service's own FastStream
broker connection and store, and calls the same handlers as NATS request-reply.

Every ``/v1/members/{member_id}/...`` request needs a bearer JWT signed by the configured
issuer (keys from its JWKS), for this audience, not expired, whose member claim names the
person (their HR person id, as the company's sign-in knows them) that is that member: a
member reaches only their own data. ``/v1/members/me/...`` is the signed-in member's.
``/v1/unsubscribe/{token}`` needs none (the signed link is the proof); a GET only shows a
button, since mail scanners fetch links.

Every error answers one shape, the one NATS replies use:
``{"error": {"code": ..., "message": ..., "details": [{"field": ..., "problem": ...}]}}``.
Bodies are bounded in size and JSON nesting before anything parses them.
"""

import html
import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Annotated, Any, TypeVar

import nats.errors
from fastapi import Depends, FastAPI, Path, Query
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field, ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request as HttpRequest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.notifications.handlers import Deps, selfservice
from services.notifications.identity import NotSignedIn, SignInUnavailable, Tokens
from services.notifications.settings import NotificationsSettings
from shared.bounded_json import nesting_depth
from shared.contracts import notifications as n
from shared.ids import new_id
from shared.messaging.rpc import ErrorBody, ErrorDetail, Rejected
from shared.naming import TOKEN_PATTERN

log = logging.getLogger("guild.notifications.api")
ME = "me"
"""In a path in place of a member id: the member signed in."""

R = TypeVar("R")
Q = TypeVar("Q", bound=BaseModel)
STATUS = {"invalid_json": 400, "unauthorized": 401, "forbidden": 403, "not_found": 404,
          "conflict": 409, "too_large": 413, "invalid_request": 422, "internal": 500,
          "unavailable": 503}  # fmt: skip
CODE = {status: code for code, status in STATUS.items()} | {405: "method_not_allowed"}
MAX_BODY_BYTES = 64 * 1024
MAX_JSON_DEPTH = 32

MemberId = Annotated[
    str, Path(pattern=TOKEN_PATTERN, description="The member, or 'me' for the one signed in.")
]
EndpointId = Annotated[str, Path(min_length=1, max_length=64, description="One channel.")]
LinkToken = Annotated[str, Path(min_length=10, max_length=1000, description="From a link.")]


class ErrorReply(BaseModel):
    """Why a request was refused: the same body as an error reply over NATS."""

    error: ErrorBody = Field(description="The error.")


WHY = {400: "The body is not JSON, or is nested too deeply.",
       401: "No token, or one that is expired or not valid.",
       403: "The token is another member's.", 404: "No such endpoint.",
       413: "The body is too large.", 422: "A parameter or the body is not valid.",
       500: "A bug, logged with the reference given.",
       503: "Sign-in or the store cannot be reached now; retry later."}  # fmt: skip
ANY_REQUEST = (400, 413, 422, 500, 503)
PAGE: dict[int | str, dict[str, Any]] = {
    200: {"description": "An HTML page.", "content": {"text/html": {"schema": {"type": "string"}}}}
}
SIGNED_IN = (401, 403, *ANY_REQUEST)
ONE_ENDPOINT = (404, *SIGNED_IN)


def errors(statuses: Iterable[int]) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` of these error statuses, each with the error body."""
    return {status: {"model": ErrorReply, "description": WHY[status]} for status in statuses}


def refusal(status: int, message: str, details: Iterable[ErrorDetail] = (),
            headers: dict[str, str] | None = None) -> HTTPException:  # fmt: skip
    body = ErrorBody(code=CODE[status], message=message, details=list(details))
    return HTTPException(status, body.model_dump_json(), headers=headers)


def error_response(status: int, body: ErrorBody, headers: dict[str, str] | None = None) -> Any:
    return JSONResponse({"error": body.model_dump(mode="json")}, status, headers=headers)


# ------------------------------------------------------------------ bounded bodies


def json_problem(body: bytes) -> str | None:
    """Why a JSON request body must not be parsed, or None: the bounds NATS input gets
    (shared.bounded_json), with the API's own limits."""
    if len(body) > MAX_BODY_BYTES:
        return f"the body is larger than {MAX_BODY_BYTES} bytes"
    if nesting_depth(body, stop_above=MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
        return f"the body nests deeper than {MAX_JSON_DEPTH} levels"
    return None


def _parsed_as_json(scope: Scope) -> bool:
    """Whether FastAPI would parse the body as JSON: no content type, or a JSON one."""
    kind = dict(scope["headers"]).get(b"content-type", b"").split(b";")[0].strip().lower()
    return not kind or kind == b"application/json" or kind.endswith(b"+json")


class BoundedBodies:
    """Reads each request body (at most :data:`MAX_BODY_BYTES`) and checks its JSON nesting
    before the application sees it: 413 or 400 with the error body, never a parse."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = await self._read(scope, receive)
        if body is None:
            too_large = f"the body is larger than {MAX_BODY_BYTES} bytes"
            await self._refuse(413, too_large, scope, receive, send)
            return
        if body and _parsed_as_json(scope) and (problem := json_problem(body)):
            await self._refuse(400, problem, scope, receive, send)
            return
        await self.app(scope, _replaying(body, receive), send)

    @staticmethod
    async def _refuse(status: int, why: str, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(status, ErrorBody(code=CODE[status], message=why))
        await response(scope, receive, send)

    async def _read(self, scope: Scope, receive: Receive) -> bytes | None:
        """The whole body, or None once it is larger than the bound."""
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            return None
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return bytes(body)
            body += message.get("body", b"")
            if len(body) > MAX_BODY_BYTES:
                return None
            if not message.get("more_body", False):
                return bytes(body)


def _replaying(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


# ------------------------------------------------------------------ errors in one shape


def _field(location: Iterable[Any]) -> str:
    parts = [str(p) for p in location]
    return ".".join(parts[1:] if parts[:1] in (["path"], ["query"], ["body"]) else parts)


def _details(problems: Iterable[Any]) -> list[ErrorDetail]:
    return [ErrorDetail(field=_field(p["loc"]) or "(body)", problem=p["msg"]) for p in problems]


async def _on_invalid(_: HttpRequest, error: Exception) -> Any:
    assert isinstance(error, RequestValidationError)
    problems = list(error.errors())
    status = 400 if any(p.get("type") == "json_invalid" for p in problems) else 422
    message = "the body is not JSON" if status == 400 else "the request is not valid"
    return error_response(status, ErrorBody(code=CODE[status], message=message,
                                            details=_details(problems)))  # fmt: skip


async def _on_refused(_: HttpRequest, error: Exception) -> Any:
    assert isinstance(error, HTTPException)
    try:
        body = ErrorBody.model_validate_json(error.detail)
    except ValidationError:
        body = ErrorBody(code=CODE.get(error.status_code, "error"), message=str(error.detail))
    return error_response(error.status_code, body, error.headers)


async def _run(
    handler: Callable[[Q, Deps], Awaitable[R]], deps: Deps, request_type: type[Q], **fields: Any
) -> R:
    """Build the request from what the client sent, run the handler, and turn every failure
    into its status: refusals as the handler said, the store unreachable 503, a bug 500."""
    try:
        request = request_type(**fields)
    except ValidationError as invalid:
        raise refusal(422, "the request is not valid", _details(invalid.errors())) from None
    try:
        return await handler(request, deps)
    except Rejected as rejected:
        body = rejected.body
        raise HTTPException(STATUS.get(body.code, 400), body.model_dump_json()) from None
    except (nats.errors.Error, TimeoutError) as error:
        log.warning("store unreachable", extra={"handler": handler.__name__, "error": repr(error)})
        raise refusal(503, "the store cannot be reached now; retry later") from None
    except Exception:
        reference = new_id()
        log.exception("request failed", extra={"handler": handler.__name__,
                                               "reference": reference})  # fmt: skip
        raise refusal(500, f"internal error; logged as reference {reference}") from None


# ------------------------------------------------------------------ the routes


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
        exception_handlers={RequestValidationError: _on_invalid, HTTPException: _on_refused},
    )
    api.add_middleware(BoundedBodies)

    async def member(
        member_id: MemberId,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> str:
        if credentials is None:
            raise refusal(401, "sign in: send 'Authorization: Bearer <token>'",
                          headers={"WWW-Authenticate": "Bearer"})  # fmt: skip
        try:
            person_id = await tokens.person_id(credentials.credentials)
        except NotSignedIn as why:
            invalid = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
            raise refusal(401, str(why), headers=invalid) from None
        except SignInUnavailable as why:
            raise refusal(503, str(why)) from None
        signed_in = deps.store.sign_ins.member_of(person_id)
        if signed_in is None:
            raise refusal(403, "the person signed in is not a member homed in this region")
        if member_id not in (ME, signed_in):
            raise refusal(403, "a member can only reach their own notifications")
        return signed_in

    Me = Annotated[str, Depends(member)]
    base = "/v1/members/{member_id}"

    @api.get(base + "/endpoints", response_model=n.EndpointList, tags=["channels"],
             responses=errors(SIGNED_IN))  # fmt: skip
    async def list_endpoints(member_id: Me) -> n.EndpointList:
        return await _run(selfservice.list_endpoints, deps, n.ListEndpoints, member_id=member_id)

    @api.post(base + "/endpoints", response_model=n.EndpointAdded, status_code=201,
              tags=["channels"], responses=errors(SIGNED_IN))  # fmt: skip
    async def add_endpoint(member_id: Me, body: n.EndpointBody) -> n.EndpointAdded:
        return await _run(selfservice.add_endpoint, deps, n.AddEndpoint, member_id=member_id,
                          **body.model_dump())  # fmt: skip

    @api.delete(base + "/endpoints/{endpoint_id}", status_code=204, tags=["channels"],
                responses=errors(ONE_ENDPOINT))  # fmt: skip
    async def remove_endpoint(member_id: Me, endpoint_id: EndpointId) -> None:
        await _run(selfservice.remove_endpoint, deps, n.EndpointRequest, member_id=member_id,
                   endpoint_id=endpoint_id)  # fmt: skip

    @api.put(base + "/endpoints/{endpoint_id}/enabled", response_model=n.EndpointView,
             tags=["channels"], responses=errors(ONE_ENDPOINT))  # fmt: skip
    async def switch_endpoint(
        member_id: Me, endpoint_id: EndpointId, body: n.Switch
    ) -> n.EndpointView:
        return await _run(selfservice.switch_endpoint, deps, n.SwitchEndpoint,
                          member_id=member_id, endpoint_id=endpoint_id,
                          enabled=body.enabled)  # fmt: skip

    @api.post(base + "/endpoints/{endpoint_id}/verify", response_model=n.Verified,
              tags=["channels"], responses=errors(ONE_ENDPOINT))  # fmt: skip
    async def verify_endpoint(member_id: Me, endpoint_id: EndpointId) -> n.Verified:
        return await _run(selfservice.verify_endpoint, deps, n.EndpointRequest,
                          member_id=member_id, endpoint_id=endpoint_id)  # fmt: skip

    @api.post(base + "/endpoints/{endpoint_id}/rotate-secret", response_model=n.EndpointAdded,
              tags=["channels"], responses=errors(ONE_ENDPOINT))  # fmt: skip
    async def rotate_secret(member_id: Me, endpoint_id: EndpointId) -> n.EndpointAdded:
        return await _run(selfservice.rotate_secret, deps, n.EndpointRequest,
                          member_id=member_id, endpoint_id=endpoint_id)  # fmt: skip

    @api.get(base + "/preferences", response_model=n.PreferencesDoc, tags=["preferences"],
             responses=errors(SIGNED_IN))  # fmt: skip
    async def get_preferences(member_id: Me) -> n.PreferencesDoc:
        return await _run(selfservice.get_preferences, deps, n.GetPreferences,
                          member_id=member_id)  # fmt: skip

    @api.put(base + "/preferences", response_model=n.PreferencesDoc, tags=["preferences"],
             responses=errors(SIGNED_IN))  # fmt: skip
    async def set_preferences(member_id: Me, body: n.PreferencesDoc) -> n.PreferencesDoc:
        return await _run(selfservice.set_preferences, deps, n.SetPreferences,
                          member_id=member_id, preferences=body)  # fmt: skip

    @api.get(base + "/inbox", response_model=n.InboxPage, tags=["inbox"],
             responses=errors(SIGNED_IN))  # fmt: skip
    async def inbox(
        member_id: Me,
        view: n.InboxView = "inbox",
        limit: Annotated[int, Query(ge=1, le=200)] = 20,
        before: Annotated[int | None, Query(ge=1)] = None,
    ) -> n.InboxPage:
        return await _run(selfservice.get_inbox, deps, n.GetInbox, member_id=member_id,
                          view=view, limit=limit, before=before)  # fmt: skip

    @api.post(base + "/inbox/mark", response_model=n.Marked, tags=["inbox"],
              responses=errors(SIGNED_IN))  # fmt: skip
    async def mark(member_id: Me, body: n.MarkBody) -> n.Marked:
        return await _run(selfservice.mark_inbox, deps, n.MarkInbox, member_id=member_id,
                          **body.model_dump())  # fmt: skip

    @api.get("/v1/unsubscribe/{token}", tags=["links"], responses=PAGE | errors(ANY_REQUEST))
    async def unsubscribe_form(token: LinkToken) -> HTMLResponse:
        """Shows a button; nothing changes until it is pressed (a POST)."""
        action = html.escape(f"/v1/unsubscribe/{token}")
        return HTMLResponse(
            "<!doctype html><title>Guild</title><form method=post action=\"" + action + "\">"
            "<p>Turn these notifications off?</p><button>Turn off</button></form>"
        )  # fmt: skip

    @api.post("/v1/unsubscribe/{token}", tags=["links"], response_model=n.Unsubscribed,
              responses=errors(ANY_REQUEST))  # fmt: skip
    async def unsubscribe(token: LinkToken, request: HttpRequest) -> Any:
        """One-click (RFC 8058: ``List-Unsubscribe=One-Click``) or the form's button."""
        done = await _run(selfservice.unsubscribe, deps, n.Unsubscribe, token=token)
        if "text/html" in request.headers.get("accept", ""):
            return HTMLResponse(f"<!doctype html><p>Done: {html.escape(done.turned_off)} "
                                "turned off.</p>")  # fmt: skip
        return JSONResponse(json.loads(done.model_dump_json()))

    return api
