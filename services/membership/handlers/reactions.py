"""Reactions to events other systems publish into Guild."""

from __future__ import annotations

from datetime import datetime

from services.membership.domain.model import Member, Skill, register
from services.membership.events import public
from services.membership.handlers import Deps
from shared.contracts.ingest import PersonHiredV1
from shared.envelope import Envelope


def member_from_hire(hire: PersonHiredV1, *, home_region: str, at: datetime) -> Member:
    return Member(
        member_id=hire.person_id,
        home_region=home_region,
        region=hire.region,
        timezone=hire.timezone,
        display_name=hire.display_name,
        email=hire.email,
        skills=tuple(Skill(s.name, s.level.value) for s in hire.skills),
        languages=tuple(hire.languages),
        title=hire.title,
        manager_id=hire.manager_id,
        registered_at=at,
    )


async def when_person_hired_register_member(event: Envelope[PersonHiredV1], deps: Deps) -> None:
    """Store the new member, then publish their public profile and (privately) their contact.

    Re-running for the same event stores nothing new and publishes the same event ids, so a
    crash between storing and publishing heals on redelivery.
    """
    candidate = member_from_hire(event.data, home_region=deps.region, at=event.time or deps.clock())
    existing = await deps.store.member(candidate.member_id)
    member = register(existing.value if existing else None, candidate)
    if existing is not None and existing.value == member:
        revision = existing.revision
    else:
        revision = await deps.store.members.put(member.member_id, member)
    await deps.events.publish_caused_by(
        event,
        public.member_registered(member, revision),
        purpose="member_registered",
        subject=member.member_id,
    )
    await deps.events.publish_caused_by(
        event,
        public.member_contact(member, revision),
        purpose="member_contact",
        key=member.member_id,
    )
