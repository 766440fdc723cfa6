"""Notifications' composition root: the one place that reads settings and wires adapters."""

from __future__ import annotations

from services.notifications.channels import Channel
from services.notifications.channels.console import ConsoleChannel
from services.notifications.channels.inbox import InboxChannel
from services.notifications.handlers import Deps, activity, matches, queries, reactions
from services.notifications.settings import NotificationsSettings
from services.notifications.store.buckets import NotificationsStore
from services.notifications.topology import alerts_consumer, personal_consumer, topology
from shared.contracts import content as c
from shared.contracts import matching as x
from shared.contracts import membership as m
from shared.contracts.membership import MemberContactV1
from shared.contracts.notifications import GetInbox, NotificationDeliveredV1
from shared.messaging.publisher import JetStreamPublisher
from shared.naming import Service
from shared.runtime import ServiceApp

PERSONAL_REACTIONS = {
    MemberContactV1: reactions.when_member_contact_changed_keep_it,
    x.JobMatchedV1: matches.when_job_matched_tell_member_alone,
}
ALERT_REACTIONS = {
    m.MemberJoinedV1: reactions.when_member_joined_welcome_and_tell_facilitators,
    x.ExpertsSuggestedV1: reactions.when_experts_suggested_alert_them,
    x.IntrosProposedV1: reactions.when_intros_proposed_tell_member,
    x.SimilarQuestionsFoundV1: matches.when_similar_questions_found_tell_asker,
    x.MeetingProposedV1: matches.when_meeting_proposed_tell_both,
    x.MentoringProposedV1: matches.when_mentoring_proposed_ask_both,
    x.MentoringAnsweredV1: matches.when_mentoring_answered_tell_the_other,
    x.ResourceMatchedV1: matches.when_resource_matched_tell_both,
    x.ContentRecommendedV1: matches.when_content_recommended_tell_recipients,
    m.MemberErasedV1: reactions.when_member_erased_forget_them,
    m.JoinRequestedV1: activity.when_join_requested_ask_facilitators,
    m.JoinRequestDecidedV1: activity.when_join_decided_tell_member,
    m.RoleChangedV1: activity.when_role_changed_tell_member,
    c.AnswerPostedV1: activity.when_answer_posted_tell_asker,
    c.AnswerAcceptedV1: activity.when_answer_accepted_thank_answerer,
    c.CommentAddedV1: activity.when_comment_added_tell_author,
    c.PostEndorsedV1: activity.when_post_endorsed_tell_author,
    c.PostFlaggedV1: activity.when_post_flagged_ask_facilitators,
    c.PostModeratedV1: activity.when_post_moderated_tell_author,
    c.ResourceClaimedV1: activity.when_resource_claimed_tell_offerer,
    c.ResourceHandedOverV1: activity.when_resource_handed_over_tell_claimant,
    c.ResourceClaimDeclinedV1: activity.when_claim_declined_tell_claimant,
    c.CommunityPulseV1: activity.when_pulse_published_send_facilitators,
    c.SkillSuggestedV1: activity.when_skill_suggested_ask_member,
}
QUERIES = {
    "inbox": (GetInbox, queries.get_inbox),
}


def channels(names: list[str], publisher: JetStreamPublisher, region: str) -> tuple[Channel, ...]:
    available: dict[str, Channel] = {
        "inbox": InboxChannel(publisher, region),
        "console": ConsoleChannel(),
    }
    return tuple(available[name] for name in names)


def build_app(
    settings: NotificationsSettings, store: NotificationsStore | None = None
) -> ServiceApp:
    app = ServiceApp.create(Service.NOTIFICATIONS, settings, topology(settings))
    store = store or NotificationsStore.for_region(settings.region)
    deps = Deps(
        store=store,
        events=app.events,
        region=settings.region,
        channels=channels(settings.channels, app.publisher, settings.region),
    )
    app.stores += [store.contacts, store.ledger]
    app.on_start.append(store.bind_inbox)
    app.react_to(personal_consumer(settings), PERSONAL_REACTIONS, deps)
    app.react_to(alerts_consumer(settings), ALERT_REACTIONS, deps)
    app.answer_queries(QUERIES, deps, {})
    app.publishes(NotificationDeliveredV1)
    return app
