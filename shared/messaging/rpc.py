"""Commands and queries over NATS request-reply, with clear error replies.

Every reply is a JSON object::

    {"ok": true,  "result": {...}}
    {"ok": false, "error": {"code": "invalid_request", "message": "...",
                            "details": [{"field": "member_id", "problem": "Field required"}]}}

Error codes: ``invalid_json``, ``invalid_request`` (with the fields and why), ``not_found``,
``forbidden``, ``conflict``, ``expired``, ``approval_required``, ``wrong_region`` (what it
changes is administered in another region, which the message names: send it there),
``in_progress`` (the same ``request_id`` is still running: retry), ``internal`` (logged with the
reference given).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from faststream.nats import NatsBroker, NatsMessage
from pydantic import BaseModel, Field, ValidationError

from shared.bounded_json import MAX_PROBLEMS, UnreadableJson, clip, load_json
from shared.contracts.base import Request
from shared.ids import new_id
from shared.storage import KvStore, StaleRevision
from shared.tasks import cancel_and_wait

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
        ErrorDetail(field=clip(".".join(str(p) for p in issue["loc"]) or "(body)", DETAIL_BYTES),
                    problem=clip(issue["msg"], DETAIL_BYTES))
        for issue in error.errors()[:MAX_PROBLEMS]
    ]  # fmt: skip


DETAIL_BYTES = 200
"""The most a field's path or its problem takes in a reply (as JSON text)."""


ErrorCodes = Mapping[type[Exception], str]
Reply = dict[str, Any]


class StoredReply(BaseModel):
    """The request ledger's record of a command sent with a ``request_id``."""

    fingerprint: str = Field(description="Hash of the request without its request_id.")
    reply: Reply | None = Field(description="The reply, once there is one.")
    started_at: datetime = Field(description="When the first copy arrived.")
    renewed_at: datetime | None = Field(
        default=None,
        description="When the running copy last renewed its claim (its lease); a claim not "
        "renewed for a lease is abandoned and a retry takes it over.",
    )


class RequestLedger:
    """Makes commands idempotent on the client's ``request_id`` (kept 24 hours).

    The first copy claims the id with a short lease that it renews while its handler runs; a
    repeat gets the first reply; a repeat that arrives while the first still holds its lease
    is told so (``in_progress``); once a lease lapses (the handler's process died) a repeat
    takes the claim over and runs. The same id with a different payload is a ``conflict``.
    Internal errors and lost races (``concurrent_update``) are not kept: the claim is released
    (its lease marked lapsed), so a retry runs again. Every write after the claim is a
    compare-and-set on the claim's revision, so a copy whose claim was taken over never
    overwrites the new holder's; and once the handler ran, its reply is returned even if the
    ledger cannot record it (logged).
    """

    LEASE = timedelta(seconds=5)

    def __init__(self, store: KvStore[StoredReply], *, lease: timedelta = LEASE) -> None:
        self.store = store
        self.lease = lease

    async def run(self, request: Request, execute: Callable[[], Awaitable[Reply]]) -> Reply:
        if request.request_id is None:
            return await execute()
        key = f"{type(request).__name__}.{hashlib.sha256(request.request_id.encode()).hexdigest()}"
        fingerprint = hashlib.sha256(
            request.model_dump_json(exclude={"request_id"}).encode()
        ).hexdigest()
        now = datetime.now(UTC)
        claim = StoredReply(fingerprint=fingerprint, reply=None, started_at=now, renewed_at=now)
        claimed = await self._claim(key, claim)
        if isinstance(claimed, dict):
            return claimed
        held = _Held(claimed)
        renewing = asyncio.create_task(self._renew(key, claim, held))
        try:
            reply = await execute()
        finally:
            await cancel_and_wait(renewing)
        await self._settle(key, claim, held, reply)
        return reply

    async def _settle(self, key: str, claim: StoredReply, held: _Held, reply: Reply) -> None:
        """Keep the reply (or, for an internal error or a lost race, release the claim so a
        retry runs again), only if this copy still holds the claim: compare-and-set on its
        revision. The handler ran, so the caller is answered whatever happens here."""
        if reply.get("error", {}).get("code") in ("internal", RETRYABLE):
            lapsed = claim.started_at - self.lease
            final = claim.model_copy(update={"renewed_at": lapsed})
        else:
            final = claim.model_copy(update={"reply": reply})
        try:
            await self.store.update(key, final, revision=held.revision)
        except StaleRevision:
            log.warning("request claim taken over by a retry; reply not recorded",
                        extra={"key": key})  # fmt: skip
        except Exception as error:
            log.error("request reply not recorded; a retry runs the command again",
                      extra={"key": key, "error": repr(error)})  # fmt: skip

    async def _claim(self, key: str, claim: StoredReply) -> int | Reply:
        """The revision of this copy's claim, or the reply that answers it instead."""
        if (revision := await self.store.create(key, claim)) is not None:
            return revision
        held = await self.store.get(key)
        if held is None:  # the holder's claim was just deleted
            revision = await self.store.create(key, claim)
            return _in_progress() if revision is None else revision
        if earlier := self._earlier_reply(held.value, claim.fingerprint):
            return earlier
        try:  # the holder's lease lapsed (its process died, or it released it): take over
            return await self.store.update(key, claim, revision=held.revision)
        except StaleRevision:
            return _in_progress()

    async def _renew(self, key: str, claim: StoredReply, held: _Held) -> None:
        """Renew the lease three times per lease, for as long as the handler runs."""
        while True:
            await asyncio.sleep(self.lease.total_seconds() / 3)
            renewed = claim.model_copy(update={"renewed_at": datetime.now(UTC)})
            try:
                held.revision = await self.store.update(key, renewed, revision=held.revision)
            except StaleRevision:
                log.warning("request claim taken over by a retry", extra={"key": key})
                return
            except Exception as error:  # NATS away for a moment: try again at the next turn
                log.warning("request claim not renewed", extra={"key": key, "error": repr(error)})

    def _earlier_reply(self, held: StoredReply, fingerprint: str) -> Reply | None:
        if held.fingerprint != fingerprint:
            return _error(
                ErrorBody(
                    code="conflict",
                    message=(
                        "request_id was already used for a different request; use a new request_id"
                    ),
                )
            )
        if held.reply is not None:
            return held.reply
        if datetime.now(UTC) - (held.renewed_at or held.started_at) < self.lease:
            return _in_progress()
        return None


@dataclass
class _Held:
    """The revision of this copy's claim, as its renewals move it on."""

    revision: int


RETRYABLE = "concurrent_update"
"""The code of a command that lost a race for the same record: running it again may succeed."""


def _in_progress() -> Reply:
    return _error(
        ErrorBody(
            code="in_progress",
            message=("the same request is being processed; retry shortly for its reply"),
        )
    )


def _parse(body: bytes, request_type: type[RequestT]) -> RequestT | Reply:
    try:
        payload = load_json(body) if body else {}
    except UnreadableJson as error:
        return _error(ErrorBody(code="invalid_json", message=f"request is not JSON: {error}"))
    try:
        return request_type.model_validate(payload)
    except ValidationError as error:
        details = _validation_details(error)
        message = f"{request_type.__name__} is not valid: " + "; ".join(
            f"{d.field}: {d.problem}" for d in details
        )
        return _error(ErrorBody(code="invalid_request", message=message, details=details))


async def _execute(
    request: RequestT, handler: Handler[RequestT, DepsT], deps: DepsT, error_codes: ErrorCodes
) -> Reply:
    try:
        return _ok(await handler(request, deps))
    except Rejected as rejection:
        return _error(rejection.body)
    except StaleRevision as error:
        return _error(ErrorBody(code=RETRYABLE, message=f"{error} by another request; retry"))
    except tuple(error_codes) as error:
        code = next(c for kind, c in error_codes.items() if isinstance(error, kind))
        return _error(ErrorBody(code=code, message=str(error)))
    except Exception:
        reference = new_id()
        log.exception(
            "request failed", extra={"request": type(request).__name__, "reference": reference}
        )
        return _error(
            ErrorBody(code="internal", message=f"internal error; logged as reference {reference}")
        )


async def respond(
    body: bytes,
    request_type: type[RequestT],
    handler: Handler[RequestT, DepsT],
    deps: DepsT,
    error_codes: ErrorCodes,
    ledger: RequestLedger | None = None,
) -> bytes:
    """Validate ``body`` as ``request_type``, run ``handler``, and encode the reply.

    Exceptions listed in ``error_codes`` (domain rule violations) become error replies with
    that code and the exception's message; :class:`Rejected` carries its own code. With a
    ``ledger``, a repeated ``request_id`` gets the first reply.
    """
    parsed = _parse(body, request_type)
    if isinstance(parsed, dict):
        return json.dumps(parsed).encode()

    async def execute() -> Reply:
        return await _execute(parsed, handler, deps, error_codes)

    reply = await ledger.run(parsed, execute) if ledger else await execute()
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
    ledger: RequestLedger | None = None,
    workers: int = 1,
) -> None:
    """Serve ``handler(request, deps)`` on ``subject`` (a queue group: replicas share the load),
    up to ``workers`` requests at once. Requests run at once within a process as they already
    do across replicas, under the same rules: a command is idempotent on its ``request_id``
    (:class:`RequestLedger`), records several actors change are written compare-and-set, and
    a record only its own actor changes (their reaction to a post) is the last one written."""

    async def endpoint(message: NatsMessage) -> bytes:
        return await respond(message.body, request_type, handler, deps, error_codes or {}, ledger)

    endpoint.__name__ = handler.__name__
    endpoint.__doc__ = handler.__doc__
    broker.subscriber(
        subject,
        queue=queue,
        title=f"{subject}:{request_type.__name__}",
        decoder=undecoded,
        max_workers=workers,
    )(endpoint)


async def undecoded(message: NatsMessage, _default: Callable[..., Any]) -> bytes:
    """FastStream decoder that leaves the body alone: requests are parsed by :func:`respond`
    with the bounded reader (FastStream's own ``json.loads`` raises ``RecursionError`` on deep
    nesting, and the request would get no reply at all)."""
    return message.body
