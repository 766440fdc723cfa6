"""From domain proposals to public contracts."""

from __future__ import annotations

from datetime import datetime

from services.matching.domain.model import Intro, Profile, Suggestion
from shared.contracts.content import QuestionPostedV1
from shared.contracts.matching import (
    ExpertsSuggestedV1,
    ExpertSuggestion,
    IntroProposal,
    IntrosProposedV1,
)
from shared.contracts.membership import MemberProfile
from shared.contracts.values import MemberRef


def profile_of(member: MemberProfile, revision: int) -> Profile:
    return Profile(
        member_id=member.member_id,
        home_region=member.home_region,
        region=member.region,
        timezone=member.timezone,
        skills=tuple((s.name, s.level.value) for s in member.skills),
        languages=tuple(member.languages),
        revision=revision,
        snoozed_until=member.snoozed_until if member.status == "snoozed" else None,
    )


def experts_suggested(
    question: QuestionPostedV1, suggestions: list[Suggestion], at: datetime
) -> ExpertsSuggestedV1:
    return ExpertsSuggestedV1(
        question_id=question.question_id,
        community_id=question.community_id,
        community_name=question.community_name,
        title=question.title,
        tags=question.tags,
        asker_id=question.asker.member_id,
        suggestions=[
            ExpertSuggestion(
                member=MemberRef(member_id=s.member_id, home_region=s.home_region),
                score=s.score,
                reasons=list(s.reasons),
            )
            for s in suggestions
        ],
        suggested_at=at,
    )


def intros_proposed(
    member: MemberRef, community_id: str, community_name: str, intros: list[Intro], at: datetime
) -> IntrosProposedV1:
    return IntrosProposedV1(
        member=member,
        community_id=community_id,
        community_name=community_name,
        proposals=[
            IntroProposal(
                member=MemberRef(member_id=i.member_id, home_region=i.home_region),
                region=i.region,
                timezone=i.timezone,
                reasons=list(i.reasons),
            )
            for i in intros
        ],
        proposed_at=at,
    )
