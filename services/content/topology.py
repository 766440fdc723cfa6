"""What content consumes and stores, declared for provisioning."""

from __future__ import annotations

from services.content.store.buckets import bucket_specs
from shared.contracts.membership import CommunityCreatedV1
from shared.messaging.provisioning import ConsumerSpec, Topology, durable_consumer, streams_for
from shared.naming import Scope, Service, Streams, any_region_event_subject
from shared.settings import GuildSettings


def ingest_consumer(settings: GuildSettings) -> ConsumerSpec:
    return durable_consumer(
        settings,
        Service.CONTENT,
        "ingest",
        stream=Streams(settings.region).ingest,
        filter_subjects=[f"ingest.{settings.region}.content.>"],
        description="Content other systems publish into Guild (unknown types are dead-lettered)",
    )


def communities_consumer(settings: GuildSettings) -> ConsumerSpec:
    return durable_consumer(
        settings,
        Service.CONTENT,
        "communities",
        stream=Streams(settings.region).events,
        filter_subjects=[any_region_event_subject(Scope.PUBLIC, CommunityCreatedV1.TYPE)],
        description="Communities created in any region",
    )


def topology(settings: GuildSettings) -> Topology:
    return Topology(
        streams=streams_for(settings),
        consumers=[ingest_consumer(settings), communities_consumer(settings)],
        buckets=bucket_specs(settings.region, settings.stream_replicas),
    )
