"""The internal systems that publish into Guild, and what each sends.

Each publishing system has a NATS identity of its own (``shared.access.publishing_system``)
that may publish only on its own ingest subjects, ``ingest.<region>.<publisher>.<...>``, and
each has its own stream, so JetStream deduplicates its ``Nats-Msg-Id``s apart from every other
publisher's. The CloudEvents ``source`` of its events must be ``/<publisher>`` or a path below
it; Guild dead-letters an event whose source belongs to someone else. To add a system, add it
here, provision the region (its stream and the consumers that read it) and issue its identity
(``guild identity issue <name>``); docs/security.md walks through it.
"""

from __future__ import annotations

from shared.contracts import ingest as i
from shared.contracts.base import Contract

HR = "hr"
"""The domain of the HR directory's events (``guild.ingest.hr.*``), which membership reads."""
CONTENT = "content"
"""The domain of posts other systems make (``guild.ingest.content.*``), which content reads."""

PUBLISHERS: dict[str, tuple[type[Contract], ...]] = {
    "hr-directory": (i.PersonHiredV1, i.PersonChangedV1, i.PersonDepartedV1,
                     i.PersonMovedV1, i.ErasureRequestedV1),
    "portal": (i.QuestionAskedV1,),
    "chat-bot": (i.QuestionAskedV1,),
    "code-catalogue": (i.SoftwareCataloguedV1,),
}  # fmt: skip
"""The systems that publish into Guild, and what each sends."""

ACTS_FOR_MEMBERS = ("portal",)
"""Publishing systems that also send members' commands and queries (the intranet portal
signs members in and speaks for them)."""


def sending(domain: str) -> list[str]:
    """The publishers that send ingest events of ``domain`` (``hr``, ``content``)."""
    prefix = f"guild.ingest.{domain}."
    return [
        name for name, sent in PUBLISHERS.items() if any(c.TYPE.startswith(prefix) for c in sent)
    ]


def first_sender(contract: type[Contract]) -> str:
    """The first publisher that sends ``contract`` (for examples, tests and the demo)."""
    return next(name for name, sent in PUBLISHERS.items() if contract in sent)
