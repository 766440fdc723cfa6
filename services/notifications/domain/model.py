"""What a member is told, and why. One message per (cause, member, channel), ever."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Recipient:
    member_id: str
    home_region: str


@dataclass(frozen=True)
class Notification:
    recipient: Recipient
    kind: str
    title: str
    body: str
    reasons: tuple[str, ...]
    headline: str = ""
    """The title without anyone's personal data: what may leave the inbox (in delivery events,
    which cannot be erased). Empty when the title has none."""
    confidential: bool = False
    """Only its recipient may learn it exists (a job match): no delivery event is published."""

    @property
    def public_title(self) -> str:
        return self.headline or self.title


@dataclass(frozen=True)
class Dispatch:
    """One notification on its way through one channel."""

    notification_id: str
    cause_id: str
    cause_type: str
    channel: str
    notification: Notification


@dataclass(frozen=True)
class Contact:
    member_id: str
    display_name: str
    email: str
    revision: int


@dataclass(frozen=True)
class Delivery:
    """The ledger's record of one (cause, member, channel)."""

    status: str
    """'claimed' while being sent to the inbox, then 'delivered'; for a member's endpoint:
    'retrying', then 'delivered', 'accepted' (taken, not yet shown) or 'failed'."""
    at: str
    attempts: int = 0
    why: str = ""


def delivery_key(cause_id: str, member_id: str, channel: str) -> str:
    """The same cause, member and channel always give the same key: the ledger's key, the
    inbox item's ``Nats-Msg-Id``, the notification id a member sees."""
    return hashlib.sha256(f"{cause_id}\x1f{member_id}\x1f{channel}".encode()).hexdigest()[:32]


def welcome(newcomer: Recipient, community: str, role: str) -> Notification:
    role_line = " You are one of its facilitators." if role == "facilitator" else ""
    return Notification(
        recipient=newcomer,
        kind="welcome",
        title=f"Welcome to {community}",
        body=f"You joined {community}.{role_line} People to meet are on their way.",
        reasons=(f"you joined {community}",),
    )


def newcomer_alert(
    facilitator: Recipient, community: str, newcomer: str, newcomer_facts: str
) -> Notification:
    return Notification(
        recipient=facilitator,
        kind="member_joined",
        title=f"{newcomer} joined {community}",
        headline=f"A new member joined {community}",
        body=f"{newcomer} ({newcomer_facts}) joined {community}. A welcome goes a long way.",
        reasons=(f"you facilitate {community}",),
    )


def question_alert(
    expert: Recipient, community: str, title: str, asker: str, reasons: Sequence[str]
) -> Notification:
    return Notification(
        recipient=expert,
        kind="question_for_you",
        title=f"A question you may be able to answer: {title}",
        body=f"{asker} asked in {community}: {title}",
        reasons=tuple(reasons),
    )


def intros(member: Recipient, community: str, people: Sequence[str]) -> Notification:
    return Notification(
        recipient=member,
        kind="people_to_meet",
        title=f"People to meet in {community}",
        body="\n".join(f"- {line}" for line in people),
        reasons=(f"you joined {community}",),
    )


def note(
    recipient: Recipient,
    kind: str,
    title: str,
    body: str,
    *reasons: str,
    headline: str = "",
    confidential: bool = False,
) -> Notification:
    """A notification of any other kind; ``headline`` is its title without personal names."""
    return Notification(
        recipient=recipient,
        kind=kind,
        title=title,
        body=body,
        reasons=reasons,
        headline=headline,
        confidential=confidential,
    )
