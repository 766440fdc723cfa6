"""Resource requests matched to offers; openings matched (confidentially) to people open to a
move; new articles and software recommended to the members they fit."""

from __future__ import annotations

from dataclasses import replace

from services.matching.domain.profiles import Profile
from services.matching.domain.sharing import (
    Confidential,
    Need,
    Offer,
    content_fit,
    job_fit,
    offer_for,
    requests_for,
)
from services.matching.events import public
from services.matching.handlers import Deps
from shared.contracts import content as c
from shared.contracts.membership import MemberConfidentialV1
from shared.contracts.values import Visibility
from shared.envelope import Envelope
from shared.ids import derived_id

# ------------------------------------------------------------------ resources


def _offer(event: c.ResourceOfferedV1) -> Offer:
    post = event.post
    return Offer(
        post_id=post.post_id,
        community_id=post.community_id,
        community_name=post.community_name,
        private=post.visibility == Visibility.PRIVATE,
        offerer_id=post.author.member_id,
        offerer_home=post.author.home_region,
        kind=event.resource_kind.value,
        item=event.item,
        quantity=event.quantity,
        offered_at=event.offered_at,
        expires_at=event.expires_at,
        allowed_regions=tuple(event.allowed_regions),
        allowed_legal_entities=tuple(event.allowed_legal_entities),
    )


def _need(event: c.ResourceRequestedV1) -> Need:
    post = event.post
    return Need(
        post_id=post.post_id,
        community_id=post.community_id,
        community_name=post.community_name,
        private=post.visibility == Visibility.PRIVATE,
        requester_id=post.author.member_id,
        requester_home=post.author.home_region,
        kind=event.resource_kind.value,
        item=event.item,
        quantity=event.quantity,
        requested_at=event.requested_at,
    )


def _offers(deps: Deps) -> list[Offer]:
    return [r for r in deps.store.shared.items.values() if isinstance(r, Offer)]


def _needs(deps: Deps) -> list[Need]:
    return [r for r in deps.store.shared.items.values() if isinstance(r, Need) and r.open]


async def when_resource_offered_match_requests(
    event: Envelope[c.ResourceOfferedV1], deps: Deps
) -> None:
    """The open requests of members homed here that the offer fits, first requested first."""
    offer = deps.store.shared.get(f"offer.{event.data.post.post_id}")
    if not isinstance(offer, Offer):
        offer = _offer(event.data)
        await _save(f"offer.{offer.post_id}", offer, deps)
    profiles = {
        n.requester_id: p
        for n in _needs(deps)
        if (p := deps.store.model.profile(n.requester_id)) is not None
    }
    for need, reasons in requests_for(offer, _needs(deps), profiles, deps.clock()):
        offer = await _match(offer, need, reasons, deps)


async def when_resource_requested_find_offer(
    event: Envelope[c.ResourceRequestedV1], deps: Deps
) -> None:
    """For a request by a member homed here: the oldest open offer that fits it."""
    if event.data.post.author.home_region != deps.region:
        return
    key = f"need.{event.data.post.post_id}"
    need = deps.store.shared.get(key)
    if not isinstance(need, Need):
        need = _need(event.data)
        await _save(key, need, deps)
    requester = deps.store.model.profile(need.requester_id)
    found = offer_for(need, _offers(deps), requester, deps.clock())
    if found is not None:
        await _match(found[0], need, found[1], deps)


async def _match(offer: Offer, need: Need, reasons: list[str], deps: Deps) -> Offer:
    offer = offer.with_match(need.post_id)
    await _save(f"offer.{offer.post_id}", offer, deps)
    await _save(f"need.{need.post_id}", replace(need, matched_offer=offer.post_id), deps)
    matched = public.resource_matched(offer, need, len(offer.matched), reasons, deps.clock())
    event_id = derived_id("resource_matched", offer.post_id, need.post_id)
    await deps.events.publish(matched, event_id=event_id, subject=offer.post_id)
    return offer


async def _save(key: str, value: Offer | Need, deps: Deps) -> None:
    await deps.store.put("resources", deps.store.resources, key, value)


async def when_resource_handed_over_count_it(
    event: Envelope[c.ResourceHandedOverV1], deps: Deps
) -> None:
    """Units handed over are no longer available; the receiver's request is served."""
    key = f"offer.{event.data.offer.post_id}"
    offer = deps.store.shared.get(key)
    if isinstance(offer, Offer):
        handed = offer.quantity - event.data.remaining
        await _save(key, replace(offer, handed_over=max(offer.handed_over, handed)), deps)
    for need in _needs(deps) + [
        n for n in deps.store.shared.items.values() if isinstance(n, Need) and n.matched_offer
    ]:
        if need.requester_id == event.data.claimant.member_id and not need.served:
            await _save(f"need.{need.post_id}", replace(need, served=True), deps)


async def when_offer_closed_forget_it(event: Envelope[c.ResourceOfferClosedV1], deps: Deps) -> None:
    """A closed offer is matched to nobody any more."""
    key = f"offer.{event.data.offer.post_id}"
    if deps.store.shared.get(key) is not None:
        await deps.store.delete("resources", deps.store.resources, key)


# ------------------------------------------------------------------ jobs


async def when_member_confidential_keep_it(
    event: Envelope[MemberConfidentialV1], deps: Deps
) -> None:
    """Whether a member homed here is open to a move, and their manager chain (home only)."""
    data = event.data
    held = deps.store.secrets.get(data.member_id)
    if held is not None and held.revision >= data.revision:
        return
    secret = Confidential(
        data.member_id, data.open_to_move, tuple(data.manager_chain), data.revision
    )
    await deps.store.put("confidential", deps.store.confidential, data.member_id, secret)


async def when_job_posted_tell_who_fits(event: Envelope[c.JobPostedV1], deps: Deps) -> None:
    """Each member homed here who is open to a move and fits hears about it, alone: a personal
    event that stays in their home region; no event others can read says who matched."""
    job, now = event.data, deps.clock()
    for secret in list(deps.store.secrets.items.values()):
        profile = deps.store.model.profile(secret.member_id)
        if profile is None or profile.home_region != deps.region:
            continue
        fit = job_fit(
            skills=job.skills,
            location=job.location,
            poster_id=job.post.author.member_id,
            community_id=job.post.community_id,
            private=job.post.visibility == Visibility.PRIVATE,
            profile=profile,
            confidential=secret,
            today=now,
        )
        if fit is not None:
            await deps.events.publish_caused_by(
                event,
                public.job_matched(job, fit, now),
                purpose=f"job_matched.{fit.member_id}",
                key=fit.member_id,
            )


# ------------------------------------------------------------------ content


async def when_content_published_recommend_it(
    event: Envelope[c.PracticePublishedV1] | Envelope[c.SoftwareAnnouncedV1], deps: Deps
) -> None:
    """A new article or announcement goes to the members homed here whose interests and
    skills fit it (not to everyone); a private community's only to its members."""
    data = event.data
    post = data.post
    members: list[Profile] = (
        deps.store.model.members_of(post.community_id)
        if post.visibility == Visibility.PRIVATE
        else list(deps.store.model.all_profiles())
    )
    today = deps.clock().date()
    fits = [
        f
        for p in members
        if p.home_region == deps.region
        and p.member_id != post.author.member_id
        and p.available_on(today)
        and (f := content_fit(data.tags, p)) is not None
    ]
    fits.sort(key=lambda f: (-f.score, f.member_id))
    chosen = fits[: deps.policy.recommendations_per_post]
    if chosen:
        recommended = public.content_recommended(post, data.title, data.tags, chosen, deps.clock())
        await deps.events.publish_caused_by(
            event, recommended, purpose="content_recommended", subject=post.post_id
        )
