"""Queries: every one shows a private community's content to its members only."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice

from services.content.domain import model
from services.content.domain.model import ANSWER, COMMENT, RESOURCE_OFFER, Post
from services.content.events import public
from services.content.handlers import Deps
from services.content.handlers.common import community_for, post_for
from services.content.handlers.pulse import figures
from services.content.store.index import KIND_CODE, QUESTION_CODE
from shared.contracts import content as c
from shared.pagination import cursor_at, offset_of


def _visible(deps: Deps, viewer_id: str) -> set[int]:
    """Codes of the communities whose content ``viewer_id`` may see."""
    index, store = deps.store.index, deps.store
    visible = set()
    for community_id, community in store.directory.items.items():
        code = index.communities.get(community_id)
        if code is not None and model.can_see(community, store.is_member(community_id, viewer_id)):
            visible.add(code)
    return visible


def _shown(
    deps: Deps, viewer_id: str, positions: Iterator[int], visible: set[int]
) -> Iterator[int]:
    """Positions a viewer may see: live posts of visible communities, hidden ones only for
    their author and the community's facilitators."""
    index, viewer = deps.store.index, deps.store.index.members.get(viewer_id)
    for at in positions:
        if not index.live(at) or index.community[at] not in visible:
            continue
        if index.hidden(at) and index.author[at] != viewer:
            community = deps.store.community(index.community_of(at))
            if community is None or viewer_id not in community.facilitator_ids:
                continue
        yield at


async def _page(positions: Iterator[int], cursor: str | None, limit: int, deps: Deps) -> c.PostPage:
    """One page of ``positions``: skip ``cursor``'s offset, take ``limit`` (and peek one more
    to know whether there is a next page)."""
    start = offset_of(cursor)
    chosen = list(islice(positions, start, start + limit + 1))
    index = deps.store.index
    posts = await deps.store.posts_in_order([index.ids[at] for at in chosen[:limit]])
    items = [_view(post, deps) for post in posts]
    more = len(chosen) > limit
    return c.PostPage(items=items, next_cursor=cursor_at(start + limit) if more else None)


def _view(post: Post, deps: Deps) -> c.PostView:
    at = deps.store.index.pos.get(post.post_id)
    return public.post_view(
        post,
        answers=deps.store.index.answers[at] if at is not None else 0,
        score=deps.store.votes.score.get(post.post_id, 0),
        endorsements=deps.store.votes.endorsements.get(post.post_id, 0),
    )


async def get_post(query: c.GetPost, deps: Deps) -> c.PostDetail:
    """A post with its answers and comments (oldest first), votes and endorsements; for an
    offer, its claims (to the offerer and facilitators)."""
    found, community = await post_for(query.post_id, query.viewer_id, deps)
    post, index = found.value, deps.store.index
    at = index.pos[post.post_id]
    visible = {index.community[at]}
    children = list(_shown(deps, query.viewer_id, iter(index.children.get(at, ())), visible))
    answers, comments = [], []
    for child in await deps.store.posts_in_order([index.ids[at] for at in children]):
        (answers if child.kind == ANSWER else comments).append(_view(child, deps))
    claims = None
    if post.kind == RESOURCE_OFFER and (
        query.viewer_id == post.author_id or query.viewer_id in community.facilitator_ids
    ):
        claims = [
            {
                "claim_id": e.value.claim_id,
                "claimant_id": e.value.claimant_id,
                "claimed_at": e.value.claimed_at.isoformat(),
                "status": model.claim_status(post, e.value),
            }
            for e in await deps.store.claims_of(post.post_id)
        ]
    return c.PostDetail(post=_view(post, deps), answers=answers, comments=comments, claims=claims)


def _top_level(deps: Deps, positions: Iterator[int]) -> Iterator[int]:
    index = deps.store.index
    return (at for at in positions if index.kind[at] not in (KIND_CODE[ANSWER], KIND_CODE[COMMENT]))


async def community_posts(query: c.CommunityPosts, deps: Deps) -> c.PostPage:
    """A community's latest posts, newest first (answers and comments live under their post)."""
    community_for(query.community_id, query.viewer_id, deps)
    index = deps.store.index
    code = index.communities.get(query.community_id)
    if code is None:
        return c.PostPage(items=[])
    lists = (
        index.by_community_kind.get((code, KIND_CODE[query.kind.value]))
        if query.kind
        else index.by_community.get(code)
    )
    shown = _shown(deps, query.viewer_id, index.newest_first(lists), {code})
    return await _page(_top_level(deps, shown), query.cursor, query.limit, deps)


async def search_posts(query: c.SearchPosts, deps: Deps) -> c.PostPage:
    """Posts carrying every given tag, newest first."""
    index = deps.store.index
    codes = [index.tag_names.get(tag) for tag in query.tags]
    if any(code is None for code in codes):
        return c.PostPage(items=[])
    lists = sorted((index.by_tag.get(code) for code in codes), key=lambda found: len(found or ()))  # type: ignore[arg-type]
    wanted = set(codes)
    candidates = (
        at
        for at in index.newest_first(lists[0])
        if wanted <= set(index.tags[at])
        and (query.kind is None or index.kind[at] == KIND_CODE[query.kind.value])
    )
    shown = _shown(deps, query.viewer_id, candidates, _visible(deps, query.viewer_id))
    return await _page(shown, query.cursor, query.limit, deps)


async def unanswered_questions(query: c.UnansweredQuestions, deps: Deps) -> c.PostPage:
    """Questions nobody has answered yet, newest first."""
    index = deps.store.index
    if query.community_id is not None:
        community_for(query.community_id, query.viewer_id, deps)
        code = index.communities.get(query.community_id)
        questions = index.by_community_kind.get((code, QUESTION_CODE)) if code is not None else None
        visible = {code} if code is not None else set()
    else:
        questions, visible = index.by_kind.get(QUESTION_CODE), _visible(deps, query.viewer_id)
    open_ones = (at for at in index.newest_first(questions) if index.answers[at] == 0)
    return await _page(
        _shown(deps, query.viewer_id, open_ones, visible), query.cursor, query.limit, deps
    )


async def member_posts(query: c.MemberPosts, deps: Deps) -> c.PostPage:
    """A member's posts, newest first, in the communities the viewer may see."""
    index = deps.store.index
    author = index.members.get(query.author_id)
    if author is None:
        return c.PostPage(items=[])
    kind = KIND_CODE[query.kind.value] if query.kind else None
    theirs = (
        at
        for at in index.newest_first(index.by_author.get(author))
        if kind is None or index.kind[at] == kind
    )
    return await _page(
        _shown(deps, query.viewer_id, theirs, _visible(deps, query.viewer_id)),
        query.cursor,
        query.limit,
        deps,
    )


async def get_pulse(query: c.GetPulse, deps: Deps) -> c.PulseFigures:
    """A community's pulse for one week (facilitators only)."""
    community = community_for(query.community_id, query.viewer_id, deps)
    model.require_facilitator(community, query.viewer_id)
    week = query.week or model.week_of(deps.clock())
    return figures(community.community_id, week, deps)
