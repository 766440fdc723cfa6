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

    person_id: Identifier = Field(
        description="HR person id. Membership gives the person a member id of Guild's own, "
        "drawn at random, which every event names them by (membership's find_member query "
        "tells it)."
    )
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
    manager_id: Identifier | None = Field(default=None, description="Their manager's HR id.")
    hired_on: date | None = Field(default=None, description="First working day.")
    team: str | None = Field(default=None, max_length=200, description="Their team.")
    legal_entity: str | None = Field(
        default=None, max_length=100, description="The legal entity that employs them."
    )


class PersonChangedV1(Contract):
    """The HR directory: something about a person changed. Only the fields given change."""

    TYPE = "guild.ingest.hr.person_changed.v1"
    SCOPE = Scope.INGEST

    person_id: Identifier = Field(description="HR person id.")
    display_name: str | None = Field(
        default=None, min_length=1, max_length=200, description="New name to show."
    )
    email: str | None = Field(
        default=None,
        pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
        max_length=320,
        description="New work e-mail address.",
    )
    region: Region | None = Field(default=None, description="New work region.")
    timezone: Timezone | None = Field(default=None, description="New timezone.")
    manager_id: Identifier | None = Field(default=None, description="New manager.")
    team: str | None = Field(default=None, max_length=200, description="New team.")
    title: str | None = Field(default=None, max_length=200, description="New job title.")
    legal_entity: str | None = Field(default=None, max_length=100, description="New employer.")


class PersonDepartedV1(Contract):
    """The HR directory: a person left the company. Guild deactivates them, they leave every
    community, and their facilitation is handed on (or the community flagged without one)."""

    TYPE = "guild.ingest.hr.person_departed.v1"
    SCOPE = Scope.INGEST

    person_id: Identifier = Field(description="HR person id.")
    departed_on: date = Field(description="Last working day.")
    successor_id: Identifier | None = Field(
        default=None, description="Who takes over their responsibilities (e.g. facilitation)."
    )


class PersonMovedV1(Contract):
    """The HR directory of the person's home region: they move to another region (a transfer).
    Guild hands their data to the new region's services and erases it behind them; their
    member id, memberships and preferences stay theirs."""

    TYPE = "guild.ingest.hr.person_moved.v1"
    SCOPE = Scope.INGEST

    person_id: Identifier = Field(description="HR person id.")
    to_region: Region = Field(description="Their new home region, e.g. 'us'.")
    timezone: Timezone | None = Field(
        default=None, description="Their timezone there (unchanged if not given)."
    )
    moved_on: date | None = Field(default=None, description="Their first day there.")


class ErasureRequestedV1(Contract):
    """The HR directory (or the privacy office): erase a person's personal data everywhere."""

    TYPE = "guild.ingest.hr.erasure_requested.v1"
    SCOPE = Scope.INGEST

    person_id: Identifier = Field(description="HR person id.")
    request_ref: str = Field(
        min_length=1, max_length=200, description="The privacy request's reference."
    )


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
    asker_id: Identifier = Field(
        description="Member id of the person asking (from membership's find_member query)."
    )
    title: str = Field(min_length=3, max_length=300, description="One-line question.")
    text: str = Field(min_length=1, max_length=20_000, description="The question in full.")
    tags: list[Tag] = Field(min_length=1, max_length=10, description="Topics, e.g. 'kubernetes'.")


class SoftwareCataloguedV1(Contract):
    """The code catalogue announces a reusable internal library or service to a community."""

    TYPE = "guild.ingest.content.software_catalogued.v1"
    SCOPE = Scope.INGEST

    catalogue_ref: str = Field(
        min_length=1,
        max_length=200,
        description="The catalogue's id for the entry; Guild "
        "derives the post id from source and ref.",
    )
    community_id: Identifier = Field(description="The community to announce it to.")
    author_id: Identifier = Field(
        description="Member id of who owns the entry (from membership's find_member query)."
    )
    title: str = Field(min_length=3, max_length=300, description="Name and one-line summary.")
    body: str = Field(default="", max_length=20_000, description="What it does, how to use it.")
    repository_url: str = Field(
        pattern=r"^https://\S+$", max_length=500, description="Where the code is (https)."
    )
    language: str = Field(min_length=1, max_length=50, description="Main language.")
    licence: str = Field(min_length=1, max_length=100, description="Internal or open licence.")
    maintainer_ids: list[Identifier] = Field(
        default_factory=list, max_length=20, description="Member ids of its maintainers."
    )
    tags: list[Tag] = Field(default_factory=list, max_length=10, description="Topics.")
