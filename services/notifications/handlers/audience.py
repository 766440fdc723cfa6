"""Who is homed here, their timezone, the tags they follow and their communities; and who
hears of a new question: its community's members, the tag's followers, the people mentioned,
each once, with every reason."""

from __future__ import annotations

from collections.abc import Callable

from services.notifications.domain.audience import Audience, mentioned
from services.notifications.domain.bulletins import (
    Bulletin,
    audience_of,
    notification_for,
    quoted,
)
from services.notifications.handlers import Deps
from services.notifications.handlers.activity import shown_name
from services.notifications.handlers.delivery import deliver
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
    )


async def when_question_posted_tell_followers(
    event: Envelope[c.QuestionPostedV1], deps: Deps
) -> None:
    """Community members, followers of its tags and the people it mentions hear of it once;
    the question is kept once for the digests of those it waits for there."""
    question, people = event.data, deps.store.people
    bulletin = bulletin_of(event, await shown_name(question.asker, deps), deps)
    excerpt = quoted(question.text)
    candidates = audience_of(bulletin, people.by_community, people.by_tag, people.items)
    notifications = [
        found
        for member_id in sorted(candidates)
        if (found := notification_for(bulletin, people.get(member_id), deps.region, excerpt))
    ]
    await deliver(event, notifications, deps, bulletin)
