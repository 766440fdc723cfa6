"""Mentoring: rounds that propose mentors to mentees (for mentors homed here, whose capacity
this region alone enforces), and the answers of both sides."""

from __future__ import annotations

from dataclasses import replace

from services.matching.domain.mentoring import (
    DECLINED,
    Mentorship,
    assign,
    proposal_id,
)
from services.matching.events import public
from services.matching.handlers import Deps
from shared.contracts.matching import (
    AnswerMentoring,
    MentoringAnsweredV1,
    MentoringProposedV1,
    MentoringState,
)
from shared.envelope import Envelope
from shared.ids import derived_id
from shared.messaging.rpc import Rejected


async def propose_mentors(deps: Deps) -> int:
    """The chore: assign mentees who have no mentor (or proposal) to mentors homed here with
    free places, best for everyone. Returns how many proposals were made."""
    store, now, expiry = deps.store, deps.clock(), deps.policy.mentoring_expiry
    today = now.date()
    taken: dict[str, int] = {}
    busy_mentees: set[str] = set()
    declined: set[str] = set()
    for mentorship in store.mentorships.items.values():
        if mentorship.state == DECLINED:
            declined.add(mentorship.key)
        elif mentorship.holds_a_place(now, expiry):
            taken[mentorship.mentor_id] = taken.get(mentorship.mentor_id, 0) + 1
            busy_mentees.add(mentorship.mentee_id)
    profiles = [p for p in store.model.all_profiles() if p.available_on(today)]
    mentors = [p for p in profiles if p.home_region == deps.region and p.mentoring_offer]
    mentees = [p for p in profiles if p.mentoring_wish and p.member_id not in busy_mentees]
    free = {
        m.member_id: m.mentoring_offer.capacity - taken.get(m.member_id, 0)  # type: ignore[union-attr]
        for m in mentors
    }
    fits = assign(mentees, mentors, free, excluded=declined, week_of=now)
    for fit in fits:
        proposal = Mentorship(
            fit.mentor.member_id,
            fit.mentor.home_region,
            fit.mentee.member_id,
            fit.mentee.home_region,
            fit.topics,
            now,
        )
        await store.put("mentoring", store.mentoring, proposal.key, proposal)
        event_id = derived_id("mentoring_proposed", proposal.key, now.isoformat())
        await deps.events.publish(
            public.mentoring_proposed(fit, now), event_id=event_id, subject=proposal.key
        )
    return len(fits)


async def when_mentoring_proposed_elsewhere_keep_it(
    event: Envelope[MentoringProposedV1], deps: Deps
) -> None:
    """Another region's proposal: its mentee is spoken for while it is open."""
    data = event.data
    key = proposal_id(data.mentor.member_id, data.mentee.member_id)
    if deps.store.mentorships.get(key) is None:
        proposal = Mentorship(
            data.mentor.member_id,
            data.mentor.home_region,
            data.mentee.member_id,
            data.mentee.home_region,
            tuple(data.topics),
            data.proposed_at,
        )
        await deps.store.put("mentoring", deps.store.mentoring, key, proposal)


async def when_mentoring_answered_keep_it(event: Envelope[MentoringAnsweredV1], deps: Deps) -> None:
    """Answers given in any region: each side's answer is theirs alone, so they merge."""
    data = event.data
    held = deps.store.mentorships.get(data.proposal_id)
    if held is None:
        return
    answered = _answered(held, data.by, data.accepted)
    if answered != held:
        await deps.store.put("mentoring", deps.store.mentoring, data.proposal_id, answered)


def _answered(mentorship: Mentorship, by: str, accept: bool) -> Mentorship:
    if not accept:
        return replace(mentorship, declined_by=mentorship.declined_by or by)
    if by == mentorship.mentor_id:
        return replace(mentorship, mentor_accepted=True)
    return replace(mentorship, mentee_accepted=True)


async def answer_mentoring(command: AnswerMentoring, deps: Deps) -> MentoringState:
    """The mentor or the mentee accepts or declines; agreed once both accepted. A declined
    pair is never proposed again."""
    held = deps.store.mentorships.get(command.proposal_id)
    if held is None:
        raise Rejected("not_found", f"mentoring proposal {command.proposal_id!r} does not exist")
    if command.member_id not in (held.mentor_id, held.mentee_id):
        raise Rejected("forbidden", "only the mentor or the mentee may answer a proposal")
    if held.state == DECLINED and command.accept:
        raise Rejected("conflict", "this proposal was declined; it cannot be accepted any more")
    now = deps.clock()
    answered = _answered(held, command.member_id, command.accept)
    if answered != held:
        await deps.store.put("mentoring", deps.store.mentoring, answered.key, answered)
        event_id = derived_id(
            "mentoring_answered", answered.key, command.member_id, str(command.accept)
        )
        await deps.events.publish(
            public.mentoring_answered(answered, command.member_id, command.accept, now),
            event_id=event_id,
            subject=answered.key,
        )
    return MentoringState(
        proposal_id=answered.key,
        state=answered.state,
        mentor_accepted=answered.mentor_accepted,
        mentee_accepted=answered.mentee_accepted,
    )
