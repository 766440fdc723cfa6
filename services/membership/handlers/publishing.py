"""Publishing a member's or a community's current state after a change.

Ids derive from the stored revision, so publishing the same state twice (a retry, a
redelivery) publishes the same event once. Handlers therefore publish after every write,
changed or not: a crash between writing and publishing heals on the next attempt.
"""

from __future__ import annotations

from services.membership.domain.model import Community, Member
from services.membership.events import public
from services.membership.handlers import Deps
from shared.ids import derived_id
from shared.tasks import pipelined


async def publish_member(
    member: Member, revision: int, deps: Deps, *, new: bool, changed: list[str]
) -> None:
    """The public profile (registered or updated), the personal contact and the confidential
    data, each as of ``revision``: pipelined, returning once all three are stored."""
    region, member_id = deps.region, member.member_id
    revision = member.published_revision(revision)
    publishes = []
    if new:
        publishes.append(
            deps.events.publish(
                public.member_registered(member, revision),
                event_id=derived_id("member_registered", member_id),
                subject=member_id,
            )
        )
    elif public_changes := sorted(set(changed) & public.PROFILE_FIELDS):
        publishes.append(
            deps.events.publish(
                public.member_updated(member, revision, public_changes, deps.clock()),
                event_id=derived_id("member_updated", member_id, str(revision)),
                subject=member_id,
            )
        )
    chain = await manager_chain(member, deps)
    publishes += [
        deps.events.publish(
            public.member_contact(member, revision),
            event_id=derived_id("member_contact", region, member_id, str(revision)),
            key=member_id,
        ),
        deps.events.publish(
            public.member_confidential(member, chain, revision),
            event_id=derived_id(
                "member_confidential", region, member_id, str(revision), ",".join(chain)
            ),
            key=member_id,
        ),
    ]
    await pipelined(publishes)


async def manager_chain(member: Member, deps: Deps, limit: int = 25) -> list[str]:
    """Their manager, that manager's manager, ... as the HR directory reports them."""
    chain: list[str] = []
    current = member.manager_id
    while current and current not in chain and current != member.member_id and len(chain) < limit:
        chain.append(current)
        current = deps.store.org.manager_of(current)
    return chain


async def publish_community(
    community: Community, revision: int, deps: Deps, changed: list[str]
) -> None:
    event_id = derived_id("community_updated", community.community_id, str(revision))
    await deps.events.publish(
        public.community_updated(community, revision, changed, deps.clock()),
        event_id=event_id,
        subject=community.community_id,
    )
