"""Content's composition root: the one place that reads settings and wires adapters."""

from __future__ import annotations

from services.content.domain.model import UnknownCommunity, UnknownPost
from services.content.handlers import Deps, commands, queries, reactions
from services.content.store.buckets import ContentStore
from services.content.topology import communities_consumer, ingest_consumer, topology
from shared.contracts.content import GetPost, PostQuestion
from shared.contracts.ingest import QuestionAskedV1
from shared.contracts.membership import CommunityCreatedV1
from shared.naming import Service, command_subject, query_subject
from shared.runtime import ServiceApp
from shared.settings import GuildSettings

INGEST_REACTIONS = {
    QuestionAskedV1: reactions.when_question_asked_publish_it,
}
COMMUNITY_REACTIONS = {
    CommunityCreatedV1: reactions.when_community_created_remember_it,
}
COMMANDS = {
    "post_question": (PostQuestion, commands.post_question),
}
QUERIES = {
    "get_post": (GetPost, queries.get_post),
}
ERROR_CODES: dict[type[Exception], str] = {
    UnknownCommunity: "not_found",
    UnknownPost: "not_found",
}


def build_app(settings: GuildSettings, store: ContentStore | None = None) -> ServiceApp:
    app = ServiceApp.create(Service.CONTENT, settings, topology(settings))
    store = store or ContentStore.for_region(settings.region)
    deps = Deps(store=store, events=app.events, region=settings.region)
    app.stores = store.all()
    app.react_to(ingest_consumer(settings), INGEST_REACTIONS, deps)
    app.react_to(communities_consumer(settings), COMMUNITY_REACTIONS, deps)
    app.answer_requests(command_subject, COMMANDS, deps, ERROR_CODES)
    app.answer_requests(query_subject, QUERIES, deps, ERROR_CODES)
    return app
