"""What membership keeps of other regions' communities and memberships.

Each community is administered by its home region, each membership by its member's home
region; every region keeps a replica of the rest from the public events its EVENTS stream
sources from its peers (ids, names, topics and roles: nothing personal). So a member homed in
``us`` joins a community homed in ``eu`` through ``us``'s membership service, which stores the
membership and publishes ``member_joined``; ``eu`` records it from that event. A change to a
community (settings, facilitators, decisions on requests) is made in its home region only,
and a facilitator leaving it from another region is handed to the home region by the same
events. A request to join a gated community homed elsewhere is stored in the member's region
and replicated to the community's; the facilitator's decision comes back as
``join_request_decided``, and the member's region then makes them a member.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime

from services.membership.domain import model
from services.membership.domain.model import (
    Community,
    InvalidChange,
    JoinRequest,
    Membership,
    UnknownMember,
)
from services.membership.handlers import Deps
from services.membership.handlers.communities import active_member, join, store_community
from shared.contracts.membership import (
    CommunityCreatedV1,
    CommunityUpdatedV1,
    JoinRequestDecidedV1,
    JoinRequestedV1,
    LeaveReason,
    MemberDeactivatedV1,
    MemberErasedV1,
    MemberJoinedV1,
    MemberLeftV1,
    RoleChangedV1,
)
from shared.envelope import Envelope, MalformedEvent

log = logging.getLogger(__name__)


def _replica(
    event: Envelope[CommunityCreatedV1] | Envelope[CommunityUpdatedV1], at: datetime
) -> Community:
    data, home = event.data, event.data.home_region or event.region
    if home is None:
        raise MalformedEvent(f"{event.type} {event.id} names no home region for its community")
    return Community(
        community_id=data.community_id,
        home_region=home,
        name=data.name,
        description=data.description,
        access=data.access.value,
        topics=tuple(data.topics),
        facilitator_ids=tuple(f.member_id for f in data.facilitators),
        created_at=at,
        region_scope=tuple(data.region_scope),
        archived=getattr(data, "archived", False),
        updated_at=getattr(data, "updated_at", None),
    )


async def when_peer_community_created_keep_replica(
    event: Envelope[CommunityCreatedV1], deps: Deps
) -> None:
    """A community created in another region: known here (first creation wins; an update
    that arrived meanwhile is kept)."""
    if await deps.store.community(event.data.community_id) is not None:
        return
    community = _replica(event, event.data.created_at)
    await deps.store.write(deps.store.communities, community.community_id, community, revision=None)


async def when_peer_community_updated_keep_replica(
    event: Envelope[CommunityUpdatedV1], deps: Deps
) -> None:
    """Its settings, facilitators or archiving, as its home region says; never older ones."""
    found = await deps.store.community(event.data.community_id)
    if found is not None and found.value.home_region == deps.region:
        return  # ours: we decide its state
    held = found.value.updated_at if found is not None else None
    if held is not None and held >= event.data.updated_at:
        return
    created = found.value.created_at if found is not None else event.data.updated_at
    community = _replica(event, created)
    await deps.store.put(deps.store.communities, community.community_id, community)


async def when_peer_member_joined_keep_membership(
    event: Envelope[MemberJoinedV1], deps: Deps
) -> None:
    """Who is in which community, whichever region they are homed in."""
    data = event.data
    membership = Membership(data.community_id, data.member.member_id, data.role.value,
                            data.joined_at, home_region=data.member.home_region)  # fmt: skip
    if await deps.store.membership(data.community_id, data.member.member_id) is None:
        await deps.store.write(deps.store.memberships, membership.key, membership, revision=None)
    request = await deps.store.join_request(data.community_id, data.member.member_id)
    if request is not None:
        await deps.store.join_requests.delete(request.key)


async def when_peer_member_left_forget_membership(
    event: Envelope[MemberLeftV1], deps: Deps
) -> None:
    """They left (or were erased); a community homed here that they facilitated is changed
    here, as if they had left through this region."""
    data = event.data
    membership = await deps.store.membership(data.community_id, data.member.member_id)
    if membership is not None:
        erase = data.reason is LeaveReason.ERASED
        await deps.store.delete(deps.store.memberships, membership.key, erase=erase)
    found = await deps.store.community(data.community_id)
    if found is None or found.value.home_region != deps.region:
        return
    after = model.after_leaving(found.value, data.member.member_id, None, data.left_at)
    if after != found.value:
        await store_community(found, after, data.member.member_id, deps)


async def when_peer_role_changed_keep_role(event: Envelope[RoleChangedV1], deps: Deps) -> None:
    data = event.data
    membership = await deps.store.membership(data.community_id, data.member.member_id)
    if membership is not None and membership.role != data.role.value:
        updated = replace(membership, role=data.role.value)
        await deps.store.put(deps.store.memberships, updated.key, updated)


async def when_peer_join_requested_keep_request(
    event: Envelope[JoinRequestedV1], deps: Deps
) -> None:
    """A request to join a community homed here, from a member homed elsewhere: its
    facilitators see it here and decide it here (their message stays in the member's region)."""
    data = event.data
    found = await deps.store.community(data.community_id)
    if found is None or found.value.home_region != deps.region:
        return
    if await deps.store.join_request(data.community_id, data.member.member_id) is not None:
        return
    request = JoinRequest(data.community_id, data.member.member_id, "", data.requested_at,
                          home_region=data.member.home_region)  # fmt: skip
    await deps.store.join_requests.create(request.key, request)


async def when_peer_join_request_decided_settle_request(
    event: Envelope[JoinRequestDecidedV1], deps: Deps
) -> None:
    """The community's home region decided a request of a member homed here: approved, they
    join (here, where their membership is administered); either way the request is closed."""
    data = event.data
    if data.member.home_region != deps.region:
        return
    request = await deps.store.join_request(data.community_id, data.member.member_id)
    if request is None:
        return
    found = await deps.store.community(data.community_id)
    if data.approved and found is not None:
        try:
            await join(found.value, await active_member(data.member.member_id, deps), deps)
        except (UnknownMember, InvalidChange) as refused:  # left the company, or it archived
            why = {"event_id": event.id, "community_id": data.community_id, "why": str(refused)}
            log.info("approved request to join not carried out", extra=why)
    await deps.store.join_requests.delete(request.key)


async def when_peer_member_gone_drop_requests(
    event: Envelope[MemberDeactivatedV1] | Envelope[MemberErasedV1], deps: Deps
) -> None:
    """A member homed elsewhere left the company or was erased: the replicas of their pending
    requests to join communities homed here go (securely, for an erasure); their memberships
    go with the ``member_left`` their region publishes."""
    member = event.data.member
    if member.home_region == deps.region:
        return
    for request in await deps.store.requests_of(member.member_id):
        if isinstance(event.data, MemberErasedV1):
            await deps.store.join_requests.erase(request.key)
        else:
            await deps.store.join_requests.delete(request.key)
