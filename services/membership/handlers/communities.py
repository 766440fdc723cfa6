"""Commands on communities and memberships, answered over request-reply.

Commands are answered up to 16 at once per subject, so every write two of them can race on is
a create (a membership, a community) or a compare-and-set (a community's settings); the loser
decides again from what is stored. Writes go into the in-memory indexes at once
(:mod:`shared.own_writes`), so a reply that shows what was written (a community's view with its
members) reads it from memory and nothing waits for a bucket's follower. A join stores the
membership before it publishes ``member_joined`` (the event says when they joined, which only
the stored membership fixes); a retry after a crash between the two publishes the same event id.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import replace
from typing import TypeVar

from services.membership.domain import model
from services.membership.domain.model import (
    FACILITATOR,
    Community,
    InvalidChange,
    Member,
    UnknownMember,
)
from services.membership.events import public
from services.membership.handlers import Deps
from services.membership.handlers.publishing import publish_community
from services.membership.handlers.queries import community_view
from shared.contracts.membership import (
    AddMember,
    ArchiveCommunity,
    ChangeRole,
    CommunityView,
    CreateCommunity,
    DecideJoinRequest,
    JoinCommunity,
    JoinResult,
    LeaveCommunity,
    LeaveReason,
    RequestResult,
    RequestToJoin,
    UpdateCommunity,
)
from shared.contracts.values import MemberRef
from shared.ids import derived_id
from shared.storage import StaleRevision, Versioned

A = TypeVar("A")
B = TypeVar("B")


async def active_member(member_id: str, deps: Deps) -> Member:
    found = await deps.store.member(member_id)
    if found is None or not found.value.active:
        raise UnknownMember(f"member {member_id!r} does not exist")
    return found.value


async def visible_community(community_id: str, viewer_id: str, deps: Deps) -> Versioned[Community]:
    """The community, if ``viewer_id`` may know it exists (a private one: only its members)."""
    found = await deps.store.community(community_id)
    is_member = deps.store.index.is_member(community_id, viewer_id)
    model.require_visible(community_id, found.value if found else None, viewer_is_member=is_member)
    assert found is not None  # require_visible refuses a missing community
    return found


async def create_community(command: CreateCommunity, deps: Deps) -> CommunityView:
    """Create a community; its facilitators (the creator if none are named) join it.
    Repeating the same request is harmless; a different one under the same id conflicts."""
    await active_member(command.actor_id, deps)
    facilitator_ids = tuple(command.facilitator_ids) or (command.actor_id,)
    known = {m for m in facilitator_ids if await deps.store.member(m) is not None}
    now = deps.clock()
    candidate = Community(
        community_id=command.community_id,
        home_region=deps.region,
        name=command.name,
        description=command.description,
        access=command.access.value,
        topics=tuple(command.topics),
        facilitator_ids=facilitator_ids,
        created_at=now,
        region_scope=tuple(command.region_scope),
    )
    existing = await deps.store.community(command.community_id)
    community = model.found_community(existing.value if existing else None, candidate, known)
    if existing is None:
        store = deps.store
        revision = await store.write(
            store.communities, community.community_id, community, revision=None
        )
        if revision is None:
            return await create_community(command, deps)  # created concurrently: decide again
    await deps.events.publish(
        public.community_created(community),
        event_id=derived_id(
            "community_created", community.community_id, community.created_at.isoformat()
        ),
        subject=community.community_id,
    )
    for facilitator_id in community.facilitator_ids:
        await join(community, await active_member(facilitator_id, deps), deps)
    return community_view(community, command.actor_id, deps)


async def update_community(command: UpdateCommunity, deps: Deps) -> CommunityView:
    """Change a community's settings (facilitators only)."""
    found = await visible_community(command.community_id, command.actor_id, deps)
    found.value.require_home(deps.region)
    found.value.require_facilitator(command.actor_id)
    changes = command.model_dump(
        exclude_unset=True, exclude={"actor_id", "community_id", "request_id"}
    )
    changes = {k: tuple(v) if isinstance(v, list) else v for k, v in changes.items()}
    community = model.updated(found.value, changes, deps.clock())
    return await store_community(found, community, command.actor_id, deps)


async def archive_community(command: ArchiveCommunity, deps: Deps) -> CommunityView:
    """Archive a community (facilitators only): no new members or posts."""
    found = await visible_community(command.community_id, command.actor_id, deps)
    found.value.require_home(deps.region)
    found.value.require_facilitator(command.actor_id)
    community = model.archived(found.value, deps.clock())
    return await store_community(found, community, command.actor_id, deps)


async def store_community(
    found: Versioned[Community], community: Community, viewer_id: str, deps: Deps
) -> CommunityView:
    changed = found.value.changed_fields(community)
    revision = found.revision
    if changed:
        store = deps.store
        written = await store.write(
            store.communities, community.community_id, community, revision=found.revision
        )
        if written is None:
            raise StaleRevision(f"community {community.community_id!r} changed meanwhile")
        revision = written
    await publish_community(community, revision, deps, changed)
    return community_view(community, viewer_id, deps)


async def join_community(command: JoinCommunity, deps: Deps) -> JoinResult:
    """A member joins a public community; their facilitators hear about it downstream."""
    member, found = await _both(  # one round trip for both
        active_member(command.member_id, deps),
        visible_community(command.community_id, command.member_id, deps),
    )
    community = found.value
    if deps.store.index.is_member(community.community_id, member.member_id):
        return await join(community, member, deps)
    model.join_directly(community, member, deps.clock())
    return await join(community, member, deps)


async def _both(first: Awaitable[A], second: Awaitable[B]) -> tuple[A, B]:
    """Both results, read at once; if both fail, the first one's error (as read in turn)."""
    a, b = await asyncio.gather(first, second, return_exceptions=True)
    for outcome in (a, b):
        if isinstance(outcome, BaseException):
            raise outcome
    return a, b  # type: ignore[return-value]


async def add_member(command: AddMember, deps: Deps) -> JoinResult:
    """A facilitator adds a member (how private and gated communities grow)."""
    community = (await visible_community(command.community_id, command.actor_id, deps)).value
    community.require_home(deps.region)
    community.require_facilitator(command.actor_id)
    return await join(community, await active_member(command.member_id, deps), deps)


async def join(community: Community, member: Member, deps: Deps) -> JoinResult:
    """Store the membership (unless it exists) and publish that they joined."""
    store = deps.store
    known = store.index.is_member(community.community_id, member.member_id)
    membership = await store.membership(community.community_id, member.member_id) if known else None
    already_member = membership is not None
    if membership is None:  # the index knows every membership stored (ours at once)
        membership = model.join(community, member, deps.clock())
        revision = await store.write(store.memberships, membership.key, membership, revision=None)
        if revision is None:
            return await join(community, member, deps)  # joined concurrently: report that
    await deps.events.publish(
        public.member_joined(community, member, membership),
        event_id=derived_id("member_joined", membership.key, membership.joined_at.isoformat()),
        subject=membership.member_id,
    )
    return JoinResult(
        community_id=community.community_id,
        member_id=member.member_id,
        already_member=already_member,
    )


async def leave_community(command: LeaveCommunity, deps: Deps) -> JoinResult:
    """A member leaves; the last facilitator leaving flags the community without one."""
    await visible_community(command.community_id, command.member_id, deps)
    if not deps.store.index.is_member(command.community_id, command.member_id):
        raise InvalidChange(f"{command.member_id!r} is not a member of {command.community_id!r}")
    member = MemberRef(member_id=command.member_id, home_region=deps.region)
    await remove_from_community(command.community_id, member, LeaveReason.LEFT, deps)
    return JoinResult(
        community_id=command.community_id, member_id=command.member_id, already_member=False
    )


async def remove_from_community(
    community_id: str,
    member: MemberRef,
    reason: LeaveReason,
    deps: Deps,
    *,
    successor: str | None = None,
) -> None:
    """Publish that ``member`` left and remove the membership. A facilitator's role goes to
    ``successor`` if they are a member; the last facilitator leaving flags the community."""
    found = await deps.store.community(community_id)
    membership = await deps.store.membership(community_id, member.member_id)
    if found is None or membership is None:
        return
    if successor and not deps.store.index.is_member(community_id, successor):
        successor = None
    community = model.after_leaving(found.value, member.member_id, successor, deps.clock())
    await deps.events.publish(
        public.member_left(community, member, reason, deps.clock()),
        event_id=derived_id("member_left", membership.key, membership.joined_at.isoformat()),
        subject=member.member_id,
    )
    store = deps.store
    await store.delete(store.memberships, membership.key, erase=reason is LeaveReason.ERASED)
    if community != found.value and found.value.home_region == deps.region:  # else: its home
        await store_community(found, community, member.member_id, deps)
    if successor and successor in community.facilitator_ids:
        await _set_role(community, successor, FACILITATOR, member.member_id, deps)


async def request_to_join(command: RequestToJoin, deps: Deps) -> RequestResult:
    """Ask to join an approval-gated community; its facilitators are told."""
    member = await active_member(command.member_id, deps)
    community = (await visible_community(command.community_id, member.member_id, deps)).value
    if deps.store.index.is_member(community.community_id, member.member_id):
        return RequestResult(
            community_id=community.community_id, member_id=member.member_id, status="member"
        )
    request = await deps.store.join_request(community.community_id, member.member_id)
    if request is None:
        request = model.request_to_join(community, member, command.message, deps.clock())
        await deps.store.join_requests.create(request.key, request)
    await deps.events.publish(
        public.join_requested(community, member, request.requested_at),
        event_id=derived_id("join_requested", request.key, request.requested_at.isoformat()),
        subject=member.member_id,
    )
    return RequestResult(
        community_id=community.community_id, member_id=member.member_id, status="pending"
    )


async def decide_join_request(command: DecideJoinRequest, deps: Deps) -> JoinResult:
    """A facilitator approves (they join) or denies a request; the member is told either way."""
    community = (await visible_community(command.community_id, command.actor_id, deps)).value
    community.require_home(deps.region)
    community.require_facilitator(command.actor_id)
    request = await deps.store.join_request(command.community_id, command.member_id)
    already_member = deps.store.index.is_member(command.community_id, command.member_id)
    if request is None and not already_member:
        raise InvalidChange(f"no pending request of {command.member_id!r} to join")
    home = request.home_region if request is not None and request.home_region else deps.region
    if command.approve and home == deps.region:  # one homed elsewhere joins there, when told
        await join(community, await active_member(command.member_id, deps), deps)
    if request is not None:
        ref = MemberRef(member_id=command.member_id, home_region=home)
        decided = public.join_request_decided(
            community, ref, command.approve, command.actor_id, command.reason, deps.clock()
        )
        await deps.events.publish(
            decided,
            event_id=derived_id(
                "join_request_decided", request.key, request.requested_at.isoformat()
            ),
            subject=command.member_id,
        )
        await deps.store.join_requests.delete(request.key)
    return JoinResult(
        community_id=community.community_id,
        member_id=command.member_id,
        already_member=already_member,
    )


async def change_role(command: ChangeRole, deps: Deps) -> CommunityView:
    """A facilitator makes a member a facilitator, or a facilitator a member."""
    found = await visible_community(command.community_id, command.actor_id, deps)
    found.value.require_home(deps.region)
    found.value.require_facilitator(command.actor_id)
    if not deps.store.index.is_member(command.community_id, command.member_id):
        raise InvalidChange(f"{command.member_id!r} is not a member of {command.community_id!r}")
    on = command.role.value == FACILITATOR
    community = replace(
        found.value.with_facilitator(command.member_id, on=on), updated_at=deps.clock()
    )
    view = await store_community(found, community, command.actor_id, deps)
    await _set_role(community, command.member_id, command.role.value, command.actor_id, deps)
    return view


async def _set_role(
    community: Community, member_id: str, role: str, actor_id: str, deps: Deps
) -> None:
    membership = await deps.store.membership(community.community_id, member_id)
    if membership is None:
        return
    if membership.role != role:
        updated = replace(membership, role=role)
        await deps.store.put(deps.store.memberships, updated.key, updated)
    ref = MemberRef(member_id=member_id, home_region=membership.home_region or deps.region)
    await deps.events.publish(
        public.role_changed(community, ref, role, actor_id, deps.clock()),
        event_id=derived_id(
            "role_changed", community.community_id, member_id, role, str(community.updated_at)
        ),
        subject=member_id,
    )
