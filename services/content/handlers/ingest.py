"""Content other internal systems publish into Guild (a chat bot's question, a catalogue entry).

Per event, two writes, each one round trip, in this order: the post (a create under an id
derived from the publisher's source and reference), then its event (``question_posted`` or
``software_announced``, its id derived from the post id). Nothing waits for a read model: the
post goes into the index at once (:mod:`shared.own_writes`); a post the index has not seen is
new and is created without a read; a copy of the event handled while the first is storing the
post leaves it to that one (which completes, or fails and is redelivered); the create decides
if another replica raced (the loser publishes the stored post's event). The post goes first
so that nobody hears of a post content cannot show yet, and so that every crash leaves what a
redelivery completes: a crash before the post is stored leaves nothing; after it, the
redelivery finds the post and publishes its event from the stored post, so the event is the
same (same time, same text) however often it is sent. The message is acked when both are
confirmed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from services.content.domain.model import QUESTION, SOFTWARE, SoftwareDetails
from services.content.events import public
from services.content.handlers import Deps
from services.content.handlers.common import PostExists, publish
from services.content.handlers.posts import publish_new_post
from shared.contracts.ingest import QuestionAskedV1, SoftwareCataloguedV1
from shared.envelope import Envelope
from shared.ids import derived_id


class CommunityNotKnownYet(Exception):
    """Transient: the community's creation may not have reached content yet. Retried, then
    dead-lettered if it never arrives."""


def _require_known(community_id: str, deps: Deps) -> None:
    if deps.store.community(community_id) is None:
        raise CommunityNotKnownYet(f"community {community_id!r} is not known")


async def _store_once(post_id: str, deps: Deps, store_new: Callable[[], Awaitable[object]]) -> None:
    """Store a new post (``store_new``) unless it is stored: then publish its event again."""
    if post_id in deps.store.storing:
        return  # a copy handled now stores it and publishes its event (or fails: redelivered)
    # a post the index has not seen is new (no read); one it has may be a change taken back
    found = await deps.store.post(post_id) if post_id in deps.store.index.pos else None
    if found is None:
        try:
            await store_new()
            return
        except PostExists:  # another replica stored it meanwhile
            found = await deps.store.post(post_id)
    community = deps.store.community(found.value.community_id) if found else None
    if found and community:
        await publish(
            public.published(found.value, community, deps.region),
            deps,  # type: ignore[arg-type]
            post_id,
            subject=post_id,
        )


async def when_question_asked_publish_it(event: Envelope[QuestionAskedV1], deps: Deps) -> None:
    """Store a question another system submitted, and publish it. The question id comes from
    the publisher's source and reference, so a re-sent question is stored once."""
    asked = event.data
    _require_known(asked.community_id, deps)
    post_id = derived_id("question", event.source, asked.question_ref)
    await _store_once(
        post_id,
        deps,
        lambda: publish_new_post(
            kind=QUESTION,
            community_id=asked.community_id,
            actor_id=asked.asker_id,
            title=asked.title,
            body=asked.text,
            tags=asked.tags,
            deps=deps,
            post_id=post_id,
            origin=event.source,
        ),
    )


async def when_software_catalogued_announce_it(
    event: Envelope[SoftwareCataloguedV1], deps: Deps
) -> None:
    """Announce a catalogue entry to its community (once per catalogue reference)."""
    entry = event.data
    _require_known(entry.community_id, deps)
    post_id = derived_id("software", event.source, entry.catalogue_ref)
    details = SoftwareDetails(
        repository_url=entry.repository_url,
        language=entry.language,
        licence=entry.licence,
        maintainers=tuple(entry.maintainer_ids),
    )
    await _store_once(
        post_id,
        deps,
        lambda: publish_new_post(
            kind=SOFTWARE,
            community_id=entry.community_id,
            actor_id=entry.author_id,
            title=entry.title,
            body=entry.body,
            tags=entry.tags,
            deps=deps,
            details=details,
            post_id=post_id,
            origin=event.source,
        ),
    )
