"""Reactions to matching's proposals: similar questions, people to meet, mentors, resources,
openings and recommended content, each told to the people it is for, with matching's reasons."""

from __future__ import annotations

from services.notifications.domain.model import Post, note
from services.notifications.handlers import Deps
from services.notifications.handlers.activity import post_of, shown_name, tell
from services.notifications.handlers.delivery import deliver
from services.notifications.handlers.reactions import recipient
from shared.contracts import matching as x
from shared.envelope import Envelope


async def when_similar_questions_found_tell_asker(
    event: Envelope[x.SimilarQuestionsFoundV1], deps: Deps
) -> None:
    """The asker may find an answer already given."""
    found = event.data
    lines = [f"- {s.title} ({round(100 * s.similarity)}% alike)" for s in found.similar]
    await tell(
        event, deps, [found.asker], "similar_questions",
        f"Answered questions like \"{found.title}\"",
        "These were asked and answered before; one may already solve it:\n" + "\n".join(lines),
        "you asked a question",
        about=[Post(s.question_id, s.community_id, f"Open: {s.title}") for s in found.similar],
    )  # fmt: skip


async def when_meeting_proposed_tell_both(event: Envelope[x.MeetingProposedV1], deps: Deps) -> None:
    """Each of the pair hears who to meet, why, and times in their own timezone."""
    proposed = event.data
    notes = []
    for me, other in (proposed.members, reversed(proposed.members)):
        other_name = await shown_name(other, deps, "a colleague")
        times = [t.local.get(me.member_id, t.start.isoformat()) for t in proposed.meeting_times]
        body = f"Meet {other_name} from {proposed.community_name}: " + "; ".join(proposed.reasons)
        if times:
            body += ". Times inside both your working hours: " + ", ".join(times)
        else:
            body += ". Your working hours do not overlap; pick a time that suits you both."
        notes.append(note(recipient(me), "meeting_proposed",
                          f"Someone to meet in {proposed.community_name}", body,
                          f"you are a member of {proposed.community_name}"))  # fmt: skip
    await deliver(event, notes, deps)


async def when_mentoring_proposed_ask_both(
    event: Envelope[x.MentoringProposedV1], deps: Deps
) -> None:
    """The mentor and the mentee are each asked to accept."""
    proposed = event.data
    topics = ", ".join(proposed.topics)
    why = "; ".join(proposed.reasons)
    mentee = await shown_name(proposed.mentee, deps, "a colleague")
    mentor = await shown_name(proposed.mentor, deps, "a colleague")
    await deliver(event, [
        note(recipient(proposed.mentor), "mentoring_proposed", f"Would you mentor {mentee}?",
             f"On {topics}: {why}. Accept or decline proposal {proposed.proposal_id}.",
             "you offered to mentor", headline="A mentoring proposal"),
        note(recipient(proposed.mentee), "mentoring_proposed", f"A mentor for you: {mentor}",
             f"On {topics}: {why}. Accept or decline proposal {proposed.proposal_id}.",
             "you asked for a mentor", headline="A mentoring proposal"),
    ], deps)  # fmt: skip


async def when_mentoring_answered_tell_the_other(
    event: Envelope[x.MentoringAnsweredV1], deps: Deps
) -> None:
    """The other side hears the answer; both hear when it is agreed."""
    answered = event.data
    pair = (answered.mentor, answered.mentee)
    other = [m for m in pair if m.member_id != answered.by]
    if answered.state == "agreed":
        await tell(event, deps, pair, "mentoring_agreed", "Mentoring agreed",
                   "You both accepted: arrange your first session.",
                   "you are in this pair")  # fmt: skip
    elif answered.state == "declined":
        await tell(event, deps, other, "mentoring_declined", "A mentoring proposal was declined",
                   "Matching will propose someone else.", "you were in this proposal")  # fmt: skip


async def when_resource_matched_tell_both(event: Envelope[x.ResourceMatchedV1], deps: Deps) -> None:
    """The requester learns where to claim it; the offerer who asked for it."""
    matched = event.data
    why = "; ".join(matched.reasons)
    await deliver(event, [
        note(recipient(matched.request.author), "resource_matched",
             f"An offer fits your request: {matched.item}",
             f"{why}. Claim it from the offer; you are number {matched.position} among the "
             "requests it fits.", "you requested it",
             posts=[post_of(matched.offer, "Open the offer")]),
        note(recipient(matched.offer.author), "resource_matched",
             f"A request fits your offer of {matched.item}",
             f"{why}. Its author may claim it from your offer.", "you offered it",
             posts=[post_of(matched.request, "Open the request")]),
    ], deps)  # fmt: skip


async def when_job_matched_tell_member_alone(event: Envelope[x.JobMatchedV1], deps: Deps) -> None:
    """Confidential: only the member hears of it, and no delivery event says so."""
    job = event.data
    body = f"{job.title}: " + "; ".join(job.reasons) + "."
    await deliver(event, [note(recipient(job.member), "job_matched", f"An opening for you: "
                               f"{job.title}", body, "you said you are open to a move",
                               confidential=True, posts=[post_of(job.job, "Open the posting")])],
                  deps)  # fmt: skip


async def when_content_recommended_tell_recipients(
    event: Envelope[x.ContentRecommendedV1], deps: Deps
) -> None:
    """Each recipient hears of the post, with why it fits them."""
    recommended = event.data
    software = recommended.kind.value == "software"
    kind, label = (
        ("Software", "Open the announcement") if software else ("Practice", "Open the article")
    )
    await deliver(event, [
        note(recipient(r.member), "content_recommended", f"{kind} for you: {recommended.title}",
             f"{recommended.title} ({', '.join(recommended.tags)}) in "
             f"{recommended.post.community_name}.", *r.reasons,
             posts=[post_of(recommended.post, label)])
        for r in recommended.recipients
    ], deps)  # fmt: skip
