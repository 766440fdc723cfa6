"""Reactions to what happens in communities: requests to join, answers, claims, flags, pulses.

Each reaction says who hears about an event, what they read, and why; delivery (once per
channel, through the ledger) is the same for all of them. A title that names a person comes
with a ``headline`` that does not, for the delivery events that leave the inbox.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from services.notifications.domain.model import Post, note
from services.notifications.handlers import Deps
from services.notifications.handlers.delivery import deliver
from services.notifications.handlers.reactions import name_of, recipient
from shared.contracts import content as c
from shared.contracts import membership as m
from shared.contracts.values import MemberRef
from shared.envelope import Envelope


async def tell(
    event: Envelope[Any],
    deps: Deps,
    to: Iterable[MemberRef],
    kind: str,
    title: str,
    body: str,
    reason: str,
    headline: str = "",
    about: Sequence[Post] = (),
) -> None:
    notes = [note(recipient(ref), kind, title, body, reason, headline=headline, posts=about)
             for ref in to]  # fmt: skip
    await deliver(event, notes, deps)


def post_of(ref: c.PostRef, label: str = "Open the post") -> Post:
    return Post(ref.post_id, ref.community_id, label)


async def shown_name(ref: MemberRef, deps: Deps, fallback: str = "A colleague") -> str:
    """A member's name if they are homed here (their contact is here), else ``fallback``."""
    if ref.home_region != deps.region:
        return fallback
    return await name_of(ref.member_id, deps, fallback)


async def when_join_requested_ask_facilitators(
    event: Envelope[m.JoinRequestedV1], deps: Deps
) -> None:
    """Each facilitator of a gated community hears who asks to join."""
    asked = event.data
    who = await shown_name(
        MemberRef(member_id=asked.member.member_id, home_region=asked.member.home_region), deps
    )
    title = f"{who} asks to join {asked.community_name}"
    await tell(
        event,
        deps,
        asked.facilitators,
        "join_request",
        title,
        f"{title}. Approve or deny the request in the community's join requests.",
        f"you facilitate {asked.community_name}",
        headline=f"A member asks to join {asked.community_name}",
    )


async def when_join_decided_tell_member(
    event: Envelope[m.JoinRequestDecidedV1], deps: Deps
) -> None:
    """The member hears whether they were let in, and why not if not."""
    decided = event.data
    title = (
        f"You are now a member of {decided.community_name}"
        if decided.approved
        else f"Your request to join {decided.community_name} was declined"
    )
    body = title + (f": {decided.reason}" if decided.reason else ".")
    await tell(
        event,
        deps,
        [decided.member],
        "join_decision",
        title,
        body,
        f"you asked to join {decided.community_name}",
    )


async def when_role_changed_tell_member(event: Envelope[m.RoleChangedV1], deps: Deps) -> None:
    """A member hears that they became (or stopped being) a facilitator."""
    changed = event.data
    title = (
        f"You are now a facilitator of {changed.community_name}"
        if changed.role == m.Role.FACILITATOR
        else f"You are no longer a facilitator of {changed.community_name}"
    )
    await tell(
        event,
        deps,
        [changed.member],
        "role_changed",
        title,
        title + ".",
        f"you are a member of {changed.community_name}",
    )


async def when_answer_posted_tell_asker(event: Envelope[c.AnswerPostedV1], deps: Deps) -> None:
    """The asker hears that their question was answered."""
    answered = event.data
    if answered.answer.author.member_id == answered.asker.member_id:
        return
    who = await shown_name(answered.answer.author, deps)
    title = f"{who} answered your question: {answered.question_title}"
    await tell(
        event,
        deps,
        [answered.asker],
        "answer",
        title,
        title,
        "you asked this question",
        headline=f"Your question was answered: {answered.question_title}",
        about=[Post.question(answered.question_id, answered.answer.community_id)],
    )


async def when_answer_accepted_thank_answerer(
    event: Envelope[c.AnswerAcceptedV1], deps: Deps
) -> None:
    """The answerer hears, in one message, that their answer was accepted and that its
    topics are suggested for their skills (content suggests one skill per topic, each an
    event of its own: one message each would be one acceptance told several times)."""
    accepted = event.data
    body = f"Your answer was accepted in {accepted.answer.community_name}. Thank you!"
    if accepted.question_tags and accepted.answer.author.member_id != accepted.accepted_by:
        topics = ", ".join(accepted.question_tags)
        body += (f"\n\nIts topics ({topics}) are suggested for your skills where you do not "
                 "have them yet: confirm or decline them in your profile.")  # fmt: skip
    await tell(
        event,
        deps,
        [accepted.answer.author],
        "answer_accepted",
        "Your answer was accepted",
        body,
        "you answered this question",
        about=[Post.question(accepted.question_id, accepted.answer.community_id)],
    )


async def when_comment_added_tell_author(event: Envelope[c.CommentAddedV1], deps: Deps) -> None:
    """A post's author hears about comments on it (not their own)."""
    added = event.data
    if added.comment.author.member_id == added.on_post_author.member_id:
        return
    community = added.comment.community_name
    title = f"{await shown_name(added.comment.author, deps)} commented on your post in {community}"
    await tell(
        event,
        deps,
        [added.on_post_author],
        "comment",
        title,
        title,
        "you wrote this post",
        headline=f"A comment on your post in {community}",
        about=[Post(added.on_post_id, added.comment.community_id)],
    )


async def when_post_endorsed_tell_author(event: Envelope[c.PostEndorsedV1], deps: Deps) -> None:
    """A post's author hears that someone endorsed it."""
    endorsed = event.data
    community = endorsed.post.community_name
    who = await shown_name(
        MemberRef(member_id=endorsed.endorsed_by, home_region=endorsed.post.author.home_region),
        deps,
    )
    title = f"{who} endorsed your post in {community}"
    await tell(
        event,
        deps,
        [endorsed.post.author],
        "endorsement",
        title,
        title,
        "you wrote this post",
        headline=f"Your post in {community} was endorsed",
        about=[post_of(endorsed.post)],
    )


async def when_post_flagged_ask_facilitators(event: Envelope[c.PostFlaggedV1], deps: Deps) -> None:
    """Facilitators hear that a member flagged a post, and why."""
    flagged = event.data
    title = f"A post in {flagged.post.community_name} was flagged"
    await tell(
        event,
        deps,
        flagged.facilitators,
        "flag",
        title,
        f"{title}: {flagged.reason}. Hide it, or leave it as it is.",
        f"you facilitate {flagged.post.community_name}",
        about=[post_of(flagged.post)],
    )


async def when_post_moderated_tell_author(event: Envelope[c.PostModeratedV1], deps: Deps) -> None:
    """The author hears that their post was hidden or restored."""
    moderated = event.data
    verb = "hidden" if moderated.hidden else "restored"
    title = f"Your post in {moderated.post.community_name} was {verb} by a facilitator"
    body = title + (f": {moderated.reason}" if moderated.reason else ".")
    await tell(event, deps, [moderated.post.author], "moderation", title, body,
               "you wrote this post", about=[post_of(moderated.post)])  # fmt: skip


async def when_resource_claimed_tell_offerer(
    event: Envelope[c.ResourceClaimedV1], deps: Deps
) -> None:
    """The offerer hears who claimed a unit, and their place in the queue."""
    claimed = event.data
    community = claimed.offer.community_name
    title = f"{await shown_name(claimed.claimant, deps)} claimed your offer ({community})"
    await tell(
        event,
        deps,
        [claimed.offer.author],
        "claim",
        title,
        f"{title}; they are number {claimed.position} in the queue. Hand over when you can.",
        "you made this offer",
        headline=f"Your offer was claimed ({community})",
        about=[post_of(claimed.offer, "Open the offer")],
    )


async def when_resource_handed_over_tell_claimant(
    event: Envelope[c.ResourceHandedOverV1], deps: Deps
) -> None:
    """The claimant hears that the resource is theirs."""
    handed = event.data
    title = "The resource you claimed was handed over to you"
    await tell(
        event,
        deps,
        [handed.claimant],
        "claim_served",
        title,
        f"{title} ({handed.offer.community_name}).",
        "you claimed it",
        about=[post_of(handed.offer, "Open the offer")],
    )


async def when_claim_declined_tell_claimant(
    event: Envelope[c.ResourceClaimDeclinedV1], deps: Deps
) -> None:
    """The claimant hears that their claim could not be served, and why."""
    declined = event.data
    title = "Your claim could not be served"
    await tell(
        event,
        deps,
        [declined.claimant],
        "claim_declined",
        title,
        f"{title}: {declined.reason}.",
        "you claimed it",
        about=[post_of(declined.offer, "Open the offer")],
    )


async def when_pulse_published_send_facilitators(
    event: Envelope[c.CommunityPulseV1], deps: Deps
) -> None:
    """Facilitators get their community's weekly pulse."""
    pulse, f = event.data, event.data.figures
    joined = ", ".join(f"{n} in {r}" for r, n in f.new_members_by_region.items()) or "nobody"
    wait = (
        f"{f.median_minutes_to_first_answer:.0f} minutes"
        if f.median_minutes_to_first_answer is not None
        else "no answers yet"
    )
    helpful = ", ".join(
        [
            await shown_name(h.member, deps, f"a colleague from {h.member.home_region}")
            for h in f.most_helpful
        ]
    )
    helpful = helpful or "nobody yet"
    body = (
        f"New members: {joined}. Questions: {f.questions_asked} asked, "
        f"{f.questions_answered} answered, median time to a first answer {wait}; "
        f"{f.unanswered_questions} unanswered in all. Most helpful: {helpful}."
    )
    await tell(
        event,
        deps,
        pulse.facilitators,
        "pulse",
        f"{pulse.community_name}: the week {f.week}",
        body,
        f"you facilitate {pulse.community_name}",
    )
