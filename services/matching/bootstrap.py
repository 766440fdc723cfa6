"""Matching's composition root: the one place that reads settings and wires adapters."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from services.matching.handlers import (
    Deps,
    meetings,
    members,
    mentoring,
    moves,
    questions,
    sharing,
)
from services.matching.settings import MatchingSettings
from services.matching.store.buckets import MatchingStore
from services.matching.topology import (
    confidential_consumer,
    content_consumer,
    handover_consumer,
    members_consumer,
    mentoring_consumer,
    topology,
)
from shared.contracts import content as c
from shared.contracts import matching as x
from shared.contracts import membership as m
from shared.handlers import pseudonym_key, utc_now
from shared.moves import moves as moves_of
from shared.naming import Service
from shared.runtime import ServiceApp

MEMBER_REACTIONS = {
    m.MemberRegisteredV1: members.when_member_registered_keep_profile,
    m.MemberUpdatedV1: members.when_member_updated_keep_profile,
    m.MemberJoinedV1: members.when_member_joined_propose_intros,
    m.MemberLeftV1: members.when_member_left_forget_membership,
    m.MemberDeactivatedV1: members.when_member_deactivated_forget_them,
    m.MemberErasedV1: members.when_member_erased_forget_them,
    m.MemberMovedV1: moves.when_member_moved_hand_over,
    x.MatchingHandoverTakenV1: moves.when_handover_taken_erase_the_part,
    m.CommunityCreatedV1: members.when_community_changed_keep_it,
    m.CommunityUpdatedV1: members.when_community_changed_keep_it,
    m.RoleChangedV1: members.when_role_changed_keep_facilitators,
}
CONTENT_REACTIONS = {
    c.QuestionPostedV1: questions.when_question_posted_route_it,
    c.AnswerPostedV1: questions.when_answer_posted_learn_and_stop,
    c.AnswerAcceptedV1: questions.when_answer_accepted_learn,
    c.PostDeletedV1: questions.when_post_deleted_forget_it,
    c.PracticePublishedV1: sharing.when_content_published_recommend_it,
    c.SoftwareAnnouncedV1: sharing.when_content_published_recommend_it,
    c.JobPostedV1: sharing.when_job_posted_tell_who_fits,
    c.ResourceOfferedV1: sharing.when_resource_offered_match_requests,
    c.ResourceRequestedV1: sharing.when_resource_requested_find_offer,
    c.ResourceHandedOverV1: sharing.when_resource_handed_over_count_it,
    c.ResourceOfferClosedV1: sharing.when_offer_closed_forget_it,
}
MENTORING_REACTIONS = {
    x.MentoringProposedV1: mentoring.when_mentoring_proposed_elsewhere_keep_it,
    x.MentoringAnsweredV1: mentoring.when_mentoring_answered_keep_it,
}
CONFIDENTIAL_REACTIONS = {m.MemberConfidentialV1: sharing.when_member_confidential_keep_it}
COMMANDS = {
    "decline_question": (x.DeclineQuestion, questions.decline_question),
    "answer_mentoring": (x.AnswerMentoring, mentoring.answer_mentoring),
}
CHORES = (
    questions.escalate_due_questions,
    mentoring.propose_mentors,
    meetings.run_meeting_rounds,
)
"""Escalation waves, mentoring proposals, rounds of people to meet."""
PUBLISHES = (
    x.ExpertsSuggestedV1, x.SimilarQuestionsFoundV1, x.IntrosProposedV1, x.MeetingProposedV1,
    x.MentoringProposedV1, x.MentoringAnsweredV1, x.ResourceMatchedV1, x.JobMatchedV1,
    x.ContentRecommendedV1, x.MatchingHandoverV1, x.MatchingHandoverTakenV1,
)  # fmt: skip
HANDOVER_REACTIONS = {x.MatchingHandoverV1: moves.when_member_handed_over_take_in}


def build_app(
    settings: MatchingSettings,
    store: MatchingStore | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> ServiceApp:
    app = ServiceApp.create(Service.MATCHING, settings, topology(settings))
    store = store or MatchingStore.for_region(settings.region)
    deps = Deps(store=store, events=app.events, region=settings.region, clock=clock,
                policy=settings.policy(), moves=moves_of(settings),
                **pseudonym_key(settings))  # fmt: skip
    app.stores += store.kv_stores()
    app.followers += store.followers
    app.react_to(members_consumer(settings), MEMBER_REACTIONS, deps)
    app.react_to(content_consumer(settings), CONTENT_REACTIONS, deps)
    app.react_to(mentoring_consumer(settings), MENTORING_REACTIONS, deps)
    app.react_to(confidential_consumer(settings), CONFIDENTIAL_REACTIONS, deps)
    if (handovers := handover_consumer(settings)) is not None:
        app.react_to(handovers, HANDOVER_REACTIONS, deps)
    app.answer_commands(COMMANDS, deps, {})
    app.publishes(*PUBLISHES)
    app.every(settings.chores_interval, CHORES, deps)
    return app
