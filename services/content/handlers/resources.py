"""Shared resources: offers and requests, claims served first come first served, expiry."""

from __future__ import annotations

import logging
from datetime import datetime

from services.content.domain import model
from services.content.domain.model import (
    DECLINE_REASONS,
    RESOURCE_OFFER,
    RESOURCE_REQUEST,
    Claim,
    CommunityInfo,
    Post,
)
from services.content.events import public
from services.content.handlers import Deps
from services.content.handlers.common import member_info, post_for, publish, save_post
from services.content.handlers.posts import publish_new_post
from shared.contracts import content as c
from shared.ids import derived_id
from shared.storage import StaleRevision, Versioned

log = logging.getLogger("guild.content.resources")


async def offer_resource(command: c.OfferResource, deps: Deps) -> c.PostView:
    """Offer spare resources to a community."""
    if command.expires_at is not None and command.expires_at <= deps.clock():
        raise model.InvalidChange("expires_at is in the past")
    details = model.OfferDetails(
        resource_kind=command.resource_kind.value,
        item=command.item,
        quantity=command.quantity,
        expires_at=command.expires_at,
        allowed_regions=tuple(command.allowed_regions),
        allowed_legal_entities=tuple(command.allowed_legal_entities),
    )
    post = await publish_new_post(
        kind=RESOURCE_OFFER,
        community_id=command.community_id,
        actor_id=command.actor_id,
        title=command.item,
        body=command.details,
        tags=[],
        deps=deps,
        details=details,
    )
    return public.post_view(post)


async def request_resource(command: c.RequestResource, deps: Deps) -> c.PostView:
    """Ask a community for a resource."""
    details = model.RequestDetails(
        resource_kind=command.resource_kind.value,
        item=command.item,
        quantity=command.quantity,
        needed_by=command.needed_by,
    )
    post = await publish_new_post(
        kind=RESOURCE_REQUEST,
        community_id=command.community_id,
        actor_id=command.actor_id,
        title=command.item,
        body=command.details,
        tags=[],
        deps=deps,
        details=details,
    )
    return public.post_view(post)


def _result(offer: Post, claim: Claim, claims: list[Claim]) -> c.ClaimResult:
    status = model.claim_status(offer, claim)
    waiting = [w.claim_id for w in model.open_claims(offer, claims)]
    position = waiting.index(claim.claim_id) + 1 if claim.claim_id in waiting else None
    return c.ClaimResult(
        offer_id=offer.post_id,
        claim_id=claim.claim_id,
        claimant_id=claim.claimant_id,
        status=status,
        position=position,
        remaining=model.offer_remaining(offer),
    )


async def claim_resource(command: c.ClaimResource, deps: Deps) -> c.ClaimResult:
    """Claim a unit of an offer; claims are served in the order they arrive. An expired offer
    cannot be claimed. Claiming twice keeps the first place."""
    found, community = await post_for(command.offer_id, command.actor_id, deps)
    offer = found.value
    model.require_claimable(offer, member_info(command.actor_id, deps), deps.clock())
    claim = Claim(
        derived_id("claim", offer.post_id, command.actor_id),
        offer.post_id,
        command.actor_id,
        deps.clock(),
    )
    held = await deps.store.claims.get(claim.key)
    if held is None:
        await deps.store.claims.create(claim.key, claim)
    else:
        claim = held.value
    claims = [entry.value for entry in await deps.store.claims_of(offer.post_id)]
    result = _result(offer, claim, claims)
    await publish(
        public.resource_claimed(offer, community, deps.region, claim, result.position or 0),
        deps,
        claim.claim_id,
        subject=offer.post_id,
    )
    return result


async def hand_over(command: c.HandOver, deps: Deps) -> c.ClaimResult:
    """Hand a unit to the oldest open claim; the last unit closes the offer and tells the
    claimants still waiting that it was not possible."""
    while True:
        found, community = await post_for(command.offer_id, command.actor_id, deps)
        model.require_author_or_facilitator(found.value, community, command.actor_id)
        claims = [entry.value for entry in await deps.store.claims_of(found.value.post_id)]
        offer, claim = model.hand_over_next(found.value, claims, deps.clock())
        try:
            await _save_offer(found, offer, deps)
            break
        except StaleRevision:
            continue  # another hand-over or claim-closing won the race: decide again
    await publish(
        public.resource_handed_over(offer, community, deps.region, claim, deps.clock()),
        deps,
        claim.claim_id,
        "handed_over",
        subject=offer.post_id,
    )
    if model.offer_closed(offer):
        await _after_closing(offer, community, claims, deps)
    return _result(offer, claim, claims)


async def close_offer(command: c.CloseOffer, deps: Deps) -> c.PostView:
    """The offerer (or a facilitator) closes an offer; claims still waiting are declined."""
    found, community = await post_for(command.offer_id, command.actor_id, deps)
    model.require_author_or_facilitator(found.value, community, command.actor_id)
    offer = model.closed(found.value, "closed", deps.clock())
    await _save_offer(found, offer, deps)
    claims = [entry.value for entry in await deps.store.claims_of(offer.post_id)]
    await _after_closing(offer, community, claims, deps)
    return public.post_view(offer)


async def _save_offer(found: Versioned[Post], offer: Post, deps: Deps) -> None:
    await save_post(offer, deps, revision=found.revision)


async def _after_closing(
    offer: Post, community: CommunityInfo, claims: list[Claim], deps: Deps
) -> None:
    """Tell every claim the offer did not serve why, then that the offer closed."""
    reason = str(model.offer_closed(offer))
    now = deps.clock()
    for claim in claims:
        if claim.claim_id not in model.handed_to(offer):
            await publish(
                public.claim_declined(
                    offer, community, deps.region, claim, DECLINE_REASONS[reason], now
                ),
                deps,
                claim.claim_id,
                "declined",
                subject=offer.post_id,
            )
    await publish(
        public.offer_closed(offer, community, deps.region, reason, now),
        deps,
        offer.post_id,
        "closed",
        subject=offer.post_id,
    )


async def expire_offers(deps: Deps, now: datetime | None = None) -> int:
    """Close every open offer past its expiry; returns how many. Runs every minute."""
    now = now or deps.clock()
    expired = 0
    for post_id, expires in list(deps.store.index.expiring.items()):
        if expires > now.timestamp():
            continue
        found = await deps.store.post(post_id)
        community = deps.store.community(found.value.community_id) if found else None
        if found is None or community is None or model.offer_closed(found.value):
            continue
        offer = model.closed(found.value, "expired", now)
        try:
            await _save_offer(found, offer, deps)
        except StaleRevision:
            continue  # changed meanwhile: the next round looks again
        claims = [entry.value for entry in await deps.store.claims_of(post_id)]
        await _after_closing(offer, community, claims, deps)
        expired += 1
    return expired
