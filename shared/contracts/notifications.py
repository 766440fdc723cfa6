"""Notifications' public events, queries and the in-app inbox item."""

from __future__ import annotations

from datetime import datetime, time
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, field_validator

from shared.contracts.base import Contract, Payload, Request
from shared.contracts.handover import Handover, HandoverTaken
from shared.contracts.values import Identifier, MemberRef
from shared.naming import Scope


class NotificationsHandoverV1(Handover):
    """Notifications hands a moving member's channels, preferences, what they follow and
    their inbox to their new home region, in parts that each fit in a message (sealed; see
    :mod:`shared.contracts.handover`)."""

    TYPE = "guild.notifications.member_handover.v1"
    SCOPE = Scope.HANDOVER


class NotificationsHandoverTakenV1(HandoverTaken):
    """The new home region's notifications took in one part of a moving member's handover:
    the region they left erases its copy."""

    TYPE = "guild.notifications.handover_taken.v1"
    SCOPE = Scope.PUBLIC


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


class NotificationDigestedV1(NotificationStatus):
    """A notification will reach the member in their next digest instead of on its own: the
    community is followed in the digest, or today's budget of interruptions is spent."""

    TYPE = "guild.notifications.notification_digested.v1"

    until: datetime = Field(description="When the digest carrying it is due.")


class NotificationSuppressedV1(NotificationStatus):
    """A notification is not sent at all: by the member's own choice (a muted community,
    every reason for it turned off, digest off), or because another event's notification
    told them of the same question already; ``why`` says which."""

    TYPE = "guild.notifications.notification_suppressed.v1"


class RoutedOutcome(Payload):
    """How many of an event's recipients came to one outcome, for one reason."""

    action: Literal["now", "defer", "overflow", "digest", "suppress"] = Field(
        description="'now' (inbox and endpoints), 'defer' (inbox now, endpoints when a window "
        "opens), 'overflow' (inbox only, over the day's budget), 'digest' (their next digest "
        "only), 'suppress' (not sent)."
    )
    why: str = Field(description="Why, as the per-member statuses say it ('' for 'now').")
    count: int = Field(ge=0, description="How many recipients.")


class NotificationsRoutedV1(Contract):
    """What one event's notifications came to in this region, counted per outcome: one event
    however many recipients. Members it reached (their inbox) also have their own statuses;
    what merely waits in a digest or is not sent is only counted here (why one member did
    not get it follows from their preferences and the event, see docs/notifications.md)."""

    TYPE = "guild.notifications.notifications_routed.v1"
    SCOPE = Scope.LOCAL

    cause_id: str = Field(description="Id of the event the notifications come from.")
    cause_type: str = Field(description="Type of that event.")
    part: int = Field(default=0, ge=0, description="Which part of the event's recipients "
                      "(a large fan-out is routed in parts, each counted once).")  # fmt: skip
    recipients: int = Field(ge=0, description="Members homed here it was routed to.")
    outcomes: list[RoutedOutcome] = Field(description="Counts per outcome and reason.")
    at: datetime = Field(description="When.")


class InboxItem(Payload):
    """One message in a member's in-app inbox."""

    notification_id: str = Field(description="Stable per (cause event, member, channel).")
    member_id: Identifier = Field(description="Whose inbox.")
    kind: str = Field(description="What it is about, e.g. 'question_for_you'.")
    title: str = Field(description="Headline.")
    body: str = Field(description="The message.")
    reasons: list[str] = Field(description="Why the member got it.")
    reason_keys: list[str] = Field(
        default_factory=list,
        description="For each reason, the key that turns it off (e.g. 'tag:kubernetes').",
    )
    cause_id: str = Field(description="Id of the event that caused it.")
    created_at: datetime = Field(description="When it was put in the inbox.")


InboxView = Literal["inbox", "unread", "archived", "all"]
InboxState = Literal["unread", "read", "archived"]


class GetInbox(Request):
    """Query: a member's inbox, newest first, a page at a time."""

    member_id: Identifier = Field(description="Whose inbox.")
    limit: int = Field(default=20, ge=1, le=200, description="At most this many items.")
    view: InboxView = Field(
        default="inbox",
        description="'inbox': all but archived; 'unread'; 'archived'; 'all'.",
    )
    before: int | None = Field(
        default=None, ge=1, description="Only items older than this position (from a page's "
        "next_before): the next page."
    )  # fmt: skip


class InboxEntry(InboxItem):
    """An inbox item as its member sees it."""

    state: InboxState = Field(default="unread", description="Unread, read or archived.")
    position: int = Field(default=0, description="Its place in the inbox (for paging).")


class InboxPage(BaseModel):
    """Reply to :class:`GetInbox`."""

    member_id: Identifier
    items: list[InboxEntry]
    unread: int = Field(default=0, description="Unread items in the whole inbox.")
    next_before: int | None = Field(
        default=None, description="Pass as 'before' for the next page; null on the last page."
    )


class MarkBody(BaseModel):
    """Items to mark, and how (the HTTP body)."""

    notification_ids: list[str] = Field(min_length=1, max_length=500, description="Which items.")
    state: InboxState = Field(description="The state they get.")


class MarkInbox(Request, MarkBody):
    """Command: mark some of a member's inbox items read, unread or archived. Only items of
    their own inbox change; the reply names the ids it does not hold."""

    member_id: Identifier = Field(description="Whose inbox.")


class Marked(BaseModel):
    changed: int = Field(description="Items whose state changed.")
    not_found: list[str] = Field(
        default_factory=list,
        description="Ids the member's inbox does not hold (unknown, or another member's): "
        "nothing was changed for them.",
    )


EndpointKindName = Literal["email", "slack", "teams", "webhook", "apprise"]


class EndpointView(BaseModel):
    """One of a member's own channels, as shown to them (the address masked)."""

    endpoint_id: str
    kind: EndpointKindName
    label: str
    address: str = Field(description="Masked: enough to recognise it, not to use it.")
    enabled: bool
    disabled_reason: str | None = Field(description="Why Guild turned it off, if it did.")
    verified_at: datetime | None = Field(description="When a test message last got through.")


class EndpointList(BaseModel):
    member_id: Identifier
    endpoints: list[EndpointView]
    offered: list[EndpointKindName] = Field(description="Kinds this region can deliver to.")


class ListEndpoints(Request):
    """Query: a member's channels."""

    member_id: Identifier


class EndpointBody(BaseModel):
    """A channel to add. Webhook URLs are checked: https, a public address, no credentials
    in the URL. (The HTTP body; the member is the token's.)"""

    kind: EndpointKindName
    address: str = Field(min_length=3, max_length=2000, description="E-mail address or URL.")
    label: str = Field(default="", max_length=80, description="A name the member chooses.")


class AddEndpoint(Request, EndpointBody):
    """Command: add a channel to a member's."""

    member_id: Identifier


class Switch(BaseModel):
    enabled: bool = Field(description="On or off.")


class EndpointAdded(BaseModel):
    endpoint: EndpointView
    signing_secret: str | None = Field(
        default=None,
        description="For a webhook: the Standard Webhooks secret (whsec_...). Shown once.",
    )


class EndpointRequest(Request):
    """Command on one of a member's channels: remove, verify (send a test message now),
    rotate its signing secret."""

    member_id: Identifier
    endpoint_id: str = Field(min_length=1, max_length=64)


class SwitchEndpoint(EndpointRequest, Switch):
    """Command: turn a channel on or off (on again also clears what Guild turned off)."""


class Verified(BaseModel):
    delivered: bool
    result: str = Field(description="delivered, accepted, retry, failed or gone.")
    reason: str = Field(description="What the receiver said, if it did not take it.")


class Window(BaseModel):
    start: time
    end: time


class PreferencesDoc(BaseModel):
    """A member's notification preferences. Omitted fields keep their defaults."""

    timezone: str = Field(default="", description="IANA timezone; empty: the profile's.")
    default_watch: Literal["everything", "for_me", "digest", "muted"] = "for_me"
    watch: dict[str, Literal["everything", "for_me", "digest", "muted"]] = Field(
        default_factory=dict, description="Watch level per community id."
    )
    quiet_hours: Window | None = Field(
        default=Window(start=time(20), end=time(8)), description="No interruptions then."
    )
    working_hours_only: bool = False
    working_hours: Window = Window(start=time(9), end=time(17))
    working_days: list[int] = Field(default=[1, 2, 3, 4, 5], description="ISO weekdays.")
    digest: Literal["off", "daily", "weekly"] = "daily"
    digest_at: time = time(9)
    digest_weekday: int = Field(default=1, ge=1, le=7)
    daily_budget: int = Field(default=5, ge=0, le=1000)
    reasons_off: list[str] = Field(
        default_factory=list, description="Reason keys turned off, e.g. 'tag:kubernetes'."
    )
    channels_off: list[str] = Field(
        default_factory=list,
        description="'<kind>/<endpoint id>' not wanted on that channel ('*/<id>': nothing).",
    )

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        if value:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown timezone {value!r}") from None
        return value

    @field_validator("working_days")
    @classmethod
    def _weekdays(cls, value: list[int]) -> list[int]:
        if any(day < 1 or day > 7 for day in value):
            raise ValueError("weekdays are 1 (Monday) to 7 (Sunday)")
        return sorted(set(value))


class GetPreferences(Request):
    """Query: a member's preferences (the defaults until they change them)."""

    member_id: Identifier


class SetPreferences(Request):
    """Command: replace a member's preferences."""

    member_id: Identifier
    preferences: PreferencesDoc


class Unsubscribe(Request):
    """Command: follow a signed link from a message (turn a reason off, or one kind of
    message off on one channel). Needs no sign-in: the link is the proof."""

    token: str = Field(min_length=10, max_length=1000)


class Unsubscribed(BaseModel):
    member_id: Identifier
    turned_off: str = Field(description="What was turned off, in words.")
