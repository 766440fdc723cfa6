"""From domain objects to public contracts."""

from __future__ import annotations

from services.content.domain.model import CommunityInfo, Post
from shared.contracts.content import PostView, QuestionPostedV1
from shared.contracts.values import MemberRef, Visibility


def question_posted(post: Post, community: CommunityInfo, home_region: str) -> QuestionPostedV1:
    return QuestionPostedV1(
        question_id=post.post_id,
        community_id=community.community_id,
        community_name=community.name,
        visibility=Visibility(community.visibility),
        asker=MemberRef(member_id=post.author_id, home_region=home_region),
        title=post.title,
        text=post.text,
        tags=list(post.tags),
        posted_at=post.posted_at,
    )


def post_view(post: Post) -> PostView:
    return PostView(
        post_id=post.post_id,
        kind=post.kind,
        community_id=post.community_id,
        author_id=post.author_id,
        title=post.title,
        text=post.text,
        tags=list(post.tags),
        posted_at=post.posted_at,
    )
