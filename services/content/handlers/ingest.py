"""Content other internal systems publish into Guild (a chat bot's question, a catalogue entry)."""

from __future__ import annotations

from services.content.domain.model import QUESTION, SOFTWARE, SoftwareDetails
from services.content.events import public
from services.content.handlers import Deps
from services.content.handlers.common import publish
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


async def _republish(post_id: str, deps: Deps) -> None:
    """A re-sent event whose post exists: publish its event again (the same id: stored once)."""
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
    if await deps.store.post(post_id) is not None:
        return await _republish(post_id, deps)
    await publish_new_post(
        kind=QUESTION,
        community_id=asked.community_id,
        actor_id=asked.asker_id,
        title=asked.title,
        body=asked.text,
        tags=asked.tags,
        deps=deps,
        post_id=post_id,
        origin=event.source,
    )
    return None


async def when_software_catalogued_announce_it(
    event: Envelope[SoftwareCataloguedV1], deps: Deps
) -> None:
    """Announce a catalogue entry to its community (once per catalogue reference)."""
    entry = event.data
    _require_known(entry.community_id, deps)
    post_id = derived_id("software", event.source, entry.catalogue_ref)
    if await deps.store.post(post_id) is not None:
        return await _republish(post_id, deps)
    details = SoftwareDetails(
        repository_url=entry.repository_url,
        language=entry.language,
        licence=entry.licence,
        maintainers=tuple(entry.maintainer_ids),
    )
    await publish_new_post(
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
    )
    return None
