"""Reactions: which events become which notifications, for whom and why."""

from __future__ import annotations

from services.notifications.domain import model
from services.notifications.domain.erasure import FORMER_MEMBER
from services.notifications.domain.model import Contact, Recipient
from services.notifications.handlers import Deps
from services.notifications.handlers.delivery import deliver
from shared.contracts.matching import ExpertsSuggestedV1, IntrosProposedV1
from shared.contracts.membership import (
    MemberContactV1,
    MemberErasedV1,
    MemberJoinedV1,
    MemberProfile,
)
from shared.contracts.values import MemberRef
from shared.envelope import Envelope


class ContactNotKnownYet(Exception):
    """Transient: a member homed here has no contact yet (it is on its way from membership)."""


def recipient(ref: MemberRef) -> Recipient:
    return Recipient(ref.member_id, ref.home_region)


async def name_of(member_id: str, deps: Deps, fallback: str) -> str:
    contact = await deps.store.contact(member_id)
    return contact.display_name if contact else fallback


async def when_member_contact_changed_keep_it(event: Envelope[MemberContactV1], deps: Deps) -> None:
    """Keep the newest contact of each member homed here (none of an erased member: a late
    or redelivered contact is not kept again)."""
    data = event.data
    if deps.store.is_erased(data.member_id):
        return
    held = await deps.store.contact(data.member_id)
    if held is None or held.revision <= data.revision:
        contact = Contact(
            data.member_id, data.display_name, data.email, data.revision, data.person_id
        )
        await deps.store.contacts.put(data.member_id, contact)


async def newcomer_name(member: MemberProfile, deps: Deps) -> str:
    if member.home_region != deps.region:
        return f"A colleague from {member.region}"
    if deps.store.is_erased(member.member_id):
        return FORMER_MEMBER
    contact = await deps.store.contact(member.member_id)
    if contact is None:
        raise ContactNotKnownYet(f"no contact yet for member {member.member_id}")
    return contact.display_name


async def when_member_joined_welcome_and_tell_facilitators(
    event: Envelope[MemberJoinedV1], deps: Deps
) -> None:
    """Welcome the newcomer; tell each facilitator who joined."""
    joined = event.data
    newcomer = recipient(
        MemberRef(member_id=joined.member.member_id, home_region=joined.member.home_region)
    )
    name = await newcomer_name(joined.member, deps)
    skills = ", ".join(f"{s.name} ({s.level.value})" for s in joined.member.skills) or "none yet"
    facts = f"works in {joined.member.region}, {joined.member.timezone}; skills: {skills}"
    notifications = [model.welcome(newcomer, joined.community_name, joined.role.value)]
    notifications += [
        model.newcomer_alert(recipient(f), joined.community_name, name, facts)
        for f in joined.facilitators
        if f.member_id != newcomer.member_id
    ]
    await deliver(event, notifications, deps)


async def when_experts_suggested_alert_them(
    event: Envelope[ExpertsSuggestedV1], deps: Deps
) -> None:
    """Alert each suggested expert, with matching's reasons."""
    suggested = event.data
    asker = await name_of(suggested.asker_id, deps, "A colleague")
    question = model.Post.question(suggested.question_id, suggested.community_id)
    await deliver(
        event,
        [
            model.question_alert(
                recipient(s.member),
                suggested.community_name,
                suggested.title,
                asker,
                s.reasons,
                question,
            )
            for s in suggested.suggestions
        ],
        deps,
    )


async def _met_name(member: MemberRef, deps: Deps) -> str:
    """Someone to meet: their name if they are homed here, else where they are from (their
    name stays in their own region)."""
    if member.home_region != deps.region:
        return f"A colleague from {member.home_region}"
    return await name_of(member.member_id, deps, member.member_id)


async def when_intros_proposed_tell_member(event: Envelope[IntrosProposedV1], deps: Deps) -> None:
    """Tell the member who to meet and why."""
    proposed = event.data
    people = [
        f"{await _met_name(p.member, deps)}: {'; '.join(p.reasons)}" for p in proposed.proposals
    ]
    await deliver(
        event, [model.intros(recipient(proposed.member), proposed.community_name, people)], deps
    )


async def when_member_erased_forget_them(event: Envelope[MemberErasedV1], deps: Deps) -> None:
    """Everything kept about them here is securely erased: contact, channels, preferences,
    what waits for them, their inbox. Marked erased first, so that nothing is delivered to
    them from then on (see :mod:`~services.notifications.handlers.delivery`)."""
    if event.data.member.home_region == deps.region:
        member_id = event.data.member.member_id
        await deps.store.mark_erased(member_id, event.data.erased_at)
        await deps.store.forget(member_id)
