"""A typed view of a JetStream key-value bucket: each value is JSON of one type.

Values are (de)serialised with pydantic's ``TypeAdapter``, so a service can store its domain
dataclasses directly while its domain code stays free of pydantic.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Generic, TypeVar

from nats.js import JetStreamContext
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue
from pydantic import TypeAdapter

T = TypeVar("T")


class StaleRevision(Exception):
    """Someone else changed the key since it was read (optimistic concurrency)."""


@dataclass(frozen=True)
class Versioned(Generic[T]):
    """A value and the bucket revision that stored it (increases with every write)."""

    value: T
    revision: int


class KvStore(Generic[T]):
    """Typed get/put/create/update/delete and a bulk read of the latest values."""

    def __init__(self, bucket: str, value_type: type[T]) -> None:
        self.bucket = bucket
        self._adapter: TypeAdapter[T] = TypeAdapter(value_type)
        self._kv: KeyValue | None = None

    async def bind(self, js: JetStreamContext) -> None:
        """Attach to the (already provisioned) bucket."""
        self._kv = await js.key_value(self.bucket)

    @property
    def kv(self) -> KeyValue:
        if self._kv is None:
            raise RuntimeError(f"store {self.bucket} is not bound; call bind() at start-up")
        return self._kv

    def _encode(self, value: T) -> bytes:
        return self._adapter.dump_json(value)

    async def get(self, key: str) -> Versioned[T] | None:
        try:
            entry = await self.kv.get(key)
        except KeyNotFoundError:
            return None
        if entry.value is None:
            return None
        return Versioned(self._adapter.validate_json(entry.value), entry.revision or 0)

    async def put(self, key: str, value: T) -> int:
        """Set ``key`` to ``value``; returns the new revision."""
        return await self.kv.put(key, self._encode(value))

    async def create(self, key: str, value: T) -> int | None:
        """Set ``key`` only if it does not exist; returns the revision, or None if it existed."""
        try:
            return await self.kv.create(key, self._encode(value))
        except KeyWrongLastSequenceError:
            return None

    async def update(self, key: str, value: T, *, revision: int) -> int:
        """Set ``key`` only if it is still at ``revision``."""
        try:
            return await self.kv.update(key, self._encode(value), last=revision)
        except KeyWrongLastSequenceError as error:
            raise StaleRevision(f"{self.bucket}/{key} changed since revision {revision}") from error

    async def delete(self, key: str) -> None:
        await self.kv.delete(key)

    async def items(self, key_filter: str = ">") -> AsyncIterator[tuple[str, Versioned[T]]]:
        """The latest value of every key matching ``key_filter`` (e.g. ``'c-1.*'``)."""
        watcher = await self.kv.watch(key_filter, ignore_deletes=True)
        try:
            async for entry in watcher:
                if entry is None:  # the watcher's marker: every existing value has been sent
                    return
                if entry.value:
                    yield (
                        entry.key,
                        Versioned(self._adapter.validate_json(entry.value), entry.revision or 0),
                    )
        finally:
            await watcher.stop()
