"""Notifications' public events, queries and the in-app inbox item."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from shared.contracts.base import Contract, Payload, Request
from shared.contracts.values import Identifier, MemberRef
from shared.naming import Scope


class NotificationDeliveredV1(Contract):
    """A notification reached a member through one channel."""

    TYPE = "guild.notifications.notification_delivered.v1"
    SCOPE = Scope.LOCAL

    notification_id: str = Field(description="Stable per (cause event, member, channel).")
    recipient: MemberRef = Field(description="Who received it.")
    channel: str = Field(description="Channel used, e.g. 'inbox' or 'console'.")
    kind: str = Field(description="What it is about, e.g. 'question_for_you'.")
    title: str = Field(
        description="Its headline, without anyone's personal data (the inbox has the full text)."
    )
    reasons: list[str] = Field(description="Why the member got it.")
    cause_id: str = Field(description="Id of the event that caused it.")
    cause_type: str = Field(description="Type of the event that caused it.")
    delivered_at: datetime = Field(description="When it was delivered.")


class NotificationStatus(Contract):
    """What became of a notification for one member: the fields every status shares. None
    carries personal data (titles are headlines without names; no address, no body)."""

    SCOPE = Scope.LOCAL

    notification_id: str = Field(description="Stable per (cause event, member, channel).")
    recipient: MemberRef = Field(description="Who it is for.")
    channel: str = Field(
        description="'inbox', 'digest', or the kind and id of the member's endpoint "
        "(e.g. 'webhook:3f2a...'); never its address."
    )
    kind: str = Field(description="What it is about, e.g. 'question_for_you'.")
    title: str = Field(description="Its headline, without anyone's personal data.")
    cause_id: str = Field(description="Id of the event that caused it.")
    cause_type: str = Field(description="Type of the event that caused it.")
    why: str = Field(description="Why it came to this, in words a member or operator can act on.")
    at: datetime = Field(description="When.")


class NotificationDeferredV1(NotificationStatus):
    """A notification waits: quiet hours, outside working hours, a receiver asking to wait,
    or a rate limit. It is delivered later, not dropped."""

    TYPE = "guild.notifications.notification_deferred.v1"

    until: datetime | None = Field(description="When it is tried again, if known.")
    attempts: int = Field(default=0, description="Attempts made so far.")


class NotificationFailedV1(NotificationStatus):
    """A notification could not be delivered through one channel, and Guild gave up
    (also recorded in the dead-letter stream, with the same reason)."""

    TYPE = "guild.notifications.notification_failed.v1"

    attempts: int = Field(description="Attempts made.")
    endpoint_disabled: bool = Field(
        default=False, description="True when Guild turned the endpoint off because of it."
    )


class InboxItem(Payload):
    """One message in a member's in-app inbox."""

    notification_id: str = Field(description="Stable per (cause event, member, channel).")
    member_id: Identifier = Field(description="Whose inbox.")
    kind: str = Field(description="What it is about, e.g. 'question_for_you'.")
    title: str = Field(description="Headline.")
    body: str = Field(description="The message.")
    reasons: list[str] = Field(description="Why the member got it.")
    cause_id: str = Field(description="Id of the event that caused it.")
    created_at: datetime = Field(description="When it was put in the inbox.")


class GetInbox(Request):
    """Query: a member's inbox, newest first."""

    member_id: Identifier = Field(description="Whose inbox.")
    limit: int = Field(default=20, ge=1, le=200, description="At most this many items.")


class InboxPage(BaseModel):
    """Reply to :class:`GetInbox`."""

    member_id: Identifier
    items: list[InboxItem]
