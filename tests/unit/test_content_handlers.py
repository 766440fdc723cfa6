"""Content's handlers on in-memory fakes of its store and publisher: who may post, and an
offer's typed details from the command to the stored post and the public events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.content.domain.model import (
    CommunityInfo,
    Joined,
    MemberInfo,
    NotAllowed,
    OfferDetails,
    UnknownCommunity,
)
from services.content.handlers import Deps
from services.content.handlers.posts import post_question
from services.content.handlers.resources import claim_resource, hand_over, offer_resource
from shared.contracts import content as c
from tests import fakes

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@pytest.fixture
async def deps() -> Deps:
    store = fakes.content_store()
    for access in ("public", "gated", "private"):
        visibility = "private" if access == "private" else "public"
        await store.communities.put(
            access, CommunityInfo(access, access.title(), visibility, access, ("fac",))
        )
        await store.joined.put(f"{access}.fac", Joined(access, "fac", "eu", NOW))
    for member_id in ("fac", "ana", "bob"):
        await store.members.put(member_id, MemberInfo(member_id, "eu", "eu"))
    return Deps(store=store, events=fakes.FakePublisher(), region="eu", clock=lambda: NOW)  # type: ignore[arg-type]


def question(community_id: str, actor_id: str = "ana") -> c.PostQuestion:
    return c.PostQuestion(
        actor_id=actor_id, community_id=community_id, title="How?", text="Well?", tags=["go"]
    )


async def test_a_member_of_the_company_asks_in_a_public_community(deps):
    view = await post_question(question("public"), deps)

    assert (await deps.store.post(view.post_id)) is not None
    (posted,) = deps.events.of(c.QuestionPostedV1)
    assert (posted.question_id, posted.community_id) == (view.post_id, "public")


async def test_outsiders_do_not_post_in_a_gated_community(deps):
    with pytest.raises(NotAllowed):
        await post_question(question("gated"), deps)
    await post_question(question("gated", actor_id="fac"), deps)


async def test_outsiders_do_not_find_a_private_community_to_post_in(deps):
    with pytest.raises(UnknownCommunity):
        await post_question(question("private"), deps)
    assert deps.events.published == []


async def test_an_offer_is_stored_with_typed_details_and_handed_over_in_claim_order(deps):
    expires = NOW + timedelta(days=7)
    view = await offer_resource(
        c.OfferResource(
            actor_id="fac", community_id="public", resource_kind=c.ResourceKind.LICENCE_SEATS,
            item="IDE seats", quantity=1, expires_at=expires, allowed_regions=["eu"],
        ),
        deps,
    )  # fmt: skip
    stored = await deps.store.post(view.post_id)
    assert stored is not None
    assert stored.value.details == OfferDetails(
        "licence_seats", "IDE seats", 1, expires_at=expires, allowed_regions=("eu",)
    )
    (offered,) = deps.events.of(c.ResourceOfferedV1)
    assert (offered.quantity, offered.expires_at) == (1, expires)

    for member_id in ("ana", "bob"):
        await claim_resource(c.ClaimResource(actor_id=member_id, offer_id=view.post_id), deps)
    served = await hand_over(c.HandOver(actor_id="fac", offer_id=view.post_id), deps)

    assert served.claimant_id == "ana"
    after = (await deps.store.post(view.post_id)).value.details
    assert (after.closed, after.closed_at, len(after.handed_to)) == ("handed_over", NOW, 1)
    (declined,) = deps.events.of(c.ResourceClaimDeclinedV1)
    assert declined.claimant.member_id == "bob"
    assert deps.events.of(c.ResourceOfferClosedV1)[0].handed_over == 1
