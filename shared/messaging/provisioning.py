"""Streams, durable consumers and key-value buckets, declared once and applied idempotently.

Subscribers never create streams or consumers (they bind to existing ones). A provisioning
step applies the declarations: at service start-up by default, or by an operator with admin
credentials (``guild provision``, ``python -m services.<name> provision``) where services run
with ``GUILD_PROVISION=false`` and no right to create streams.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    DiscardPolicy,
    ExternalStream,
    RetentionPolicy,
    StorageType,
    StreamConfig,
    StreamSource,
)
from nats.js.errors import APIError, BadRequestError, NotFoundError

from shared.contracts.base import Contract
from shared.naming import (
    Scope,
    Service,
    Streams,
    bucket_name,
    consumer_name,
    event_subject,
    handovers_from,
    handovers_to,
    ingest_filter,
    ingest_purpose,
)
from shared.publishers import PUBLISHERS, sending
from shared.sealing import Keyring
from shared.settings import GuildSettings
from shared.storage import KvStore

T = TypeVar("T")

log = logging.getLogger("guild.provision")

DAY = 24 * 3600.0
DEAD_LETTER_DAYS = 90
"""How long dead letters (and the originals they refer to) are kept for an operator."""


class ProvisioningError(RuntimeError):
    """A declaration could not be applied (e.g. an existing stream differs in a fixed setting)."""


@dataclass(frozen=True)
class RetryPolicy:
    """How a consumer retries a message whose handler failed for a transient reason."""

    max_deliver: int = 10
    first_delay: float = 1.0
    max_delay: float = 300.0

    def delay_after(self, attempt: int) -> float:
        """Seconds to wait after failed delivery number ``attempt``: exponential, with jitter."""
        base = min(self.first_delay * 2 ** max(attempt - 1, 0), self.max_delay)
        return base * random.uniform(0.8, 1.2)


@dataclass(frozen=True)
class ConsumerSpec:
    """A durable pull consumer on one stream."""

    stream: str
    durable: str
    filter_subjects: Sequence[str]
    description: str
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    ack_wait: float = 60.0
    max_ack_pending: int = 1_000
    window: int = 100
    """How many of its messages a Guild subscriber handles at once (a client setting: see
    :mod:`shared.messaging.window`)."""
    time_limit: float = 600.0
    """Seconds a handler may run, kept from redelivery by in-progress acks, before it is
    cancelled (a client setting too)."""

    def config(self) -> ConsumerConfig:
        subjects = list(self.filter_subjects)
        return ConsumerConfig(
            durable_name=self.durable,
            name=self.durable,
            description=self.description,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=self.ack_wait,
            max_deliver=self.retry.max_deliver,
            max_ack_pending=self.max_ack_pending,
            filter_subject=subjects[0] if len(subjects) == 1 else None,
            filter_subjects=subjects if len(subjects) > 1 else None,
        )


@dataclass(frozen=True)
class BucketSpec:
    """A key-value bucket owned by one service.

    A bucket of personal data is ``secure``: it keeps a few revisions, so that the one a write
    replaces is still there to be securely deleted (see :mod:`shared.storage`), instead of
    being dropped by the history limit with its bytes left on disk.
    """

    name: str
    description: str
    history: int = 1
    replicas: int = 1
    ttl: float | None = None
    """Seconds a value lives (e.g. the request ledger's 24 hours); None: forever."""
    secure: bool = False

    @property
    def kept_revisions(self) -> int:
        return max(self.history, 8) if self.secure else self.history


@dataclass(frozen=True)
class Bucket:
    """One of a service's buckets, as the service declares it."""

    description: str
    secure: bool = False
    """Holds personal data (see :class:`BucketSpec`)."""
    ttl: float | None = None
    sealed: bool = False
    """Holds secrets or addresses: every value encrypted at rest (see shared.sealing)."""


@dataclass(frozen=True)
class Buckets:
    """A service's buckets by purpose: what to provision in a region, and the stores that use
    them there."""

    service: Service
    declared: Mapping[str, Bucket]

    def specs(self, region: str, replicas: int) -> list[BucketSpec]:
        return [
            BucketSpec(bucket_name(self.service, purpose, region), bucket.description,
                       replicas=replicas, ttl=bucket.ttl, secure=bucket.secure)
            for purpose, bucket in self.declared.items()
        ]  # fmt: skip

    def store(
        self, purpose: str, value_type: type[T], region: str, keyring: Keyring | None = None
    ) -> KvStore[T]:
        """The store of bucket ``purpose``; a sealed one seals with ``keyring``."""
        name, declared = bucket_name(self.service, purpose, region), self.declared[purpose]
        return KvStore(
            name,
            value_type,
            secure=declared.secure,
            sealed=declared.sealed,
            keyring=keyring if declared.sealed else None,
        )

    @property
    def sealed(self) -> bool:
        """Whether any of the buckets is sealed (the service then needs the sealing keys)."""
        return any(bucket.sealed for bucket in self.declared.values())


@dataclass(frozen=True)
class StreamRead:
    """A stream a component reads through consumers of its own (scans, followers), limited to
    the subjects of ``filters`` (``">"``: all of it)."""

    stream: str
    filters: Sequence[str] = (">",)


@dataclass(frozen=True)
class Topology:
    """Everything one component declares: what to provision, and what else it touches on NATS
    beyond its durable consumers and buckets (its access is generated from this; see
    :mod:`shared.access`)."""

    streams: Sequence[StreamConfig] = ()
    consumers: Sequence[ConsumerSpec] = ()
    buckets: Sequence[BucketSpec] = ()
    reads: Sequence[StreamRead] = ()
    erases: Sequence[str] = ()
    """Streams whose single messages it securely deletes (erasing personal data)."""
    writes: Sequence[str] = ()
    """Subjects it publishes on beyond its declared events (e.g. inboxes)."""

    def __add__(self, other: Topology) -> Topology:
        return Topology(
            streams=[*self.streams, *other.streams],
            consumers=[*self.consumers, *other.consumers],
            buckets=[*self.buckets, *other.buckets],
            reads=[*self.reads, *other.reads],
            erases=[*self.erases, *other.erases],
            writes=[*self.writes, *other.writes],
        )


def region_streams(
    region: str,
    *,
    peer_regions: Iterable[str] = (),
    replicas: int = 1,
    retention_days: int = 30,
) -> list[StreamConfig]:
    """The streams of one region. Public events of peer regions are sourced into ``EVENTS``."""
    names = Streams(region)
    peers = [peer for peer in peer_regions if peer != region]
    sources = [_sourced(peer, Streams(peer).events, f"evt.{peer}.pub.>") for peer in peers]
    arrivals = [
        _sourced(peer, Streams(peer).handover, f"handover.{peer}.{region}.>") for peer in peers
    ]

    def stream(name: str, description: str, subjects: list[str], **limits: Any) -> StreamConfig:
        return StreamConfig(
            name=name,
            description=description,
            subjects=subjects,
            storage=StorageType.FILE,
            num_replicas=replicas,
            duplicate_window=600,
            allow_direct=True,
            **{"retention": RetentionPolicy.LIMITS, **limits},
        )

    # Events are facts others rely on: nobody may purge them or roll them up. Guild's own
    # events carry no personal data and may not be deleted either; what other systems send in
    # does (an HR event names a person), so single ingest messages can be securely erased.
    facts = {
        "max_age": retention_days * DAY,
        "discard": DiscardPolicy.NEW,
        "deny_purge": True,
        "allow_rollup_hdrs": False,
    }
    exhausted = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES"
    ingest = [names.ingest_of(publisher) for publisher in PUBLISHERS]
    return [
        stream(
            names.events,
            f"Guild events of region {region} (and public events of its peers)",
            [f"evt.{region}.>"],
            sources=sources or None,
            deny_delete=True,
            **facts,
        ),
        *(
            stream(
                names.ingest_of(publisher),
                f"Events {publisher} publishes into Guild in {region}",
                [f"ingest.{region}.{publisher}.>"],
                **facts,
            )
            for publisher in PUBLISHERS
        ),
        stream(
            names.personal,
            f"Personal data of members homed in {region}; erasable",
            [f"personal.{region}.>"],
        ),
        stream(
            names.snapshots,
            f"Snapshots of the services' read models in {region}",
            [f"snapshot.{region}.>"],
            max_age=30 * DAY,
        ),
        stream(
            names.inbox,
            f"In-app inboxes of members homed in {region}, one subject each",
            [f"inbox.{region}.>"],
            max_age=365 * DAY,
            max_msgs_per_subject=1_000,
        ),
        stream(
            names.outbox,
            f"Notifications on their way to members' own channels in {region}, one subject "
            "per member; each leaves once delivered or given up (personal data; erasable)",
            [f"outbox.{region}.>"],
            retention=RetentionPolicy.WORK_QUEUE,
            max_age=7 * DAY,
        ),
        stream(
            names.dead_letters,
            f"Messages Guild could not process in {region}, and why",
            [f"dlq.{region}.>"],
            max_age=DEAD_LETTER_DAYS * DAY,
        ),
        stream(
            names.dead_letter_originals,
            f"Verbatim copies of dead-lettered messages of {region} whose own stream may drop "
            "them before their dead letter is handled (personal data; erasable)",
            [f"dlq-originals.{region}.>"],
            max_age=DEAD_LETTER_DAYS * DAY,
        ),
        stream(
            names.handover,
            f"Moving members' data, sealed: what {region} hands to their new home region "
            f"(sourced by it alone), and what {region}'s peers hand to {region}; each message "
            "is erased once taken in",
            [f"handover.{region}.>"],
            sources=arrivals or None,
            **facts,
        ),
        stream(
            names.advisories,
            f"JetStream advisories of {region}: deliveries exhausted",
            [f"{exhausted}.{s}.*" for s in (names.events, names.personal, names.handover, *ingest)],
            max_age=DEAD_LETTER_DAYS * DAY,  # an advisory becomes a dead letter: kept as long
        ),
    ]


def _sourced(peer: str, stream: str, subjects: str) -> StreamSource:
    """What a region sources of ``peer``'s ``stream``, through the peer's JetStream domain."""
    return StreamSource(
        name=stream, filter_subject=subjects, external=ExternalStream(api=f"$JS.{peer}.API")
    )


def peer_events_consumer(
    settings: GuildSettings,
    service: Service,
    events: Iterable[type[Contract]],
    description: str,
) -> ConsumerSpec | None:
    """``service``'s consumer ``<service>-peers`` of the public ``events`` its peer regions
    publish (none for a region on its own)."""
    if not settings.peer_regions:
        return None
    return durable_consumer(
        settings,
        service,
        "peers",
        stream=Streams(settings.region).events,
        filter_subjects=[
            event_subject(peer, Scope.PUBLIC, e.TYPE)
            for peer in settings.peer_regions
            for e in events
        ],
        description=description,
    )


def handover_consumer(
    settings: GuildSettings, service: Service, contract: type[Contract], description: str
) -> ConsumerSpec | None:
    """``service``'s consumer of the handovers of members moving to its region (none for a
    region on its own: it has no peers to move from)."""
    if not settings.peer_regions:
        return None
    return durable_consumer(
        settings,
        service,
        "handover",
        stream=Streams(settings.region).handover,
        filter_subjects=[handovers_to(settings.region, contract.TYPE)],
        description=description,
    )


def handover_read(region: str, contract: type[Contract]) -> StreamRead:
    """What a service reads of its region's ``HANDOVER`` stream to erase its handovers: those
    it sent, and those it took in."""
    return StreamRead(
        Streams(region).handover,
        (handovers_from(region, contract.TYPE), handovers_to(region, contract.TYPE)),
    )


def streams_for(settings: GuildSettings) -> list[StreamConfig]:
    """The region's streams as the deployment's settings configure them."""
    return region_streams(
        settings.region,
        peer_regions=settings.peer_regions,
        replicas=settings.stream_replicas,
        retention_days=settings.event_retention_days,
    )


def durable_consumer(
    settings: GuildSettings,
    service: Service,
    purpose: str,
    *,
    stream: str,
    filter_subjects: Sequence[str],
    description: str,
) -> ConsumerSpec:
    """A durable consumer ``<service>-<purpose>`` with the deployment's retry settings."""
    return ConsumerSpec(
        stream=stream,
        durable=consumer_name(service, purpose),
        filter_subjects=list(filter_subjects),
        description=description,
        retry=RetryPolicy(
            max_deliver=settings.retry_max_deliver,
            first_delay=settings.retry_first_delay,
            max_delay=settings.retry_max_delay,
        ),
        ack_wait=settings.ack_wait,
        window=settings.consumer_window,
        time_limit=settings.handler_time_limit,
    )


def ingest_consumers(
    settings: GuildSettings, service: Service, domain: str, description: str
) -> list[ConsumerSpec]:
    """One durable ``<service>-ingest-<publisher>`` on the stream of each publisher that sends
    ingest events of ``domain``, reading only those."""
    streams = Streams(settings.region)
    return [
        durable_consumer(
            settings,
            service,
            ingest_purpose(publisher),
            stream=streams.ingest_of(publisher),
            filter_subjects=[ingest_filter(settings.region, publisher, domain)],
            description=f"{description}, from {publisher}",
        )
        for publisher in sending(domain)
    ]


async def apply(js: JetStreamContext, topology: Topology) -> None:
    """Create what is missing and update what changed. Safe to run again and concurrently."""
    for stream in topology.streams:
        await _apply_stream(js, stream)
    for bucket in topology.buckets:
        await _apply_bucket(js, bucket)
    for consumer in topology.consumers:
        await _apply_consumer(js, consumer)


async def _apply_stream(js: JetStreamContext, config: StreamConfig) -> None:
    try:
        await js.add_stream(config)
    except BadRequestError as error:
        if error.err_code != 10058:  # stream name already in use with a different configuration
            raise ProvisioningError(f"stream {config.name}: {error.description}") from error
        try:
            await js.update_stream(config)
        except APIError as update_error:
            raise ProvisioningError(
                f"stream {config.name} exists with settings that cannot be changed in place: "
                f"{update_error.description}"
            ) from update_error
        log.info("stream updated", extra={"stream": config.name})


def bucket_stream(bucket: BucketSpec) -> StreamConfig:
    """The stream behind a key-value bucket, as nats-py's KV API expects it, except that single
    messages may be (securely) deleted: erasing personal data needs that, and nats-py's own
    ``create_key_value`` forbids it."""
    return StreamConfig(
        name=f"KV_{bucket.name}",
        description=bucket.description,
        subjects=[f"$KV.{bucket.name}.>"],
        retention=RetentionPolicy.LIMITS,
        max_msgs_per_subject=bucket.kept_revisions,
        max_age=bucket.ttl or 0,
        duplicate_window=min(bucket.ttl or 120.0, 120.0),
        discard=DiscardPolicy.NEW,
        allow_rollup_hdrs=True,
        deny_delete=False,
        allow_direct=True,
        storage=StorageType.FILE,
        num_replicas=bucket.replicas,
    )


async def _apply_bucket(js: JetStreamContext, bucket: BucketSpec) -> None:
    await _apply_stream(js, bucket_stream(bucket))


async def _apply_consumer(js: JetStreamContext, spec: ConsumerSpec) -> None:
    try:
        await js.add_consumer(spec.stream, config=spec.config())
    except NotFoundError as error:
        raise ProvisioningError(
            f"consumer {spec.durable}: stream {spec.stream} does not exist"
        ) from error
    except BadRequestError as error:
        raise ProvisioningError(f"consumer {spec.durable}: {error.description}") from error
