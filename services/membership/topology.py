"""What membership consumes and stores, declared for provisioning."""

from __future__ import annotations

from services.membership.store.buckets import BUCKETS
from shared.contracts import membership as contract
from shared.contracts.content import SkillSuggestedV1
from shared.messaging.provisioning import (
    ConsumerSpec,
    StreamRead,
    Topology,
    durable_consumer,
    handover_read,
    ingest_consumers,
    peer_events_consumer,
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
    dead_letter_original_subject,
    ingest_filter,
)
from shared.publishers import HR, sending
from shared.settings import GuildSettings


def hr_consumers(settings: GuildSettings) -> list[ConsumerSpec]:
    return ingest_consumers(
        settings,
        Service.MEMBERSHIP,
        HR,
        "HR directory events (an HR event type membership does not know is dead-lettered)",
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


PEER_EVENTS = (
    contract.CommunityCreatedV1, contract.CommunityUpdatedV1, contract.MemberJoinedV1,
    contract.MemberLeftV1, contract.RoleChangedV1, contract.JoinRequestedV1,
    contract.JoinRequestDecidedV1, contract.MemberDeactivatedV1, contract.MemberErasedV1,
    contract.MemberMovedV1,
)  # fmt: skip
"""Other regions' membership events this region keeps a replica of (see handlers.peers)."""


def peers_consumer(settings: GuildSettings) -> ConsumerSpec | None:
    """Membership events of the peer regions (none: a region on its own has no peers)."""
    return peer_events_consumer(
        settings,
        Service.MEMBERSHIP,
        PEER_EVENTS,
        "Other regions' communities and memberships, kept here as replicas",
    )


def handover_consumer(settings: GuildSettings) -> ConsumerSpec | None:
    return shared_handover_consumer(
        settings, Service.MEMBERSHIP, contract.MemberHandoverV1,
        "Members moving here from another region: their records, sealed",
    )  # fmt: skip


def hr_streams(region: str) -> list[tuple[str, str]]:
    """The stream of each publisher of HR events, with the subjects of its HR events."""
    streams = Streams(region)
    return [(streams.ingest_of(p), ingest_filter(region, p, HR)) for p in sending(HR)]


def topology(settings: GuildSettings) -> Topology:
    region, streams = settings.region, Streams(settings.region)
    return Topology(
        streams=streams_for(settings),
        consumers=[
            *hr_consumers(settings),
            suggestions_consumer(settings),
            *filter(None, [peers_consumer(settings), handover_consumer(settings)]),
        ],
        buckets=BUCKETS.specs(settings.region, settings.stream_replicas),
        # an erasure: the person's HR events, every personal message naming them, the copies
        # of dead-lettered HR events
        reads=[
            *(StreamRead(stream, (subjects,)) for stream, subjects in hr_streams(region)),
            StreamRead(streams.personal, (f"personal.{region}.>",)),
            # a move: the handover sent, and the one taken in
            handover_read(region, contract.MemberHandoverV1),
            *(
                StreamRead(
                    streams.dead_letter_originals,
                    (dead_letter_original_subject(region, stream),),
                )
                for stream, _ in hr_streams(region)
            ),
        ],
        erases=[*(stream for stream, _ in hr_streams(region)), streams.personal, streams.handover],
    )
