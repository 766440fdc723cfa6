"""Reading one's own writes from memory: a read model that a service's handlers change at once.

A handler that writes a key of one of its buckets applies the same change to the bucket's read
model before the write goes out, in the same step as the decision it stores (so the next event
handled, even one handled concurrently, decides from it: two questions routed at once see each
other's routes, and so each other's use of a member's budget). The write itself is awaited
later, pipelined with the handler's other writes; the handler returns (and its message is
acked) once all are confirmed. Nobody waits for the bucket's follower.

The follower still delivers every change of the bucket, with its sequence. :class:`OwnWrites`
stands between it and the read model and tells the handler's own change from others:

* a change of a key with no write of ours in flight is applied, as always;
* once our write's revision is known (its PubAck), a change at or before it is skipped (the
  model holds ours already, or it is an older value that must not come back); after it, applied;
* while the revision is not known yet, what the follower delivers for the key is kept aside,
  and applied when the revision shows it is newer than ours.

A write that fails (or a create that finds the key taken) takes its change back: the key is
read again from the bucket and the model set to what is stored. The read models this is used
for set state (a key's latest value wins), so a change applied twice is applied once.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from shared.readmodel import Projection

log = logging.getLogger("guild.readmodel")


@dataclass
class _Write:
    value: bytes | None
    revision: int | None = None
    seen: tuple[int, bytes | None] | None = None
    """The newest change of the key the follower delivered while our revision was unknown."""


Stored = tuple[bytes | None, int | None]
"""A key as the bucket holds it: its value (None: absent) and revision."""


class OwnWrites:
    """A projection's own writes applied at once, the follower's copies of them skipped (see
    the module doc). The follower calls :meth:`apply_at`; handlers call :meth:`write`."""

    def __init__(self, projection: Projection) -> None:
        self.projection = projection
        self.VERSION = projection.VERSION
        self._writing: dict[str, _Write] = {}
        self._delivered = 0
        """The highest bucket sequence the follower delivered."""

    # ------------------------------------------------------------------ the handler's side

    def write(
        self,
        key: str,
        value: bytes | None,
        stored: Callable[[], Awaitable[int | None]],
        read: Callable[[], Awaitable[Stored]],
    ) -> Awaitable[int | None]:
        """Apply ``value`` (None: a delete) to the read model now; the returned awaitable makes
        the write (``stored()``: its revision, or None if the bucket refused it, as a create of
        a key that exists) and, if it fails or is refused, sets the model back to ``read()``."""
        mine = self._writing[key] = _Write(value)
        self.projection.apply(key, value)
        return self._store(key, mine, stored, read)

    def stored(self, key: str, value: bytes | None, revision: int) -> None:
        """A write already confirmed at ``revision`` (a compare-and-set): into the model now,
        unless the follower delivered it already (the model then holds it, or newer)."""
        if revision > self._delivered:
            self.projection.apply(key, value)
            self._writing[key] = _Write(value, revision)

    async def _store(
        self,
        key: str,
        mine: _Write,
        stored: Callable[[], Awaitable[int | None]],
        read: Callable[[], Awaitable[Stored]],
    ) -> int | None:
        try:
            revision = await stored()
        except BaseException:
            await self._take_back(key, mine, read)
            raise
        if revision is None:
            await self._take_back(key, mine, read)
        elif self._writing.get(key) is mine:
            self._confirmed(key, mine, revision)
        return revision

    def _confirmed(self, key: str, mine: _Write, revision: int) -> None:
        mine.revision = revision
        if mine.seen is None or mine.seen[0] < revision:
            return  # ours is still to come from the follower
        del self._writing[key]
        if mine.seen[0] > revision:
            self.projection.apply(key, mine.seen[1])

    async def _take_back(
        self, key: str, mine: _Write, read: Callable[[], Awaitable[Stored]]
    ) -> None:
        if self._writing.get(key) is not mine:
            return  # a later write of ours owns the key now
        del self._writing[key]
        try:
            value, revision = await read()
        except Exception as error:
            log.warning(
                "a failed write could not be taken back from the read model; the key is set "
                "right by its next change",
                extra={"key": key, "error": repr(error)},
            )
            return
        if key in self._writing:
            return  # written again meanwhile: that write sets the model
        self.projection.apply(key, value)  # over ours, even if the follower brought it before
        if revision is not None and revision > self._delivered:
            self._writing[key] = _Write(value, revision)

    # ------------------------------------------------------------------ the follower's side

    def apply_at(self, key: str, value: bytes | None, sequence: int) -> None:
        self._delivered = sequence
        mine = self._writing.get(key)
        if mine is None:
            self.projection.apply(key, value)
        elif mine.revision is None:
            mine.seen = (sequence, value)
        elif sequence >= mine.revision:
            del self._writing[key]
            if sequence > mine.revision:
                self.projection.apply(key, value)

    def apply(self, key: str, value: bytes | None) -> None:
        self.projection.apply(key, value)

    def snapshot(self) -> bytes:
        return self.projection.snapshot()

    def restore(self, data: bytes) -> None:
        self.projection.restore(data)

    def caught_up(self) -> None:
        if hasattr(self.projection, "caught_up"):
            self.projection.caught_up()
