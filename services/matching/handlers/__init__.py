"""Matching's handlers: reactions to events, commands, and the chores that run on a cadence."""

from dataclasses import dataclass, field
from datetime import timedelta

from services.matching.domain.routing import Budget, Escalation
from services.matching.store.buckets import MatchingStore
from shared.handlers import Deps as SharedDeps


@dataclass(frozen=True)
class Policy:
    """The knobs of matching, from its settings."""

    experts_per_question: int = 3
    ranked_pool: int = 50
    """How many of the best-ranked people routing chooses from."""
    budget: Budget = field(default_factory=Budget)
    escalation: Escalation = field(default_factory=Escalation)
    similar_questions: int = 3
    similar_at_least: float = 0.5
    intros_per_newcomer: int = 3
    meeting_cadence: timedelta = timedelta(days=14)
    meeting_memory: int = 6
    """Rounds within which a pair is not proposed again."""
    mentoring_expiry: timedelta = timedelta(days=14)
    recommendations_per_post: int = 20


@dataclass(frozen=True)
class Deps(SharedDeps[MatchingStore]):
    policy: Policy = field(default_factory=Policy)
