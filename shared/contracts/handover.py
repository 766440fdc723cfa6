"""Handing a moving member's data to their new home region (an HR move).

A service that keeps personal data about a member hands it to the same service of the
member's new home region in handover events of its own type, on
``handover.<from>.<to>.<owner>.<name>.<vN>.<member>`` in its region's ``HANDOVER`` stream.
Only the destination sources them (its ``HANDOVER`` stream sources each peer's with the
filter ``handover.<peer>.<itself>.>``), so no third region ever holds them; the services on
both sides erase them once the data is taken in.

What is handed over is the service's own stored records (bucket, key, value as stored),
sealed as a whole with the *handover keyring* every region holds (``GUILD_HANDOVER_KEYS_FILE``
or ``GUILD_HANDOVER_KEYS``; :mod:`shared.sealing`), bound to the handover's type, member,
regions and part: neither stream holds a name, an address or a secret in clear, and a sealed
part cannot be passed off as another's. A record format is the service's own, read by the
same service in the other region, as its buckets are.
"""

from __future__ import annotations

import base64
import json

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.base import Contract
from shared.contracts.values import Identifier, Region
from shared.naming import handover_subject, handovers_from
from shared.sealing import Keyring, SealingError


class HandoverEntry(BaseModel):
    """One stored record: the bucket it is kept in (the service's name for it), its key and
    its value as stored (JSON text)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    bucket: str = Field(min_length=1, max_length=64)
    key: str = Field(min_length=1, max_length=1024)
    value: str

    @classmethod
    def of(cls, bucket: str, key: str, stored: bytes) -> HandoverEntry:
        """The record of ``key`` in ``bucket``, from its stored (plain) bytes."""
        return cls(bucket=bucket, key=key, value=stored.decode())


class Handover(Contract):
    """Base of every service's handover event (each names its own ``TYPE``)."""

    member_id: Identifier = Field(description="Who moves (Guild's member id; it stays theirs).")
    from_region: Region = Field(description="The home region they leave.")
    to_region: Region = Field(description="Their new home region.")
    part: int = Field(default=1, ge=1, description="This part's number, from 1.")
    parts: int = Field(default=1, ge=1, description="How many parts the service sends.")
    sealed: str = Field(
        description="The records, sealed with the handover keyring (base64): never in clear."
    )

    @classmethod
    def of(
        cls,
        entries: list[HandoverEntry],
        keyring: Keyring,
        *,
        member_id: str,
        from_region: str,
        to_region: str,
        part: int = 1,
        parts: int = 1,
    ) -> Handover:
        plain = json.dumps([e.model_dump() for e in entries]).encode()
        context = _context(cls.TYPE, member_id, from_region, to_region, part)
        return cls(
            member_id=member_id,
            from_region=from_region,
            to_region=to_region,
            part=part,
            parts=parts,
            sealed=base64.b64encode(keyring.seal(plain, context)).decode(),
        )

    def entries(self, keyring: Keyring) -> list[HandoverEntry]:
        """The records, opened; raises :class:`SealingError` if the keyring cannot open them
        (or they were sealed for another member, pair of regions or part)."""
        context = _context(self.TYPE, self.member_id, self.from_region, self.to_region, self.part)
        try:
            data = base64.b64decode(self.sealed, validate=True)
        except ValueError:
            raise SealingError(f"{context} is not base64") from None
        opened = keyring.open(data, context)
        if opened == data:
            raise SealingError(f"{context} is not sealed: a handover is never taken in clear")
        try:
            return [HandoverEntry.model_validate(e) for e in json.loads(opened)]
        except (ValueError, TypeError):  # pydantic's ValidationError is a ValueError
            raise SealingError(f"{context} opens, but does not hold records") from None

    @classmethod
    def subject_in(cls, region: str, key: str | None = None) -> str:
        """Every subject ``region`` hands this type over on (a destination and a member each)."""
        return handovers_from(region, cls.TYPE)

    @property
    def subject(self) -> str:
        return handover_subject(self.from_region, self.to_region, self.TYPE, self.member_id)


def _context(event_type: str, member_id: str, from_region: str, to_region: str, part: int) -> str:
    return f"handover/{event_type}/{member_id}/{from_region}->{to_region}/{part}"


class HandoverTaken(Contract):
    """Base of every service's confirmation that the new region took in one part of a
    handover (each names its own ``TYPE``): the region the member left erases its copy."""

    member_id: Identifier = Field(description="Who moved.")
    from_region: Region = Field(description="The home region they left.")
    to_region: Region = Field(description="Their new home region (which took it in).")
    part: int = Field(ge=1, description="The part taken in.")
