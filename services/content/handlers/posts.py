"""Commands on posts: publishing every kind, answering, voting, editing, moderating."""

from __future__ import annotations

from dataclasses import replace

from services.content.domain import model
from services.content.domain.model import (
    ANSWER,
    COMMENT,
    JOB,
    PRACTICE,
    QUESTION,
    SOFTWARE,
    CommunityInfo,
    InvalidChange,
    Post,
    Reaction,
    UnknownPost,
)
from services.content.events import public
from services.content.handlers import Deps
from services.content.handlers.common import (
    community_for,
    member_info,
    post_for,
    publish,
    save_post,
)
from shared.contracts import content as c
from shared.ids import new_id
from shared.tasks import pipelined


async def publish_new_post(
    *,
    kind: str,
    community_id: str,
    actor_id: str,
    title: str,
    body: str,
    tags: list[str],
    deps: Deps,
    details: model.Details | None = None,
    post_id: str | None = None,
    origin: str = "guild",
) -> Post:
    """The common path of every new post: checks, store, publish."""
    community = community_for(community_id, actor_id, deps)
    model.require_can_post(
        community, member_info(actor_id, deps), deps.store.is_member(community_id, actor_id)
    )
    post = model.new_post(
        post_id=post_id or new_id(),
        kind=kind,
        community=community,
        author_id=actor_id,
        title=title,
        body=body,
        tags=tuple(tags),
        now=deps.clock(),
        origin=origin,
        details=details,
    )
    await save_post(post, deps)
    await publish(
        public.published(post, community, deps.region),
        deps,
        post.post_id,  # type: ignore[arg-type]
        subject=post.post_id,
    )
    return post


def _view(post: Post, deps: Deps) -> c.PostView:
    at = deps.store.index.pos.get(post.post_id)
    answers = deps.store.index.answers[at] if at is not None else 0
    return public.post_view(
        post,
        answers=answers,
        score=deps.store.votes.score.get(post.post_id, 0),
        endorsements=deps.store.votes.endorsements.get(post.post_id, 0),
    )


async def post_practice(command: c.PostPractice, deps: Deps) -> c.PostView:
    """Publish a best-practice article."""
    post = await publish_new_post(
        kind=PRACTICE,
        community_id=command.community_id,
        actor_id=command.actor_id,
        title=command.title,
        body=command.body,
        tags=command.tags,
        deps=deps,
    )
    return _view(post, deps)


async def announce_software(command: c.AnnounceSoftware, deps: Deps) -> c.PostView:
    """Announce reusable internal software."""
    details = model.SoftwareDetails(
        repository_url=command.repository_url,
        language=command.language,
        licence=command.licence,
        maintainers=tuple(command.maintainer_ids),
    )
    post = await publish_new_post(
        kind=SOFTWARE,
        community_id=command.community_id,
        actor_id=command.actor_id,
        title=command.title,
        body=command.body,
        tags=command.tags,
        deps=deps,
        details=details,
    )
    return _view(post, deps)


async def post_question(command: c.PostQuestion, deps: Deps) -> c.PostView:
    """Post a question to a community."""
    post = await publish_new_post(
        kind=QUESTION,
        community_id=command.community_id,
        actor_id=command.actor_id,
        title=command.title,
        body=command.text,
        tags=command.tags,
        deps=deps,
    )
    return _view(post, deps)


async def post_job(command: c.PostJob, deps: Deps) -> c.PostView:
    """Post an internal job."""
    if command.closing_date < deps.clock().date():
        raise InvalidChange("the closing date has passed")
    details = model.JobDetails(
        skills=tuple(command.skills),
        location=command.location,
        closing_date=command.closing_date,
    )
    post = await publish_new_post(
        kind=JOB,
        community_id=command.community_id,
        actor_id=command.actor_id,
        title=command.title,
        body=command.description,
        tags=command.skills,
        deps=deps,
        details=details,
    )
    return _view(post, deps)


async def post_answer(command: c.PostAnswer, deps: Deps) -> c.PostView:
    """Answer a question; the asker hears about it downstream."""
    found, community = await post_for(command.question_id, command.actor_id, deps)
    question = found.value
    model.require_can_post(
        community,
        member_info(command.actor_id, deps),
        deps.store.is_member(community.community_id, command.actor_id),
    )
    answer = model.answer_to(
        question, new_id(), command.actor_id, command.body, deps.clock(), community
    )
    index = deps.store.index
    first = index.answers[index.pos[question.post_id]] == 0
    await save_post(answer, deps)
    await publish(
        public.answer_posted(answer, question, community, deps.region, first),
        deps,
        answer.post_id,
        subject=answer.post_id,
    )
    return _view(answer, deps)


async def accept_answer(command: c.AcceptAnswer, deps: Deps) -> c.PostView:
    """The asker accepts an answer; the answerer is suggested the question's topics as skills."""
    found_answer, community = await post_for(command.answer_id, command.actor_id, deps)
    answer = found_answer.value
    if answer.kind != ANSWER or answer.parent_id is None:
        raise UnknownPost(f"answer {command.answer_id!r} does not exist")
    found_question, _ = await post_for(answer.parent_id, command.actor_id, deps)
    question = model.accept(found_question.value, answer, command.actor_id)
    if question != found_question.value:
        await save_post(question, deps, revision=found_question.revision)
    now = deps.clock()
    await publish(
        public.answer_accepted(answer, question, community, deps.region, now),
        deps,
        question.post_id,
        answer.post_id,
        subject=question.post_id,
    )
    if answer.author_id != question.author_id:
        await pipelined(
            publish(
                public.skill_suggested(answer.author_id, deps.region, tag, question, now),
                deps,
                answer.post_id,
                tag,
                subject=answer.author_id,
            )
            for tag in question.tags
        )
    return _view(question, deps)


async def add_comment(command: c.AddComment, deps: Deps) -> c.PostView:
    """Comment on a post."""
    found, community = await post_for(command.post_id, command.actor_id, deps)
    model.require_can_post(
        community,
        member_info(command.actor_id, deps),
        deps.store.is_member(community.community_id, command.actor_id),
    )
    comment = model.new_post(
        post_id=new_id(),
        kind=COMMENT,
        community=community,
        author_id=command.actor_id,
        title="",
        body=command.body,
        tags=(),
        now=deps.clock(),
        origin="guild",
        parent_id=found.value.post_id,
    )
    await save_post(comment, deps)
    await publish(
        public.comment_added(comment, found.value, community, deps.region),
        deps,
        comment.post_id,
        subject=comment.post_id,
    )
    return _view(comment, deps)


async def _react(
    post_id: str, actor_id: str, deps: Deps, **change: object
) -> tuple[Post, CommunityInfo, Reaction, Reaction]:
    found, community = await post_for(post_id, actor_id, deps)
    if found.value.author_id == actor_id:
        raise InvalidChange("not on your own post")
    # read, decided and applied to the index in one step (no await between): two reactions of
    # one member handled at once see each other, and the later one decides from the earlier
    before = deps.store.reaction(post_id, actor_id)
    after = replace(before, **change)  # type: ignore[arg-type]
    if after != before:
        await deps.store.save_reaction(after)
    return found.value, community, before, after


async def vote(command: c.Vote, deps: Deps) -> c.PostView:
    """Vote a post up (+1), down (-1), or withdraw (0)."""
    post, _, _, _ = await _react(command.post_id, command.actor_id, deps, vote=command.value)
    return _view(post, deps)


async def endorse(command: c.Endorse, deps: Deps) -> c.PostView:
    """Endorse a post; its author hears about it downstream."""
    post, community, before, _ = await _react(
        command.post_id, command.actor_id, deps, endorsed=True
    )
    if not before.endorsed:
        await publish(
            public.post_endorsed(post, community, deps.region, command.actor_id, deps.clock()),
            deps,
            post.post_id,
            command.actor_id,
            subject=post.post_id,
        )
    return _view(post, deps)


async def edit_post(command: c.EditPost, deps: Deps) -> c.PostView:
    """The author edits a post."""
    found, community = await post_for(command.post_id, command.actor_id, deps)
    changes = command.model_dump(exclude_none=True, exclude={"actor_id", "post_id", "request_id"})
    post = model.edited(found.value, command.actor_id, changes, deps.clock())
    changed = [name for name in changes if getattr(found.value, name) != getattr(post, name)]
    revision = await save_post(post, deps, revision=found.revision)
    await publish(
        public.post_edited(post, community, deps.region, changed),
        deps,
        post.post_id,
        str(revision),
        subject=post.post_id,
    )
    return _view(post, deps)


async def delete_post(command: c.DeletePost, deps: Deps) -> None:
    """Delete a post (its author, or a facilitator): a tombstone event tells everyone."""
    found, community = await post_for(command.post_id, command.actor_id, deps)
    model.require_author_or_facilitator(found.value, community, command.actor_id)
    post = replace(found.value, deleted=True, body="", title="")
    await save_post(post, deps, revision=found.revision)
    await publish(
        public.post_deleted(found.value, community, deps.region, command.actor_id, deps.clock()),
        deps,
        post.post_id,
        subject=post.post_id,
    )


async def flag_post(command: c.FlagPost, deps: Deps) -> None:
    """Ask the community's facilitators to look at a post."""
    found, community = await post_for(command.post_id, command.actor_id, deps)
    await publish(
        public.post_flagged(
            found.value, community, deps.region, command.actor_id, command.reason, deps.clock()
        ),
        deps,
        found.value.post_id,
        command.actor_id,
        subject=found.value.post_id,
    )


async def moderate_post(command: c.ModeratePost, deps: Deps) -> c.PostView:
    """A facilitator hides a post, or restores it."""
    found, community = await post_for(command.post_id, command.actor_id, deps)
    model.require_facilitator(community, command.actor_id)
    post = replace(found.value, hidden=command.hidden)
    revision = found.revision
    if post != found.value:
        revision = await save_post(post, deps, revision=found.revision)
    await publish(
        public.post_moderated(
            post, community, deps.region, command.actor_id, command.reason, deps.clock()
        ),
        deps,
        post.post_id,
        str(revision),
        subject=post.post_id,
    )
    return _view(post, deps)
