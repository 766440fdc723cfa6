"""Content's public events, commands and queries."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from shared.contracts.base import Contract, Request
from shared.contracts.values import Identifier, MemberRef, Tag, Visibility
from shared.naming import Scope


class QuestionPostedV1(Contract):
    """A question was posted to a community."""

    TYPE = "guild.content.question_posted.v1"
    SCOPE = Scope.PUBLIC

    question_id: Identifier = Field(description="The question's post id.")
    community_id: Identifier = Field(description="The community it was asked in.")
    community_name: str = Field(description="The community's display name.")
    visibility: Visibility = Field(
        description="The community's visibility; private content must only reach its members."
    )
    asker: MemberRef = Field(description="Who asked.")
    title: str = Field(description="One-line question.")
    text: str = Field(description="The question in full.")
    tags: list[Tag] = Field(description="Topics.")
    posted_at: datetime = Field(description="When it was posted.")


class PostQuestion(Request):
    """Command: post a question to a community."""

    community_id: Identifier = Field(description="The community to ask.")
    asker_id: Identifier = Field(description="The member asking.")
    title: str = Field(min_length=3, max_length=300, description="One-line question.")
    text: str = Field(min_length=1, max_length=20_000, description="The question in full.")
    tags: list[Tag] = Field(min_length=1, max_length=10, description="Topics.")


class GetPost(Request):
    """Query: one post."""

    post_id: Identifier = Field(description="The post.")


class PostView(BaseModel):
    """Reply to :class:`GetPost` and :class:`PostQuestion`."""

    post_id: Identifier
    kind: str
    community_id: Identifier
    author_id: Identifier
    title: str
    text: str
    tags: list[str]
    posted_at: datetime
