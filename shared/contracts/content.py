"""Content's public events, commands and queries.

Every event about a post carries the community's ``visibility``: a private community's content
must only ever reach its members, and downstream services enforce that from the event alone.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, Field, model_validator

from shared.contracts.base import Contract, Payload, Request
from shared.contracts.values import (
    Identifier,
    MemberRef,
    Page,
    Region,
    SkillLevel,
    Tag,
    Visibility,
)
from shared.naming import Scope


class PostKind(StrEnum):
    PRACTICE = "practice"
    """A best-practice article."""
    SOFTWARE = "software"
    """A reusable internal software announcement."""
    QUESTION = "question"
    ANSWER = "answer"
    RESOURCE_OFFER = "resource_offer"
    """Spare licence seats, test hardware, GPU time..."""
    RESOURCE_REQUEST = "resource_request"
    JOB = "job"
    """An internal job posting."""
    COMMENT = "comment"


class ResourceKind(StrEnum):
    LICENCE_SEATS = "licence_seats"
    HARDWARE = "hardware"
    COMPUTE = "compute"
    OTHER = "other"


class PostRef(Payload):
    """What every post event says about where the post lives."""

    post_id: Identifier = Field(description="The post.")
    kind: PostKind = Field(description="What kind of post.")
    community_id: Identifier = Field(description="Its community.")
    community_name: str = Field(description="Its community's display name.")
    visibility: Visibility = Field(
        description="The community's visibility; private content must only reach its members."
    )
    author: MemberRef = Field(description="Who wrote it.")


class QuestionPostedV1(Contract):
    """A question was posted to a community."""

    TYPE = "guild.content.question_posted.v1"
    SCOPE = Scope.PUBLIC

    question_id: Identifier = Field(description="The question's post id.")
    community_id: Identifier = Field(description="The community it was asked in.")
    community_name: str = Field(description="The community's display name.")
    visibility: Visibility = Field(
        description="The community's visibility; private content must only reach its members."
    )
    asker: MemberRef = Field(description="Who asked.")
    title: str = Field(description="One-line question.")
    text: str = Field(description="The question in full.")
    tags: list[Tag] = Field(description="Topics.")
    posted_at: datetime = Field(description="When it was posted.")


class AnswerPostedV1(Contract):
    """Someone answered a question."""

    TYPE = "guild.content.answer_posted.v1"
    SCOPE = Scope.PUBLIC

    answer: PostRef = Field(description="The answer.")
    question_id: Identifier = Field(description="The question answered.")
    question_title: str = Field(description="Its title.")
    question_tags: list[Tag] = Field(description="Its topics.")
    asker: MemberRef = Field(description="Who asked the question.")
    first_answer: bool = Field(description="True for the question's first answer.")
    posted_at: datetime = Field(description="When.")


class AnswerAcceptedV1(Contract):
    """The asker accepted an answer."""

    TYPE = "guild.content.answer_accepted.v1"
    SCOPE = Scope.PUBLIC

    answer: PostRef = Field(description="The accepted answer (its author is the answerer).")
    question_id: Identifier = Field(description="The question.")
    question_tags: list[Tag] = Field(description="Its topics.")
    accepted_by: Identifier = Field(description="Who accepted it (the asker).")
    accepted_at: datetime = Field(description="When.")


class PracticePublishedV1(Contract):
    """A best-practice article was published."""

    TYPE = "guild.content.practice_published.v1"
    SCOPE = Scope.PUBLIC

    post: PostRef = Field(description="The article.")
    title: str = Field(description="Its title.")
    summary: str = Field(description="Its first 300 characters.")
    tags: list[Tag] = Field(description="Topics.")
    published_at: datetime = Field(description="When.")


class SoftwareAnnouncedV1(Contract):
    """Reusable internal software was announced to a community."""

    TYPE = "guild.content.software_announced.v1"
    SCOPE = Scope.PUBLIC

    post: PostRef = Field(description="The announcement.")
    title: str = Field(description="Name and summary.")
    repository_url: str = Field(description="Where the code is.")
    language: str = Field(description="Main language.")
    licence: str = Field(description="Licence.")
    maintainers: list[Identifier] = Field(description="Member ids of its maintainers.")
    tags: list[Tag] = Field(description="Topics.")
    announced_at: datetime = Field(description="When.")


class ResourceOfferedV1(Contract):
    """Someone offers spare resources (licence seats, hardware, ...)."""

    TYPE = "guild.content.resource_offered.v1"
    SCOPE = Scope.PUBLIC

    post: PostRef = Field(description="The offer (its author is the offerer).")
    resource_kind: ResourceKind = Field(description="What kind of resource.")
    item: str = Field(description="What exactly, e.g. 'JetBrains All Products seat'.")
    quantity: int = Field(description="How many units.")
    expires_at: datetime | None = Field(description="After this, it cannot be claimed.")
    allowed_regions: list[Region] = Field(description="Who may claim, by region; empty = any.")
    allowed_legal_entities: list[str] = Field(description="By legal entity; empty = any.")
    offered_at: datetime = Field(description="When.")


class ResourceRequestedV1(Contract):
    """Someone needs a resource."""

    TYPE = "guild.content.resource_requested.v1"
    SCOPE = Scope.PUBLIC

    post: PostRef = Field(description="The request (its author needs the resource).")
    resource_kind: ResourceKind = Field(description="What kind of resource.")
    item: str = Field(description="What exactly.")
    quantity: int = Field(description="How many units.")
    needed_by: date | None = Field(description="When it is needed by.")
    requested_at: datetime = Field(description="When.")


class ResourceClaimedV1(Contract):
    """A member claimed a unit of an offer; claims are served first come, first served."""

    TYPE = "guild.content.resource_claimed.v1"
    SCOPE = Scope.PUBLIC

    offer: PostRef = Field(description="The offer (its author is the offerer).")
    claim_id: Identifier = Field(description="The claim.")
    claimant: MemberRef = Field(description="Who claims.")
    position: int = Field(description="Place in the queue of open claims (1 = next).")
    claimed_at: datetime = Field(description="When.")


class ResourceHandedOverV1(Contract):
    """A claimed unit was handed over to its claimant."""

    TYPE = "guild.content.resource_handed_over.v1"
    SCOPE = Scope.PUBLIC

    offer: PostRef = Field(description="The offer.")
    claim_id: Identifier = Field(description="The claim served.")
    claimant: MemberRef = Field(description="Who received it.")
    remaining: int = Field(description="Units still available.")
    handed_over_at: datetime = Field(description="When.")


class ResourceClaimDeclinedV1(Contract):
    """A claim could not be served; the claimant is told why."""

    TYPE = "guild.content.resource_claim_declined.v1"
    SCOPE = Scope.PUBLIC

    offer: PostRef = Field(description="The offer.")
    claim_id: Identifier = Field(description="The claim.")
    claimant: MemberRef = Field(description="Who claimed.")
    reason: str = Field(description="Why it was not possible.")
    declined_at: datetime = Field(description="When.")


class ResourceOfferClosedV1(Contract):
    """An offer closed: everything handed over, closed by the offerer, or expired."""

    TYPE = "guild.content.resource_offer_closed.v1"
    SCOPE = Scope.PUBLIC

    offer: PostRef = Field(description="The offer.")
    reason: str = Field(description="'handed_over', 'closed' or 'expired'.")
    handed_over: int = Field(description="How many units were handed over in all.")
    closed_at: datetime = Field(description="When.")


class JobPostedV1(Contract):
    """An internal job was posted."""

    TYPE = "guild.content.job_posted.v1"
    SCOPE = Scope.PUBLIC

    post: PostRef = Field(description="The posting.")
    title: str = Field(description="The role.")
    skills: list[Tag] = Field(description="Skills it needs.")
    location: str = Field(description="A region, or 'remote'.")
    closing_date: date = Field(description="Last day to apply.")
    posted_at: datetime = Field(description="When.")


class CommentAddedV1(Contract):
    """Someone commented on a post."""

    TYPE = "guild.content.comment_added.v1"
    SCOPE = Scope.PUBLIC

    comment: PostRef = Field(description="The comment.")
    on_post_id: Identifier = Field(description="The post commented on.")
    on_post_author: MemberRef = Field(description="Who wrote that post.")
    added_at: datetime = Field(description="When.")


class PostEditedV1(Contract):
    """A post was edited by its author."""

    TYPE = "guild.content.post_edited.v1"
    SCOPE = Scope.PUBLIC

    post: PostRef = Field(description="The post.")
    title: str = Field(description="Its title now (empty for answers and comments).")
    tags: list[Tag] = Field(description="Its tags now.")
    changed: list[str] = Field(description="Which fields changed.")
    edited_at: datetime = Field(description="When.")


class PostDeletedV1(Contract):
    """Tombstone: a post was deleted; forget what you hold of it."""

    TYPE = "guild.content.post_deleted.v1"
    SCOPE = Scope.PUBLIC

    post: PostRef = Field(description="The post that was.")
    deleted_by: Identifier = Field(description="Its author or a facilitator.")
    deleted_at: datetime = Field(description="When.")


class PostFlaggedV1(Contract):
    """A member flagged a post for the facilitators' attention."""

    TYPE = "guild.content.post_flagged.v1"
    SCOPE = Scope.PUBLIC

    post: PostRef = Field(description="The post.")
    flagged_by: Identifier = Field(description="Who flagged it.")
    reason: str = Field(description="Why.")
    facilitators: list[MemberRef] = Field(description="Who should look at it.")
    flagged_at: datetime = Field(description="When.")


class PostModeratedV1(Contract):
    """A facilitator hid a post, or restored a hidden one."""

    TYPE = "guild.content.post_moderated.v1"
    SCOPE = Scope.PUBLIC

    post: PostRef = Field(description="The post.")
    hidden: bool = Field(description="True: hidden from everyone but facilitators and author.")
    moderated_by: Identifier = Field(description="The facilitator.")
    reason: str | None = Field(default=None, description="Why.")
    moderated_at: datetime = Field(description="When.")


class PostEndorsedV1(Contract):
    """A member endorsed a post ("this works for us too")."""

    TYPE = "guild.content.post_endorsed.v1"
    SCOPE = Scope.PUBLIC

    post: PostRef = Field(description="The post (its author is endorsed).")
    endorsed_by: Identifier = Field(description="Who endorsed it.")
    endorsed_at: datetime = Field(description="When.")


class HelpfulMember(Payload):
    member: MemberRef = Field(description="Who.")
    answers: int = Field(description="Answers they gave that week.")
    accepted: int = Field(description="Of which accepted.")
    upvotes: int = Field(description="Upvotes those answers received.")


class PulseFigures(Payload):
    """A community's activity in one week."""

    week: str = Field(description="ISO week, e.g. '2026-W48' (Monday to Sunday, UTC).")
    new_members_by_region: dict[str, int] = Field(description="Who joined, by work region.")
    questions_asked: int = Field(description="Questions posted that week.")
    questions_answered: int = Field(description="Of those, how many have an answer now.")
    median_minutes_to_first_answer: float | None = Field(
        description="Over those answered; none if nothing was answered."
    )
    unanswered_questions: int = Field(description="All the community's questions unanswered now.")
    most_helpful: list[HelpfulMember] = Field(description="Top answerers that week, best first.")


class CommunityPulseV1(Contract):
    """The weekly pulse of a community, for its facilitators."""

    TYPE = "guild.content.community_pulse.v1"
    SCOPE = Scope.PUBLIC

    community_id: Identifier = Field(description="The community.")
    community_name: str = Field(description="Its display name.")
    visibility: Visibility = Field(description="Its visibility.")
    facilitators: list[MemberRef] = Field(description="Who gets the pulse.")
    figures: PulseFigures = Field(description="The week's figures.")
    published_at: datetime = Field(description="When.")


class SkillSuggestedV1(Contract):
    """Content suggests a skill for a member, from what they answered (pending until they
    confirm it)."""

    TYPE = "guild.content.skill_suggested.v1"
    SCOPE = Scope.PUBLIC

    member: MemberRef = Field(description="Whose skill.")
    skill: Tag = Field(description="The skill.")
    level: SkillLevel | None = Field(description="A suggested level, if any.")
    reason: str = Field(description="Why, in words the member can read.")
    source_post_id: Identifier = Field(description="The post that suggested it.")
    suggested_at: datetime = Field(description="When.")


# ----------------------------------------------------------------- commands


class PostPractice(Request):
    """Command: publish a best-practice article."""

    actor_id: Identifier = Field(description="The author.")
    community_id: Identifier = Field(description="The community.")
    title: str = Field(min_length=3, max_length=300)
    body: str = Field(min_length=1, max_length=100_000)
    tags: list[Tag] = Field(default_factory=list, max_length=10)


class AnnounceSoftware(Request):
    """Command: announce reusable internal software."""

    actor_id: Identifier = Field(description="The author.")
    community_id: Identifier = Field(description="The community.")
    title: str = Field(min_length=3, max_length=300)
    body: str = Field(default="", max_length=20_000)
    repository_url: str = Field(pattern=r"^https://\S+$", max_length=500)
    language: str = Field(min_length=1, max_length=50)
    licence: str = Field(min_length=1, max_length=100)
    maintainer_ids: list[Identifier] = Field(default_factory=list, max_length=20)
    tags: list[Tag] = Field(default_factory=list, max_length=10)


class PostQuestion(Request):
    """Command: post a question to a community."""

    actor_id: Identifier = Field(description="The member asking.")
    community_id: Identifier = Field(description="The community to ask.")
    title: str = Field(min_length=3, max_length=300, description="One-line question.")
    text: str = Field(min_length=1, max_length=20_000, description="The question in full.")
    tags: list[Tag] = Field(min_length=1, max_length=10, description="Topics.")


class PostAnswer(Request):
    """Command: answer a question."""

    actor_id: Identifier = Field(description="The member answering.")
    question_id: Identifier = Field(description="The question.")
    body: str = Field(min_length=1, max_length=50_000)


class AcceptAnswer(Request):
    """Command (the asker): accept an answer."""

    actor_id: Identifier = Field(description="The asker.")
    answer_id: Identifier = Field(description="The answer.")


class Vote(Request):
    """Command: vote on a post (+1, -1, or 0 to withdraw). Not on your own posts."""

    actor_id: Identifier = Field(description="Who votes.")
    post_id: Identifier = Field(description="The post.")
    value: int = Field(ge=-1, le=1)


class Endorse(Request):
    """Command: endorse a post ("this works for us too")."""

    actor_id: Identifier = Field(description="Who endorses.")
    post_id: Identifier = Field(description="The post.")


class AddComment(Request):
    """Command: comment on a post."""

    actor_id: Identifier = Field(description="Who comments.")
    post_id: Identifier = Field(description="The post.")
    body: str = Field(min_length=1, max_length=5_000)


class OfferResource(Request):
    """Command: offer spare resources."""

    actor_id: Identifier = Field(description="The offerer.")
    community_id: Identifier = Field(description="The community.")
    resource_kind: ResourceKind
    item: str = Field(min_length=1, max_length=300)
    quantity: int = Field(ge=1, le=10_000)
    details: str = Field(default="", max_length=5_000)
    expires_at: datetime | None = Field(default=None, description="After this, no claims.")
    allowed_regions: list[Region] = Field(default_factory=list, description="Empty: any.")
    allowed_legal_entities: list[str] = Field(default_factory=list, description="Empty: any.")


class RequestResource(Request):
    """Command: ask for a resource."""

    actor_id: Identifier = Field(description="Who needs it.")
    community_id: Identifier = Field(description="The community.")
    resource_kind: ResourceKind
    item: str = Field(min_length=1, max_length=300)
    quantity: int = Field(ge=1, le=10_000)
    details: str = Field(default="", max_length=5_000)
    needed_by: date | None = Field(default=None)


class ClaimResource(Request):
    """Command: claim one unit of an offer. First come, first served."""

    actor_id: Identifier = Field(description="Who claims.")
    offer_id: Identifier = Field(description="The offer.")


class HandOver(Request):
    """Command (the offerer or a facilitator): hand a unit to the oldest open claim."""

    actor_id: Identifier = Field(description="The offerer or a facilitator.")
    offer_id: Identifier = Field(description="The offer.")


class CloseOffer(Request):
    """Command (the offerer or a facilitator): close an offer; open claims are declined."""

    actor_id: Identifier = Field(description="The offerer or a facilitator.")
    offer_id: Identifier = Field(description="The offer.")


class PostJob(Request):
    """Command: post an internal job."""

    actor_id: Identifier = Field(description="The hiring manager or recruiter.")
    community_id: Identifier = Field(description="The community.")
    title: str = Field(min_length=3, max_length=300)
    description: str = Field(min_length=1, max_length=20_000)
    skills: list[Tag] = Field(min_length=1, max_length=20)
    location: str = Field(
        pattern=r"^(remote|[a-z][a-z0-9]{0,15})$", description="A region, or 'remote'."
    )
    closing_date: date


class EditPost(Request):
    """Command (the author): change a post. Omitted fields stay."""

    actor_id: Identifier = Field(description="The author.")
    post_id: Identifier = Field(description="The post.")
    title: str | None = Field(default=None, min_length=3, max_length=300)
    body: str | None = Field(default=None, min_length=1, max_length=100_000)
    tags: list[Tag] | None = Field(default=None, max_length=10)

    @model_validator(mode="after")
    def _something_to_change(self) -> EditPost:
        if self.title is None and self.body is None and self.tags is None:
            raise ValueError("give at least one of title, body, tags")
        return self


class DeletePost(Request):
    """Command (the author or a facilitator): delete a post (a tombstone remains)."""

    actor_id: Identifier = Field(description="The author or a facilitator.")
    post_id: Identifier = Field(description="The post.")


class FlagPost(Request):
    """Command: ask the facilitators to look at a post."""

    actor_id: Identifier = Field(description="Who flags it.")
    post_id: Identifier = Field(description="The post.")
    reason: str = Field(min_length=1, max_length=500)


class ModeratePost(Request):
    """Command (facilitators): hide a post, or restore it."""

    actor_id: Identifier = Field(description="A facilitator of the post's community.")
    post_id: Identifier = Field(description="The post.")
    hidden: bool = Field(description="True hides it; false restores it.")
    reason: str | None = Field(default=None, max_length=500)


# ----------------------------------------------------------------- queries


class GetPost(Request):
    """Query: one post with its answers, comments, votes and endorsements."""

    viewer_id: Identifier = Field(description="Who is asking.")
    post_id: Identifier = Field(description="The post.")


class CommunityPosts(Request):
    """Query: a community's latest posts, newest first, optionally of one kind."""

    viewer_id: Identifier = Field(description="Who is asking.")
    community_id: Identifier = Field(description="The community.")
    kind: PostKind | None = Field(default=None)
    cursor: str | None = Field(default=None)
    limit: int = Field(default=20, ge=1, le=100)


class SearchPosts(Request):
    """Query: posts with all the given tags, newest first, in communities the viewer sees."""

    viewer_id: Identifier = Field(description="Who is asking.")
    tags: list[Tag] = Field(min_length=1, max_length=5)
    kind: PostKind | None = Field(default=None)
    cursor: str | None = Field(default=None)
    limit: int = Field(default=20, ge=1, le=100)


class UnansweredQuestions(Request):
    """Query: questions without an answer, newest first, in one community or all visible."""

    viewer_id: Identifier = Field(description="Who is asking.")
    community_id: Identifier | None = Field(default=None)
    cursor: str | None = Field(default=None)
    limit: int = Field(default=20, ge=1, le=100)


class MemberPosts(Request):
    """Query: a member's posts that the viewer may see, newest first."""

    viewer_id: Identifier = Field(description="Who is asking.")
    author_id: Identifier = Field(description="Whose posts.")
    kind: PostKind | None = Field(default=None)
    cursor: str | None = Field(default=None)
    limit: int = Field(default=20, ge=1, le=100)


class GetPulse(Request):
    """Query (facilitators): a community's pulse for one week (default: this week so far)."""

    viewer_id: Identifier = Field(description="A facilitator of the community.")
    community_id: Identifier = Field(description="The community.")
    week: str | None = Field(default=None, pattern=r"^\d{4}-W\d{2}$", description="'2026-W48'.")


# ----------------------------------------------------------------- replies


class PostView(BaseModel):
    """A post as the viewer may see it."""

    post_id: Identifier
    kind: PostKind
    community_id: Identifier
    author_id: Identifier
    title: str
    body: str
    tags: list[str]
    posted_at: datetime
    edited_at: datetime | None = None
    hidden: bool = False
    parent_id: Identifier | None = None
    answers: int = 0
    accepted_answer_id: Identifier | None = None
    score: int = 0
    endorsements: int = 0
    details: dict[str, object] = Field(
        default_factory=dict, description="Kind-specific: repository, licence, quantity, ..."
    )


class PostDetail(BaseModel):
    """Reply to :class:`GetPost`."""

    post: PostView
    answers: list[PostView]
    comments: list[PostView]
    claims: list[dict[str, object]] | None = Field(
        default=None, description="For an offer, seen by its offerer or a facilitator."
    )


class PostPage(Page):
    items: list[PostView]


class ClaimResult(BaseModel):
    """Reply to :class:`ClaimResource` and :class:`HandOver`."""

    offer_id: Identifier
    claim_id: Identifier
    claimant_id: Identifier
    status: str = Field(description="'open', 'handed_over' or 'declined'.")
    position: int | None = Field(default=None, description="Place in the queue while open.")
    remaining: int = Field(description="Units still available.")
