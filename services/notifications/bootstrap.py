"""Notifications' composition root: the one place that reads settings and wires adapters."""

from __future__ import annotations

from services.notifications.channels import Channel
from services.notifications.channels.console import ConsoleChannel
from services.notifications.channels.inbox import InboxChannel
from services.notifications.handlers import Deps, queries, reactions
from services.notifications.settings import NotificationsSettings
from services.notifications.store.buckets import NotificationsStore
from services.notifications.topology import alerts_consumer, contacts_consumer, topology
from shared.contracts.matching import ExpertsSuggestedV1, IntrosProposedV1
from shared.contracts.membership import MemberContactV1, MemberJoinedV1
from shared.contracts.notifications import GetInbox
from shared.messaging.publisher import JetStreamPublisher
from shared.naming import Service, query_subject
from shared.runtime import ServiceApp

CONTACT_REACTIONS = {
    MemberContactV1: reactions.when_member_contact_changed_keep_it,
}
ALERT_REACTIONS = {
    MemberJoinedV1: reactions.when_member_joined_welcome_and_tell_facilitators,
    ExpertsSuggestedV1: reactions.when_experts_suggested_alert_them,
    IntrosProposedV1: reactions.when_intros_proposed_tell_member,
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
    app.stores = [store.contacts, store.ledger]
    app.on_start.append(store.bind_inbox)
    app.react_to(contacts_consumer(settings), CONTACT_REACTIONS, deps)
    app.react_to(alerts_consumer(settings), ALERT_REACTIONS, deps)
    app.answer_requests(query_subject, QUERIES, deps, {})
    return app
