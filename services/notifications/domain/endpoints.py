"""A member's own delivery endpoints (an e-mail address, a Slack or Teams webhook, a signed
webhook, an Apprise URL), and what a delivery attempt came to.

Addresses and secrets are personal data: they are kept only in the member's home region (in
a bucket whose entries are securely erased with the member) and never logged.
"""

from __future__ import annotations

import base64
import re
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum


class EndpointKind(StrEnum):
    EMAIL = "email"
    SLACK = "slack"
    TEAMS = "teams"
    WEBHOOK = "webhook"
    APPRISE = "apprise"


ROTATION_OVERLAP = timedelta(hours=24)
"""After a webhook secret is rotated, messages are signed with both for this long, so the
receiver can switch to the new one without losing any."""


@dataclass(frozen=True)
class SigningSecret:
    """A Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""

    secret: str
    created_at: datetime
    retires_at: datetime | None = None


def new_signing_secret(now: datetime) -> SigningSecret:
    return SigningSecret(
        secret="whsec_" + base64.b64encode(secrets.token_bytes(32)).decode(), created_at=now
    )


class OffBy(StrEnum):
    MEMBER = "member"
    GUILD = "guild"


@dataclass(frozen=True)
class Off:
    """An endpoint turned off: by the member, or by Guild with the receiver's reason."""

    by: OffBy
    reason: str = ""


@dataclass(frozen=True)
class Endpoint:
    """One place a member receives notifications."""

    endpoint_id: str
    kind: EndpointKind
    address: str
    """E-mail address or URL. Personal data; never logged."""
    label: str = ""
    secrets: tuple[SigningSecret, ...] = ()
    """Webhook signing secrets, newest first."""
    off: Off | None = None
    """Why it is off, and who turned it off; None while it is on. The one place that says
    whether it is on, so what lists it and what delivers to it cannot disagree."""
    verified_at: datetime | None = None
    permanent_failures: int = 0
    """Permanent failures in a row; a success resets it."""

    @property
    def enabled(self) -> bool:
        return self.off is None

    @property
    def disabled_reason(self) -> str | None:
        """Why Guild turned it off (410 Gone, failing permanently again and again), if it did."""
        return self.off.reason if self.off is not None and self.off.by is OffBy.GUILD else None

    def switched(self, *, on: bool) -> Endpoint:
        """The member's switch: on again also clears a stop Guild made and its count."""
        if on:
            return replace(self, off=None, permanent_failures=0)
        return self if self.off is not None else replace(self, off=Off(OffBy.MEMBER))

    def turned_off(self, reason: str) -> Endpoint:
        """Guild turns it off: the receiver said 410 Gone, or it keeps failing for good."""
        return replace(self, off=Off(OffBy.GUILD, reason))

    def signing_secrets(self, now: datetime) -> list[str]:
        """The secrets to sign with now: the newest, and any not yet retired."""
        return [s.secret for s in self.secrets if s.retires_at is None or s.retires_at > now]

    def rotated(self, now: datetime) -> Endpoint:
        retiring = now + ROTATION_OVERLAP
        kept = tuple(
            replace(s, retires_at=s.retires_at or retiring)
            for s in self.secrets
            if s.retires_at is None or s.retires_at > now
        )
        return replace(self, secrets=(new_signing_secret(now), *kept))

    def shown(self) -> str:
        """How the endpoint is named in logs and events: its kind and id, never the address."""
        return f"{self.kind.value}:{self.endpoint_id}"


@dataclass(frozen=True)
class MemberEndpoints:
    """All of one member's endpoints (the key-value entry per member)."""

    member_id: str
    endpoints: tuple[Endpoint, ...] = field(default=())

    def get(self, endpoint_id: str) -> Endpoint | None:
        return next((e for e in self.endpoints if e.endpoint_id == endpoint_id), None)

    def with_endpoint(self, endpoint: Endpoint) -> MemberEndpoints:
        others = tuple(e for e in self.endpoints if e.endpoint_id != endpoint.endpoint_id)
        return replace(self, endpoints=(*others, endpoint))

    def without(self, endpoint_id: str) -> MemberEndpoints:
        kept = tuple(e for e in self.endpoints if e.endpoint_id != endpoint_id)
        return replace(self, endpoints=kept)


class Result(StrEnum):
    DELIVERED = "delivered"
    ACCEPTED = "accepted"
    """Taken for later processing (Teams Workflows answer 202): not proof of delivery."""
    RETRY = "retry"
    FAILED = "failed"
    """This message will not get through this endpoint (a 4xx, a refused address)."""
    GONE = "gone"
    """The endpoint no longer exists (410): turn it off."""


@dataclass(frozen=True)
class Outcome:
    result: Result
    reason: str = ""
    retry_after: float | None = None
    """Seconds the receiver asked us to wait (``Retry-After``)."""

    @property
    def reached(self) -> bool:
        return self.result in (Result.DELIVERED, Result.ACCEPTED)


_RECEIVER_ANSWER = re.compile(r"\b(?:SMTP|HTTP) \d{3}\b")


def logged_reason(reason: str) -> str:
    """What logs say of a delivery's reason: the receiver's answer (``SMTP 550``, ``HTTP 503``)
    without the text it sent back, which often quotes the recipient's address."""
    if answer := _RECEIVER_ANSWER.search(reason):
        return answer.group(0)
    return reason.split(":", 1)[0][:80]


@dataclass(frozen=True)
class Message:
    """A notification rendered for one member, as every channel needs it."""

    notification_id: str
    """Stable across retries: the webhook id, the e-mail's X-Notification-Id."""
    kind: str
    title: str
    body: str
    reasons: tuple[str, ...]
    created_at: datetime
    links: tuple[tuple[str, str], ...] = ()
    """(label, URL) pairs: where to act, how to turn a reason off."""
    unsubscribe_url: str | None = None
    """One-click unsubscribe from this kind of mail (RFC 8058)."""


@dataclass(frozen=True)
class Parcel:
    """One notification for one endpoint of one member: what the outbox holds."""

    member_id: str
    home_region: str
    endpoint_id: str
    message: Message
    cause_id: str
    cause_type: str
    headline: str
    """The title without personal data, for status events."""
    confidential: bool = False

    @property
    def key(self) -> str:
        return self.message.notification_id
