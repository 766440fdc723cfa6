"""The community pulse: a week of activity, as a query and as a weekly event."""

from __future__ import annotations

import logging
import statistics
from collections import Counter
from datetime import datetime, timedelta

from services.content.domain.model import week_bounds, week_of
from services.content.events import public
from services.content.handlers import Deps
from services.content.handlers.common import publish
from services.content.store.index import ANSWER_CODE, QUESTION_CODE
from shared.contracts.content import HelpfulMember, PulseFigures
from shared.contracts.values import MemberRef

log = logging.getLogger("guild.content.pulse")
WEEK = timedelta(days=7)


def figures(community_id: str, week: str, deps: Deps) -> PulseFigures:
    """What happened in ``community_id`` during ``week`` (questions answered so far count)."""
    start, end = (moment.timestamp() for moment in week_bounds(week))
    index, votes = deps.store.index, deps.store.votes
    code = index.communities.get(community_id)
    joined = Counter(
        j.region
        for j in deps.store.membership.joined(community_id)
        if start <= j.joined_at.timestamp() < end
    )
    questions = [
        at
        for at in (
            index.by_community_kind.get((code, QUESTION_CODE), ()) if code is not None else ()
        )
        if index.live(at) and not index.hidden(at)
    ]
    asked = [at for at in questions if start <= index.created[at] < end]
    answered = [at for at in asked if index.answers[at] > 0]
    waits = [(index.first_answer[at] - index.created[at]) / 60 for at in answered]
    helpful: dict[str, list[int]] = {}
    accepted = {index.accepted_answer(at) for at in questions} - {None}
    for at in index.by_community_kind.get((code, ANSWER_CODE), ()) if code is not None else ():
        if index.live(at) and start <= index.created[at] < end:
            counts = helpful.setdefault(index.author_of(at), [0, 0, 0])
            counts[0] += 1
            counts[1] += index.ids[at] in accepted
            counts[2] += max(votes.score.get(index.ids[at], 0), 0)
    best = sorted(
        helpful.items(), key=lambda item: (-item[1][1], -item[1][0], -item[1][2], item[0])
    )
    return PulseFigures(
        week=week,
        new_members_by_region=dict(sorted(joined.items())),
        questions_asked=len(asked),
        questions_answered=len(answered),
        median_minutes_to_first_answer=round(statistics.median(waits), 1) if waits else None,
        unanswered_questions=sum(1 for at in questions if index.answers[at] == 0),
        most_helpful=[
            HelpfulMember(
                member=MemberRef(member_id=member_id, home_region=deps.region),
                answers=a,
                accepted=acc,
                upvotes=up,
            )
            for member_id, (a, acc, up) in best[:5]
        ],
    )


async def publish_pulses(deps: Deps, now: datetime | None = None) -> int:
    """Publish last week's pulse of every active community, once (a marker per community and
    week decides which replica publishes). Returns how many were published."""
    now = now or deps.clock()
    week = week_of(now - timedelta(days=7))
    published = 0
    week_start, _ = week_bounds(week)
    for community in list(deps.store.directory.items.values()):
        existed = community.created_at is not None and community.created_at < week_start + WEEK
        if community.archived or not existed:
            continue
        marker = f"{community.community_id}.{week.replace('-', '_')}"
        if await deps.store.pulses.create(marker, now.isoformat()) is None:
            continue  # published already (by this replica or another)
        try:
            pulse = public.community_pulse(
                community, deps.region, figures(community.community_id, week, deps), now
            )
            await publish(pulse, deps, community.community_id, week, subject=community.community_id)
        except Exception:
            await deps.store.pulses.delete(marker)  # the next round tries again
            raise
        published += 1
    if published:
        log.info("weekly pulses published", extra={"week": week, "communities": published})
    return published
