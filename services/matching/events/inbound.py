"""From other services' events to matching's own records (the only way matching learns).

The evaluation harness replays recorded data through these same functions."""

from __future__ import annotations

from services.matching.domain.profiles import Hours, MentoringOffer, Profile
from services.matching.domain.records import (
    ANSWER,
    AnswerRecord,
    CommunityInfo,
    Evidence,
    QuestionRecord,
)
from services.matching.domain.text import question_terms
from shared.contracts.content import AnswerPostedV1, QuestionPostedV1
from shared.contracts.membership import CommunityCreatedV1, CommunityUpdatedV1, MemberProfile
from shared.contracts.values import MemberStatus, Visibility


def profile_of(member: MemberProfile, revision: int) -> Profile:
    hours = member.working_hours
    offer = member.mentoring_offer
    return Profile(
        member_id=member.member_id,
        home_region=member.home_region,
        region=member.region,
        timezone=member.timezone,
        skills=tuple((s.name, s.level.value) for s in member.skills),
        languages=tuple(member.languages),
        revision=revision,
        snoozed_until=member.snoozed_until if member.status == MemberStatus.SNOOZED else None,
        working_hours=Hours(hours.start, hours.end, tuple(hours.days)) if hours else None,
        interests=tuple(member.interests),
        mentoring_offer=MentoringOffer(tuple(offer.topics), offer.capacity) if offer else None,
        mentoring_wish=tuple(member.mentoring_wish_topics),
        legal_entity=member.legal_entity,
        open_to_intros=member.open_to_intros,
    )


def answer_record(event: AnswerPostedV1) -> AnswerRecord:
    return AnswerRecord(
        answer_id=event.answer.post_id,
        question_id=event.question_id,
        author_id=event.answer.author.member_id,
        at=event.posted_at,
        terms=question_terms(event.question_title, event.question_tags),
    )


def evidence_of(record: AnswerRecord, kind: str = ANSWER) -> Evidence:
    """Evidence from an answer: writing it, its acceptance, or taking either back. It counts
    as of when the answer was written."""
    return Evidence(at=record.at, terms=record.terms, kind=kind)


def question_record(event: QuestionPostedV1) -> QuestionRecord:
    return QuestionRecord(
        question_id=event.question_id,
        community_id=event.community_id,
        private=event.visibility == Visibility.PRIVATE,
        asker_id=event.asker.member_id,
        title=event.title,
        tags=tuple(event.tags),
        terms=question_terms(event.title, event.tags),
        posted_at=event.posted_at,
    )


def community_info(event: CommunityCreatedV1 | CommunityUpdatedV1) -> CommunityInfo:
    return CommunityInfo(
        community_id=event.community_id,
        name=event.name,
        private=event.visibility == Visibility.PRIVATE,
        facilitators=tuple((f.member_id, f.home_region) for f in event.facilitators),
        topics=tuple(event.topics),
        archived=getattr(event, "archived", False),
        home_region=event.home_region,
    )
