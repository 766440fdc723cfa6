"""What matching consumes and stores, declared for provisioning."""

from __future__ import annotations

from services.matching.store.buckets import BUCKETS
from shared.contracts import content as c
from shared.contracts import matching as x
from shared.contracts import membership as m
from shared.contracts.base import Contract
from shared.messaging.provisioning import (
    ConsumerSpec,
    StreamRead,
    Topology,
    durable_consumer,
    handover_read,
    streams_for,
)
from shared.messaging.provisioning import handover_consumer as shared_handover_consumer
from shared.naming import Scope, Service, Streams, any_region_event_subject, personal_filter
from shared.settings import GuildSettings

MEMBER_EVENTS: list[type[Contract]] = [
    m.MemberRegisteredV1, m.MemberUpdatedV1, m.MemberJoinedV1, m.MemberLeftV1,
    m.MemberDeactivatedV1, m.MemberErasedV1, m.MemberMovedV1, m.CommunityCreatedV1,
    m.CommunityUpdatedV1, m.RoleChangedV1, x.MatchingHandoverTakenV1,
]  # fmt: skip
CONTENT_EVENTS: list[type[Contract]] = [
    c.QuestionPostedV1, c.AnswerPostedV1, c.AnswerAcceptedV1, c.PostDeletedV1,
    c.PracticePublishedV1, c.SoftwareAnnouncedV1, c.JobPostedV1, c.ResourceOfferedV1,
    c.ResourceRequestedV1, c.ResourceHandedOverV1, c.ResourceOfferClosedV1,
]  # fmt: skip
MENTORING_EVENTS: list[type[Contract]] = [x.MentoringProposedV1, x.MentoringAnsweredV1]


def _public(settings: GuildSettings, name: str, events: list[type[Contract]],
            description: str) -> ConsumerSpec:  # fmt: skip
    return durable_consumer(
        settings,
        Service.MATCHING,
        name,
        stream=Streams(settings.region).events,
        filter_subjects=[any_region_event_subject(Scope.PUBLIC, e.TYPE) for e in events],
        description=description,
    )


def members_consumer(settings: GuildSettings) -> ConsumerSpec:
    return _public(settings, "members", MEMBER_EVENTS,
                   "Members' public profiles, memberships, communities and their facilitators, "
                   "from every region")  # fmt: skip


def content_consumer(settings: GuildSettings) -> ConsumerSpec:
    return _public(settings, "content", CONTENT_EVENTS,
                   "Questions, answers, articles, software, openings and resources from every "
                   "region: to route, recommend and match")  # fmt: skip


def mentoring_consumer(settings: GuildSettings) -> ConsumerSpec:
    return _public(settings, "mentoring", MENTORING_EVENTS,
                   "Mentoring proposals and answers made in any region (mentees are spoken for "
                   "once proposed)")  # fmt: skip


def confidential_consumer(settings: GuildSettings) -> ConsumerSpec:
    return durable_consumer(
        settings,
        Service.MATCHING,
        "confidential",
        stream=Streams(settings.region).personal,
        filter_subjects=[personal_filter(settings.region, m.MemberConfidentialV1.TYPE)],
        description="Who is open to a move and their manager chain (home region only)",
    )


def handover_consumer(settings: GuildSettings) -> ConsumerSpec | None:
    return shared_handover_consumer(
        settings, Service.MATCHING, x.MatchingHandoverV1,
        "Members moving here from another region: their evidence and routing history, sealed",
    )  # fmt: skip


def consumers(settings: GuildSettings) -> list[ConsumerSpec]:
    return [members_consumer(settings), content_consumer(settings),
            mentoring_consumer(settings), confidential_consumer(settings),
            *filter(None, [handover_consumer(settings)])]  # fmt: skip


def topology(settings: GuildSettings) -> Topology:
    personal = Streams(settings.region).personal
    return Topology(
        streams=streams_for(settings),
        consumers=consumers(settings),
        buckets=BUCKETS.specs(settings.region, settings.stream_replicas),
        # an erasure: the personal events matching published about the member (job matches)
        reads=[
            StreamRead(personal, (f"personal.{settings.region}.matching.>",)),
            handover_read(settings.region, x.MatchingHandoverV1),  # a move
        ],
        erases=[personal, Streams(settings.region).handover],
    )
