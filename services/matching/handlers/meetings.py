"""People to meet: a round per community and cadence period, run by the community's home
region, pairing its members across regions."""

from __future__ import annotations

from services.matching.domain.meetings import pair_round, round_of
from services.matching.events import public
from services.matching.handlers import Deps
from services.matching.store.buckets import MeetingRound
from shared.ids import derived_id
from shared.tasks import pipelined


async def run_meeting_rounds(deps: Deps) -> int:
    """The chore: for every community administered here whose current round has not run,
    pair its members and tell each pair. Returns how many pairs were proposed."""
    now, store = deps.clock(), deps.store
    number = round_of(now, deps.policy.meeting_cadence)
    proposed = 0
    for community in list(store.directory.items.values()):
        if community.archived or community.home_region != deps.region:
            continue
        key = f"{community.community_id}.{number}"
        held = store.rounds.get(key)
        if held is None:
            pairs = pair_round(
                store.model.members_of(community.community_id),
                recent_pairs=_recent_pairs(deps, community.community_id, number),
                community_name=community.name,
                start=now,
                seed=key,
            )
            round_ = MeetingRound(tuple(p.key for p in pairs))
            if await store.create("meetings", store.meetings, key, round_) is None:
                continue  # another replica ran this round
            await pipelined(
                deps.events.publish(
                    public.meeting_proposed(
                        community.community_id, community.name, number, pair, now
                    ),
                    event_id=derived_id("meeting_proposed", key, pair.key),
                    subject=community.community_id,
                )
                for pair in pairs
            )
            proposed += len(pairs)
    return proposed


def _recent_pairs(deps: Deps, community_id: str, number: int) -> set[str]:
    recent: set[str] = set()
    for earlier in range(number - deps.policy.meeting_memory, number):
        held = deps.store.rounds.get(f"{community_id}.{earlier}")
        recent.update(held.pairs if held else ())
    return recent
