"""The CLI's view of the dead-letter stream: letters with their replay marks, and replays.

A dead letter keeps its original by reference (see ``shared.messaging.consumer.DeadLetter``):
replay reads the original, byte for byte, from the stream that holds it and publishes it again
on its subject, in full (the stored message's own, or, for a copy, the letter's, which keeps
any subject whole). Each replay is recorded beside the letters as a mark on ``dlq.<r>.replayed``,
so that a later listing shows which letters were replayed, and when.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from nats.js.errors import NotFoundError
from pydantic import BaseModel, Field

from guild_cli.client import GuildClient, GuildError
from shared.messaging.consumer import DeadLetter, StoredOriginal
from shared.naming import (
    Streams,
    dead_letters_filter,
    replay_mark_subject,
    without_nats_headers,
)

COPY_HEADERS = "guild-original-"
"""Headers that describe a copy (the original's ``Nats-*`` ones acted on its publish: neither
is replayed)."""


class ReplayMark(BaseModel):
    """A dead letter was replayed: when, and where the replayed message was stored."""

    letter_sequence: int = Field(description="The dead letter's sequence in DLQ_<R>.")
    replayed_at: datetime = Field(description="When.")
    stream: str = Field(description="The stream the replayed message went to.")
    sequence: int = Field(description="Its sequence there.")


@dataclass
class Letter:
    """A dead letter as ``dlq list`` shows it."""

    sequence: int
    letter: DeadLetter
    replays: list[ReplayMark] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "sequence": self.sequence,
            **self.letter.model_dump(mode="json"),
            "replays": [mark.model_dump(mode="json") for mark in self.replays],
        }


@dataclass(frozen=True)
class Selection:
    """Which dead letters to replay: these sequences, or those matching the filters (letters
    already replayed are left out of a filtered selection; name them to replay them again)."""

    sequences: Sequence[int] = ()
    consumer: str | None = None
    since: datetime | None = None
    everything: bool = False

    @property
    def empty(self) -> bool:
        return not (self.sequences or self.consumer or self.since or self.everything)

    def pick(self, letters: Sequence[Letter]) -> list[Letter]:
        if self.sequences:
            by_sequence = {letter.sequence: letter for letter in letters}
            missing = [n for n in self.sequences if n not in by_sequence]
            if missing:
                shown = ", ".join(str(n) for n in missing)
                raise GuildError(f"no dead letter with sequence {shown} (see guild dlq list)")
            return [by_sequence[n] for n in self.sequences]
        return [letter for letter in letters if not letter.replays and self._matches(letter)]

    def _matches(self, letter: Letter) -> bool:
        if self.consumer and letter.letter.consumer != self.consumer:
            return False
        return not (self.since and letter.letter.dead_lettered_at < self.since)


async def read_letters(client: GuildClient) -> list[Letter]:
    """Every dead letter of the region, oldest first, each with its replay marks."""
    stream = Streams(client.region).dead_letters
    try:
        stored = await client.read_stream(stream, dead_letters_filter(client.region))
        marked = await client.read_stream(stream, replay_mark_subject(client.region))
    except NotFoundError:
        raise GuildError(
            f"region {client.region} has no dead-letter stream: is Guild provisioned there?"
        ) from None
    letters = {
        message.sequence: Letter(message.sequence, DeadLetter.model_validate_json(message.body))
        for message in stored
    }
    marks = [ReplayMark.model_validate_json(message.body) for message in marked]
    for mark in marks:
        if mark.letter_sequence in letters:
            letters[mark.letter_sequence].replays.append(mark)
    return list(letters.values())


async def replay(
    client: GuildClient, chosen: Sequence[Letter], advance: Callable[[], None]
) -> list[ReplayMark]:
    """Publish each chosen letter's original again on its subject, and mark it replayed."""
    done = []
    for letter in chosen:
        done.append(await _replay_one(client, letter))
        advance()
    return done


async def _replay_one(client: GuildClient, letter: Letter) -> ReplayMark:
    original = await _original(client, letter)
    headers = {k: v for k, v in without_nats_headers(original.headers).items()
               if not k.lower().startswith(COPY_HEADERS)}  # fmt: skip
    msg_id = f"replay:{letter.sequence}:{len(letter.replays) + 1}"
    try:
        ack = await client.nc.jetstream().publish(
            original.subject, original.data, headers={**headers, "Nats-Msg-Id": msg_id}
        )
    except Exception as error:
        raise GuildError(
            f"dead letter {letter.sequence}: publishing on {original.subject} failed: {error!r}"
        ) from None
    mark = ReplayMark(
        letter_sequence=letter.sequence,
        replayed_at=datetime.now(UTC),
        stream=ack.stream,
        sequence=ack.seq,
    )
    await client.nc.jetstream().publish(
        replay_mark_subject(client.region),
        mark.model_dump_json().encode(),
        headers={"Nats-Msg-Id": f"replayed:{msg_id}", "content-type": "application/json"},
    )
    return mark


async def _original(client: GuildClient, letter: Letter) -> StoredOriginal:
    """The original message, byte for byte, from where the letter says it is kept."""
    kept, dead = letter.letter.original, letter.letter
    if kept is None:
        if dead.body_truncated or not dead.subject:
            raise GuildError(f"dead letter {letter.sequence}: its original is no longer kept")
        return StoredOriginal(dead.subject, dead.headers, dead.original_body())  # an old letter
    try:
        stored = await client.nc.jetstream().get_msg(kept.stream, kept.sequence)
    except NotFoundError:
        raise GuildError(
            f"dead letter {letter.sequence}: its original ({kept.stream} #{kept.sequence}) "
            "is no longer stored"
        ) from None
    subject = dead.subject if kept.copied else stored.subject or dead.subject
    return StoredOriginal(subject, dict(stored.headers or {}), stored.data or b"")


def letters_json(letters: Sequence[Letter]) -> str:
    return json.dumps([letter.as_json() for letter in letters], indent=2)
