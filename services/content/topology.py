"""What content consumes and stores, declared for provisioning."""

from __future__ import annotations

from services.content.handlers.elsewhere import PEER_POSTS
from services.content.store.buckets import BUCKETS
from shared.contracts import membership as m
from shared.messaging.provisioning import (
    ConsumerSpec,
    Topology,
    durable_consumer,
    ingest_consumers,
    peer_events_consumer,
    streams_for,
)
from shared.naming import Scope, Service, Streams, any_region_event_subject
from shared.publishers import CONTENT
from shared.settings import GuildSettings

MEMBERSHIP_EVENTS = [
    m.CommunityCreatedV1, m.CommunityUpdatedV1, m.MemberJoinedV1, m.MemberLeftV1,
    m.MemberRegisteredV1, m.MemberUpdatedV1, m.MemberDeactivatedV1, m.MemberErasedV1,
]  # fmt: skip


def external_content_consumers(settings: GuildSettings) -> list[ConsumerSpec]:
    return ingest_consumers(
        settings,
        Service.CONTENT,
        CONTENT,
        "Content other systems publish into Guild (unknown types are dead-lettered)",
    )


def membership_consumer(settings: GuildSettings) -> ConsumerSpec:
    return durable_consumer(
        settings,
        Service.CONTENT,
        "membership",
        stream=Streams(settings.region).events,
        filter_subjects=[any_region_event_subject(Scope.PUBLIC, e.TYPE) for e in MEMBERSHIP_EVENTS],
        description="Communities, memberships and members, from every region",
    )


def peers_consumer(settings: GuildSettings) -> ConsumerSpec | None:
    """Other regions' new posts, to say where they are held (none without peer regions)."""
    return peer_events_consumer(
        settings, Service.CONTENT, PEER_POSTS, "Other regions' new posts: which region holds each"
    )


def topology(settings: GuildSettings) -> Topology:
    return Topology(
        streams=streams_for(settings),
        consumers=[
            *external_content_consumers(settings),
            membership_consumer(settings),
            *filter(None, [peers_consumer(settings)]),
        ],
        buckets=BUCKETS.specs(settings.region, settings.stream_replicas),
    )
