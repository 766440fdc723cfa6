"""The CLI's view of the dead-letter stream: letters with their replay marks, and replays.

A dead letter keeps its original by reference (see ``shared.messaging.consumer.DeadLetter``).
A replay asks the service that gave up to run that original again itself, byte for byte
(``shared.messaging.replay``): the CLI publishes no event. The service records each replay
beside the letters as a mark on ``dlq.<r>.replayed``, so that a later listing shows which
letters were replayed, and when.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from nats.js.errors import NotFoundError

from guild_cli.client import GuildClient, GuildError
from shared.messaging.consumer import DeadLetter
from shared.messaging.replay import ReplayMark
from shared.naming import Service, Streams, dead_letters_filter, replay_mark_subject


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
) -> list[ReplayMark | GuildError]:
    """Ask the service that gave up on each chosen letter to run its original again; for
    each, the mark of the replay or why it failed (the others still run)."""
    done: list[ReplayMark | GuildError] = []
    for letter in chosen:
        try:
            service = Service(letter.letter.service)
            marked = await client.command(
                service, "replay_dead_letter", {"sequence": letter.sequence}, timeout=60
            )
            done.append(ReplayMark.model_validate(marked))
        except ValueError:
            done.append(GuildError(f"dead letter {letter.sequence}: no service "
                                   f"{letter.letter.service!r} to replay it"))  # fmt: skip
        except GuildError as error:
            done.append(error)
        advance()
    return done


def letters_json(letters: Sequence[Letter]) -> str:
    return json.dumps([letter.as_json() for letter in letters], indent=2)
