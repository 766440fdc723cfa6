"""Reactions to membership's and content's events."""

from __future__ import annotations

from services.matching.events import public
from services.matching.handlers import Deps
from shared.contracts.content import QuestionPostedV1
from shared.contracts.membership import (
    MemberDeactivatedV1,
    MemberErasedV1,
    MemberJoinedV1,
    MemberLeftV1,
    MemberRegisteredV1,
    MemberUpdatedV1,
)
from shared.contracts.values import MemberRef, Visibility
from shared.envelope import Envelope


async def when_member_registered_index_skills(
    event: Envelope[MemberRegisteredV1], deps: Deps
) -> None:
    """Keep the member's skills; an older revision arriving late changes nothing."""
    profile = deps.store.index.upsert(public.profile_of(event.data.member, event.data.revision))
    await deps.store.save(profile)


async def when_member_updated_index_skills(event: Envelope[MemberUpdatedV1], deps: Deps) -> None:
    """Keep the member's newest skills and availability."""
    profile = deps.store.index.upsert(public.profile_of(event.data.member, event.data.revision))
    await deps.store.save(profile)


async def when_member_left_forget_membership(event: Envelope[MemberLeftV1], deps: Deps) -> None:
    """They are no longer proposed to meet in that community, nor asked about its private
    questions."""
    profile = deps.store.index.leave(event.data.member.member_id, event.data.community_id)
    if profile is not None:
        await deps.store.save(profile)


async def when_member_deactivated_forget_them(
    event: Envelope[MemberDeactivatedV1], deps: Deps
) -> None:
    """Departed members are never matched again."""
    await deps.store.forget(event.data.member.member_id)


async def when_member_erased_forget_them(event: Envelope[MemberErasedV1], deps: Deps) -> None:
    """Nothing of an erased member stays in matching."""
    await deps.store.forget(event.data.member.member_id)


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
        today=deps.clock().date(),
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
    """Rank who should be asked: the best skill fit among members homed here, never the asker,
    and for a private community only its members."""
    question = event.data
    private = question.visibility == Visibility.PRIVATE
    suggestions = deps.store.index.rank_experts(
        tags=question.tags,
        text=f"{question.title} {question.text}",
        asker_id=question.asker.member_id,
        home_region=deps.region,
        limit=deps.limits.experts_per_question,
        today=deps.clock().date(),
        only_community=question.community_id if private else None,
    )
    await deps.events.publish_caused_by(
        event,
        public.experts_suggested(question, suggestions, deps.clock()),
        purpose="experts_suggested",
        subject=question.question_id,
    )
