"""Names of subjects, streams, consumers and buckets. Every name carries the region.

Subjects (``<r>`` is the region, e.g. ``eu``):

=================================================  ==============================================
``ingest.<r>.<publisher>.<domain>.<name>.<vN>``    events an internal system publishes into Guild
``evt.<r>.pub.<owner>.<name>.<vN>``                public facts, sourced by every other region
``evt.<r>.local.<owner>.<name>.<vN>``              facts that stay in their region
``personal.<r>.<owner>.<name>.<vN>.<key>``         personal data, latest per key, never sourced
``cmd.<r>.<service>.<command>``                    commands (request-reply)
``qry.<r>.<service>.<query>``                      queries (request-reply)
``inbox.<r>.<member>``                             a member's in-app inbox
``outbox.<r>.<member>``                            notifications on their way to a member's channels
``dlq.<r>.<service>.<consumer>``                   dead letters, with their reason
``dlq.<r>.replayed``                               marks: a dead letter was replayed, and when
``dlq-originals.<r>.<stream>``                     verbatim copies of dead-lettered originals
``status.<r>.<service>``                           liveness and readiness (request-reply)
``snapshot.<r>.<service>.<name>....``              snapshots of a service's read model
``handover.<r>.<to>.<owner>.<name>.<vN>.<member>`` a moving member's data on its way to ``<to>``
=================================================  ==============================================

An event's type maps mechanically onto its subject: ``guild.membership.member_joined.v1``
published as public in region ``eu`` goes to ``evt.eu.pub.membership.member_joined.v1``; an
ingest event's subject names the system that publishes it (its NATS identity may publish only
there), ``guild.ingest.hr.person_hired.v1`` from the HR directory goes to
``ingest.eu.hr-directory.hr.person_hired.v1``, and each publisher's events have a stream of their
own, ``INGEST_HR_DIRECTORY_EU``, so that one publisher's ``Nats-Msg-Id`` can never suppress
another's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from enum import StrEnum

REGION_PATTERN = r"^[a-z][a-z0-9]{0,15}$"
TOKEN_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
TYPE_PREFIX = "guild."
INGEST_TYPE_PREFIX = "guild.ingest."

_region_re = re.compile(REGION_PATTERN)
_token_re = re.compile(TOKEN_PATTERN)


class Scope(StrEnum):
    """Where an event may travel."""

    INGEST = "ingest"
    """Published by another internal system into Guild."""
    PUBLIC = "pub"
    """A fact every region may see: ids, region, timezone, skills, shared content."""
    LOCAL = "local"
    """A fact for the services of its own region only."""
    PERSONAL = "personal"
    """Personal data: kept in its home region, latest value per key, erasable."""
    HANDOVER = "handover"
    """A moving member's personal data, sealed, sourced by their new home region alone."""


class Service(StrEnum):
    """The four services. Used in subjects, sources and consumer names."""

    MEMBERSHIP = "membership"
    CONTENT = "content"
    MATCHING = "matching"
    NOTIFICATIONS = "notifications"


def check_region(region: str) -> str:
    """Return ``region`` if it is a valid region name (lowercase letters and digits)."""
    if not _region_re.match(region):
        raise ValueError(
            f"region {region!r} is not valid: use 1-16 lowercase letters or digits, "
            "starting with a letter (for example 'eu', 'us', 'apac')"
        )
    return region


def check_token(value: str, what: str = "identifier") -> str:
    """Return ``value`` if it can be used as one subject token."""
    if not _token_re.match(value):
        raise ValueError(f"{what} {value!r} is not valid: use 1-64 letters, digits, '-' or '_'")
    return value


def _type_tail(event_type: str, prefix: str) -> str:
    if not event_type.startswith(prefix):
        raise ValueError(f"event type {event_type!r} does not start with {prefix!r}")
    return event_type.removeprefix(prefix)


def event_subject(region: str, scope: Scope, event_type: str, key: str | None = None) -> str:
    """The subject an event of ``event_type`` is published on in ``region``."""
    check_region(region)
    if scope is Scope.INGEST:
        raise ValueError(f"{event_type} is published by a system outside Guild: use ingest_subject")
    if scope is Scope.HANDOVER:
        raise ValueError(f"{event_type} goes to one region: use handover_subject")
    tail = _type_tail(event_type, TYPE_PREFIX)
    if scope is Scope.PERSONAL:
        if key is None:
            raise ValueError(f"personal event {event_type} needs a key (e.g. the member id)")
        return f"personal.{region}.{tail}.{check_token(key, 'key')}"
    return f"evt.{region}.{scope.value}.{tail}"


def handover_subject(region: str, to_region: str, event_type: str, member_id: str) -> str:
    """The subject on which ``region`` hands a moving member's data to ``to_region``."""
    tail = _type_tail(event_type, TYPE_PREFIX)
    return (
        f"handover.{check_region(region)}.{check_region(to_region)}.{tail}."
        f"{check_token(member_id, 'member id')}"
    )


def handovers_to(region: str, event_type: str) -> str:
    """A filter: handovers of ``event_type`` from any region to ``region``."""
    return f"handover.*.{check_region(region)}.{_type_tail(event_type, TYPE_PREFIX)}.*"


def handovers_from(region: str, event_type: str) -> str:
    """A filter: handovers of ``event_type`` that ``region`` sends to any region."""
    return f"handover.{check_region(region)}.*.{_type_tail(event_type, TYPE_PREFIX)}.*"


def ingest_subject(region: str, publisher: str, event_type: str) -> str:
    """The subject the publishing system ``publisher`` sends ``event_type`` on in ``region``."""
    tail = _type_tail(event_type, INGEST_TYPE_PREFIX)
    return f"ingest.{check_region(region)}.{check_token(publisher, 'publisher')}.{tail}"


def ingest_filter(region: str, publisher: str, domain: str) -> str:
    """Every ingest event of ``domain`` (``hr``, ``content``) that ``publisher`` sends."""
    return f"ingest.{check_region(region)}.{check_token(publisher, 'publisher')}.{domain}.>"


def publisher_of(subject: str) -> str | None:
    """The publishing system an ingest subject belongs to (None for any other subject)."""
    parts = subject.split(".")
    return parts[2] if len(parts) > 3 and parts[0] == "ingest" else None


def publisher_source(publisher: str) -> str:
    """The CloudEvents ``source`` of ``publisher``'s events: this, or a path below it
    (``/hr-directory`` or ``/hr-directory/eu``)."""
    return f"/{publisher}"


def source_belongs_to(source: str, publisher: str) -> bool:
    own = publisher_source(publisher)
    return source == own or source.startswith(own + "/")


def any_region_event_subject(scope: Scope, event_type: str) -> str:
    """A filter that matches ``event_type`` published in any region."""
    return event_subject("x", scope, event_type).replace(".x.", ".*.", 1)


def personal_filter(region: str, event_type: str) -> str:
    """A filter that matches personal events of ``event_type`` for every key in ``region``."""
    return event_subject(region, Scope.PERSONAL, event_type, key="_").removesuffix("_") + "*"


def personal_key_filter(region: str, owner: str, key: str) -> str:
    """Every personal event of ``owner`` about ``key`` (e.g. all of one member's data)."""
    return f"personal.{check_region(region)}.{owner}.*.*.{check_token(key, 'key')}"


def command_subject(region: str, service: Service, command: str) -> str:
    return f"cmd.{check_region(region)}.{service.value}.{command}"


def query_subject(region: str, service: Service, query: str) -> str:
    return f"qry.{check_region(region)}.{service.value}.{query}"


def status_subject(region: str, service: Service) -> str:
    return f"status.{check_region(region)}.{service.value}"


def inbox_subject(region: str, member_id: str) -> str:
    return f"inbox.{check_region(region)}.{check_token(member_id, 'member id')}"


def outbox_subject(region: str, member_id: str) -> str:
    return f"outbox.{check_region(region)}.{check_token(member_id, 'member id')}"


def dead_letter_subject(region: str, service: Service, consumer: str) -> str:
    return f"dlq.{check_region(region)}.{service.value}.{consumer}"


def dead_letters_filter(region: str) -> str:
    """Every dead letter of ``region`` (and not the marks beside them)."""
    return f"dlq.{check_region(region)}.*.*"


def replay_mark_subject(region: str) -> str:
    """Where ``guild dlq replay`` records that it replayed a dead letter."""
    return f"dlq.{check_region(region)}.replayed"


def dead_letter_original_subject(region: str, stream: str) -> str:
    """Where a dead letter's original is copied when its own stream may drop it first."""
    return f"dlq-originals.{check_region(region)}.{stream}"


def source(region: str, service: Service) -> str:
    """The CloudEvents ``source`` of everything ``service`` publishes in ``region``."""
    return f"/guild/{check_region(region)}/{service.value}"


def consumer_name(service: Service, purpose: str) -> str:
    """Durable consumers are named ``<service>-<purpose>``."""
    return f"{service.value}-{check_token(purpose, 'consumer purpose')}"


def ingest_purpose(publisher: str) -> str:
    """The purpose of the durable consumer a service reads what ``publisher`` sends with:
    ``membership-ingest-hr-directory`` (see :func:`consumer_name`)."""
    return f"ingest-{publisher}"


def bucket_name(service: Service, purpose: str, region: str) -> str:
    """Key-value buckets are owned by one service: ``<service>_<purpose>_<region>``."""
    return f"{service.value}_{purpose}_{check_region(region)}"


class Streams:
    """The streams of one region."""

    def __init__(self, region: str) -> None:
        self.region = check_region(region)
        suffix = region.upper()
        self.events = f"EVENTS_{suffix}"
        self.personal = f"PERSONAL_{suffix}"
        self.inbox = f"INBOX_{suffix}"
        self.outbox = f"OUTBOX_{suffix}"
        self.dead_letters = f"DLQ_{suffix}"
        self.dead_letter_originals = f"DLQ_ORIGINALS_{suffix}"
        self.advisories = f"ADVISORIES_{suffix}"
        self.snapshots = f"SNAPSHOTS_{suffix}"
        self.handover = f"HANDOVER_{suffix}"

    def ingest_of(self, publisher: str) -> str:
        """The stream of what the publishing system ``publisher`` sends into the region."""
        name = check_token(publisher, "publisher").upper().replace("-", "_")
        return f"INGEST_{name}_{self.region.upper()}"

    def for_scope(self, scope: Scope) -> str:
        """The stream that stores Guild's own events of ``scope``."""
        return {
            Scope.PUBLIC: self.events,
            Scope.LOCAL: self.events,
            Scope.PERSONAL: self.personal,
            Scope.HANDOVER: self.handover,
        }[scope]

    def all(self, publishers: Iterable[str] = ()) -> list[str]:
        """Guild's own streams and those of ``publishers``
        (:data:`shared.publishers.PUBLISHERS` names every publishing system)."""
        return [
            self.events,
            *(self.ingest_of(publisher) for publisher in publishers),
            self.personal,
            self.inbox,
            self.outbox,
            self.dead_letters,
            self.dead_letter_originals,
            self.advisories,
            self.snapshots,
            self.handover,
        ]


def without_nats_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """``headers`` without the ``Nats-*`` ones (any case), which act on a publish (message id,
    rollup, TTL, expected sequence): what a copy or a replay of a stored message may carry."""
    return {name: value for name, value in headers.items() if not name.lower().startswith("nats-")}
