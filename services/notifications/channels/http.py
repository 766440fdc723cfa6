"""Posting to a member's URL through the guarded client, and what the answer means.

=========================  ==========================================================
2xx                        delivered (202: accepted, not proof of delivery)
3xx                        failed: redirects are not followed; the URL needs updating
410                        gone: the endpoint is turned off and its owner told
429, 5xx, timeouts,        retry later, after ``Retry-After`` if the receiver said
connection errors
other 4xx                  failed for this message
a refused address          failed (see :mod:`.egress`)
=========================  ==========================================================
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from services.notifications.channels.egress import Egress, Refused
from services.notifications.domain.endpoints import Outcome, Result

MAX_RETRY_AFTER = 6 * 3600.0
"""A receiver asking for a longer wait than this gets retried after this long."""
USER_AGENT = "Guild-Notifications/1"
MAX_RESPONSE_BYTES = 16 * 1024


def retry_after(response: httpx.Response, now: datetime) -> float | None:
    """``Retry-After`` in seconds (it may be a number of seconds or an HTTP date)."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return min(max((when - now).total_seconds(), 0.0), MAX_RETRY_AFTER)


def outcome_of(response: httpx.Response, text: str, now: datetime) -> Outcome:
    status = response.status_code
    said = f"HTTP {status}"
    if 200 <= status < 300:
        return Outcome(Result.ACCEPTED if status == 202 else Result.DELIVERED, said)
    if 300 <= status < 400:
        return Outcome(Result.FAILED, f"{said}: redirects are not followed; update the URL")
    if status == 410:
        return Outcome(Result.GONE, f"{said}: the endpoint no longer exists")
    if status in (408, 425, 429) or status >= 500:
        return Outcome(Result.RETRY, said, retry_after(response, now))
    return Outcome(Result.FAILED, f"{said}: {text.strip()[:120] or response.reason_phrase}")


async def post(
    egress: Egress,
    url: str,
    *,
    content: bytes,
    headers: dict[str, Any],
    now: datetime,
) -> Outcome:
    """POST ``content`` to ``url`` (checked again now, and at connect time); never raises for
    what the network or receiver does. At most :data:`MAX_RESPONSE_BYTES` of the answer are
    read."""
    try:
        egress.check(url)
        async with egress.client.stream(
            "POST", url, content=content, headers={"user-agent": USER_AGENT, **headers}
        ) as response:
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) >= MAX_RESPONSE_BYTES:
                    break
    except Refused as refused:
        return Outcome(Result.FAILED, f"refused: {refused.reason}")
    except httpx.TimeoutException:
        return Outcome(Result.RETRY, "timed out")
    except httpx.TransportError as error:
        return Outcome(Result.RETRY, f"could not connect: {type(error).__name__}")
    return outcome_of(response, body.decode("utf-8", "replace"), now)
