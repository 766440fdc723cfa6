"""Membership's composition root: the one place that reads settings and wires adapters."""

from __future__ import annotations

from services.membership.domain.model import (
    AdministeredElsewhere,
    ApprovalRequired,
    CommunityAlreadyExists,
    InvalidChange,
    NotAllowed,
    UnknownCommunity,
    UnknownMember,
)
from services.membership.handlers import Deps, communities, hr, moves, peers, profile, queries
from services.membership.store.buckets import MembershipStore
from services.membership.topology import (
    handover_consumer,
    hr_consumers,
    peers_consumer,
    suggestions_consumer,
    topology,
)
from shared.contracts import ingest
from shared.contracts import membership as contract
from shared.contracts.content import SkillSuggestedV1
from shared.moves import moves as moves_of
from shared.naming import Service
from shared.pagination import InvalidCursor
from shared.runtime import ServiceApp
from shared.settings import GuildSettings

HR_REACTIONS = {
    ingest.PersonHiredV1: hr.when_person_hired_register_member,
    ingest.PersonChangedV1: hr.when_person_changed_update_member,
    ingest.PersonDepartedV1: hr.when_person_departed_deactivate_member,
    ingest.PersonMovedV1: moves.when_person_moved_hand_over,
    ingest.ErasureRequestedV1: hr.when_erasure_requested_erase_member,
}
SUGGESTION_REACTIONS = {
    SkillSuggestedV1: profile.when_skill_suggested_keep_it_pending,
}
PEER_REACTIONS = {
    contract.CommunityCreatedV1: peers.when_peer_community_created_keep_replica,
    contract.CommunityUpdatedV1: peers.when_peer_community_updated_keep_replica,
    contract.MemberJoinedV1: peers.when_peer_member_joined_keep_membership,
    contract.MemberLeftV1: peers.when_peer_member_left_forget_membership,
    contract.RoleChangedV1: peers.when_peer_role_changed_keep_role,
    contract.JoinRequestedV1: peers.when_peer_join_requested_keep_request,
    contract.JoinRequestDecidedV1: peers.when_peer_join_request_decided_settle_request,
    contract.MemberDeactivatedV1: peers.when_peer_member_gone_drop_requests,
    contract.MemberErasedV1: peers.when_peer_member_gone_drop_requests,
    contract.MemberMovedV1: moves.when_member_moved_follow_them,
}
HANDOVER_REACTIONS = {
    contract.MemberHandoverV1: moves.when_member_handed_over_take_in,
}
COMMANDS = {
    "create_community": (contract.CreateCommunity, communities.create_community),
    "update_community": (contract.UpdateCommunity, communities.update_community),
    "archive_community": (contract.ArchiveCommunity, communities.archive_community),
    "join_community": (contract.JoinCommunity, communities.join_community),
    "leave_community": (contract.LeaveCommunity, communities.leave_community),
    "request_to_join": (contract.RequestToJoin, communities.request_to_join),
    "decide_join_request": (contract.DecideJoinRequest, communities.decide_join_request),
    "add_member": (contract.AddMember, communities.add_member),
    "change_role": (contract.ChangeRole, communities.change_role),
    "update_profile": (contract.UpdateProfile, profile.update_profile),
    "snooze": (contract.Snooze, profile.snooze),
    "resume": (contract.Resume, profile.resume),
    "decide_skill": (contract.DecideSkill, profile.decide_skill),
}
QUERIES = {
    "get_member": (contract.GetMember, queries.get_member),
    "find_member": (contract.FindMember, queries.find_member),
    "get_community": (contract.GetCommunity, queries.get_community),
    "list_communities": (contract.ListCommunities, queries.list_communities),
    "community_members": (contract.CommunityMembers, queries.community_members),
    "member_communities": (contract.MemberCommunities, queries.member_communities),
    "join_requests": (contract.JoinRequests, queries.join_requests),
}
PUBLISHES = (
    contract.MemberRegisteredV1, contract.MemberUpdatedV1, contract.MemberDeactivatedV1,
    contract.MemberErasedV1, contract.MemberContactV1, contract.MemberConfidentialV1,
    contract.CommunityCreatedV1, contract.CommunityUpdatedV1, contract.MemberJoinedV1,
    contract.MemberLeftV1, contract.JoinRequestedV1, contract.JoinRequestDecidedV1,
    contract.RoleChangedV1, contract.MemberHandoverV1, contract.MemberMovedV1,
)  # fmt: skip
ERROR_CODES: dict[type[Exception], str] = {
    UnknownMember: "not_found",
    UnknownCommunity: "not_found",
    CommunityAlreadyExists: "conflict",
    InvalidChange: "conflict",
    NotAllowed: "forbidden",
    ApprovalRequired: "approval_required",
    AdministeredElsewhere: "wrong_region",
    InvalidCursor: "invalid_request",
}


def build_app(settings: GuildSettings, store: MembershipStore | None = None) -> ServiceApp:
    app = ServiceApp.create(Service.MEMBERSHIP, settings, topology(settings))
    store = store or MembershipStore.for_region(settings.region, settings.keyring())
    deps = Deps(store=store, events=app.events, region=settings.region, moves=moves_of(settings))
    app.stores += store.all()
    app.followers += store.followers
    for consumer in hr_consumers(settings):
        app.react_to(consumer, HR_REACTIONS, deps)
    app.react_to(suggestions_consumer(settings), SUGGESTION_REACTIONS, deps)
    if (peer_events := peers_consumer(settings)) is not None:
        app.react_to(peer_events, PEER_REACTIONS, deps)
    if (handovers := handover_consumer(settings)) is not None:
        app.react_to(handovers, HANDOVER_REACTIONS, deps)
    app.answer_commands(COMMANDS, deps, ERROR_CODES)
    app.answer_queries(QUERIES, deps, ERROR_CODES)
    app.publishes(*PUBLISHES)
    return app
