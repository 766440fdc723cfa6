"""Matching's composition root: the one place that reads settings and wires adapters."""

from __future__ import annotations

from services.matching.handlers import Deps, Limits, reactions
from services.matching.settings import MatchingSettings
from services.matching.store.buckets import MatchingStore
from services.matching.topology import members_consumer, questions_consumer, topology
from shared.contracts import membership as m
from shared.contracts.content import QuestionPostedV1
from shared.contracts.matching import ExpertsSuggestedV1, IntrosProposedV1
from shared.naming import Service
from shared.runtime import ServiceApp

MEMBER_REACTIONS = {
    m.MemberRegisteredV1: reactions.when_member_registered_index_skills,
    m.MemberUpdatedV1: reactions.when_member_updated_index_skills,
    m.MemberJoinedV1: reactions.when_member_joined_propose_intros,
    m.MemberLeftV1: reactions.when_member_left_forget_membership,
    m.MemberDeactivatedV1: reactions.when_member_deactivated_forget_them,
    m.MemberErasedV1: reactions.when_member_erased_forget_them,
}
QUESTION_REACTIONS = {
    QuestionPostedV1: reactions.when_question_posted_suggest_experts,
}


def build_app(settings: MatchingSettings, store: MatchingStore | None = None) -> ServiceApp:
    app = ServiceApp.create(Service.MATCHING, settings, topology(settings))
    store = store or MatchingStore.for_region(settings.region)
    limits = Limits(settings.experts_per_question, settings.intros_per_newcomer)
    deps = Deps(store=store, events=app.events, region=settings.region, limits=limits)
    app.stores.append(store.profiles)
    app.on_start.append(store.load)
    app.react_to(members_consumer(settings), MEMBER_REACTIONS, deps)
    app.react_to(questions_consumer(settings), QUESTION_REACTIONS, deps)
    app.publishes(ExpertsSuggestedV1, IntrosProposedV1)
    return app
