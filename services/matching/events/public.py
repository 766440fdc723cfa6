"""From matching's decisions to public contracts (the only place that builds them)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from services.matching.domain.meetings import Pair, Slot
from services.matching.domain.mentoring import Fit, Mentorship
from services.matching.domain.profiles import Profile
from services.matching.domain.records import QuestionRecord
from services.matching.domain.routing import Held, Pick, Wave
from services.matching.domain.sharing import Interest, JobFit, Need, Offer
from shared.contracts import content as c
from shared.contracts.matching import (
    ContentRecommendedV1,
    ExpertsSuggestedV1,
    ExpertSuggestion,
    IntroProposal,
    IntrosProposedV1,
    JobMatchedV1,
    MeetingProposedV1,
    MeetingTime,
    MentoringAnsweredV1,
    MentoringProposedV1,
    Recommendation,
    ResourceMatchedV1,
    SimilarQuestion,
    SimilarQuestionsFoundV1,
    WaitingExpert,
)
from shared.contracts.values import MemberRef, Visibility


def ref(member_id: str, home_region: str) -> MemberRef:
    return MemberRef(member_id=member_id, home_region=home_region)


def profile_ref(profile: Profile) -> MemberRef:
    return ref(profile.member_id, profile.home_region)


def experts_suggested(
    question: QuestionRecord,
    community_name: str,
    wave: Wave,
    picks: Sequence[Pick],
    held: Sequence[Held],
    at: datetime,
) -> ExpertsSuggestedV1:
    return ExpertsSuggestedV1(
        question_id=question.question_id,
        community_id=question.community_id,
        community_name=community_name,
        title=question.title,
        tags=list(question.tags),
        asker_id=question.asker_id,
        suggestions=[
            ExpertSuggestion(
                member=ref(p.member_id, p.home_region), score=p.score, reasons=list(p.reasons)
            )
            for p in picks
        ],
        suggested_at=at,
        wave=wave.number,
        facilitators=wave.facilitators,
        waiting=[
            WaitingExpert(
                member=ref(h.member_id, h.home_region), not_before=h.not_before, why=h.why
            )
            for h in held[:10]
        ],
    )


def similar_questions(
    question: c.QuestionPostedV1,
    records: Sequence[QuestionRecord],
    scores: Mapping[str, float],
    at: datetime,
) -> SimilarQuestionsFoundV1:
    return SimilarQuestionsFoundV1(
        question_id=question.question_id,
        title=question.title,
        asker=question.asker,
        similar=[
            SimilarQuestion(
                question_id=r.question_id,
                title=r.title,
                community_id=r.community_id,
                similarity=scores[r.question_id],
            )
            for r in records
        ],
        found_at=at,
    )


def meeting_time(slot: Slot) -> MeetingTime:
    return MeetingTime(start=slot.start, end=slot.end, local=dict(slot.local))


def intros_proposed(
    member: MemberRef,
    community_id: str,
    community_name: str,
    intros: Sequence[tuple[Profile, Sequence[str], Sequence[Slot]]],
    at: datetime,
) -> IntrosProposedV1:
    return IntrosProposedV1(
        member=member,
        community_id=community_id,
        community_name=community_name,
        proposals=[
            IntroProposal(
                member=profile_ref(other),
                region=other.region,
                timezone=other.timezone,
                reasons=list(reasons),
                meeting_times=[meeting_time(s) for s in slots],
            )
            for other, reasons, slots in intros
        ],
        proposed_at=at,
    )


def meeting_proposed(
    community_id: str, community_name: str, round_number: int, pair: Pair, at: datetime
) -> MeetingProposedV1:
    return MeetingProposedV1(
        community_id=community_id,
        community_name=community_name,
        round=round_number,
        members=[profile_ref(pair.first), profile_ref(pair.second)],
        reasons=list(pair.reasons),
        meeting_times=[meeting_time(s) for s in pair.slots],
        proposed_at=at,
    )


def mentoring_proposed(fit: Fit, at: datetime) -> MentoringProposedV1:
    return MentoringProposedV1(
        proposal_id=f"{fit.mentor.member_id}--{fit.mentee.member_id}",
        mentor=profile_ref(fit.mentor),
        mentee=profile_ref(fit.mentee),
        topics=list(fit.topics),
        reasons=list(fit.reasons),
        proposed_at=at,
    )


def mentoring_answered(
    mentorship: Mentorship, by: str, accepted: bool, at: datetime
) -> MentoringAnsweredV1:
    return MentoringAnsweredV1(
        proposal_id=mentorship.key,
        mentor=ref(mentorship.mentor_id, mentorship.mentor_home),
        mentee=ref(mentorship.mentee_id, mentorship.mentee_home),
        by=by,
        accepted=accepted,
        state=mentorship.state,
        answered_at=at,
    )


def _post(
    post_id: str,
    kind: c.PostKind,
    community_id: str,
    community_name: str,
    private: bool,
    author: MemberRef,
) -> c.PostRef:
    visibility = Visibility.PRIVATE if private else Visibility.PUBLIC
    return c.PostRef(
        post_id=post_id,
        kind=kind,
        community_id=community_id,
        community_name=community_name,
        visibility=visibility,
        author=author,
    )


def resource_matched(
    offer: Offer, need: Need, position: int, reasons: Sequence[str], at: datetime
) -> ResourceMatchedV1:
    return ResourceMatchedV1(
        offer=_post(
            offer.post_id,
            c.PostKind.RESOURCE_OFFER,
            offer.community_id,
            offer.community_name,
            offer.private,
            ref(offer.offerer_id, offer.offerer_home),
        ),
        request=_post(
            need.post_id,
            c.PostKind.RESOURCE_REQUEST,
            need.community_id,
            need.community_name,
            need.private,
            ref(need.requester_id, need.requester_home),
        ),
        resource_kind=c.ResourceKind(offer.kind),
        item=offer.item,
        quantity=need.quantity,
        position=position,
        reasons=list(reasons),
        matched_at=at,
    )


def job_matched(job: c.JobPostedV1, fit: JobFit, at: datetime) -> JobMatchedV1:
    return JobMatchedV1(
        member=ref(fit.member_id, fit.home_region),
        job=job.post,
        title=job.title,
        skills=list(fit.skills),
        reasons=list(fit.reasons),
        matched_at=at,
    )


def content_recommended(
    post: c.PostRef, title: str, tags: Sequence[str], fits: Sequence[Interest], at: datetime
) -> ContentRecommendedV1:
    return ContentRecommendedV1(
        post=post,
        kind=post.kind,
        title=title,
        tags=list(tags),
        recipients=[
            Recommendation(member=ref(f.member_id, f.home_region), reasons=list(f.reasons))
            for f in fits
        ],
        recommended_at=at,
    )
