"""Content's composition root: the one place that reads settings and wires adapters."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from services.content.domain.model import (
    Expired,
    HeldElsewhere,
    InvalidChange,
    NotAllowed,
    UnknownCommunity,
    UnknownPost,
)
from services.content.handlers import (
    Deps,
    directory,
    elsewhere,
    ingest,
    posts,
    pulse,
    queries,
    resources,
)
from services.content.settings import ContentSettings
from services.content.store.buckets import ContentStore
from services.content.topology import (
    external_content_consumers,
    membership_consumer,
    peers_consumer,
    topology,
)
from shared.contracts import content as c
from shared.contracts import ingest as i
from shared.contracts import membership as m
from shared.handlers import pseudonym_key, utc_now
from shared.naming import Service
from shared.pagination import InvalidCursor
from shared.runtime import ServiceApp

INGEST_REACTIONS = {
    i.QuestionAskedV1: ingest.when_question_asked_publish_it,
    i.SoftwareCataloguedV1: ingest.when_software_catalogued_announce_it,
}
MEMBERSHIP_REACTIONS = {
    m.CommunityCreatedV1: directory.when_community_created_remember_it,
    m.CommunityUpdatedV1: directory.when_community_updated_remember_it,
    m.MemberJoinedV1: directory.when_member_joined_remember_it,
    m.MemberLeftV1: directory.when_member_left_forget_it,
    m.MemberRegisteredV1: directory.when_member_registered_remember_them,
    m.MemberUpdatedV1: directory.when_member_updated_remember_them,
    m.MemberDeactivatedV1: directory.when_member_deactivated_stop_them,
    m.MemberErasedV1: directory.when_member_erased_forget_them,
}
COMMANDS = {
    "post_practice": (c.PostPractice, posts.post_practice),
    "announce_software": (c.AnnounceSoftware, posts.announce_software),
    "post_question": (c.PostQuestion, posts.post_question),
    "post_answer": (c.PostAnswer, posts.post_answer),
    "accept_answer": (c.AcceptAnswer, posts.accept_answer),
    "vote": (c.Vote, posts.vote),
    "endorse": (c.Endorse, posts.endorse),
    "add_comment": (c.AddComment, posts.add_comment),
    "post_job": (c.PostJob, posts.post_job),
    "edit_post": (c.EditPost, posts.edit_post),
    "delete_post": (c.DeletePost, posts.delete_post),
    "flag_post": (c.FlagPost, posts.flag_post),
    "moderate_post": (c.ModeratePost, posts.moderate_post),
    "offer_resource": (c.OfferResource, resources.offer_resource),
    "request_resource": (c.RequestResource, resources.request_resource),
    "claim_resource": (c.ClaimResource, resources.claim_resource),
    "hand_over": (c.HandOver, resources.hand_over),
    "close_offer": (c.CloseOffer, resources.close_offer),
}
QUERIES = {
    "get_post": (c.GetPost, queries.get_post),
    "community_posts": (c.CommunityPosts, queries.community_posts),
    "search_posts": (c.SearchPosts, queries.search_posts),
    "unanswered_questions": (c.UnansweredQuestions, queries.unanswered_questions),
    "member_posts": (c.MemberPosts, queries.member_posts),
    "pulse": (c.GetPulse, queries.get_pulse),
}
PUBLISHES = (
    c.QuestionPostedV1, c.AnswerPostedV1, c.AnswerAcceptedV1, c.PracticePublishedV1,
    c.SoftwareAnnouncedV1, c.ResourceOfferedV1, c.ResourceRequestedV1, c.ResourceClaimedV1,
    c.ResourceHandedOverV1, c.ResourceClaimDeclinedV1, c.ResourceOfferClosedV1, c.JobPostedV1,
    c.CommentAddedV1, c.PostEditedV1, c.PostDeletedV1, c.PostFlaggedV1, c.PostModeratedV1,
    c.PostEndorsedV1, c.CommunityPulseV1, c.SkillSuggestedV1,
)  # fmt: skip
HOUSEKEEPING = (resources.expire_offers, pulse.publish_pulses)
"""Expire offers and publish last week's pulses."""
PEER_REACTIONS = dict.fromkeys(elsewhere.PEER_POSTS, elsewhere.when_peer_post_published_note_where)
ERROR_CODES: dict[type[Exception], str] = {
    UnknownCommunity: "not_found",
    UnknownPost: "not_found",
    HeldElsewhere: "wrong_region",
    NotAllowed: "forbidden",
    InvalidChange: "conflict",
    Expired: "expired",
    InvalidCursor: "invalid_request",
}


def build_app(
    settings: ContentSettings,
    store: ContentStore | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> ServiceApp:
    app = ServiceApp.create(Service.CONTENT, settings, topology(settings))
    store = store or ContentStore.for_region(settings.region)
    deps = Deps(store=store, events=app.events, region=settings.region, clock=clock,
                **pseudonym_key(settings))  # fmt: skip
    app.stores += store.all()
    app.followers += store.followers
    for consumer in external_content_consumers(settings):
        app.react_to(consumer, INGEST_REACTIONS, deps)
    app.react_to(membership_consumer(settings), MEMBERSHIP_REACTIONS, deps)
    if (peer_posts := peers_consumer(settings)) is not None:
        app.react_to(peer_posts, PEER_REACTIONS, deps)
    app.answer_commands(COMMANDS, deps, ERROR_CODES)
    app.answer_queries(QUERIES, deps, ERROR_CODES)
    app.publishes(*PUBLISHES)
    app.every(settings.housekeeping_interval, HOUSEKEEPING, deps)
    return app
