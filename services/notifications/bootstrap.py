"""Notifications' composition root: the one place that reads settings and wires adapters."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from services.notifications.api import build_api
from services.notifications.channels import Channel, EndpointChannel, apprise_urls
from services.notifications.channels.console import ConsoleChannel
from services.notifications.channels.egress import Egress
from services.notifications.channels.email import EmailChannel, SmtpServer
from services.notifications.channels.inbox import InboxChannel
from services.notifications.channels.webhooks import SlackChannel, TeamsChannel, WebhookChannel
from services.notifications.delivery.fanout import FanOut
from services.notifications.delivery.outbox import Outbox
from services.notifications.delivery.pacing import Backoff
from services.notifications.domain.endpoints import EndpointKind
from services.notifications.domain.links import Links
from services.notifications.handlers import (
    Deps,
    activity,
    audience,
    matches,
    moves,
    reactions,
)
from services.notifications.handlers.schedule import CHORES
from services.notifications.handlers.selfservice import COMMANDS, QUERIES
from services.notifications.handlers.statuses import StatusReporter
from services.notifications.settings import NotificationsSettings
from services.notifications.store.buckets import NotificationsStore
from services.notifications.topology import (
    alerts_consumer,
    bulk_consumer,
    handover_consumer,
    outbox_consumer,
    personal_consumer,
    topology,
)
from shared.contracts import content as c
from shared.contracts import matching as x
from shared.contracts import membership as m
from shared.contracts.membership import MemberContactV1
from shared.contracts.notifications import (
    NotificationDeferredV1,
    NotificationDeliveredV1,
    NotificationDigestedV1,
    NotificationFailedV1,
    NotificationsHandoverTakenV1,
    NotificationsHandoverV1,
    NotificationsRoutedV1,
    NotificationSuppressedV1,
)
from shared.handlers import utc_now
from shared.messaging.consumer import DeadLetterOffice
from shared.messaging.provisioning import RetryPolicy
from shared.messaging.publisher import JetStreamPublisher
from shared.moves import moves as moves_of
from shared.naming import Service
from shared.runtime import ServiceApp
from shared.storage import kept_secret

PERSONAL_REACTIONS = {
    MemberContactV1: reactions.when_member_contact_changed_keep_it,
    x.JobMatchedV1: matches.when_job_matched_tell_member_alone,
}
ALERT_REACTIONS = {
    m.MemberRegisteredV1: audience.when_member_profile_changed_keep_it,
    m.MemberUpdatedV1: audience.when_member_profile_changed_keep_it,
    m.MemberJoinedV1: audience.when_member_joined_remember_and_welcome,
    m.MemberLeftV1: audience.when_member_left_forget_the_community,
    c.QuestionPostedV1: audience.when_question_posted_tell_followers,
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
    m.MemberMovedV1: moves.when_member_moved_hand_over,
    NotificationsHandoverTakenV1: moves.when_handover_taken_erase_the_part,
}
HANDOVER_REACTIONS = {
    NotificationsHandoverV1: moves.when_member_handed_over_take_in,
}


def channels(names: list[str], publisher: JetStreamPublisher, region: str) -> tuple[Channel, ...]:
    available: dict[str, Channel] = {
        "inbox": InboxChannel(publisher, region),
        "console": ConsoleChannel(),
    }
    return tuple(available[name] for name in names)


def member_channels(settings: NotificationsSettings) -> dict[EndpointKind, EndpointChannel]:
    """The kinds of endpoint members may have in this region, each with its adapter."""
    egress = Egress(allow_loopback=settings.allow_loopback_receivers)
    offered: dict[EndpointKind, EndpointChannel] = {
        EndpointKind.WEBHOOK: WebhookChannel(egress),
        EndpointKind.SLACK: SlackChannel(egress),
        EndpointKind.TEAMS: TeamsChannel(egress),
    }
    if settings.smtp_host:
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        server = SmtpServer(
            host=settings.smtp_host,
            port=settings.smtp_port,
            starttls=settings.smtp_starttls,
            username=settings.smtp_username,
            password=password,
            sender=settings.mail_from,
            ca_file=settings.smtp_ca_file,
        )
        offered[EndpointKind.EMAIL] = EmailChannel(server)
    if settings.apprise_schemes and apprise_urls.available():
        schemes = frozenset(s.lower() for s in settings.apprise_schemes)
        offered[EndpointKind.APPRISE] = apprise_urls.AppriseChannel(
            schemes, egress.resolver, allow_loopback=settings.allow_loopback_receivers
        )
    return offered


def outbox(
    app: ServiceApp,
    settings: NotificationsSettings,
    store: NotificationsStore,
    clock: Callable[[], datetime],
) -> Outbox:
    """The worker that delivers to members' own endpoints, run while the service runs."""
    offered = member_channels(settings)
    backoff = Backoff(settings.delivery_first_retry, settings.delivery_max_retry,
                      settings.delivery_attempts)  # fmt: skip
    inbox = InboxChannel(app.publisher, settings.region)
    worker = Outbox(
        region=settings.region,
        store=store,
        publisher=app.publisher,
        office=DeadLetterOffice(app.publisher, region=settings.region, service=app.service),
        channels=offered,
        reporter=StatusReporter(app.events, clock, inbox),
        durable=outbox_consumer(settings).durable,
        backoff=backoff,
        clock=clock,
    )
    app.background(lambda: worker.work(app.js))
    return worker


def fanout(app: ServiceApp, settings: NotificationsSettings) -> FanOut:
    """The worker that routes large fan-outs in parts, run while the service runs."""
    spec = bulk_consumer(settings)
    return FanOut(
        region=settings.region,
        publisher=app.publisher,
        office=DeadLetterOffice(app.publisher, region=settings.region, service=app.service),
        durable=spec.durable,
        retry=RetryPolicy(
            max_deliver=settings.retry_max_deliver,
            first_delay=settings.retry_first_delay,
            max_delay=settings.retry_max_delay,
        ),
        part_size=settings.fanout_part_size,
    )


def build_app(
    settings: NotificationsSettings,
    store: NotificationsStore | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> ServiceApp:
    app = ServiceApp.create(Service.NOTIFICATIONS, settings, topology(settings))
    store = store or NotificationsStore.for_region(settings.region, settings.keyring())
    deps = Deps(
        store=store,
        events=app.events,
        region=settings.region,
        clock=clock,
        channels=channels(settings.channels, app.publisher, settings.region),
        outbox=outbox(app, settings, store, clock),
        fanout=fanout(app, settings),
        links=Links(settings.links_base(), portal_url=settings.portal_url),
        moves=moves_of(settings),
    )
    parts = deps.fanout
    assert parts is not None
    app.background(lambda: parts.work(app.js, lambda part: audience.route_part(part, deps)))
    app.stores += store.all()
    app.followers += store.followers

    async def keys(js: Any) -> None:
        await store.bind_inbox(js)
        deps.links.secret = await kept_secret(store.keys, "links")
        store.erasure_secret = await kept_secret(store.keys, "erased")
        if isinstance(mail := deps.outbox.channels.get(EndpointKind.EMAIL), EmailChannel):
            mail.secret = await kept_secret(store.keys, "mail-ids")

    app.on_start.append(keys)
    app.react_to(personal_consumer(settings), PERSONAL_REACTIONS, deps)
    app.react_to(alerts_consumer(settings), ALERT_REACTIONS, deps)
    if (handovers := handover_consumer(settings)) is not None:
        app.react_to(handovers, HANDOVER_REACTIONS, deps)
    app.answer_commands(COMMANDS, deps, {})
    app.answer_queries(QUERIES, deps, {})
    app.every(settings.chores_interval, CHORES, deps)
    app.api = build_api(deps, settings)
    app.publishes(
        NotificationDeliveredV1,
        NotificationDeferredV1,
        NotificationDigestedV1,
        NotificationFailedV1,
        NotificationSuppressedV1,
        NotificationsRoutedV1,
        NotificationsHandoverV1,
        NotificationsHandoverTakenV1,
    )
    return app
