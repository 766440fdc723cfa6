"""An erased member's records that stay (their posts, their questions) go by a pseudonym that
nobody can recompute from their id: membership draws it at random and carries it in
``member_erased``; a notice without one gets a pseudonym keyed with a secret."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from services.content.domain.model import CommunityInfo, Joined, MemberInfo
from services.content.handlers import Deps
from services.content.handlers.directory import when_member_erased_forget_them
from services.content.handlers.posts import post_question
from services.membership.events import public
from shared.contracts import content as c
from shared.contracts import membership as m
from shared.envelope import new_envelope
from shared.ids import erasure_pseudonym
from tests import fakes

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
GUESSED = [f"e{n}" for n in range(1000, 1100)]


def guessable(member_id: str) -> set[str]:
    """Every pseudonym one could compute from an id alone, with a common hash."""
    digests = (hashlib.sha256, hashlib.sha1, hashlib.md5, hashlib.blake2b)
    return {
        f"erased-{digest(member_id.encode()).hexdigest()[:length]}"
        for digest in digests
        for length in range(8, 65, 4)
    }


def test_each_erasure_draws_a_pseudonym_nobody_can_recompute_from_the_id():
    first = public.member_erased("e1001", "eu", NOW, "PRIV-1")
    again = public.member_erased("e1001", "eu", NOW, "PRIV-1")

    assert first.pseudonym is not None
    assert first.pseudonym.startswith("erased-")
    assert first.pseudonym != again.pseudonym
    assert first.pseudonym not in guessable("e1001")


def test_a_notice_without_a_pseudonym_gets_one_keyed_with_a_secret():
    notice = m.MemberErasedV1.model_validate(
        {"member": {"member_id": "e1001", "home_region": "eu"}, "erased_at": NOW.isoformat()}
    )
    keyed = erasure_pseudonym("e1001", notice.pseudonym, b"one secret")

    assert keyed == erasure_pseudonym("e1001", None, b"one secret")  # a retry: the same
    assert keyed != erasure_pseudonym("e1001", None, b"another secret")
    assert keyed not in guessable("e1001")
    carried = "erased-0123456789abcdef01234567"
    assert erasure_pseudonym("e1001", carried, b"one secret") == carried


async def test_content_keeps_the_posts_under_the_pseudonym_the_notice_carries():
    store = fakes.content_store()
    await store.members.put("e1001", MemberInfo("e1001", "eu", "eu"))
    deps = Deps(store=store, events=fakes.FakePublisher(), region="eu", clock=lambda: NOW)  # type: ignore[arg-type]

    await store.communities.put("go", CommunityInfo("go", "Go", "public", "public", ("e1001",)))
    await store.joined.put("go.e1001", Joined("go", "e1001", "eu", NOW))
    view = await post_question(
        c.PostQuestion(actor_id="e1001", community_id="go", title="How?", text="?", tags=["go"]),
        deps,
    )
    notice = public.member_erased("e1001", "eu", NOW, "PRIV-1")

    envelope = new_envelope(
        event_id="x1", source="/membership/eu", event_type=notice.TYPE, data=notice, region="eu"
    )

    await when_member_erased_forget_them(envelope, deps)

    kept = await store.post(view.post_id)
    assert kept is not None
    assert kept.value.author_id == notice.pseudonym
