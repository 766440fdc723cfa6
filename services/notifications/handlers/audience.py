"""Who is homed here, their timezone, the tags they follow and their communities; and who
hears of a new question: its community's members, the tag's followers, the people mentioned,
each once, with every reason."""

from __future__ import annotations

from collections.abc import Callable

from services.notifications.domain.audience import Audience, mentioned
from services.notifications.domain.model import Notification, Post, Reason, question_topic
from services.notifications.handlers import Deps
from services.notifications.handlers.activity import shown_name
from services.notifications.handlers.delivery import deliver
from services.notifications.handlers.reactions import (
    recipient,
    when_member_joined_welcome_and_tell_facilitators,
)
from shared.contracts import content as c
from shared.contracts import membership as m
from shared.contracts.values import MemberRef, Visibility
from shared.envelope import Envelope

EXCERPT = 280


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


def _reasons(
    question: c.QuestionPostedV1, member_id: str, mentions: set[str], deps: Deps
) -> tuple[Reason, ...]:
    person = deps.store.people.get(member_id)
    if person is None:
        return ()
    in_community = question.community_id in person.communities
    if question.visibility is Visibility.PRIVATE and not in_community:
        return ()  # private content reaches the community's members only
    reasons = []
    if member_id in mentions:
        reasons.append(Reason("mention", f"{question.asker.member_id} mentioned you"))
    reasons += [Reason(f"tag:{t}", f"you follow {t}") for t in question.tags
                if t in person.interests]  # fmt: skip
    if in_community:
        reasons.append(Reason(f"community:{question.community_id}",
                              f"you are a member of {question.community_name}"))  # fmt: skip
    return tuple(reasons)


async def when_question_posted_tell_followers(
    event: Envelope[c.QuestionPostedV1], deps: Deps
) -> None:
    """Community members, followers of its tags and the people it mentions hear of it once."""
    question = event.data
    people = deps.store.people
    candidates = set(people.by_community.get(question.community_id, ()))
    for tag in question.tags:
        candidates |= people.by_tag.get(tag, set())
    mentions = mentioned(f"{question.title}\n{question.text}")
    candidates |= {m for m in mentions if people.get(m)}
    candidates.discard(question.asker.member_id)
    asker = await shown_name(question.asker, deps)
    excerpt = question.text if len(question.text) <= EXCERPT else question.text[:EXCERPT] + "..."
    notifications = []
    for member_id in sorted(candidates):
        reasons = _reasons(question, member_id, mentions, deps)
        if not reasons:
            continue
        mention = reasons[0].key == "mention"
        new_question = (
            "new_question",
            f"New question in {question.community_name}: {question.title}",
        )
        notifications.append(Notification(
            recipient=recipient(MemberRef(member_id=member_id, home_region=deps.region)),
            kind="mention" if mention else new_question[0],
            title=f"{asker} mentioned you in {question.community_name}: {question.title}"
                  if mention else new_question[1],
            general=new_question if mention else None,
            headline=f"A question in {question.community_name}",
            body=f"{asker} asked: {question.title}\n\n{excerpt}",
            reasons=reasons,
            community_id=question.community_id,
            posts=(Post.question(question.question_id, question.community_id),),
            topic=question_topic(question.question_id),
            for_me=any(not r.key.startswith("community:") for r in reasons),
        ))  # fmt: skip
    await deliver(event, notifications, deps)
