"""In-memory read models that follow a key-value bucket, restart fast from snapshots.

A service keeps the data its queries need in memory (an index over a bucket it owns), because
answering "the newest questions of this community" from a bucket would mean reading all of it.
A :class:`BucketFollower` keeps such an index current on every replica of the service:

1. at start-up it restores the latest snapshot of the index (if any) and replays only the
   bucket changes stored after it; without a snapshot it reads the latest value of each key;
2. it is ready once it has caught up, and keeps following new changes in the background;
3. it writes a snapshot every few minutes (when something changed) and when it stops.

Snapshots live in the region's ``SNAPSHOTS`` stream as ~1 MB chunks plus a manifest (which
generation, how many chunks, the bucket sequence covered, a checksum); a snapshot that fails
its checksum or was written by another index version is ignored. A new snapshot replaces the
previous one, which is then securely deleted (its bytes overwritten, as :mod:`shared.storage`
explains). When a key is erased (a purge marker in the bucket), the follower writes a new
snapshot at once, so no snapshot holds the erased data for longer than it takes to write one;
an older snapshot restored after a crash replays the purge marker, which drops the key again.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import hashlib
import json
import logging
import time
import uuid
from array import array
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import APIError, NotFoundError
from pydantic import TypeAdapter

from shared.naming import Service, Streams
from shared.storage import erase_messages
from shared.tasks import cancel_and_wait

log = logging.getLogger("guild.readmodel")

CHUNK = 900_000
BULK_LOAD = 10_000
"""Changes after which loading a read model has freed enough memory to hand it back (the
call walks the whole heap, so it is not made after small loads)."""
T = TypeVar("T")


class Projection(Protocol):
    """An in-memory index over one bucket."""

    VERSION: str
    """Change it when :meth:`snapshot`'s format changes; older snapshots are then ignored."""

    def apply(self, key: str, value: bytes | None) -> None:
        """A key was set to ``value`` (None: deleted)."""

    def snapshot(self) -> bytes: ...

    def restore(self, data: bytes) -> None: ...


# A projection may also define ``caught_up()``: called once, when the bulk load is done; and
# ``apply_at(key, value, sequence)``, called instead of ``apply`` with the change's bucket
# sequence (for one its service also applies itself at once, to tell its own change from older).


# --------------------------------------------------------------- compact columns


class Names:
    """Strings to small numbers and back (community ids, member ids, tags)."""

    def __init__(self, names: Iterable[str] = ()) -> None:
        self.names: list[str] = list(names)
        self.codes: dict[str, int] = {name: code for code, name in enumerate(self.names) if name}

    def code(self, name: str) -> int:
        found = self.codes.get(name)
        if found is None:
            found = self.codes[name] = len(self.names)
            self.names.append(name)
        return found

    def get(self, name: str) -> int | None:
        return self.codes.get(name)

    def forget(self, name: str) -> None:
        """Drop ``name`` (its code stays taken, holding nothing): for erasure."""
        code = self.codes.pop(name, None)
        if code is not None:
            self.names[code] = ""

    def rename(self, code: int, name: str) -> None:
        """Code ``code`` stands for ``name`` from now on (an erased member's pseudonym takes
        the place of their id), unless ``name`` has a code of its own already."""
        if name in self.codes:
            return
        self.codes.pop(self.names[code], None)
        self.names[code] = name
        self.codes[name] = code


def pack(columns: dict[str, array[Any] | Sequence[str] | bytes]) -> bytes:
    """Columns (numeric arrays, lists of strings, raw bytes) in one blob."""
    header: dict[str, tuple[str, str, int]] = {}
    parts: list[bytes] = []
    for name, column in columns.items():
        if isinstance(column, array):
            data, kind = column.tobytes(), f"array:{column.typecode}"
        elif isinstance(column, bytes):
            data, kind = column, "bytes"
        else:
            data, kind = "\x1f".join(column).encode(), "strings"
        header[name] = (kind, "", len(data))
        parts.append(data)
    head = json.dumps(header).encode()
    return len(head).to_bytes(4, "big") + head + b"".join(parts)


def group_columns(name: str, groups: Mapping[int, array[int]]) -> dict[str, array[Any]]:
    """Lists of positions by key, as three columns for :func:`pack`."""
    flat = array("i")
    for positions in groups.values():
        flat.extend(positions)
    return {
        f"{name}.keys": array("q", groups),
        f"{name}.lengths": array("i", (len(positions) for positions in groups.values())),
        f"{name}.flat": flat,
    }


def groups_from(columns: dict[str, Any], name: str) -> dict[int, array[int]]:
    """The lists :func:`group_columns` stored under ``name``."""
    flat, groups, offset = columns[f"{name}.flat"], {}, 0
    for key, length in zip(columns[f"{name}.keys"], columns[f"{name}.lengths"], strict=True):
        groups[key] = flat[offset : offset + length]
        offset += length
    return groups


def unpack(blob: bytes) -> dict[str, Any]:
    """The columns :func:`pack` stored."""
    size = int.from_bytes(blob[:4], "big")
    header = json.loads(blob[4 : 4 + size])
    offset, columns = 4 + size, {}
    for name, (kind, _, length) in header.items():
        data = blob[offset : offset + length]
        offset += length
        if kind.startswith("array:"):
            column = array(kind.removeprefix("array:"))
            column.frombytes(data)
            columns[name] = column
        elif kind == "strings":
            columns[name] = data.decode().split("\x1f") if data else []
        else:
            columns[name] = data
    return columns


class Table(Generic[T]):
    """A projection keeping every value of a (small) bucket, decoded, by key. Subclasses may
    keep secondary indexes up to date in :meth:`changed`."""

    def __init__(self, value_type: type[T], version: str) -> None:
        self.VERSION = version
        self.items: dict[str, T] = {}
        self._adapter: TypeAdapter[T] = TypeAdapter(value_type)
        self._all: TypeAdapter[dict[str, T]] = TypeAdapter(dict[str, value_type])  # type: ignore[valid-type]

    def changed(self, key: str, before: T | None, after: T | None) -> None:
        """Called for every change; override to keep an index."""

    def apply(self, key: str, value: bytes | None) -> None:
        before = self.items.pop(key, None)
        after = self._adapter.validate_json(value) if value is not None else None
        if after is not None:
            self.items[key] = after
        self.changed(key, before, after)

    def get(self, key: str) -> T | None:
        return self.items.get(key)

    def snapshot(self) -> bytes:
        return self._all.dump_json(self.items)

    def restore(self, data: bytes) -> None:
        for key, before in list(self.items.items()):
            self.changed(key, before, None)
        self.items = self._all.validate_json(data)
        for key, value in self.items.items():
            self.changed(key, None, value)


# --------------------------------------------------------------- snapshots


@dataclass(frozen=True)
class Manifest:
    generation: str
    chunks: int
    sha256: str
    sequence: int
    version: str


class SnapshotStore:
    """Snapshots of one index, in the region's snapshot stream."""

    def __init__(self, js: JetStreamContext, region: str, service: Service, name: str) -> None:
        self.js = js
        self.stream = Streams(region).snapshots
        self.prefix = f"snapshot.{region}.{service.value}.{name}"

    async def save(self, data: bytes, *, sequence: int, version: str) -> None:
        generation = f"g{time.time_ns()}"
        chunks = [data[i : i + CHUNK] for i in range(0, len(data), CHUNK)] or [b""]
        acks = [
            await self.js.publish_async(
                f"{self.prefix}.{generation}.{number:06d}", chunk, stream=self.stream
            )
            for number, chunk in enumerate(chunks)
        ]
        await asyncio.gather(*acks)  # raises if a chunk was not stored: no manifest then
        manifest = Manifest(
            generation, len(chunks), hashlib.sha256(data).hexdigest(), sequence, version
        )
        previous = await self._manifest()
        await self.js.publish(
            f"{self.prefix}.manifest", json.dumps(manifest.__dict__).encode(), stream=self.stream
        )
        if previous is not None and previous.generation != generation:
            with contextlib.suppress(APIError):
                await erase_messages(self.js, self.stream, f"{self.prefix}.{previous.generation}.>")

    async def _manifest(self) -> Manifest | None:
        try:
            stored = await self.js.get_last_msg(self.stream, f"{self.prefix}.manifest")
        except NotFoundError:
            return None
        try:
            return Manifest(**json.loads(stored.data or b"{}"))
        except (ValueError, TypeError) as error:
            log.warning(
                "snapshot manifest unreadable; rebuilding from the bucket",
                extra={"snapshot": self.prefix, "error": repr(error)},
            )
            return None

    async def load(self, version: str) -> tuple[bytes, int] | None:
        """The latest snapshot's data and the bucket sequence it covers; None if there is no
        usable one."""
        manifest = await self._manifest()
        if manifest is None or manifest.version != version:
            return None
        parts = [data async for data in self._chunks(manifest.generation)]
        data = b"".join(parts)
        if len(parts) != manifest.chunks or hashlib.sha256(data).hexdigest() != manifest.sha256:
            log.warning(
                "snapshot unusable (incomplete or corrupt); rebuilding from the bucket",
                extra={"snapshot": self.prefix},
            )
            return None
        return data, manifest.sequence

    async def _chunks(self, generation: str) -> Any:
        sub = await self.js.pull_subscribe(
            f"{self.prefix}.{generation}.>",
            stream=self.stream,
            config=ConsumerConfig(
                name=f"snapshot-{uuid.uuid4().hex[:12]}",
                deliver_policy=DeliverPolicy.ALL,
                ack_policy=AckPolicy.NONE,
                inactive_threshold=30,
                mem_storage=True,
            ),
        )
        try:
            while True:
                try:
                    messages = await sub.fetch(8, timeout=5)
                except (NatsTimeoutError, TimeoutError):
                    return
                for msg in messages:
                    yield msg.data
                if messages[-1].metadata.num_pending == 0:
                    return
        finally:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()


# --------------------------------------------------------------- following a bucket


def return_freed_memory() -> None:
    """Give back to the OS what a bulk load freed (the snapshot's bytes, parsing buffers).

    glibc keeps freed heap memory for later allocations; after loading a read model that is
    tens of megabytes nothing will reuse, counted in the process's resident memory. Elsewhere
    than on glibc this does nothing."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


class BucketFollower:
    """Keeps ``projection`` equal to the latest state of ``bucket`` (see the module doc)."""

    def __init__(
        self,
        bucket: str,
        projection: Projection,
        *,
        region: str,
        service: Service,
        name: str,
        snapshot_every: float = 300.0,
        opened: Callable[[str, bytes], bytes] | None = None,
    ) -> None:
        """``opened`` turns a stored value into the plain one a sealed bucket's store keeps
        (:meth:`shared.storage.KvStore.opened`)."""
        self.bucket = bucket
        self.opened = opened
        self.stream = f"KV_{bucket}"
        self.projection = projection
        self.region, self.service, self.name = region, service, name
        self.snapshot_every = snapshot_every
        self.applied = 0
        """The bucket sequence the projection reflects."""
        self._snapshotted = 0
        self._js: JetStreamContext | None = None
        self._snapshots: SnapshotStore | None = None
        self._task: asyncio.Task[None] | None = None
        self._sub: Any = None
        self._advanced = asyncio.Condition()
        self._erased = False
        """A key was erased since the last snapshot, which may still hold its data."""
        self.restored_from_snapshot = False

    async def start(self, js: JetStreamContext) -> None:
        """Restore, catch up with the bucket, then follow it in the background."""
        self._js = js
        self._snapshots = SnapshotStore(js, self.region, self.service, self.name)
        restored = await self._snapshots.load(self.projection.VERSION)
        if restored is not None:
            data, sequence = restored
            self.projection.restore(data)
            self.applied = self._snapshotted = sequence
            self.restored_from_snapshot = True
        self._sub = await self._subscribe()
        await self._catch_up(self._sub)
        if hasattr(self.projection, "caught_up"):
            self.projection.caught_up()
        if self.restored_from_snapshot or self.applied >= BULK_LOAD:
            return_freed_memory()
        await self._snapshot_if_erased()
        self._task = asyncio.create_task(self._follow())
        log.info(
            "read model ready",
            extra={
                "bucket": self.bucket,
                "sequence": self.applied,
                "from_snapshot": self.restored_from_snapshot,
            },
        )

    async def _subscribe(self) -> Any:
        assert self._js is not None
        start = self.applied + 1
        config = ConsumerConfig(
            name=f"follow-{uuid.uuid4().hex[:12]}",
            ack_policy=AckPolicy.NONE,
            inactive_threshold=60,
            mem_storage=True,
            deliver_policy=(
                DeliverPolicy.BY_START_SEQUENCE if self.applied else DeliverPolicy.LAST_PER_SUBJECT
            ),
            opt_start_seq=start if self.applied else None,
        )
        return await self._js.pull_subscribe(
            f"$KV.{self.bucket}.>", stream=self.stream, config=config
        )

    async def _fetch(self, sub: Any, timeout: float) -> list[Any]:
        try:
            return list(await sub.fetch(1000, timeout=timeout))
        except (NatsTimeoutError, TimeoutError):
            return []

    async def _catch_up(self, sub: Any) -> None:
        assert self._js is not None
        target = (await self._js.stream_info(self.stream)).state.last_seq
        while self.applied < target:
            messages = await self._fetch(sub, timeout=2.0)
            if not messages:
                break  # nothing after what we hold (e.g. the newest keys were deleted)
            await self._apply(messages)
            if messages[-1].metadata.num_pending == 0:
                break

    async def _apply(self, messages: list[Any]) -> None:
        prefix = len(f"$KV.{self.bucket}.")
        apply_at = getattr(self.projection, "apply_at", None)
        for msg in messages:
            operation = (msg.headers or {}).get("KV-Operation")
            value = None if operation in ("DEL", "PURGE") else msg.data
            self._erased = self._erased or operation == "PURGE"
            sequence, key = msg.metadata.sequence.stream, msg.subject[prefix:]
            if value and self.opened is not None:
                value = self.opened(key, value)
            if apply_at is not None:
                apply_at(key, value, sequence)
            else:
                self.projection.apply(key, value)
            self.applied = sequence
        async with self._advanced:
            self._advanced.notify_all()

    async def _follow(self) -> None:
        last_snapshot = time.monotonic()
        while True:
            try:
                messages = await self._fetch(self._sub, timeout=1.0)
                if messages:
                    await self._apply(messages)
                    await self._snapshot_if_erased()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the consumer may be gone (NATS restarted): recreate
                log.warning(
                    "following the bucket failed; resubscribing",
                    extra={"bucket": self.bucket, "error": repr(error)},
                )
                await asyncio.sleep(1.0)
                with contextlib.suppress(Exception):
                    self._sub = await self._subscribe()
                continue
            if time.monotonic() - last_snapshot > self.snapshot_every:
                last_snapshot = time.monotonic()
                await self._try_snapshot()

    async def wait_for(self, sequence: int, timeout: float = 5.0) -> None:
        """Until the projection reflects bucket ``sequence`` (read your own writes)."""
        async with self._advanced:
            await asyncio.wait_for(
                self._advanced.wait_for(lambda: self.applied >= sequence), timeout
            )

    async def save_snapshot(self) -> None:
        if self._snapshots is None or self.applied == self._snapshotted:
            return
        sequence = self.applied
        await self._snapshots.save(
            self.projection.snapshot(), sequence=sequence, version=self.projection.VERSION
        )
        self._snapshotted = sequence
        log.info("snapshot saved", extra={"bucket": self.bucket, "sequence": sequence})

    async def _snapshot_if_erased(self) -> None:
        """After an erasure, a snapshot without the erased key replaces the one with it."""
        if self._erased:
            self._erased = False
            await self._try_snapshot()

    async def _try_snapshot(self) -> None:
        """A snapshot that cannot be written costs the next start time, not data: say so."""
        try:
            await self.save_snapshot()
        except Exception as error:
            log.warning(
                "snapshot not saved; the next start replays more of the bucket",
                extra={"bucket": self.bucket, "error": repr(error)},
            )

    async def stop(self) -> None:
        if self._task is not None:
            await cancel_and_wait(self._task)
        await self._try_snapshot()
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()
