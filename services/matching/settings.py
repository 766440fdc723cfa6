"""Matching's settings: ``GUILD_MATCHING_*``, falling back to ``GUILD_*``."""

from datetime import timedelta
from typing import ClassVar

from pydantic import Field

from services.matching.domain.routing import Budget, Escalation
from services.matching.handlers import Policy
from shared.settings import GuildSettings


class MatchingSettings(GuildSettings):
    SERVICE: ClassVar[str] = "matching"
    SERVICE_PREFIX: ClassVar[str] = "GUILD_MATCHING_"

    experts_per_question: int = Field(
        default=3, ge=1, le=50, description="How many people each wave of routing alerts."
    )
    ranked_pool: int = Field(
        default=50,
        ge=1,
        le=1000,
        description="How many of the best-ranked people a wave "
        "chooses from (working hours, budgets, rotation and regions decide among them).",
    )
    questions_per_day: int = Field(
        default=3, ge=1, description="Most questions one person is alerted about in 24 hours."
    )
    questions_per_week: int = Field(
        default=10, ge=1, description="Most questions one person is alerted about in 7 days."
    )
    escalate_after_minutes: float = Field(
        default=240,
        gt=0,
        description="A routed question still unanswered this long after "
        "its last wave gets the next one.",
    )
    expert_waves: int = Field(
        default=3,
        ge=1,
        le=20,
        description="Waves of experts before the community's facilitators are told.",
    )
    similar_questions: int = Field(
        default=3, ge=0, le=20, description="Answered look-alikes told to the asker (0: off)."
    )
    intros_per_newcomer: int = Field(
        default=3, ge=0, le=20, description="How many people a newcomer is proposed to meet."
    )
    meeting_cadence_days: int = Field(
        default=14, ge=1, le=365, description="Days between rounds of people to meet."
    )
    meeting_memory_rounds: int = Field(
        default=6,
        ge=0,
        le=100,
        description="Rounds within which the same pair is not proposed again.",
    )
    mentoring_expiry_days: int = Field(
        default=14, ge=1, description="An unanswered mentoring proposal frees its place after."
    )
    recommendations_per_post: int = Field(
        default=20,
        ge=0,
        le=1000,
        description="Members a new article or announcement is recommended to (the best fits).",
    )
    chores_interval: float = Field(
        default=60.0,
        gt=0,
        description="Seconds between sweeps: escalation waves, mentoring "
        "proposals, meeting rounds.",
    )

    def policy(self) -> Policy:
        after = timedelta(minutes=self.escalate_after_minutes)
        return Policy(
            experts_per_question=self.experts_per_question,
            ranked_pool=self.ranked_pool,
            budget=Budget(self.questions_per_day, self.questions_per_week),
            escalation=Escalation(
                after=after,
                expert_waves=self.expert_waves,
                soonest=min(after, timedelta(minutes=30)),
            ),
            similar_questions=self.similar_questions,
            intros_per_newcomer=self.intros_per_newcomer,
            meeting_cadence=timedelta(days=self.meeting_cadence_days),
            meeting_memory=self.meeting_memory_rounds,
            mentoring_expiry=timedelta(days=self.mentoring_expiry_days),
            recommendations_per_post=self.recommendations_per_post,
        )
