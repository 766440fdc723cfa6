"""Matching's reactions: keep the read model current, propose who should hear what."""

from dataclasses import dataclass, field

from services.matching.store.buckets import MatchingStore
from shared.handlers import Deps as SharedDeps


@dataclass(frozen=True)
class Limits:
    experts_per_question: int = 3
    intros_per_newcomer: int = 3


@dataclass(frozen=True)
class Deps(SharedDeps[MatchingStore]):
    limits: Limits = field(default_factory=Limits)
