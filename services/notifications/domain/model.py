"""What a member is told, and why. One message per (cause, member, channel), ever."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from services.notifications.domain.preferences import Action, Preferences, Priority, Verdict, decide


@dataclass(frozen=True)
class Recipient:
    member_id: str
    home_region: str


@dataclass(frozen=True)
class Reason:
    """Why a member gets a notification, and the key with which they can turn that off
    ('community:<id>', 'tag:<tag>', 'mention', 'kind:<kind>' for everything of one kind)."""

    key: str
    text: str


@dataclass(frozen=True)
class Post:
    """A post a notification is about: every message about it links to it in the portal."""

    post_id: str
    community_id: str
    label: str = "Open the post"

    @classmethod
    def question(cls, question_id: str, community_id: str) -> Post:
        return cls(question_id, community_id, "Open the question")


PRIORITY_OF_KIND = {
    "question_for_you": Priority.HIGH,
    "mention": Priority.HIGH,
    "join_request": Priority.HIGH,
    "flag": Priority.HIGH,
    "endpoint_test": Priority.CRITICAL,
    "endpoint_disabled": Priority.HIGH,
    "content_recommended": Priority.LOW,
    "people_to_meet": Priority.LOW,
    "pulse": Priority.LOW,
    "new_question": Priority.LOW,
}
"""Kinds not named here are NORMAL."""

TURNED_OFF_WITH_KIND = {
    "welcome": "welcomes to communities you join",
    "member_joined": "members joining communities you facilitate",
    "question_for_you": "questions matched to you",
    "people_to_meet": "people to meet",
    "join_request": "requests to join communities you facilitate",
    "join_decision": "answers to your requests to join",
    "role_changed": "changes to your role in a community",
    "answer": "answers to your questions",
    "answer_accepted": "your answers being accepted",
    "comment": "comments on your posts",
    "endorsement": "endorsements of your posts",
    "flag": "flagged posts in communities you facilitate",
    "moderation": "facilitators hiding or restoring your posts",
    "claim": "claims on your offers",
    "claim_served": "hand-overs of what you claimed",
    "claim_declined": "claims of yours that could not be served",
    "pulse": "weekly pulses of communities you facilitate",
    "similar_questions": "answered questions like yours",
    "meeting_proposed": "people to meet",
    "mentoring_proposed": "mentoring proposals",
    "mentoring_agreed": "agreed mentoring",
    "mentoring_declined": "declined mentoring proposals",
    "resource_matched": "offers and requests that fit yours",
    "job_matched": "openings for you",
    "content_recommended": "recommended articles and software",
    "digest": "your digest",
    "endpoint_disabled": "notices about your channels",
}
"""What a member turns off with a 'kind:<kind>' link, in their words."""


def turn_offs(reasons: Iterable[Reason]) -> list[tuple[str, str]]:
    """(reason key, link label) for each distinct reason key, in order: one link per thing
    that can be turned off, named after what it turns off (a kind of notification, all
    mentions) or, for a community or a tag, after the reason itself."""
    labels: dict[str, str] = {}
    for reason in reasons:
        if reason.key not in labels:
            labels[reason.key] = "Turn off: " + _turned_off(reason)
    return list(labels.items())


def _turned_off(reason: Reason) -> str:
    if reason.key == "mention":
        return "mentions of you"
    if reason.key.startswith("kind:"):
        return TURNED_OFF_WITH_KIND.get(reason.key.removeprefix("kind:"), "notifications "
                                        "like this one")  # fmt: skip
    return reason.text


@dataclass(frozen=True)
class Notification:
    recipient: Recipient
    kind: str
    title: str
    body: str
    reasons: tuple[Reason, ...]
    headline: str = ""
    """The title without anyone's personal data: what may leave the inbox (in delivery events,
    which cannot be erased). Empty when the title has none."""
    confidential: bool = False
    """Only its recipient may learn it exists (a job match): no delivery event is published."""

    community_id: str | None = None
    """The community it is about, for the member's watch level of it (None: not about one)."""
    for_me: bool = True
    """Addressed to the member (their question, a mention, matching's pick), rather than
    something happening in a community they belong to."""
    posts: tuple[Post, ...] = ()
    """The posts it is about, each linked from every message."""
    topic: str | None = None
    """What it is about, told to a member once whatever the events that bring it (a question
    they hear of as a member of its community and as an expert picked for it)."""
    general: tuple[str, str] | None = None
    """(kind, title) it has without its first reason, when that reason is what made it more
    specific: a question that mentions the member is, without the mention, a new question."""

    def without(self, turned_off: frozenset[str]) -> Notification:
        """Without the reasons the member turned off: they are not listed (nor offered to turn
        off), and neither they nor the kind they gave it make it interrupt. With every reason
        turned off it stays as it is, for the rule that suppresses it to say so."""
        if not turned_off:
            return self
        kept = tuple(reason for reason in self.reasons if reason.key not in turned_off)
        if not kept or len(kept) == len(self.reasons):
            return self
        kind, title = self.kind, self.title
        if self.general is not None and self.reasons[0] not in kept:
            kind, title = self.general
        return replace(
            self,
            kind=kind,
            title=title,
            reasons=kept,
            for_me=self.for_me and any(not r.key.startswith("community:") for r in kept),
            general=None,
        )

    @property
    def public_title(self) -> str:
        return self.headline or self.title

    @property
    def priority(self) -> Priority:
        return PRIORITY_OF_KIND.get(self.kind, Priority.NORMAL)

    @property
    def reason_texts(self) -> list[str]:
        return [reason.text for reason in self.reasons]


def verdict_for(
    prefs: Preferences, notification: Notification, *, now: datetime, interruptions_today: int
) -> Verdict:
    """What the member's preferences decide for ``notification`` (see :func:`decide`)."""
    return decide(
        prefs,
        now=now,
        priority=notification.priority,
        community_id=notification.community_id,
        for_me=notification.for_me,
        reasons=frozenset(reason.key for reason in notification.reasons),
        interruptions_today=interruptions_today,
    )


def one_per_member(notifications: Iterable[Notification]) -> list[Notification]:
    """One notification per member: when several reach the same member for one event, the
    first (most specific, as reactions list them) is kept with every reason of all."""
    kept: dict[str, Notification] = {}
    for notification in notifications:
        member_id = notification.recipient.member_id
        held = kept.get(member_id)
        if held is None:
            kept[member_id] = notification
            continue
        known = {reason.key for reason in held.reasons}
        extra = tuple(r for r in notification.reasons if r.key not in known)
        kept[member_id] = replace(
            held, reasons=held.reasons + extra, for_me=held.for_me or notification.for_me
        )
    return list(kept.values())


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
    person_id: str | None = None
    """Their HR person id, by which sign-in names them (None: a contact from before)."""


class Status(StrEnum):
    """Where one (cause, member, channel) stands (kept in the ledger as its value)."""

    QUEUED = "queued"
    """In the outbox, not tried yet (never stored: the ledger has no entry until a try)."""
    CLAIMED = "claimed"
    """Being sent to the inbox (written by earlier versions; the inbox is now recorded once,
    delivered, after it is sent)."""
    RETRYING = "retrying"
    """A member's endpoint did not take it yet; tried again later."""
    DELIVERED = "delivered"
    ACCEPTED = "accepted"
    """Taken by the endpoint, not yet shown (Teams Workflows answer 202)."""
    FAILED = "failed"
    """Given up: it will not get through this endpoint."""


@dataclass(frozen=True)
class Delivery:
    """The ledger's record of one (cause, member, channel): its :class:`Status`, or, for the
    'route' channel, the routing decision (an :class:`Action`) made once for the member."""

    status: Status | Action
    at: str
    attempts: int = 0
    why: str = ""
    until: str = ""
    """For a routing decision held or kept for the digest: until when (ISO 8601)."""
    cause_id: str = ""
    """For a 'told' entry (see :func:`tell_once`): the event whose notification told them."""

    def __post_init__(self) -> None:
        if not isinstance(self.status, Status | Action):
            raise TypeError(f"a delivery's status is a Status or an Action, not {self.status!r}")

    @property
    def decision(self) -> Action | None:
        """The routing decision this record keeps, if it is one."""
        return self.status if isinstance(self.status, Action) else None


@dataclass(frozen=True)
class PartRecord:
    """The ledger's one record of a routed part of a large fan-out (see
    :mod:`~services.notifications.delivery.fanout`), in place of the five records each of its
    members had (the routing decision, the 'told' entry, the day's count, and the inbox
    entry): what each of those would have said, by the same keys, so that the ledger's read
    model learns from it exactly what it learnt from them. It holds keys only (hashes of
    cause, member and channel, as the ledger's own keys): no member id, nothing to erase.

    Created once (only if none is stored) before any inbox item of the part is sent; its
    ``delivered_at`` is set once every item it lists in ``sent`` is confirmed."""

    cause_id: str
    number: int
    at: str
    decisions: tuple[Delivery, ...]
    """The distinct routing decisions made (most parts have one or two)."""
    routes: tuple[str, ...]
    """Per member decided here: their routing decision's key ('route' channel)."""
    decided: tuple[int, ...]
    """Per member in ``routes``: their decision, by its place in ``decisions``."""
    told: tuple[str, ...] = ()
    """Per member this part told of the question: their 'told' key."""
    told_as: tuple[int, ...] = ()
    """Per key in ``told``: the decision it was told with, by its place in ``decisions``."""
    counted: tuple[str, ...] = ()
    """Per interruption it makes: the member's day key (:func:`day_key`), counted once."""
    sent: tuple[str, ...] = ()
    """The key of each built-in channel's delivery (the inbox item's ``Nats-Msg-Id``)."""
    delivered_at: str = ""
    """When every delivery in ``sent`` was confirmed (empty: not yet)."""

    def told_entries(self) -> list[tuple[str, Delivery]]:
        """Each 'told' entry as its own record would say it."""
        return [(key, Delivery(self.decisions[index].status, self.at, cause_id=self.cause_id))
                for key, index in zip(self.told, self.told_as, strict=True)]  # fmt: skip


PART_KEYS = "part."
"""The prefix of a part record's key in the ledger (all other keys are bare hashes)."""


def part_key(cause_id: str, number: int) -> str:
    return PART_KEYS + delivery_key(cause_id, str(number), "part")


def budget_key(member_id: str, day: str) -> str:
    """The member's count of interruptions on their local ``day`` in the budget bucket."""
    return f"{member_id}.{day}"


def day_key(member_id: str, day: str) -> str:
    """The member's local day as a part record counts it: the day, and a hash of member and
    day (no member id in the ledger)."""
    return f"{day}.{delivery_key(day, member_id, 'budget')}"


TOLD = "told"
"""The ledger's channel name for what told a member of a topic (see :func:`tell_once`)."""
ALREADY_TOLD = "you were told of this question already"
ERASED = "the member was erased: nothing is delivered to them"


def tell_once(told: Delivery | None, cause_id: str, action: Action) -> tuple[bool, str | None]:
    """Whether the notification of ``cause_id``, decided ``action``, goes on, given what
    ``told`` the member of the same topic before; and the cause whose digest item it takes
    the place of, if any. What reached their inbox is not followed by another; a digest
    item gives way to one that reaches the inbox; what was not sent at all gives way."""
    if told is None or told.cause_id == cause_id or told.decision is None:
        return True, None
    earlier = told.decision
    if earlier is not Action.SUPPRESS and (earlier.to_inbox or not action.to_inbox):
        return False, None
    return True, told.cause_id if earlier is Action.DIGEST else None


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
        reasons=(Reason("kind:welcome", f"you joined {community}"),),
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
        reasons=(Reason("kind:member_joined", f"you facilitate {community}"),),
    )


def question_alert(
    expert: Recipient,
    community: str,
    title: str,
    asker: str,
    reasons: Sequence[str],
    question: Post,
) -> Notification:
    return Notification(
        recipient=expert,
        kind="question_for_you",
        title=f"A question you may be able to answer: {title}",
        body=f"{asker} asked in {community}: {title}",
        reasons=tuple(Reason("kind:question_for_you", text) for text in reasons),
        posts=(question,),
        topic=question_topic(question.post_id),
    )


def question_topic(question_id: str) -> str:
    return f"question:{question_id}"


def intros(member: Recipient, community: str, people: Sequence[str]) -> Notification:
    return Notification(
        recipient=member,
        kind="people_to_meet",
        title=f"People to meet in {community}",
        body="\n".join(f"- {line}" for line in people),
        reasons=(Reason("kind:people_to_meet", f"you joined {community}"),),
    )


def note(
    recipient: Recipient,
    kind: str,
    title: str,
    body: str,
    *reasons: str,
    headline: str = "",
    confidential: bool = False,
    posts: Sequence[Post] = (),
) -> Notification:
    """A notification of any other kind; ``headline`` is its title without personal names,
    ``posts`` the posts it is about."""
    return Notification(
        recipient=recipient,
        kind=kind,
        title=title,
        body=body,
        reasons=tuple(Reason(f"kind:{kind}", text) for text in reasons),
        headline=headline,
        confidential=confidential,
        posts=tuple(posts),
    )
