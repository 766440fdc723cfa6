"""What notifications consumes and stores, declared for provisioning."""

from __future__ import annotations

from nats.js.api import RetentionPolicy, StorageType, StreamConfig

from services.notifications.delivery.fanout import fanout_stream
from services.notifications.store.buckets import BUCKETS
from shared.contracts import content as c
from shared.contracts import matching as x
from shared.contracts import membership as m
from shared.contracts.membership import MemberContactV1
from shared.contracts.notifications import NotificationsHandoverTakenV1, NotificationsHandoverV1
from shared.messaging.provisioning import (
    ConsumerSpec,
    RetryPolicy,
    StreamRead,
    Topology,
    durable_consumer,
    handover_read,
    streams_for,
)
from shared.messaging.provisioning import (
    handover_consumer as shared_handover_consumer,
)
from shared.naming import (
    Scope,
    Service,
    Streams,
    any_region_event_subject,
    consumer_name,
    personal_filter,
)
from shared.settings import GuildSettings

PUBLIC_EVENTS = [
    m.MemberRegisteredV1, m.MemberUpdatedV1, m.MemberLeftV1, c.QuestionPostedV1,
    m.MemberJoinedV1, m.JoinRequestedV1, m.JoinRequestDecidedV1, m.RoleChangedV1,
    m.MemberErasedV1, c.AnswerPostedV1, c.AnswerAcceptedV1, c.CommentAddedV1, c.PostEndorsedV1,
    c.PostFlaggedV1, c.PostModeratedV1, c.ResourceClaimedV1, c.ResourceHandedOverV1,
    c.ResourceClaimDeclinedV1, c.CommunityPulseV1, x.MeetingProposedV1,
    x.MentoringProposedV1, x.MentoringAnsweredV1, x.ResourceMatchedV1, m.MemberMovedV1,
    NotificationsHandoverTakenV1,
]  # fmt: skip
LOCAL_EVENTS = [x.ExpertsSuggestedV1, x.IntrosProposedV1, x.SimilarQuestionsFoundV1,
                x.ContentRecommendedV1]  # fmt: skip
PERSONAL_EVENTS = [MemberContactV1, x.JobMatchedV1]


def personal_consumer(settings: GuildSettings) -> ConsumerSpec:
    return durable_consumer(
        settings,
        Service.NOTIFICATIONS,
        "personal",
        stream=Streams(settings.region).personal,
        filter_subjects=[personal_filter(settings.region, e.TYPE) for e in PERSONAL_EVENTS],
        description="Contact data of members homed in this region, and what is for their "
        "eyes only (job matches)",
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
        description="Events that should reach people: questions, joins, requests, answers, "
        "claims, flags, pulses, and matching's proposals; profiles and memberships of members "
        "homed here (who follows what); and erasures",
    )


def handover_consumer(settings: GuildSettings) -> ConsumerSpec | None:
    return shared_handover_consumer(
        settings, Service.NOTIFICATIONS, NotificationsHandoverV1,
        "Members moving here from another region: their channels, preferences and inbox, "
        "sealed",
    )  # fmt: skip


def outbox_consumer(settings: GuildSettings) -> ConsumerSpec:
    """Retries are the worker's own (backoff, Retry-After, rate limits): unlimited here."""
    return ConsumerSpec(
        stream=Streams(settings.region).outbox,
        durable=consumer_name(Service.NOTIFICATIONS, "outbox"),
        filter_subjects=[f"outbox.{settings.region}.>"],
        description="Notifications on their way to members' own endpoints",
        retry=RetryPolicy(max_deliver=-1),
        ack_wait=60.0,
        max_ack_pending=10_000,
    )


def fanout_streams(settings: GuildSettings) -> list[StreamConfig]:
    region = settings.region
    return [StreamConfig(
        name=fanout_stream(region),
        description=f"Parts of large fan-outs of {region} waiting to be routed (member ids; "
        "each leaves once routed)",
        subjects=[f"fanout.{region}.>"],
        storage=StorageType.FILE,
        num_replicas=settings.stream_replicas,
        duplicate_window=600,
        retention=RetentionPolicy.WORK_QUEUE,
        max_age=7 * 24 * 3600,
    )]  # fmt: skip


def bulk_consumer(settings: GuildSettings) -> ConsumerSpec:
    """Retries are the worker's own (backoff, then a dead letter): unlimited here."""
    return ConsumerSpec(
        stream=fanout_stream(settings.region),
        durable=consumer_name(Service.NOTIFICATIONS, "bulk"),
        filter_subjects=[f"fanout.{settings.region}.>"],
        description="Parts of posts to whole audiences (communities, tags' followers), apart "
        "from personal alerts so that a large fan-out never holds them up",
        retry=RetryPolicy(max_deliver=-1),
        ack_wait=settings.ack_wait,
        max_ack_pending=100,
    )


def topology(settings: GuildSettings) -> Topology:
    region, streams = settings.region, Streams(settings.region)
    return Topology(
        streams=[*streams_for(settings), *fanout_streams(settings)],
        consumers=[
            personal_consumer(settings),
            alerts_consumer(settings),
            outbox_consumer(settings),
            bulk_consumer(settings),
            *filter(None, [handover_consumer(settings)]),
        ],
        buckets=BUCKETS.specs(settings.region, settings.stream_replicas),
        reads=[
            StreamRead(streams.inbox, (f"inbox.{region}.>",)),
            StreamRead(streams.outbox, (f"outbox.{region}.>",)),
            handover_read(region, NotificationsHandoverV1),
        ],
        erases=[streams.inbox, streams.outbox, streams.handover],
        writes=[f"inbox.{region}.*", f"outbox.{region}.*", f"fanout.{region}.>"],
    )
