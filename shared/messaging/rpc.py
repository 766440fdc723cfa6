"""Commands and queries over NATS request-reply, with clear error replies.

Every reply is a JSON object::

    {"ok": true,  "result": {...}}
    {"ok": false, "error": {"code": "invalid_request", "message": "...",
                            "details": [{"field": "member_id", "problem": "Field required"}]}}

Error codes: ``invalid_json``, ``invalid_request`` (with the fields and why), ``not_found``,
``conflict``, ``unavailable`` (try again), ``internal`` (logged with the reference given).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from faststream.nats import NatsBroker, NatsMessage
from pydantic import BaseModel, Field, ValidationError

from shared.contracts.base import Request
from shared.ids import new_id

log = logging.getLogger("guild.rpc")

RequestT = TypeVar("RequestT", bound=Request)
DepsT = TypeVar("DepsT")
Result = BaseModel | Sequence[BaseModel] | None
Handler = Callable[[RequestT, DepsT], Awaitable[Result]]


class ErrorDetail(BaseModel):
    """One problem with one field of a request."""

    field: str = Field(description="Dotted path of the field, e.g. 'skills.0.level'.")
    problem: str = Field(description="What is wrong with it.")


class ErrorBody(BaseModel):
    """Why a request was refused."""

    code: str = Field(description="Machine-readable: invalid_json, invalid_request, not_found, ...")
    message: str = Field(description="Human-readable explanation.")
    details: list[ErrorDetail] = Field(default_factory=list, description="Per-field problems.")


class Rejected(Exception):
    """Raised by a command or query handler to answer with an error instead of a result."""

    def __init__(self, code: str, message: str, details: Sequence[ErrorDetail] = ()) -> None:
        super().__init__(message)
        self.body = ErrorBody(code=code, message=message, details=list(details))


def not_found(what: str, identifier: str) -> Rejected:
    return Rejected("not_found", f"{what} {identifier!r} does not exist")


def _ok(result: Result) -> dict[str, Any]:
    if result is None:
        return {"ok": True, "result": None}
    if isinstance(result, BaseModel):
        return {"ok": True, "result": result.model_dump(mode="json")}
    return {"ok": True, "result": [item.model_dump(mode="json") for item in result]}


def _error(body: ErrorBody) -> dict[str, Any]:
    return {"ok": False, "error": body.model_dump(mode="json")}


def _validation_details(error: ValidationError) -> list[ErrorDetail]:
    return [
        ErrorDetail(field=".".join(str(p) for p in issue["loc"]) or "(body)", problem=issue["msg"])
        for issue in error.errors()
    ]


ErrorCodes = Mapping[type[Exception], str]


async def respond(
    body: bytes,
    request_type: type[RequestT],
    handler: Handler[RequestT, DepsT],
    deps: DepsT,
    error_codes: ErrorCodes,
) -> bytes:
    """Validate ``body`` as ``request_type``, run ``handler``, and encode the reply.

    Exceptions listed in ``error_codes`` (domain rule violations) become error replies with
    that code and the exception's message; :class:`Rejected` carries its own code.
    """
    try:
        payload = json.loads(body) if body else {}
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        reply = _error(ErrorBody(code="invalid_json", message=f"request is not JSON: {error}"))
        return json.dumps(reply).encode()
    try:
        request = request_type.model_validate(payload)
    except ValidationError as error:
        details = _validation_details(error)
        message = f"{request_type.__name__} is not valid: " + "; ".join(
            f"{d.field}: {d.problem}" for d in details
        )
        reply = _error(ErrorBody(code="invalid_request", message=message, details=details))
        return json.dumps(reply).encode()
    try:
        reply = _ok(await handler(request, deps))
    except Rejected as rejection:
        reply = _error(rejection.body)
    except tuple(error_codes) as error:
        code = next(c for kind, c in error_codes.items() if isinstance(error, kind))
        reply = _error(ErrorBody(code=code, message=str(error)))
    except Exception:
        reference = new_id()
        log.exception(
            "request failed", extra={"request": request_type.__name__, "reference": reference}
        )
        reply = _error(
            ErrorBody(code="internal", message=f"internal error; logged as reference {reference}")
        )
    return json.dumps(reply).encode()


def answer(
    broker: NatsBroker,
    subject: str,
    request_type: type[RequestT],
    handler: Handler[RequestT, DepsT],
    deps: DepsT,
    *,
    queue: str,
    error_codes: ErrorCodes | None = None,
) -> None:
    """Serve ``handler(request, deps)`` on ``subject`` (a queue group: replicas share the load)."""

    async def endpoint(message: NatsMessage) -> bytes:
        return await respond(message.body, request_type, handler, deps, error_codes or {})

    endpoint.__name__ = handler.__name__
    endpoint.__doc__ = handler.__doc__
    broker.subscriber(subject, queue=queue, title=f"{subject}:{request_type.__name__}")(endpoint)
