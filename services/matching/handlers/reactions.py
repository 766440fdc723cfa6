"""Reactions to membership's and content's events."""

from __future__ import annotations

from services.matching.events import public
from services.matching.handlers import Deps
from shared.contracts.content import QuestionPostedV1
from shared.contracts.membership import MemberJoinedV1, MemberRegisteredV1
from shared.contracts.values import MemberRef
from shared.envelope import Envelope


async def when_member_registered_index_skills(
    event: Envelope[MemberRegisteredV1], deps: Deps
) -> None:
    """Keep the member's skills; an older revision arriving late changes nothing."""
    profile = deps.store.index.upsert(public.profile_of(event.data.member, event.data.revision))
    await deps.store.save(profile)


async def when_member_joined_propose_intros(event: Envelope[MemberJoinedV1], deps: Deps) -> None:
    """Record the membership; a newcomer homed here gets people to meet at once."""
    joined = event.data
    snapshot = public.profile_of(joined.member, revision=0)
    profile = deps.store.index.join(snapshot, joined.community_id)
    await deps.store.save(profile)
    if profile.home_region != deps.region or deps.limits.intros_per_newcomer == 0:
        return
    intros = deps.store.index.propose_intros(
        member_id=profile.member_id,
        community_id=joined.community_id,
        limit=deps.limits.intros_per_newcomer,
    )
    if intros:
        member = MemberRef(member_id=profile.member_id, home_region=profile.home_region)
        proposal = public.intros_proposed(
            member, joined.community_id, joined.community_name, intros, deps.clock()
        )
        await deps.events.publish_caused_by(
            event, proposal, purpose="intros_proposed", subject=profile.member_id
        )


async def when_question_posted_suggest_experts(
    event: Envelope[QuestionPostedV1], deps: Deps
) -> None:
    """Rank who should be asked: the best skill fit among members homed here, never the asker."""
    question = event.data
    suggestions = deps.store.index.rank_experts(
        tags=question.tags,
        text=f"{question.title} {question.text}",
        asker_id=question.asker.member_id,
        home_region=deps.region,
        limit=deps.limits.experts_per_question,
    )
    await deps.events.publish_caused_by(
        event,
        public.experts_suggested(question, suggestions, deps.clock()),
        purpose="experts_suggested",
        subject=question.question_id,
    )
