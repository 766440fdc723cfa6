"""What matching consumes and stores, declared for provisioning."""

from __future__ import annotations

from services.matching.store.buckets import bucket_specs
from shared.contracts import membership as m
from shared.contracts.content import QuestionPostedV1
from shared.messaging.provisioning import ConsumerSpec, Topology, durable_consumer, streams_for
from shared.naming import Scope, Service, Streams, any_region_event_subject
from shared.settings import GuildSettings


def members_consumer(settings: GuildSettings) -> ConsumerSpec:
    return durable_consumer(
        settings,
        Service.MATCHING,
        "members",
        stream=Streams(settings.region).events,
        filter_subjects=[
            any_region_event_subject(Scope.PUBLIC, event.TYPE)
            for event in (
                m.MemberRegisteredV1,
                m.MemberUpdatedV1,
                m.MemberJoinedV1,
                m.MemberLeftV1,
                m.MemberDeactivatedV1,
                m.MemberErasedV1,
            )
        ],
        description="Members' public profiles, joins and leaves, from every region",
    )


def questions_consumer(settings: GuildSettings) -> ConsumerSpec:
    return durable_consumer(
        settings,
        Service.MATCHING,
        "questions",
        stream=Streams(settings.region).events,
        filter_subjects=[any_region_event_subject(Scope.PUBLIC, QuestionPostedV1.TYPE)],
        description="Questions posted in any region, to route to this region's experts",
    )


def topology(settings: GuildSettings) -> Topology:
    return Topology(
        streams=streams_for(settings),
        consumers=[members_consumer(settings), questions_consumer(settings)],
        buckets=bucket_specs(settings.region, settings.stream_replicas),
    )
