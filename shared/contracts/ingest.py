"""What other internal systems publish into Guild (subjects ``ingest.<region>.<...>``).

Publish these as CloudEvents (structured or binary mode), with ``Nats-Msg-Id`` set to the
event id so that a retried publish is stored once. See the README for a runnable example.
"""

from __future__ import annotations

from datetime import date

from pydantic import Field

from shared.contracts.base import Contract
from shared.contracts.values import Identifier, Region, Skill, Tag, Timezone
from shared.naming import Scope


class PersonHiredV1(Contract):
    """The HR directory: a person joined the company. Guild registers them as a member."""

    TYPE = "guild.ingest.hr.person_hired.v1"
    SCOPE = Scope.INGEST

    person_id: Identifier = Field(description="HR person id; becomes the member id.")
    display_name: str = Field(min_length=1, max_length=200, description="Name to show.")
    email: str = Field(
        pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=320, description="Work e-mail address."
    )
    region: Region = Field(description="Region the person works in, e.g. 'eu'.")
    timezone: Timezone = Field(description="IANA timezone, e.g. 'Europe/Berlin'.")
    skills: list[Skill] = Field(
        default_factory=list, max_length=100, description="Skills with self-declared levels."
    )
    languages: list[str] = Field(
        default_factory=list, max_length=20, description="Languages spoken (ISO 639-1)."
    )
    title: str | None = Field(default=None, max_length=200, description="Job title.")
    manager_id: Identifier | None = Field(default=None, description="HR id of their manager.")
    hired_on: date | None = Field(default=None, description="First working day.")


class QuestionAskedV1(Contract):
    """Another system (a chat bot, the intranet portal) posts a question on a member's behalf."""

    TYPE = "guild.ingest.content.question_asked.v1"
    SCOPE = Scope.INGEST

    question_ref: str = Field(
        min_length=1,
        max_length=200,
        description="The publishing system's own id for this question, unique per source. "
        "Guild derives the question id from source and ref, so a re-sent question is stored once.",
    )
    community_id: Identifier = Field(description="The community asked.")
    asker_id: Identifier = Field(description="Member id of the person asking.")
    title: str = Field(min_length=3, max_length=300, description="One-line question.")
    text: str = Field(min_length=1, max_length=20_000, description="The question in full.")
    tags: list[Tag] = Field(min_length=1, max_length=10, description="Topics, e.g. 'kubernetes'.")
