"""A member's own profile: commands they send, and skills other services suggest."""

from __future__ import annotations

from dataclasses import replace

from services.membership.domain.model import (
    Hours,
    Member,
    MentoringOffer,
    MentoringWish,
    Skill,
    SkillSuggestion,
    UnknownMember,
)
from services.membership.handlers import Deps
from services.membership.handlers.publishing import publish_member
from services.membership.handlers.queries import member_view
from shared.contracts.content import SkillSuggestedV1
from shared.contracts.membership import (
    DecideSkill,
    MemberView,
    Resume,
    Snooze,
    UpdateProfile,
)
from shared.envelope import Envelope
from shared.storage import Versioned


async def _own(member_id: str, deps: Deps) -> Versioned[Member]:
    found = await deps.store.member(member_id)
    if found is None or not found.value.active:
        raise UnknownMember(f"member {member_id!r} does not exist")
    return found


async def _save(found: Versioned[Member], member: Member, deps: Deps) -> MemberView:
    changed = found.value.changed_fields(member)
    revision = found.revision
    if changed:
        revision = await deps.store.members.update(
            member.member_id, member, revision=found.revision
        )
    await publish_member(member, revision, deps, new=False, changed=changed)
    return await member_view(member, member.member_id, deps)


def _changes(command: UpdateProfile) -> dict[str, object]:
    given = command.model_dump(exclude_unset=True, exclude={"member_id", "request_id"})
    converters = {
        "working_hours": lambda v: Hours(v["start"], v["end"], tuple(v["days"])),
        "languages": tuple,
        "interests": tuple,
        "skills": lambda v: tuple(Skill(s["name"], s["level"]) for s in v),
        "mentoring_offer": lambda v: MentoringOffer(tuple(v["topics"]), v["capacity"]),
        "mentoring_wish": lambda v: MentoringWish(tuple(v["topics"]), v.get("goals", "")),
    }
    return {
        name: (converters[name](value) if name in converters and value is not None else value)
        for name, value in given.items()
    }


async def update_profile(command: UpdateProfile, deps: Deps) -> MemberView:
    """The member changes their own profile; public parts are published, private parts and the
    confidential flag stay in their home region."""
    found = await _own(command.member_id, deps)
    return await _save(found, replace(found.value, **_changes(command)), deps)


async def snooze(command: Snooze, deps: Deps) -> MemberView:
    """Not to be asked or introduced until a date."""
    found = await _own(command.member_id, deps)
    return await _save(found, found.value.snooze(command.until, deps.clock().date()), deps)


async def resume(command: Resume, deps: Deps) -> MemberView:
    """End a snooze now."""
    found = await _own(command.member_id, deps)
    return await _save(found, found.value.resume(), deps)


async def decide_skill(command: DecideSkill, deps: Deps) -> MemberView:
    """Confirm a suggested skill (it becomes declared) or reject it (never suggested again)."""
    found = await _own(command.member_id, deps)
    level = command.level.value if command.level else None
    return await _save(found, found.value.decide_skill(command.skill, command.confirm, level), deps)


async def when_skill_suggested_keep_it_pending(
    event: Envelope[SkillSuggestedV1], deps: Deps
) -> None:
    """A skill another service suggests waits for the member to confirm or reject it."""
    suggested = event.data
    if suggested.member.home_region != deps.region:
        return  # their home region keeps their suggestions
    found = await deps.store.member(suggested.member.member_id)
    if found is None or not found.value.active:
        return
    suggestion = SkillSuggestion(
        skill=suggested.skill,
        level=suggested.level.value if suggested.level else None,
        reason=suggested.reason,
        source=event.source,
        suggested_at=suggested.suggested_at,
    )
    member = found.value.suggest(suggestion)
    if member != found.value:
        await deps.store.members.update(member.member_id, member, revision=found.revision)
