"""What membership consumes and stores, declared for provisioning."""

from __future__ import annotations

from services.membership.store.buckets import BUCKETS
from shared.contracts.content import SkillSuggestedV1
from shared.messaging.provisioning import (
    ConsumerSpec,
    StreamRead,
    Topology,
    durable_consumer,
    streams_for,
)
from shared.naming import (
    Scope,
    Service,
    Streams,
    any_region_event_subject,
    dead_letter_original_subject,
)
from shared.settings import GuildSettings


def hr_consumer(settings: GuildSettings) -> ConsumerSpec:
    return durable_consumer(
        settings,
        Service.MEMBERSHIP,
        "hr",
        stream=Streams(settings.region).ingest,
        filter_subjects=[f"ingest.{settings.region}.hr.>"],
        description="HR directory events (an HR event type membership does not know is "
        "dead-lettered)",
    )


def suggestions_consumer(settings: GuildSettings) -> ConsumerSpec:
    return durable_consumer(
        settings,
        Service.MEMBERSHIP,
        "suggestions",
        stream=Streams(settings.region).events,
        filter_subjects=[any_region_event_subject(Scope.PUBLIC, SkillSuggestedV1.TYPE)],
        description="Skills other services suggest for members homed here",
    )


def topology(settings: GuildSettings) -> Topology:
    region, streams = settings.region, Streams(settings.region)
    return Topology(
        streams=streams_for(settings),
        consumers=[hr_consumer(settings), suggestions_consumer(settings)],
        buckets=BUCKETS.specs(settings.region, settings.stream_replicas),
        # an erasure: the person's HR events, every personal message naming them, the copies
        # of dead-lettered HR events
        reads=[
            StreamRead(streams.ingest, (f"ingest.{region}.hr.>",)),
            StreamRead(streams.personal, (f"personal.{region}.>",)),
            StreamRead(
                streams.dead_letter_originals,
                (dead_letter_original_subject(region, streams.ingest),),
            ),
        ],
        erases=[streams.ingest, streams.personal],
    )
