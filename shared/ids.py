"""Identifiers. Events caused by other events get ids derived from their cause.

A handler that runs twice for the same cause therefore publishes the same ids, and
JetStream's duplicate window (``Nats-Msg-Id``) drops the second copy.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid
from collections.abc import Callable

GUILD_NAMESPACE = uuid.UUID("6f1c0d1e-3b7a-5c2e-9a41-0c4d5e6f7a80")
_NAMESPACE_BYTES = GUILD_NAMESPACE.bytes


def derived_id(*parts: str) -> str:
    """A stable id for something derived from ``parts`` (e.g. a cause's source and id): the
    name-based UUID (version 5, SHA-1) of the parts joined by a unit separator, in Guild's
    namespace, exactly ``str(uuid.uuid5(GUILD_NAMESPACE, ...))``, formatted directly (a
    handler derives several ids per message; ``uuid.UUID`` takes three times as long)."""
    if not parts:
        raise ValueError("derived_id needs at least one part")
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + "\x1f".join(parts).encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


MEMBER_ID_PREFIX = "m-"


def new_member_id() -> str:
    """A member id, drawn at random when the HR directory first names a person (80 bits:
    a clash is not to be expected among millions). It is what every event, key and other
    region knows them by; only membership's ``people`` bucket links it to the HR person id,
    and an erasure erases that link, so nothing left links the id to the person."""
    return MEMBER_ID_PREFIX + secrets.token_hex(10)


PSEUDONYM_PREFIX = "erased-"


def drawn_pseudonym() -> str:
    """A pseudonym for an erased member where records of theirs stay (the posts they wrote,
    the questions they asked), drawn at random: nothing links it back to their id (an id such
    as ``e1001`` is easily guessed, so any hash of it alone could be reversed by trying ids).
    Membership draws it at erasure and tells every service in ``member_erased``."""
    return PSEUDONYM_PREFIX + secrets.token_hex(12)


def keyed_pseudonym(member_id: str, key: bytes) -> str:
    """A pseudonym only the holder of ``key`` can compute from the id (HMAC-SHA256): the same
    for every retry of one erasure, not recomputable by anyone else."""
    digest = hmac.new(key, member_id.encode(), hashlib.sha256).hexdigest()
    return PSEUDONYM_PREFIX + digest[:24]


def erasure_pseudonym(member_id: str, carried: str | None, key: bytes) -> str:
    """The pseudonym an erasure notice carries, or (a notice from before it carried one) one
    keyed with this service's ``key``."""
    return carried or keyed_pseudonym(member_id, key)


def mentions_id(identifier: str) -> Callable[[bytes], bool]:
    """Whether stored bytes hold ``identifier`` as a whole id (``e1001`` but not ``e10012``):
    in a JSON string, a subject or a key."""
    pattern = re.compile(
        rb"(?<![A-Za-z0-9_-])" + re.escape(identifier.encode()) + rb"(?![A-Za-z0-9_-])"
    )
    return lambda data: pattern.search(data) is not None


def new_id() -> str:
    """A fresh id for an event that has no cause inside Guild (e.g. a command)."""
    return str(uuid.uuid4())
