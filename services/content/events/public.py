"""From domain objects to public contracts. The only place content builds its events."""

from __future__ import annotations

from dataclasses import fields
from datetime import date, datetime

from services.content.domain.model import (
    Claim,
    CommunityInfo,
    JobDetails,
    OfferDetails,
    Post,
    RequestDetails,
    SoftwareDetails,
    offer_details,
    offer_remaining,
)
from shared.contracts import content as c
from shared.contracts.values import MemberRef, Visibility


def member(member_id: str, home_region: str) -> MemberRef:
    return MemberRef(member_id=member_id, home_region=home_region)


def facilitators(community: CommunityInfo, home_region: str) -> list[MemberRef]:
    return [member(f, home_region) for f in community.facilitator_ids]


def post_ref(post: Post, community: CommunityInfo, author_home: str) -> c.PostRef:
    return c.PostRef(
        post_id=post.post_id,
        kind=c.PostKind(post.kind),
        community_id=community.community_id,
        community_name=community.name,
        visibility=Visibility(community.visibility),
        author=member(post.author_id, author_home),
    )


def question_posted(post: Post, community: CommunityInfo, home: str) -> c.QuestionPostedV1:
    return c.QuestionPostedV1(
        question_id=post.post_id,
        community_id=community.community_id,
        community_name=community.name,
        visibility=Visibility(community.visibility),
        asker=member(post.author_id, home),
        title=post.title,
        text=post.body,
        tags=list(post.tags),
        posted_at=post.posted_at,
    )


def answer_posted(
    answer: Post, question: Post, community: CommunityInfo, home: str, first: bool
) -> c.AnswerPostedV1:
    return c.AnswerPostedV1(
        answer=post_ref(answer, community, home),
        question_id=question.post_id,
        question_title=question.title,
        question_tags=list(question.tags),
        asker=member(question.author_id, home),
        first_answer=first,
        posted_at=answer.posted_at,
    )


def answer_accepted(
    answer: Post, question: Post, community: CommunityInfo, home: str, at: datetime
) -> c.AnswerAcceptedV1:
    return c.AnswerAcceptedV1(
        answer=post_ref(answer, community, home),
        question_id=question.post_id,
        question_tags=list(question.tags),
        accepted_by=question.author_id,
        accepted_at=at,
    )


def published(post: Post, community: CommunityInfo, home: str) -> object:
    """The event a new post of any kind publishes."""
    ref = post_ref(post, community, home)
    match post.details:
        case SoftwareDetails() as d:
            return c.SoftwareAnnouncedV1(
                post=ref,
                title=post.title,
                repository_url=d.repository_url,
                language=d.language,
                licence=d.licence,
                maintainers=list(d.maintainers),
                tags=list(post.tags),
                announced_at=post.posted_at,
            )
        case OfferDetails() as d:
            return c.ResourceOfferedV1(
                post=ref,
                resource_kind=c.ResourceKind(d.resource_kind),
                item=d.item,
                quantity=d.quantity,
                expires_at=d.expires_at,
                allowed_regions=list(d.allowed_regions),
                allowed_legal_entities=list(d.allowed_legal_entities),
                offered_at=post.posted_at,
            )
        case RequestDetails() as d:
            return c.ResourceRequestedV1(
                post=ref,
                resource_kind=c.ResourceKind(d.resource_kind),
                item=d.item,
                quantity=d.quantity,
                needed_by=d.needed_by,
                requested_at=post.posted_at,
            )
        case JobDetails() as d:
            return c.JobPostedV1(
                post=ref,
                title=post.title,
                skills=list(d.skills),
                location=d.location,
                closing_date=d.closing_date,
                posted_at=post.posted_at,
            )
    match post.kind:
        case "question":
            return question_posted(post, community, home)
        case "practice":
            return c.PracticePublishedV1(
                post=ref,
                title=post.title,
                summary=post.body[:300],
                tags=list(post.tags),
                published_at=post.posted_at,
            )
    raise ValueError(f"no published event for {post.kind} posts")  # answers, comments


def comment_added(comment: Post, on: Post, community: CommunityInfo, home: str) -> c.CommentAddedV1:
    return c.CommentAddedV1(
        comment=post_ref(comment, community, home),
        on_post_id=on.post_id,
        on_post_author=member(on.author_id, home),
        added_at=comment.posted_at,
    )


def post_edited(
    post: Post, community: CommunityInfo, home: str, changed: list[str]
) -> c.PostEditedV1:
    return c.PostEditedV1(
        post=post_ref(post, community, home),
        title=post.title,
        tags=list(post.tags),
        changed=sorted(changed),
        edited_at=post.edited_at or post.posted_at,
    )


def post_deleted(
    post: Post, community: CommunityInfo, home: str, actor: str, at: datetime
) -> c.PostDeletedV1:
    return c.PostDeletedV1(post=post_ref(post, community, home), deleted_by=actor, deleted_at=at)


def post_flagged(
    post: Post, community: CommunityInfo, home: str, actor: str, reason: str, at: datetime
) -> c.PostFlaggedV1:
    return c.PostFlaggedV1(
        post=post_ref(post, community, home),
        flagged_by=actor,
        reason=reason,
        facilitators=facilitators(community, home),
        flagged_at=at,
    )


def post_moderated(
    post: Post, community: CommunityInfo, home: str, actor: str, reason: str | None, at: datetime
) -> c.PostModeratedV1:
    return c.PostModeratedV1(
        post=post_ref(post, community, home),
        hidden=post.hidden,
        moderated_by=actor,
        reason=reason,
        moderated_at=at,
    )


def post_endorsed(
    post: Post, community: CommunityInfo, home: str, actor: str, at: datetime
) -> c.PostEndorsedV1:
    return c.PostEndorsedV1(post=post_ref(post, community, home), endorsed_by=actor, endorsed_at=at)


def resource_claimed(
    offer: Post, community: CommunityInfo, home: str, claim: Claim, position: int
) -> c.ResourceClaimedV1:
    return c.ResourceClaimedV1(
        offer=post_ref(offer, community, home),
        claim_id=claim.claim_id,
        claimant=member(claim.claimant_id, home),
        position=position,
        claimed_at=claim.claimed_at,
    )


def resource_handed_over(
    offer: Post, community: CommunityInfo, home: str, claim: Claim, at: datetime
) -> c.ResourceHandedOverV1:
    return c.ResourceHandedOverV1(
        offer=post_ref(offer, community, home),
        claim_id=claim.claim_id,
        claimant=member(claim.claimant_id, home),
        remaining=offer_remaining(offer),
        handed_over_at=at,
    )


def claim_declined(
    offer: Post, community: CommunityInfo, home: str, claim: Claim, reason: str, at: datetime
) -> c.ResourceClaimDeclinedV1:
    return c.ResourceClaimDeclinedV1(
        offer=post_ref(offer, community, home),
        claim_id=claim.claim_id,
        claimant=member(claim.claimant_id, home),
        reason=reason,
        declined_at=at,
    )


def offer_closed(
    offer: Post, community: CommunityInfo, home: str, reason: str, at: datetime
) -> c.ResourceOfferClosedV1:
    handed = len(offer_details(offer).handed_to)
    return c.ResourceOfferClosedV1(
        offer=post_ref(offer, community, home), reason=reason, handed_over=handed, closed_at=at
    )


def skill_suggested(
    answerer: str, home: str, skill: str, question: Post, at: datetime
) -> c.SkillSuggestedV1:
    return c.SkillSuggestedV1(
        member=member(answerer, home),
        skill=skill,
        level=None,
        reason=f"your answer to \u201c{question.title}\u201d was accepted",
        source_post_id=question.post_id,
        suggested_at=at,
    )


def community_pulse(
    community: CommunityInfo, home: str, figures: c.PulseFigures, at: datetime
) -> c.CommunityPulseV1:
    return c.CommunityPulseV1(
        community_id=community.community_id,
        community_name=community.name,
        visibility=Visibility(community.visibility),
        facilitators=facilitators(community, home),
        figures=figures,
        published_at=at,
    )


def post_view(post: Post, *, answers: int = 0, score: int = 0, endorsements: int = 0) -> c.PostView:
    details = details_view(post)
    return c.PostView(
        post_id=post.post_id,
        kind=c.PostKind(post.kind),
        community_id=post.community_id,
        author_id=post.author_id,
        title=post.title,
        body=post.body,
        tags=list(post.tags),
        posted_at=post.posted_at,
        edited_at=post.edited_at,
        hidden=post.hidden,
        parent_id=post.parent_id,
        answers=answers,
        accepted_answer_id=post.accepted_answer_id,
        score=score,
        endorsements=endorsements,
        details=details,
    )


def details_view(post: Post) -> dict[str, object]:
    """A post's details in the public view's shape: its record's fields as JSON values (dates
    as ISO strings), an offer's hand-overs as what ``remaining`` there is."""
    shown = {
        f.name: _json_value(getattr(post.details, f.name))
        for f in fields(post.details)
        if f.name != "handed_to"
    }
    if isinstance(post.details, OfferDetails):
        shown["remaining"] = offer_remaining(post)
    return shown


def _json_value(value: object) -> object:
    if isinstance(value, date | datetime):
        return value.isoformat()
    return list(value) if isinstance(value, tuple) else value
