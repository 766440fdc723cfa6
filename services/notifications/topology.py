"""What notifications consumes and stores, declared for provisioning."""

from __future__ import annotations

from services.notifications.store.buckets import bucket_specs
from shared.contracts import content as c
from shared.contracts import membership as m
from shared.contracts.matching import ExpertsSuggestedV1, IntrosProposedV1
from shared.contracts.membership import MemberContactV1
from shared.messaging.provisioning import ConsumerSpec, Topology, durable_consumer, streams_for
from shared.naming import Scope, Service, Streams, any_region_event_subject, personal_filter
from shared.settings import GuildSettings

PUBLIC_EVENTS = [
    m.MemberJoinedV1, m.JoinRequestedV1, m.JoinRequestDecidedV1, m.RoleChangedV1,
    m.MemberErasedV1, c.AnswerPostedV1, c.AnswerAcceptedV1, c.CommentAddedV1, c.PostEndorsedV1,
    c.PostFlaggedV1, c.PostModeratedV1, c.ResourceClaimedV1, c.ResourceHandedOverV1,
    c.ResourceClaimDeclinedV1, c.CommunityPulseV1, c.SkillSuggestedV1,
]  # fmt: skip
LOCAL_EVENTS = [ExpertsSuggestedV1, IntrosProposedV1]


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
            *(any_region_event_subject(Scope.PUBLIC, e.TYPE) for e in PUBLIC_EVENTS),
            *(e.subject_in(region) for e in LOCAL_EVENTS),
        ],
        description="Events that should reach people: joins, requests, answers, claims, "
        "flags, pulses, expert suggestions, intros; and erasures",
    )


def topology(settings: GuildSettings) -> Topology:
    return Topology(
        streams=streams_for(settings),
        consumers=[contacts_consumer(settings), alerts_consumer(settings)],
        buckets=bucket_specs(settings.region, settings.stream_replicas),
    )
