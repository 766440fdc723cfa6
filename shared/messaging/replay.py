"""Replaying a dead letter: the service that gave up runs the original again itself.

The operator asks the service whose consumer gave up (``cmd.<r>.<service>.replay_dead_letter``,
what ``guild dlq replay`` sends). The service reads the letter (only it publishes on its
dead-letter subjects), reads the original where the letter says it is kept (its consumer's own
stream, or the verbatim copy in ``DLQ_ORIGINALS_<R>`` that only services write), and runs that
consumer's reaction on it, byte for byte, as if it were delivered again. Nothing is published
again: the operator needs no right to publish any event, and can slip no message of their own
in. A replay that fails again is answered with the reason, and the letter stays as it was.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from pydantic import BaseModel, Field

from shared.contracts.base import Request
from shared.messaging.consumer import DeadLetter, StoredOriginal, describe_failure
from shared.messaging.dispatch import Reactions
from shared.messaging.rpc import Rejected, not_found
from shared.naming import Service, Streams, dead_letter_subject, replay_mark_subject
from shared.storage import WRITE_TIMEOUT


class ReplayDeadLetter(Request):
    """Run a dead letter's original again through the consumer that gave up on it."""

    sequence: int = Field(ge=1, description="The dead letter's sequence in DLQ_<R>.")


class ReplayMark(BaseModel):
    """A dead letter was replayed: when, and which original ran again (on
    ``dlq.<r>.replayed``, beside the letters)."""

    letter_sequence: int = Field(description="The dead letter's sequence in DLQ_<R>.")
    replayed_at: datetime = Field(description="When.")
    stream: str = Field(description="The stream that holds the original that ran again.")
    sequence: int = Field(description="Its sequence there.")


class Replayer:
    """What a service needs to replay its own dead letters."""

    def __init__(
        self,
        service: Service,
        region: str,
        jetstream: Callable[[], JetStreamContext],
        dispatchers: Mapping[str, Reactions],
    ) -> None:
        self.service, self.region = service, region
        self.jetstream, self.dispatchers = jetstream, dispatchers

    async def replay(self, command: ReplayDeadLetter) -> ReplayMark:
        js = self.jetstream()
        letter = await self._letter(js, command.sequence)
        dispatch = self.dispatchers.get(letter.consumer)
        if dispatch is None:
            raise Rejected(
                "unknown_consumer",
                f"{self.service.value} has no consumer {letter.consumer!r} (any more)",
            )
        letters = Streams(self.region).dead_letters
        original, (stream, sequence) = await kept_original(js, letter, command.sequence, letters)
        try:
            await dispatch.react(original)
        except Exception as error:
            _, reason = describe_failure(error, original)  # type: ignore[arg-type]
            raise Rejected("replay_failed", f"dead letter {command.sequence}: {reason}") from None
        mark = ReplayMark(
            letter_sequence=command.sequence,
            replayed_at=datetime.now(UTC),
            stream=stream,
            sequence=sequence,
        )
        await js.publish(
            replay_mark_subject(self.region),
            mark.model_dump_json().encode(),
            headers={"Nats-Msg-Id": f"replayed:{command.sequence}:{uuid.uuid4()}"},
            timeout=WRITE_TIMEOUT,
        )
        return mark

    async def _letter(self, js: JetStreamContext, sequence: int) -> DeadLetter:
        try:
            stored = await js.get_msg(Streams(self.region).dead_letters, sequence)
        except NotFoundError:
            raise not_found("dead letter", str(sequence)) from None
        mine = dead_letter_subject(self.region, self.service, "")
        if not (stored.subject or "").startswith(mine):
            raise Rejected(
                "not_this_service",
                f"{sequence} is not a dead letter of {self.service.value}'s: replay it with "
                "the service its subject names",
            )
        return DeadLetter.model_validate_json(stored.data or b"")


async def kept_original(
    js: JetStreamContext, letter: DeadLetter, sequence: int, letters: str
) -> tuple[StoredOriginal, tuple[str, int]]:
    """The original of letter ``sequence`` of the stream ``letters``, byte for byte, and
    where it is kept (stream, sequence)."""
    kept = letter.original
    if kept is None:  # a letter from before originals were kept by reference: it holds it
        if letter.body_truncated or not letter.subject:
            raise Rejected(
                "original_gone", f"dead letter {sequence}: its original is no longer kept"
            )
        original = StoredOriginal(letter.subject, letter.headers, letter.original_body())
        return original, (letters, sequence)
    try:
        stored = await js.get_msg(kept.stream, kept.sequence)
    except NotFoundError:
        raise Rejected(
            "original_gone",
            f"dead letter {sequence}: its original ({kept.stream} #{kept.sequence}) is no "
            "longer stored",
        ) from None
    subject = letter.subject if kept.copied else stored.subject or letter.subject
    original = StoredOriginal(subject, dict(stored.headers or {}), stored.data or b"")
    return original, (kept.stream, kept.sequence)
