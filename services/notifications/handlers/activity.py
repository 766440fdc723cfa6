"""Reactions to what happens in communities: requests to join, answers, claims, flags, pulses.

Each reaction says who hears about an event, and why; delivery (once per channel, through
the ledger) is the same for all of them.
"""

from __future__ import annotations

from services.notifications.domain.model import note
from services.notifications.handlers import Deps
from services.notifications.handlers.delivery import deliver
from services.notifications.handlers.reactions import name_of, recipient
from shared.contracts import content as c
from shared.contracts import membership as m
from shared.envelope import Envelope


async def _who(member_id: str, home_region: str, deps: Deps) -> str:
    if home_region != deps.region:
        return "A colleague"
    return await name_of(member_id, deps, "A colleague")


async def when_join_requested_ask_facilitators(
    event: Envelope[m.JoinRequestedV1], deps: Deps
) -> None:
    """Each facilitator of a gated community hears who asks to join."""
    asked = event.data
    who = await _who(asked.member.member_id, asked.member.home_region, deps)
    title = f"{who} asks to join {asked.community_name}"
    body = f"{title}. Approve or deny the request in the community's join requests."
    await deliver(
        event,
        [
            note(
                recipient(f), "join_request", title, body, f"you facilitate {asked.community_name}"
            )
            for f in asked.facilitators
        ],
        deps,
    )


async def when_join_decided_tell_member(
    event: Envelope[m.JoinRequestDecidedV1], deps: Deps
) -> None:
    """The member hears whether they were let in, and why not if not."""
    decided = event.data
    if decided.approved:
        title = f"You are now a member of {decided.community_name}"
    else:
        title = f"Your request to join {decided.community_name} was declined"
    body = title + (f": {decided.reason}" if decided.reason else ".")
    await deliver(
        event,
        [
            note(
                recipient(decided.member),
                "join_decision",
                title,
                body,
                f"you asked to join {decided.community_name}",
            )
        ],
        deps,
    )


async def when_role_changed_tell_member(event: Envelope[m.RoleChangedV1], deps: Deps) -> None:
    """A member hears that they became (or stopped being) a facilitator."""
    changed = event.data
    title = (
        f"You are now a facilitator of {changed.community_name}"
        if changed.role == m.Role.FACILITATOR
        else f"You are no longer a facilitator of {changed.community_name}"
    )
    await deliver(
        event,
        [
            note(
                recipient(changed.member),
                "role_changed",
                title,
                title + ".",
                f"you are a member of {changed.community_name}",
            )
        ],
        deps,
    )


async def when_answer_posted_tell_asker(event: Envelope[c.AnswerPostedV1], deps: Deps) -> None:
    """The asker hears that their question was answered."""
    answered = event.data
    if answered.answer.author.member_id == answered.asker.member_id:
        return
    who = await _who(answered.answer.author.member_id, answered.answer.author.home_region, deps)
    title = f"{who} answered your question: {answered.question_title}"
    await deliver(
        event,
        [note(recipient(answered.asker), "answer", title, title, "you asked this question")],
        deps,
    )


async def when_answer_accepted_thank_answerer(
    event: Envelope[c.AnswerAcceptedV1], deps: Deps
) -> None:
    """The answerer hears that their answer was accepted."""
    accepted = event.data
    title = "Your answer was accepted"
    await deliver(
        event,
        [
            note(
                recipient(accepted.answer.author),
                "answer_accepted",
                title,
                f"{title} in {accepted.answer.community_name}. Thank you!",
                "you answered this question",
            )
        ],
        deps,
    )


async def when_comment_added_tell_author(event: Envelope[c.CommentAddedV1], deps: Deps) -> None:
    """A post's author hears about comments on it (not their own)."""
    added = event.data
    if added.comment.author.member_id == added.on_post_author.member_id:
        return
    who = await _who(added.comment.author.member_id, added.comment.author.home_region, deps)
    title = f"{who} commented on your post in {added.comment.community_name}"
    await deliver(
        event,
        [note(recipient(added.on_post_author), "comment", title, title, "you wrote this post")],
        deps,
    )


async def when_post_endorsed_tell_author(event: Envelope[c.PostEndorsedV1], deps: Deps) -> None:
    """A post's author hears that someone endorsed it."""
    endorsed = event.data
    who = await _who(endorsed.endorsed_by, endorsed.post.author.home_region, deps)
    title = f"{who} endorsed your post in {endorsed.post.community_name}"
    await deliver(
        event,
        [note(recipient(endorsed.post.author), "endorsement", title, title, "you wrote this post")],
        deps,
    )


async def when_post_flagged_ask_facilitators(event: Envelope[c.PostFlaggedV1], deps: Deps) -> None:
    """Facilitators hear that a member flagged a post, and why."""
    flagged = event.data
    title = f"A post in {flagged.post.community_name} was flagged"
    body = f"{title}: {flagged.reason}. Hide it, or leave it as it is."
    await deliver(
        event,
        [
            note(recipient(f), "flag", title, body, f"you facilitate {flagged.post.community_name}")
            for f in flagged.facilitators
        ],
        deps,
    )


async def when_post_moderated_tell_author(event: Envelope[c.PostModeratedV1], deps: Deps) -> None:
    """The author hears that their post was hidden or restored."""
    moderated = event.data
    verb = "hidden" if moderated.hidden else "restored"
    title = f"Your post in {moderated.post.community_name} was {verb} by a facilitator"
    body = title + (f": {moderated.reason}" if moderated.reason else ".")
    await deliver(
        event,
        [note(recipient(moderated.post.author), "moderation", title, body, "you wrote this post")],
        deps,
    )


async def when_resource_claimed_tell_offerer(
    event: Envelope[c.ResourceClaimedV1], deps: Deps
) -> None:
    """The offerer hears who claimed a unit, and their place in the queue."""
    claimed = event.data
    who = await _who(claimed.claimant.member_id, claimed.claimant.home_region, deps)
    title = f"{who} claimed your offer ({claimed.offer.community_name})"
    body = f"{title}; they are number {claimed.position} in the queue. Hand over when you can."
    await deliver(
        event,
        [note(recipient(claimed.offer.author), "claim", title, body, "you made this offer")],
        deps,
    )


async def when_resource_handed_over_tell_claimant(
    event: Envelope[c.ResourceHandedOverV1], deps: Deps
) -> None:
    """The claimant hears that the resource is theirs."""
    handed = event.data
    title = "The resource you claimed was handed over to you"
    await deliver(
        event,
        [
            note(
                recipient(handed.claimant),
                "claim_served",
                title,
                f"{title} ({handed.offer.community_name}).",
                "you claimed it",
            )
        ],
        deps,
    )


async def when_claim_declined_tell_claimant(
    event: Envelope[c.ResourceClaimDeclinedV1], deps: Deps
) -> None:
    """The claimant hears that their claim could not be served, and why."""
    declined = event.data
    title = "Your claim could not be served"
    await deliver(
        event,
        [
            note(
                recipient(declined.claimant),
                "claim_declined",
                title,
                f"{title}: {declined.reason}.",
                "you claimed it",
            )
        ],
        deps,
    )


async def when_pulse_published_send_facilitators(
    event: Envelope[c.CommunityPulseV1], deps: Deps
) -> None:
    """Facilitators get their community's weekly pulse."""
    pulse, f = event.data, event.data.figures
    title = f"{pulse.community_name}: the week {f.week}"
    joined = ", ".join(f"{n} in {r}" for r, n in f.new_members_by_region.items()) or "nobody"
    wait = (
        f"{f.median_minutes_to_first_answer:.0f} minutes"
        if f.median_minutes_to_first_answer is not None
        else "no answers yet"
    )
    helpful = ", ".join(h.member.member_id for h in f.most_helpful) or "nobody yet"
    body = (
        f"New members: {joined}. Questions: {f.questions_asked} asked, "
        f"{f.questions_answered} answered, median time to a first answer {wait}; "
        f"{f.unanswered_questions} unanswered in all. Most helpful: {helpful}."
    )
    await deliver(
        event,
        [
            note(recipient(fac), "pulse", title, body, f"you facilitate {pulse.community_name}")
            for fac in pulse.facilitators
        ],
        deps,
    )


async def when_skill_suggested_ask_member(event: Envelope[c.SkillSuggestedV1], deps: Deps) -> None:
    """The member is asked to confirm a skill suggested from what they did."""
    suggested = event.data
    title = f"Add {suggested.skill} to your skills?"
    await deliver(
        event,
        [
            note(
                recipient(suggested.member),
                "skill_suggestion",
                title,
                f"{title} Suggested because {suggested.reason}.",
                suggested.reason,
            )
        ],
        deps,
    )
