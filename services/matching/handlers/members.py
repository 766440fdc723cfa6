"""Reactions to membership's events: who members are, where they belong, who facilitates."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from services.matching.domain.meetings import pair_reasons, shared_slots
from services.matching.domain.profiles import Profile
from services.matching.domain.records import profile_key
from services.matching.events import inbound, public
from services.matching.handlers import Deps
from services.matching.handlers.personal import (
    erase_dead_letters_about,
    erase_personal_events,
    pseudonymise_questions,
)
from shared.contracts import membership as m
from shared.contracts.values import MemberRef
from shared.envelope import Envelope
from shared.ids import erasure_pseudonym


async def _erased_since(event: Envelope[Any], member_id: str, deps: Deps) -> bool:
    """Whether ``member_id`` was erased after ``event`` happened: then the event is stale (a
    retry delayed past the erasure) and must not bring their profile back."""
    return await deps.store.members.erased_after(profile_key(member_id), event.time)


async def _keep_profile(event: Envelope[Any], profile: Profile, deps: Deps) -> None:
    """Store a newer profile, keeping the communities matching learned from joins."""
    if await _erased_since(event, profile.member_id, deps):
        return

    def newer(held: Profile | None) -> Profile | None:
        if held is None:
            return profile
        return replace(profile, communities=held.communities) if profile.newer_than(held) else None

    await deps.store.change_profile(profile.member_id, newer)


async def when_member_registered_keep_profile(
    event: Envelope[m.MemberRegisteredV1], deps: Deps
) -> None:
    """Keep the member's public profile; an older revision arriving late changes nothing."""
    await _keep_profile(event, inbound.profile_of(event.data.member, event.data.revision), deps)


async def when_member_updated_keep_profile(event: Envelope[m.MemberUpdatedV1], deps: Deps) -> None:
    """Keep the member's newest skills, hours, mentoring wishes and offers, availability."""
    await _keep_profile(event, inbound.profile_of(event.data.member, event.data.revision), deps)


async def when_member_left_forget_membership(event: Envelope[m.MemberLeftV1], deps: Deps) -> None:
    """No longer proposed to meet in that community, nor asked about its private questions."""
    community_id = event.data.community_id

    def without(held: Profile | None) -> Profile | None:
        in_it = held is not None and community_id in held.communities
        return held.with_community(community_id, False) if in_it and held else None

    await deps.store.change_profile(event.data.member.member_id, without)


async def when_member_deactivated_forget_them(
    event: Envelope[m.MemberDeactivatedV1], deps: Deps
) -> None:
    """Departed members are never matched again."""
    await forget_member(event.data.member.member_id, deps)


async def when_member_erased_forget_them(event: Envelope[m.MemberErasedV1], deps: Deps) -> None:
    """Nothing of an erased member stays in matching; the questions they asked stay under
    their pseudonym."""
    await forget_member(event.data.member.member_id, deps)
    member_id = event.data.member.member_id
    alias = erasure_pseudonym(member_id, event.data.pseudonym, deps.pseudonym_key)
    await pseudonymise_questions(member_id, alias, deps)


async def forget_member(member_id: str, deps: Deps) -> None:
    store = deps.store
    await store.erase_member(member_id)
    if store.secrets.get(member_id) is not None:
        await store.erase("confidential", store.confidential, member_id)
    for key, mentorship in list(store.mentorships.items.items()):
        if member_id in (mentorship.mentor_id, mentorship.mentee_id):
            await store.erase("mentoring", store.mentoring, key)
    for key, resource in list(store.shared.items.items()):
        if member_id in (
            getattr(resource, "offerer_id", None),
            getattr(resource, "requester_id", None),
        ):
            await store.erase("resources", store.resources, key)
    await erase_personal_events(member_id, deps)
    await erase_dead_letters_about(member_id, deps)


async def when_member_joined_propose_intros(event: Envelope[m.MemberJoinedV1], deps: Deps) -> None:
    """Record the membership; a newcomer homed here gets people to meet at once, with times
    inside both working hours."""
    joined = event.data
    if await _erased_since(event, joined.member.member_id, deps):
        return

    def with_community(held: Profile | None) -> Profile:
        known = held or inbound.profile_of(joined.member, revision=0)
        return known.with_community(joined.community_id, True)

    profile = await deps.store.change_profile(joined.member.member_id, with_community)
    assert profile is not None  # with_community always gives one
    limit = deps.policy.intros_per_newcomer
    if profile.home_region != deps.region or limit == 0 or not profile.open_to_intros:
        return
    now = deps.clock()
    intros = []
    for other in _people_to_meet(profile, joined.community_id, deps):
        slots = shared_slots(profile, other, now)
        intros.append((other, pair_reasons(profile, other, joined.community_name), slots))
        if len(intros) == limit:
            break
    if intros:
        member = MemberRef(member_id=profile.member_id, home_region=profile.home_region)
        proposal = public.intros_proposed(
            member, joined.community_id, joined.community_name, intros, now
        )
        await deps.events.publish_caused_by(
            event, proposal, purpose="intros_proposed", subject=profile.member_id
        )


def _people_to_meet(newcomer: Profile, community_id: str, deps: Deps) -> list[Profile]:
    """Others in the community who may be met: other regions first, then shared skills, then
    whom matching has known longest (member ids are drawn at random: no order in them)."""
    today = deps.clock().date()
    skills = set(dict(newcomer.skills))
    others = [
        p
        for p in deps.store.model.members_of(community_id)
        if p.member_id != newcomer.member_id and p.open_to_intros and p.available_on(today)
    ]
    return sorted(
        others,
        key=lambda p: (
            p.region == newcomer.region,
            -len(skills & set(dict(p.skills))),
        ),
    )  # a stable sort: members_of lists them in the order matching first knew them


async def when_community_changed_keep_it(
    event: Envelope[m.CommunityCreatedV1] | Envelope[m.CommunityUpdatedV1], deps: Deps
) -> None:
    """Its visibility (for private questions), facilitators (the last wave), home region."""
    info = inbound.community_info(event.data)
    await deps.store.put("communities", deps.store.communities, info.community_id, info)


async def when_role_changed_keep_facilitators(event: Envelope[m.RoleChangedV1], deps: Deps) -> None:
    """Facilitators change: the last wave of a routed question goes to the new ones."""
    held = deps.store.directory.get(event.data.community_id)
    if held is None:
        return
    facilitators = tuple((f.member_id, f.home_region) for f in event.data.facilitators)
    info = replace(held, facilitators=facilitators)
    await deps.store.put("communities", deps.store.communities, info.community_id, info)
