"""Membership's composition root: the one place that reads settings and wires adapters."""

from __future__ import annotations

from services.membership.domain.model import (
    CommunityAlreadyExists,
    UnknownCommunity,
    UnknownMember,
)
from services.membership.handlers import Deps, commands, queries, reactions
from services.membership.store.buckets import MembershipStore
from services.membership.topology import hr_consumer, topology
from shared.contracts.ingest import PersonHiredV1
from shared.contracts.membership import (
    CreateCommunity,
    GetCommunity,
    GetMember,
    JoinCommunity,
    ListCommunities,
)
from shared.naming import Service, command_subject, query_subject
from shared.runtime import ServiceApp
from shared.settings import GuildSettings

HR_REACTIONS = {
    PersonHiredV1: reactions.when_person_hired_register_member,
}
COMMANDS = {
    "create_community": (CreateCommunity, commands.create_community),
    "join_community": (JoinCommunity, commands.join_community),
}
QUERIES = {
    "get_member": (GetMember, queries.get_member),
    "get_community": (GetCommunity, queries.get_community),
    "list_communities": (ListCommunities, queries.list_communities),
}
ERROR_CODES: dict[type[Exception], str] = {
    UnknownMember: "not_found",
    UnknownCommunity: "not_found",
    CommunityAlreadyExists: "conflict",
}


def build_app(settings: GuildSettings, store: MembershipStore | None = None) -> ServiceApp:
    app = ServiceApp.create(Service.MEMBERSHIP, settings, topology(settings))
    store = store or MembershipStore.for_region(settings.region)
    deps = Deps(store=store, events=app.events, region=settings.region)
    app.stores = store.all()
    app.react_to(hr_consumer(settings), HR_REACTIONS, deps)
    app.answer_requests(command_subject, COMMANDS, deps, ERROR_CODES)
    app.answer_requests(query_subject, QUERIES, deps, ERROR_CODES)
    return app
