"""Reactions to membership's events: what content must know about communities and members."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from services.content.domain.model import CommunityInfo, Joined, MemberInfo
from services.content.handlers import Deps
from shared.contracts import membership as m
from shared.envelope import Envelope
from shared.ids import erasure_pseudonym, mentions_id


async def _keep_community(info: CommunityInfo, deps: Deps) -> None:
    held = deps.store.community(info.community_id)
    if held is None or held.revision <= info.revision:
        created = held.created_at if held and held.created_at else info.created_at
        await deps.store.communities.put(info.community_id, replace(info, created_at=created))


async def when_community_created_remember_it(
    event: Envelope[m.CommunityCreatedV1], deps: Deps
) -> None:
    """Keep what content needs to know about a new community."""
    c = event.data
    facilitators = tuple(f.member_id for f in c.facilitators)
    info = CommunityInfo(
        c.community_id,
        c.name,
        c.visibility.value,
        c.access.value,
        facilitators,
        archived=False,
        revision=0,
        created_at=c.created_at,
    )
    await _keep_community(info, deps)


async def when_community_updated_remember_it(
    event: Envelope[m.CommunityUpdatedV1], deps: Deps
) -> None:
    """Keep its settings, facilitators and archived state (newer revisions only)."""
    c = event.data
    facilitators = tuple(f.member_id for f in c.facilitators)
    info = CommunityInfo(
        c.community_id,
        c.name,
        c.visibility.value,
        c.access.value,
        facilitators,
        archived=c.archived,
        revision=c.revision,
        created_at=c.updated_at,
    )
    await _keep_community(info, deps)


async def _erased_since(event: Envelope[Any], member_id: str, deps: Deps) -> bool:
    """Whether ``member_id`` was erased after ``event`` happened: then the event is stale (a
    retry delayed past the erasure) and must not bring back what was erased."""
    return await deps.store.members.erased_after(member_id, event.time)


async def _keep_member(
    event: Envelope[Any], profile: m.MemberProfile, revision: int, deps: Deps
) -> None:
    if await _erased_since(event, profile.member_id, deps):
        return
    held = deps.store.people.get(profile.member_id)
    if held is None or held.revision <= revision:
        info = MemberInfo(
            profile.member_id,
            profile.home_region,
            profile.region,
            profile.legal_entity,
            True,
            revision,
        )
        await deps.store.members.put(profile.member_id, info)


async def when_member_registered_remember_them(
    event: Envelope[m.MemberRegisteredV1], deps: Deps
) -> None:
    """Keep their work region and legal entity (for who may claim what)."""
    await _keep_member(event, event.data.member, event.data.revision, deps)


async def when_member_updated_remember_them(event: Envelope[m.MemberUpdatedV1], deps: Deps) -> None:
    """Keep their newest region and legal entity."""
    await _keep_member(event, event.data.member, event.data.revision, deps)


async def when_member_joined_remember_it(event: Envelope[m.MemberJoinedV1], deps: Deps) -> None:
    """They may now see the community's content (if private) and count in its pulse."""
    j = event.data
    if await _erased_since(event, j.member.member_id, deps):
        return
    joined = Joined(j.community_id, j.member.member_id, j.member.region, j.joined_at)
    await deps.store.joined.put(f"{j.community_id}.{j.member.member_id}", joined)
    if deps.store.people.get(j.member.member_id) is None:
        await _keep_member(event, j.member, 0, deps)


async def when_member_left_forget_it(event: Envelope[m.MemberLeftV1], deps: Deps) -> None:
    """They no longer see the community's private content."""
    await deps.store.joined.delete(f"{event.data.community_id}.{event.data.member.member_id}")


async def when_member_deactivated_stop_them(
    event: Envelope[m.MemberDeactivatedV1], deps: Deps
) -> None:
    """Departed members post and claim no more."""
    held = deps.store.people.get(event.data.member.member_id)
    if held is not None and held.active:
        await deps.store.members.put(held.member_id, replace(held, active=False))


async def when_member_erased_forget_them(event: Envelope[m.MemberErasedV1], deps: Deps) -> None:
    """Their posts stay (threads keep their sense) under a pseudonym, the revisions naming
    them securely deleted; their votes, memberships and what content knew of them go."""
    member_id = event.data.member.member_id
    alias = erasure_pseudonym(member_id, event.data.pseudonym, deps.pseudonym_key)
    posts = deps.store.posts

    def by_alias(data: bytes) -> bytes | None:
        post = posts.decode(data)
        return posts.encode(replace(post, author_id=alias)) if post.author_id == member_id else None

    index = deps.store.index
    author = index.members.get(member_id)
    if author is None:  # a retried erasure: the posts rewritten already go by the alias
        author = index.members.get(alias)
    positions = list(index.by_author.get(author, ())) if author is not None else []
    for post_id in [index.ids[at] for at in positions]:
        await posts.rewrite(post_id, by_alias)
    for key in [k for k in deps.store.votes.held if k.endswith(f".{member_id}")]:
        await deps.store.reactions.erase(key)
    for community_id in list(deps.store.membership.member_of.get(member_id, ())):
        await deps.store.joined.erase(f"{community_id}.{member_id}")
    await deps.store.members.erase(member_id)
    await deps.store.dead_letters.erase(mentions_id(member_id))
