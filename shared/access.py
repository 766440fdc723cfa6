"""Who may publish and subscribe to what: each identity's NATS permissions, from Guild's tables.

A service's grants come from what it declares to run (:meth:`shared.runtime.ServiceApp.grants`):
its durable consumers, its buckets, the events it publishes, the commands and queries it
answers. A publishing system's come from the ingest contracts it sends. Nothing here is
written by hand per deployment, so permissions cannot drift from what the code does.

What no service may do: create, change, purge or delete a stream, create or delete a durable
consumer, pull from or acknowledge for another identity's consumer, read another's replies
(each identity has its own inbox prefix, ``_INBOX_<identity>``), publish another's events.
Provisioning (the ``admin`` identity) may do everything.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from shared.contracts.base import Contract
from shared.naming import ingest_subject
from shared.publishers import ACTS_FOR_MEMBERS, PUBLISHERS

API = "$JS.API"
ADMIN = "admin"
"""The provisioning identity: every right, used only to create and change streams."""

DEFAULT_INBOX = "_INBOX"
"""nats-py's inbox prefix, for a connection without a credential of Guild's."""

_identity_re = re.compile(r"^[a-z][a-z0-9-]{0,40}$")


def inbox_prefix(identity: str, region: str) -> str:
    """The inbox prefix of ``identity``'s connections in ``region``: replies to its requests
    (PubAcks, JetStream API answers, fetched messages) arrive below it, and nobody else may
    subscribe there."""
    return f"_INBOX_{identity.replace('-', '_')}_{region}"


def check_identity(name: str) -> str:
    if not _identity_re.match(name):
        raise ValueError(
            f"identity {name!r} is not valid: use lowercase letters, digits and '-', "
            "starting with a letter (at most 41 characters)"
        )
    return name


@dataclass(frozen=True)
class Grants:
    """What one identity of one region may do on NATS."""

    identity: str
    region: str
    publish: tuple[str, ...] = ()
    subscribe: tuple[str, ...] = ()
    publish_deny: tuple[str, ...] = ()
    subscribe_deny: tuple[str, ...] = ()
    responds: bool = False
    """May answer requests (publish once to the reply subject of a request it received)."""

    @property
    def user_name(self) -> str:
        """The name of its NATS user: ``<identity>@<region>``."""
        return f"{self.identity}@{self.region}"

    def __add__(self, other: Grants) -> Grants:
        return replace(
            self,
            publish=_unique(self.publish + other.publish),
            subscribe=_unique(self.subscribe + other.subscribe),
            publish_deny=_unique(self.publish_deny + other.publish_deny),
            subscribe_deny=_unique(self.subscribe_deny + other.subscribe_deny),
            responds=self.responds or other.responds,
        )

    def may_publish(self, subject: str) -> bool:
        """Whether nats-server lets this identity publish on ``subject`` (deny wins)."""
        return allows(self.publish, subject) and not allows(self.publish_deny, subject)

    def denying(self, publish: Iterable[str]) -> Grants:
        return replace(self, publish_deny=_unique(self.publish_deny + tuple(publish)))

    def to_json(self) -> dict[str, Any]:
        return {
            "identity": self.identity,
            "region": self.region,
            "publish": list(self.publish),
            "subscribe": list(self.subscribe),
            "publish_deny": list(self.publish_deny),
            "subscribe_deny": list(self.subscribe_deny),
            "responds": self.responds,
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Grants:
        return cls(
            identity=value["identity"],
            region=value["region"],
            publish=tuple(value.get("publish", ())),
            subscribe=tuple(value.get("subscribe", ())),
            publish_deny=tuple(value.get("publish_deny", ())),
            subscribe_deny=tuple(value.get("subscribe_deny", ())),
            responds=bool(value.get("responds", False)),
        )


def _unique(subjects: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(subjects))


def base(identity: str, region: str) -> Grants:
    """What every identity needs: its own inbox, and JetStream's account information."""
    return Grants(
        check_identity(identity),
        region,
        publish=(f"{API}.INFO",),
        subscribe=(f"{inbox_prefix(identity, region)}.>",),
    )


def durable(identity: str, region: str, stream: str, name: str) -> Grants:
    """Pull from, inspect and acknowledge for the durable consumer ``name`` on ``stream``
    (acks in both forms: ``$JS.ACK.<stream>.<consumer>...`` and the v2 one with domain and
    account hash before them), and get single messages of ``stream`` by sequence (a dead
    letter's original, named by an advisory)."""
    return Grants(
        identity,
        region,
        publish=(
            f"{API}.CONSUMER.MSG.NEXT.{stream}.{name}",
            f"{API}.CONSUMER.INFO.{stream}.{name}",
            f"$JS.ACK.{stream}.{name}.>",
            f"$JS.ACK.*.*.{stream}.{name}.>",
            f"{API}.STREAM.INFO.{stream}",
            f"{API}.STREAM.MSG.GET.{stream}",
        ),
    )


def read_messages(stream: str) -> tuple[str, ...]:
    """Get single messages of ``stream`` (by sequence or last by subject) and its info."""
    return (
        f"{API}.STREAM.INFO.{stream}",
        f"{API}.STREAM.MSG.GET.{stream}",
        f"{API}.DIRECT.GET.{stream}",
        f"{API}.DIRECT.GET.{stream}.>",
    )


def scan(identity: str, region: str, stream: str, filters: Sequence[str] = (">",)) -> Grants:
    """Read ``stream`` through consumers of its own making (read models, scans, snapshots),
    limited to the subjects of ``filters`` (``">"``: the whole stream): create a consumer with
    one of those filters (any name: ephemeral ones are named at random; the server checks
    that the filter in the request is the one in the subject), pull from it and look at it.
    Other identities' durable consumers on the stream are denied by
    :func:`deny_others_consumers` when the grants of a region are put together."""
    create = f"{API}.CONSUMER.CREATE.{stream}.*"
    if ">" in filters:
        reads = [create, f"{create}.>", *read_messages(stream)]
    else:  # single messages too only on those subjects (the last of one, by subject)
        reads = [f"{API}.STREAM.INFO.{stream}"]
        for subject in filters:
            reads += [f"{create}.{subject}", f"{API}.DIRECT.GET.{stream}.{subject}"]
    return Grants(
        identity,
        region,
        publish=(*reads, f"{API}.CONSUMER.MSG.NEXT.{stream}.*", f"{API}.CONSUMER.INFO.{stream}.*"),
    )


def erase(identity: str, region: str, stream: str) -> Grants:
    """Securely delete single messages of ``stream`` (erasing personal data), walking them by
    sequence."""
    return Grants(
        identity,
        region,
        publish=(f"{API}.STREAM.MSG.DELETE.{stream}", f"{API}.STREAM.MSG.GET.{stream}"),
    )


def bucket(identity: str, region: str, name: str) -> Grants:
    """Everything on a key-value bucket of one's own: write, read, follow, erase."""
    stream = f"KV_{name}"
    return (
        Grants(identity, region, publish=(f"$KV.{name}.>",))
        + scan(identity, region, stream)
        + erase(identity, region, stream)
        + Grants(identity, region, publish=(f"{API}.CONSUMER.DELETE.{stream}.*",))
    )


def answers(identity: str, region: str, subjects: Iterable[str]) -> Grants:
    """Answer requests on ``subjects`` (queue groups included) and reply to them."""
    return Grants(identity, region, subscribe=tuple(subjects), responds=True)


def publishes(identity: str, region: str, subjects: Iterable[str]) -> Grants:
    return Grants(identity, region, publish=tuple(subjects))


def deny_others_consumers(grants: Sequence[Grants], durables: dict[str, set[tuple[str, str]]]
                          ) -> list[Grants]:  # fmt: skip
    """``grants`` with, for each identity, every other identity's durable consumers (by
    ``durables[identity] = {(stream, name)}``) denied where its own grants would reach them
    (a wildcard consumer name: creating, changing, pulling from, acknowledging for or
    deleting them)."""
    result = []
    for grant in grants:
        theirs = [p for who, pairs in durables.items() if who != grant.identity for p in pairs]
        reachable = [s for s in _consumer_subjects(theirs) if allows(grant.publish, s)]
        result.append(grant.denying(reachable))
    return result


def allows(patterns: Iterable[str], subject: str) -> bool:
    """Whether one of ``patterns`` (NATS wildcards: ``*`` a token, ``>`` the rest) matches
    ``subject`` (whose own ``*`` and ``>`` tokens are literal, as in a JetStream API subject
    that carries a filter)."""
    tokens = subject.split(".")
    return any(_matches(pattern.split("."), tokens) for pattern in patterns)


def _matches(pattern: list[str], tokens: list[str]) -> bool:
    for index, token in enumerate(pattern):
        if token == ">":
            return len(tokens) > index
        if index >= len(tokens) or (token != "*" and token != tokens[index]):
            return False
    return len(pattern) == len(tokens)


def _consumer_subjects(consumers: Iterable[tuple[str, str]]) -> list[str]:
    subjects: list[str] = []
    for stream, name in sorted(consumers):
        subjects += [
            f"{API}.CONSUMER.CREATE.{stream}.{name}",
            f"{API}.CONSUMER.CREATE.{stream}.{name}.>",
            f"{API}.CONSUMER.DURABLE.CREATE.{stream}.{name}",
            f"{API}.CONSUMER.MSG.NEXT.{stream}.{name}",
            f"{API}.CONSUMER.DELETE.{stream}.{name}",
            f"$JS.ACK.{stream}.{name}.>",
            f"$JS.ACK.*.*.{stream}.{name}.>",
        ]
    return subjects


MANAGEMENT = (
    f"{API}.STREAM.CREATE.>",
    f"{API}.STREAM.UPDATE.>",
    f"{API}.STREAM.DELETE.>",
    f"{API}.STREAM.PURGE.>",
    f"{API}.STREAM.RESTORE.>",
    f"{API}.STREAM.SNAPSHOT.>",
    f"{API}.CONSUMER.DURABLE.CREATE.>",
)
"""What only provisioning does: denied to every identity but ``admin``, whatever else it has."""


STAYS_HOME = (
    "personal.>", "inbox.>", "outbox.>", "ingest.>", "dlq.>", "dlq-originals.>", "snapshot.>",
    "evt.*.local.>", "cmd.>", "qry.>", "status.>", "$KV.>", "_INBOX_*.>", "handover.>",
)  # fmt: skip
"""What never crosses a region's leaf node link: personal data, inboxes and outboxes, what
other systems send in, dead letters, snapshots, local events, requests, buckets and replies.
(A moving member's handover reaches their new region by its stream sourcing the old one's,
filtered to what is for it, never on its own subject.)"""


def leaf() -> Grants:
    """A region's link to the hub (its leaf node connection): the public events the other
    regions source, and the JetStream API of each domain through which they source them;
    nothing of :data:`STAYS_HOME`, in either direction."""
    return Grants(
        "leaf", "any", publish=(">",), subscribe=(">",),
        publish_deny=STAYS_HOME, subscribe_deny=STAYS_HOME,
    )  # fmt: skip


def admin() -> Grants:
    """Provisioning: every subject (used to create streams, never by a running service)."""
    return Grants(ADMIN, "any", publish=(">",), subscribe=(">",), responds=True)


def without_management(grants: Grants) -> Grants:
    return grants.denying(MANAGEMENT)


def publisher(system: str, region: str, contracts: Iterable[type[Contract]]) -> Grants:
    """A system outside Guild that publishes into it: the ingest subjects of ``contracts``,
    and its PubAcks on its own inbox."""
    subjects = [ingest_subject(region, system, contract.TYPE) for contract in contracts]
    return without_management(base(system, region) + publishes(system, region, subjects))


def publishers(region: str) -> list[Grants]:
    return [publishing_system(name, region) for name in PUBLISHERS]


def publishing_system(name: str, region: str) -> Grants:
    """The grants of the publishing system ``name`` (one of :data:`PUBLISHERS`)."""
    grants = publisher(name, region, PUBLISHERS[name])
    if name in ACTS_FOR_MEMBERS:  # members' requests, not the operator's
        grants += publishes(name, region, [f"cmd.{region}.>", f"qry.{region}.>"])
        grants = grants.denying([f"cmd.{region}.*.{OPERATORS_ONLY}"])
    return grants


OPERATORS_ONLY = "replay_dead_letter"
"""The command of every service that only the operator sends (see shared.messaging.replay)."""


def operator(region: str) -> Grants:
    """The operator's CLI: every command, query and status of the region (a dead letter's
    replay is a command to the service that gave up), the ingest subjects (``guild publish``,
    the demo), reading every stream through consumers of its own and watching the region's
    events as they happen (``guild up`` shows deliveries); no event of Guild's own, no stream
    management, no durable consumer, no deleting messages."""
    identity = "operator"
    grants = base(identity, region) + publishes(identity, region, [
        f"cmd.{region}.>", f"qry.{region}.>", f"status.{region}.>", f"ingest.{region}.>",
        f"{API}.STREAM.INFO.*", f"{API}.STREAM.LIST", f"{API}.STREAM.NAMES",
        f"{API}.CONSUMER.LIST.*", f"{API}.CONSUMER.NAMES.*", f"{API}.CONSUMER.INFO.*.*",
        f"{API}.STREAM.MSG.GET.*", f"{API}.DIRECT.GET.>",
        f"{API}.CONSUMER.CREATE.*.*", f"{API}.CONSUMER.CREATE.*.*.>",
        f"{API}.CONSUMER.MSG.NEXT.*.*",
    ]) + Grants(identity, region, subscribe=(f"evt.{region}.>",))  # fmt: skip
    return without_management(grants)


def region_grants(services: Sequence[Grants], others: Sequence[Grants]) -> list[Grants]:
    """Every identity of a region with every durable consumer kept to the service that owns
    it: ``services`` own durables (from their grants: ``CONSUMER.MSG.NEXT.<stream>.<name>``),
    ``others`` (publishers, the operator) own none."""
    durables = {g.identity: set(_durables_of(g)) for g in services}
    return deny_others_consumers([*services, *others], durables)


def _durables_of(grants: Grants) -> Iterable[tuple[str, str]]:
    prefix = f"{API}.CONSUMER.MSG.NEXT."
    for subject in grants.publish:
        if subject.startswith(prefix) and not subject.endswith(".*"):
            stream, _, name = subject.removeprefix(prefix).partition(".")
            yield stream, name
