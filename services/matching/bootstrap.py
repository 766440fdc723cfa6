"""Matching's composition root: the one place that reads settings and wires adapters."""

from __future__ import annotations

from services.matching.handlers import Deps, Limits, reactions
from services.matching.settings import MatchingSettings
from services.matching.store.buckets import MatchingStore
from services.matching.topology import members_consumer, questions_consumer, topology
from shared.contracts.content import QuestionPostedV1
from shared.contracts.membership import MemberJoinedV1, MemberRegisteredV1
from shared.naming import Service
from shared.runtime import ServiceApp

MEMBER_REACTIONS = {
    MemberRegisteredV1: reactions.when_member_registered_index_skills,
    MemberJoinedV1: reactions.when_member_joined_propose_intros,
}
QUESTION_REACTIONS = {
    QuestionPostedV1: reactions.when_question_posted_suggest_experts,
}


def build_app(settings: MatchingSettings, store: MatchingStore | None = None) -> ServiceApp:
    app = ServiceApp.create(Service.MATCHING, settings, topology(settings))
    store = store or MatchingStore.for_region(settings.region)
    limits = Limits(settings.experts_per_question, settings.intros_per_newcomer)
    deps = Deps(store=store, events=app.events, region=settings.region, limits=limits)
    app.stores = [store.profiles]
    app.on_start.append(store.load)
    app.react_to(members_consumer(settings), MEMBER_REACTIONS, deps)
    app.react_to(questions_consumer(settings), QUESTION_REACTIONS, deps)
    return app
