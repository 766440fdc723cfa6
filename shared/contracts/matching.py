"""Matching's public events, commands and queries: proposals, each with the reasons a person
can read, and what people answer to them."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from shared.contracts.base import Contract, Payload, Request
from shared.contracts.content import PostKind, PostRef, ResourceKind
from shared.contracts.handover import Handover, HandoverTaken
from shared.contracts.values import Identifier, MemberRef, Region, Tag, Timezone
from shared.naming import Scope

# ------------------------------------------------------------------ expert routing


class ExpertSuggestion(Payload):
    """One person suggested to answer a question."""

    member: MemberRef = Field(description="Who.")
    score: float = Field(description="Ranking score; higher is a better fit.")
    reasons: list[str] = Field(description="Why, in words the person can read.")


class WaitingExpert(Payload):
    """A well-placed person not alerted yet, and when they could be."""

    member: MemberRef = Field(description="Who.")
    not_before: datetime = Field(description="When they could be asked (UTC).")
    why: str = Field(
        description="'outside working hours', 'asked enough today' or 'asked enough this week'."
    )


class MatchingHandoverV1(Handover):
    """Matching hands a moving member's evidence of expertise and routing history (who asked
    them what, and what came of it) to their new home region, in parts (sealed; see
    :mod:`shared.contracts.handover`)."""

    TYPE = "guild.matching.member_handover.v1"
    SCOPE = Scope.HANDOVER


class MatchingHandoverTakenV1(HandoverTaken):
    """The new home region's matching took in one part of a moving member's handover."""

    TYPE = "guild.matching.handover_taken.v1"
    SCOPE = Scope.PUBLIC


class ExpertsSuggestedV1(Contract):
    """Matching chose who to alert about a question now (one wave of routing)."""

    TYPE = "guild.matching.experts_suggested.v1"
    SCOPE = Scope.LOCAL

    question_id: Identifier = Field(description="The question.")
    community_id: Identifier = Field(description="Its community.")
    community_name: str = Field(description="Its community's display name.")
    title: str = Field(description="The question's title.")
    tags: list[Tag] = Field(description="The question's topics.")
    asker_id: Identifier = Field(description="Who asked (never among the suggestions).")
    suggestions: list[ExpertSuggestion] = Field(
        description="Who to alert now, best first. Empty when nobody can be asked yet (all "
        "outside their working hours or asked enough): then ``waiting`` says who will be, "
        "and when."
    )
    suggested_at: datetime = Field(description="When matching chose them.")
    wave: int = Field(
        default=1,
        description="1 when the question is posted; later waves go out while it stays "
        "unanswered (the next people, the next region waking up, then its facilitators).",
    )
    facilitators: bool = Field(
        default=False, description="True for the last wave: the community's facilitators."
    )
    waiting: list[WaitingExpert] = Field(
        default_factory=list,
        description="Well-placed people held back for now (outside working hours, or asked "
        "enough), who a later wave may reach.",
    )


class SimilarQuestion(Payload):
    question_id: Identifier = Field(description="An answered question.")
    title: str = Field(description="Its title.")
    community_id: Identifier = Field(description="Its community.")
    similarity: float = Field(description="0..1: how close to the new question.")


class SimilarQuestionsFoundV1(Contract):
    """A new question looks like questions that were already answered: told to the asker."""

    TYPE = "guild.matching.similar_questions_found.v1"
    SCOPE = Scope.LOCAL

    question_id: Identifier = Field(description="The new question.")
    title: str = Field(description="Its title.")
    asker: MemberRef = Field(description="Who asked it (the one told).")
    similar: list[SimilarQuestion] = Field(description="Most similar first.")
    found_at: datetime = Field(description="When.")


class DeclineQuestion(Request):
    """Command (a member alerted about a question): not for me. Never asked about it again,
    and fewer questions like it later."""

    member_id: Identifier = Field(description="Who declines (the caller).")
    question_id: Identifier = Field(description="The question they were alerted about.")


class QuestionDeclined(Payload):
    question_id: Identifier
    member_id: Identifier
    declined: bool = Field(description="False if they had not been alerted about it here.")


# ------------------------------------------------------------------ people to meet


class MeetingTime(Payload):
    """A time slot inside both people's working hours."""

    start: datetime = Field(description="Start (UTC).")
    end: datetime = Field(description="End (UTC).")
    local: dict[str, str] = Field(
        description="Per member id: the slot in their own timezone, e.g. "
        "'Tue 1 Dec 09:30-10:00 (Europe/Berlin)'."
    )


class IntroProposal(Payload):
    """One person proposed to meet."""

    member: MemberRef = Field(description="Who to meet.")
    region: Region = Field(description="Where they work.")
    timezone: Timezone = Field(description="Their timezone.")
    reasons: list[str] = Field(description="Why, in words the person can read.")
    meeting_times: list[MeetingTime] = Field(
        default_factory=list, description="Slots inside both people's working hours."
    )


class IntrosProposedV1(Contract):
    """Matching proposed people for a newcomer to meet."""

    TYPE = "guild.matching.intros_proposed.v1"
    SCOPE = Scope.LOCAL

    member: MemberRef = Field(description="Who the proposals are for.")
    community_id: Identifier = Field(description="The community that brought them together.")
    community_name: str = Field(description="Its display name.")
    proposals: list[IntroProposal] = Field(description="Best first.")
    proposed_at: datetime = Field(description="When matching proposed them.")


class MeetingProposedV1(Contract):
    """A round of people-to-meet paired two members of a community: both are told."""

    TYPE = "guild.matching.meeting_proposed.v1"
    SCOPE = Scope.PUBLIC

    community_id: Identifier = Field(description="The community.")
    community_name: str = Field(description="Its display name.")
    round: int = Field(description="The community's round number (one per cadence period).")
    members: list[MemberRef] = Field(min_length=2, max_length=2, description="The pair.")
    reasons: list[str] = Field(description="Why these two, in words both can read.")
    meeting_times: list[MeetingTime] = Field(description="Slots inside both working hours.")
    proposed_at: datetime = Field(description="When.")


# ------------------------------------------------------------------ mentoring


class MentoringProposedV1(Contract):
    """Matching proposes a mentor to a mentee; both are asked to accept."""

    TYPE = "guild.matching.mentoring_proposed.v1"
    SCOPE = Scope.PUBLIC

    proposal_id: Identifier = Field(description="'<mentor>--<mentee>'.")
    mentor: MemberRef = Field(description="Who would mentor.")
    mentee: MemberRef = Field(description="Who would be mentored.")
    topics: list[Tag] = Field(description="What the mentee wishes and the mentor offers.")
    reasons: list[str] = Field(description="Why this pair, in words both can read.")
    proposed_at: datetime = Field(description="When.")


class MentoringAnsweredV1(Contract):
    """A mentor or mentee accepted or declined a proposal; ``agreed`` once both accepted."""

    TYPE = "guild.matching.mentoring_answered.v1"
    SCOPE = Scope.PUBLIC

    proposal_id: Identifier = Field(description="The proposal.")
    mentor: MemberRef = Field(description="The mentor.")
    mentee: MemberRef = Field(description="The mentee.")
    by: Identifier = Field(description="Who answered.")
    accepted: bool = Field(description="Their answer.")
    state: str = Field(description="'proposed', 'agreed' or 'declined'.")
    answered_at: datetime = Field(description="When.")


class AnswerMentoring(Request):
    """Command: the mentor or the mentee accepts or declines a mentoring proposal."""

    member_id: Identifier = Field(description="Who answers (the mentor or the mentee).")
    proposal_id: Identifier = Field(description="The proposal.")
    accept: bool = Field(description="True accepts; false declines (never proposed again).")


class MentoringState(Payload):
    proposal_id: Identifier
    state: str = Field(description="'proposed', 'agreed' or 'declined'.")
    mentor_accepted: bool
    mentee_accepted: bool


# ------------------------------------------------------------------ resources, jobs, content


class ResourceMatchedV1(Contract):
    """A resource request fits an open offer: the requester and the offerer are told."""

    TYPE = "guild.matching.resource_matched.v1"
    SCOPE = Scope.PUBLIC

    offer: PostRef = Field(description="The offer (its author offers).")
    request: PostRef = Field(description="The request (its author needs it).")
    resource_kind: ResourceKind = Field(description="What kind.")
    item: str = Field(description="What is offered.")
    quantity: int = Field(description="Units the request asks for.")
    position: int = Field(description="The request's place among those matched to the offer.")
    reasons: list[str] = Field(description="Why it fits.")
    matched_at: datetime = Field(description="When.")


class JobMatchedV1(Contract):
    """Confidential: an internal opening fits a member who is open to a move. Only that
    member is told; it never leaves their home region, and nobody else learns who matched."""

    TYPE = "guild.matching.job_matched.v1"
    SCOPE = Scope.PERSONAL

    member: MemberRef = Field(description="Who it is for (and the only one told).")
    job: PostRef = Field(description="The posting.")
    title: str = Field(description="The role.")
    skills: list[Tag] = Field(description="The posting's skills the member has.")
    reasons: list[str] = Field(description="Why it fits.")
    matched_at: datetime = Field(description="When.")


class Recommendation(Payload):
    member: MemberRef = Field(description="Who should see it.")
    reasons: list[str] = Field(description="Why, in words they can read.")


class ContentRecommendedV1(Contract):
    """A new practice article or software announcement, for the members it fits (not all)."""

    TYPE = "guild.matching.content_recommended.v1"
    SCOPE = Scope.LOCAL

    post: PostRef = Field(description="The post.")
    kind: PostKind = Field(description="Practice or software.")
    title: str = Field(description="Its title.")
    tags: list[Tag] = Field(description="Its topics.")
    recipients: list[Recommendation] = Field(description="Best fit first.")
    recommended_at: datetime = Field(description="When.")
