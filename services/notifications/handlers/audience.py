"""Who is homed here, their timezone, the tags they follow and their communities; and who
hears of a new question: its community's members, the tag's followers, the people mentioned,
each once, with every reason."""

from __future__ import annotations

from collections.abc import Callable

from services.notifications.delivery.fanout import PART_SIZE
from services.notifications.domain.audience import Audience, mentioned
from services.notifications.domain.bulletins import (
    Bulletin,
    Part,
    audience_of,
    notifications_for,
    parts_of,
    quoted,
)
from services.notifications.domain.model import Notification
from services.notifications.handlers import Deps
from services.notifications.handlers.activity import shown_name
from services.notifications.handlers.delivery import (
    Cause,
    bulletin_key,
    deliver,
    route_all,
    tally,
)
from services.notifications.handlers.reactions import (
    when_member_joined_welcome_and_tell_facilitators,
)
from shared.contracts import content as c
from shared.contracts import membership as m
from shared.contracts.values import Visibility
from shared.envelope import Envelope


async def change_audience(
    member_id: str, deps: Deps, change: Callable[[Audience], Audience]
) -> None:
    """Change what is kept of a member homed here (nothing for an erased member: a late
    or redelivered event does not bring their profile back)."""
    if deps.store.is_erased(member_id):
        return
    await deps.store.audience.change(member_id, lambda held: change(held or Audience(member_id)))


async def when_member_profile_changed_keep_it(
    event: Envelope[m.MemberRegisteredV1] | Envelope[m.MemberUpdatedV1], deps: Deps
) -> None:
    """Timezone and followed tags of members homed here (older revisions are ignored)."""
    profile, revision = event.data.member, event.data.revision
    if profile.home_region != deps.region:
        return
    await change_audience(profile.member_id, deps, lambda held: held.with_profile(
        profile.timezone, list(profile.interests), revision))  # fmt: skip


async def when_member_joined_remember_and_welcome(
    event: Envelope[m.MemberJoinedV1], deps: Deps
) -> None:
    """Note the community of a member homed here; then the welcome and the facilitators."""
    joined, profile = event.data, event.data.member
    if profile.home_region == deps.region:
        await change_audience(profile.member_id, deps, lambda held: held.with_profile(
            profile.timezone, list(profile.interests), 0).joined(joined.community_id))  # fmt: skip
    await when_member_joined_welcome_and_tell_facilitators(event, deps)


async def when_member_left_forget_the_community(
    event: Envelope[m.MemberLeftV1], deps: Deps
) -> None:
    left = event.data
    if left.member.home_region == deps.region:
        await change_audience(left.member.member_id, deps,
                              lambda held: held.left(left.community_id))  # fmt: skip


def bulletin_of(event: Envelope[c.QuestionPostedV1], asker: str, deps: Deps) -> Bulletin:
    question = event.data
    return Bulletin(
        cause_id=event.id,
        cause_type=event.type,
        at=deps.clock(),
        question_id=question.question_id,
        community_id=question.community_id,
        community_name=question.community_name,
        private=question.visibility is Visibility.PRIVATE,
        asker_id=question.asker.member_id,
        asker=asker,
        title=question.title,
        tags=tuple(question.tags),
        mentions=tuple(sorted(mentioned(f"{question.title}\n{question.text}"))),
        text=quoted(question.text),
    )


async def when_question_posted_tell_followers(
    event: Envelope[c.QuestionPostedV1], deps: Deps
) -> None:
    """Community members, followers of its tags and the people it mentions hear of it once;
    the question is kept once for the digests of those it waits for there. The people it
    mentions are routed here (a personal alert); the rest of its audience in parts, on the
    bulk consumer (see :mod:`~services.notifications.delivery.fanout`)."""
    question, people = event.data, deps.store.people
    bulletin = bulletin_of(event, await shown_name(question.asker, deps), deps)
    audience = sorted(audience_of(bulletin, people.by_community, people.by_tag, people.items))
    mentioned_here = [m for m in audience if m in bulletin.mentions]
    await deliver(event, notifications_of(bulletin, mentioned_here, deps), deps, bulletin)
    rest = [m for m in audience if m not in bulletin.mentions]
    size = deps.fanout.part_size if deps.fanout else PART_SIZE
    parts = parts_of(bulletin, bulletin_key(event.id), rest, size)
    if deps.fanout is not None:
        await deps.fanout.put(parts)
        return
    for part in parts:
        await route_part(part, deps)


def notifications_of(bulletin: Bulletin, members: list[str], deps: Deps) -> list[Notification]:
    people = deps.store.people
    return notifications_for(bulletin, map(people.get, members), deps.region, bulletin.text)


async def route_part(part: Part, deps: Deps) -> None:
    """Route one part of a bulletin's audience (nothing if the bulletin is gone: older than
    any digest waits)."""
    key = part.bulletin
    bulletin = deps.store.waiting.get(key)
    if bulletin is None:  # kept by another replica a moment ago
        found = await deps.store.bulletins.get(key)
        bulletin = found.value if found else None
    if bulletin is None:
        return
    cause = Cause(part.cause_id, part.cause_type, bulletin=bulletin, part=part.number)
    notifications = notifications_of(bulletin, list(part.members), deps)
    await tally(cause, await route_all(cause, notifications, deps), deps, part.number)
