"""What notifications consumes and stores, declared for provisioning."""

from __future__ import annotations

from services.notifications.store.buckets import bucket_specs
from shared.contracts.matching import ExpertsSuggestedV1, IntrosProposedV1
from shared.contracts.membership import MemberContactV1, MemberJoinedV1
from shared.messaging.provisioning import ConsumerSpec, Topology, durable_consumer, streams_for
from shared.naming import Scope, Service, Streams, any_region_event_subject, personal_filter
from shared.settings import GuildSettings


def contacts_consumer(settings: GuildSettings) -> ConsumerSpec:
    return durable_consumer(
        settings,
        Service.NOTIFICATIONS,
        "contacts",
        stream=Streams(settings.region).personal,
        filter_subjects=[personal_filter(settings.region, MemberContactV1.TYPE)],
        description="Contact data of members homed in this region",
    )


def alerts_consumer(settings: GuildSettings) -> ConsumerSpec:
    region = settings.region
    return durable_consumer(
        settings,
        Service.NOTIFICATIONS,
        "alerts",
        stream=Streams(region).events,
        filter_subjects=[
            any_region_event_subject(Scope.PUBLIC, MemberJoinedV1.TYPE),
            ExpertsSuggestedV1.subject_in(region),
            IntrosProposedV1.subject_in(region),
        ],
        description="Events that should reach people: joins, expert suggestions, intros",
    )


def topology(settings: GuildSettings) -> Topology:
    return Topology(
        streams=streams_for(settings),
        consumers=[contacts_consumer(settings), alerts_consumer(settings)],
        buckets=bucket_specs(settings.region, settings.stream_replicas),
    )
