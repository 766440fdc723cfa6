"""Matching's public events: proposals, each with the reasons a person can read."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from shared.contracts.base import Contract, Payload
from shared.contracts.values import Identifier, MemberRef, Region, Tag, Timezone
from shared.naming import Scope


class ExpertSuggestion(Payload):
    """One person suggested to answer a question."""

    member: MemberRef = Field(description="Who.")
    score: float = Field(description="Ranking score; higher is a better fit.")
    reasons: list[str] = Field(description="Why, in words the person can read.")


class ExpertsSuggestedV1(Contract):
    """Matching ranked who should be alerted about a new question."""

    TYPE = "guild.matching.experts_suggested.v1"
    SCOPE = Scope.LOCAL

    question_id: Identifier = Field(description="The question.")
    community_id: Identifier = Field(description="Its community.")
    community_name: str = Field(description="Its community's display name.")
    title: str = Field(description="The question's title.")
    tags: list[Tag] = Field(description="The question's topics.")
    asker_id: Identifier = Field(description="Who asked (never among the suggestions).")
    suggestions: list[ExpertSuggestion] = Field(description="Best first.")
    suggested_at: datetime = Field(description="When matching ranked them.")


class IntroProposal(Payload):
    """One person proposed to meet."""

    member: MemberRef = Field(description="Who to meet.")
    region: Region = Field(description="Where they work.")
    timezone: Timezone = Field(description="Their timezone.")
    reasons: list[str] = Field(description="Why, in words the person can read.")


class IntrosProposedV1(Contract):
    """Matching proposed people for a member to meet."""

    TYPE = "guild.matching.intros_proposed.v1"
    SCOPE = Scope.LOCAL

    member: MemberRef = Field(description="Who the proposals are for.")
    community_id: Identifier = Field(description="The community that brought them together.")
    community_name: str = Field(description="Its display name.")
    proposals: list[IntroProposal] = Field(description="Best first.")
    proposed_at: datetime = Field(description="When matching proposed them.")
