"""What matching stores: facts about members (profile, evidence of expertise, how they
responded to routing), about questions, and about communities.

Everything about a member lives under keys that start with their id, in one bucket, so that
their erasure is one prefix and their read model one projection:

* ``<member>.p``: their :class:`~services.matching.domain.profiles.Profile`;
* ``<member>.e.<answer>.<kind>``: one piece of :class:`Evidence` (never changed afterwards);
* ``<member>.r.<question>``: a :class:`Routed` record (set again as its outcome becomes known);
* ``<member>.x``: the member was erased.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

ANSWER, ACCEPTED, RETRACTED, UNACCEPTED = "answer", "accepted", "retracted", "unaccepted"
SIGN = {ANSWER: 1, ACCEPTED: 1, RETRACTED: -1, UNACCEPTED: -1}
"""Evidence is only ever added; taking an answer or an acceptance back adds its negative."""
ACTIVITY = {ANSWER: 1, RETRACTED: -1}
"""What counts as being active: answering (an acceptance is the asker's act, not theirs)."""


@dataclass(frozen=True)
class Evidence:
    """A member answered a question about ``terms`` at ``at`` (or had that answer accepted)."""

    at: datetime
    terms: tuple[str, ...]
    kind: str = ANSWER


class Outcome(StrEnum):
    ALERTED = "alerted"
    ANSWERED = "answered"
    DECLINED = "declined"
    IGNORED = "ignored"


@dataclass(frozen=True)
class Routed:
    """A question routed to a member, and what came of it."""

    at: datetime
    outcome: Outcome = Outcome.ALERTED
    wave: int = 1


def profile_key(member_id: str) -> str:
    return f"{member_id}.p"


def evidence_key(member_id: str, answer_id: str, kind: str) -> str:
    return f"{member_id}.e.{answer_id}.{kind}"


def routed_key(member_id: str, question_id: str) -> str:
    return f"{member_id}.r.{question_id}"


def erased_key(member_id: str) -> str:
    return f"{member_id}.x"


@dataclass(frozen=True)
class AnswerRecord:
    """An answer matching has seen, to turn later acceptances and deletions into evidence."""

    answer_id: str
    question_id: str
    author_id: str
    at: datetime
    terms: tuple[str, ...]
    accepted: int = 0
    """How many times it was accepted so far (it may be accepted, then not, then again)."""
    unaccepted: int = 0
    retracted: bool = False

    @property
    def is_accepted(self) -> bool:
        return self.accepted > self.unaccepted


@dataclass(frozen=True)
class CommunityInfo:
    community_id: str
    name: str
    private: bool
    facilitators: tuple[tuple[str, str], ...] = ()
    """(member id, home region) of each facilitator."""
    topics: tuple[str, ...] = ()
    archived: bool = False
    home_region: str | None = None
    """The region that runs its rounds of people to meet."""


@dataclass(frozen=True)
class QuestionRecord:
    """A question matching has seen: for similar questions, and to route and escalate it."""

    question_id: str
    community_id: str
    private: bool
    asker_id: str
    title: str
    tags: tuple[str, ...]
    terms: tuple[str, ...]
    posted_at: datetime
    answers: int = 0
    accepted: bool = False
    deleted: bool = False

    @property
    def answered(self) -> bool:
        return self.answers > 0
