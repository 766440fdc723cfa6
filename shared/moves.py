"""Moving a member's data between regions: what every service that keeps personal data
does when a member moves (see :mod:`shared.contracts.handover` for the wire side, and
docs/operations.md, "Move a member", for the whole sequence).

The region the member leaves sends its records in parts (:func:`hand_over`); the new region
takes each part in and confirms it (:func:`confirm`), erasing its copy; the old region then
erases the part it sent (:func:`erase_part`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol

from nats.js import JetStreamContext

from shared.contracts.handover import Handover, HandoverEntry, HandoverTaken
from shared.envelope import Envelope, MalformedEvent
from shared.ids import derived_id
from shared.messaging.publisher import EventPublisher
from shared.naming import Streams, handover_subject
from shared.sealing import Keyring, SealingError
from shared.storage import erase_messages

PART_BYTES = 256 * 1024
"""Records per part at most this large (before sealing and base64: a part stays well within
the default max_payload of 1 MiB)."""


class MoveRefused(MalformedEvent):
    """A member's move between regions that can never be carried out as sent (a region that
    is no peer, no handover keyring, a handover that does not open): dead-lettered."""


@dataclass(frozen=True)
class Moves:
    """What a service needs to hand a moving member's data to another region, or take it in:
    the regions it may exchange with and the handover keyring (:mod:`shared.contracts.handover`)."""

    peers: tuple[str, ...] = ()
    keyring: Keyring | None = field(default=None, repr=False)

    def keys_for(self, other: str) -> Keyring:
        """The handover keyring, for a move between this region and ``other``."""
        if other not in self.peers:
            raise MoveRefused(f"region {other!r} is not a peer of this region (GUILD_PEER_REGIONS)")
        if self.keyring is None:
            raise MoveRefused(
                "no handover keyring (GUILD_HANDOVER_KEYS_FILE or GUILD_HANDOVER_KEYS): a member "
                "cannot move between regions without one"
            )
        return self.keyring

    def opened(self, handover: Handover, region: str) -> list[HandoverEntry]:
        """The records of ``handover``, which must be for ``region``, opened."""
        if handover.to_region != region:
            raise MoveRefused(f"a handover for region {handover.to_region!r} reached {region!r}")
        try:
            return handover.entries(self.keys_for(handover.from_region))
        except SealingError as error:
            raise MoveRefused(
                f"the handover of {handover.member_id} does not open: {error}"
            ) from None


def moves(settings: _HasMoves) -> Moves:
    """The ``moves`` argument of :class:`Deps` from a service's settings."""
    return Moves(tuple(settings.peer_regions), settings.handover_keyring())


class _HasMoves(Protocol):
    peer_regions: list[str]

    def handover_keyring(self) -> Keyring | None: ...


def in_parts(records: list[HandoverEntry]) -> list[list[HandoverEntry]]:
    """The records in parts of at most :data:`PART_BYTES` each (always one part at least)."""
    parts: list[list[HandoverEntry]] = [[]]
    size = 0
    for record in records:
        length = len(record.key) + len(record.value)
        if parts[-1] and size + length > PART_BYTES:
            parts.append([])
            size = 0
        parts[-1].append(record)
        size += length
    return parts


async def hand_over(
    events: EventPublisher,
    kind: type[Handover],
    records: list[HandoverEntry],
    moves: Moves,
    *,
    member_id: str,
    to_region: str,
    cause: Envelope[Any],
) -> int:
    """Send ``records`` of ``member_id`` to ``to_region`` as handovers of ``kind``, in parts;
    returns how many parts."""
    keyring = moves.keys_for(to_region)
    parts = in_parts(records)
    for number, entries in enumerate(parts, start=1):
        handover = kind.of(
            entries, keyring, member_id=member_id, from_region=events.region,
            to_region=to_region, part=number, parts=len(parts),
        )  # fmt: skip
        event_id = derived_id(cause.id, kind.TYPE, str(number))
        await events.publish(handover, event_id=event_id, subject=member_id, cause=cause)
    return len(parts)


async def confirm(
    events: EventPublisher,
    js: JetStreamContext,
    taken: type[HandoverTaken],
    cause: Envelope[Handover],
) -> None:
    """Say that this region took in the part ``cause`` carried, then erase its copy here."""
    handover = cause.data
    await events.publish(
        taken(member_id=handover.member_id, from_region=handover.from_region,
              to_region=events.region, part=handover.part),
        event_id=derived_id(cause.id, taken.TYPE),
        subject=handover.member_id,
        cause=cause,
    )  # fmt: skip
    await erase_part(js, Streams(events.region).handover, handover.subject, handover.part)


async def erase_sent_part(
    js: JetStreamContext, region: str, kind: type[Handover], taken: HandoverTaken
) -> None:
    """The part the new region says it took in, erased from this region's ``HANDOVER``."""
    if taken.from_region != region:
        return
    sent = handover_subject(region, taken.to_region, kind.TYPE, taken.member_id)
    await erase_part(js, Streams(region).handover, sent, taken.part)


async def erase_part(js: JetStreamContext, stream: str, subject: str, part: int) -> None:
    def is_part(_subject: str, _headers: dict[str, str], data: bytes) -> bool:
        try:
            return json.loads(data)["data"]["part"] == part
        except (ValueError, KeyError, TypeError):
            return False

    await erase_messages(js, stream, subject, is_part)
