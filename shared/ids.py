"""Identifiers. Events caused by other events get ids derived from their cause.

A handler that runs twice for the same cause therefore publishes the same ids, and
JetStream's duplicate window (``Nats-Msg-Id``) drops the second copy.
"""

from __future__ import annotations

import hashlib
import uuid

GUILD_NAMESPACE = uuid.UUID("6f1c0d1e-3b7a-5c2e-9a41-0c4d5e6f7a80")


def derived_id(*parts: str) -> str:
    """A stable id for something derived from ``parts`` (e.g. a cause's source and id)."""
    if not parts:
        raise ValueError("derived_id needs at least one part")
    return str(uuid.uuid5(GUILD_NAMESPACE, "\x1f".join(parts)))


def erased_member_id(member_id: str) -> str:
    """The pseudonym that stands for an erased member where records of theirs stay (the posts
    they wrote, the questions they asked): the same in every service, from the id alone."""
    return "erased-" + hashlib.sha256(member_id.encode()).hexdigest()[:12]


def new_id() -> str:
    """A fresh id for an event that has no cause inside Guild (e.g. a command)."""
    return str(uuid.uuid4())
