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
