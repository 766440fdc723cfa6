"""A typed view of a JetStream key-value bucket: each value is JSON of one type.

Values are (de)serialised with pydantic's ``TypeAdapter``, so a service can store its domain
dataclasses directly while its domain code stays free of pydantic.

Personal data needs more than a delete. JetStream removes a message it drops by a limit (a
bucket's history, a purge, an age) from its index, but the bytes stay in the block file until
the block is rewritten; only a *secure* delete (``STREAM.MSG.DELETE``, which overwrites the
message) takes them off the disk. So a store created with ``secure=True`` securely deletes the
revision a write replaces; :func:`erase_messages` securely deletes messages of any stream.

A key goes in one of two ways, both leaving a marker that followers of the bucket (read
models, and through them their snapshots) see:

* :meth:`KvStore.delete`: a delete marker (``KV-Operation: DEL``); earlier revisions stay as
  long as the bucket's history allows (a secure bucket keeps none: they are securely deleted
  after the marker is written);
* :meth:`KvStore.erase`: every stored revision securely deleted, then a purge marker
  (``KV-Operation: PURGE``), which tells followers that the key's data must also leave their
  snapshots. For personal data.

A *sealed* store keeps every value encrypted at rest with the operator's keys
(:mod:`shared.sealing`), bound to its bucket and key: what is stored, read, rewritten and
followed is the plain value inside; the bucket's stream holds only sealed bytes.
"""

from __future__ import annotations

import contextlib
import json
import re
import secrets
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import (
    APIError,
    BadRequestError,
    InvalidKeyError,
    KeyNotFoundError,
    KeyWrongLastSequenceError,
    NotFoundError,
)
from nats.js.kv import KeyValue
from pydantic import TypeAdapter

from shared.naming import Service, Streams, dead_letter_subject, without_nats_headers
from shared.pubacks import pubacks
from shared.sealing import Keyring, SealingError

T = TypeVar("T")


class StaleRevision(Exception):
    """Someone else changed the key since it was read (optimistic concurrency)."""


@dataclass(frozen=True)
class Versioned(Generic[T]):
    """A value and the bucket revision that stored it (increases with every write)."""

    value: T
    revision: int


class KvStore(Generic[T]):
    """Typed get/put/create/update, delete or erase (see the module doc), and a bulk read
    of the latest values."""

    def __init__(
        self,
        bucket: str,
        value_type: type[T],
        *,
        secure: bool = False,
        sealed: bool = False,
        keyring: Keyring | None = None,
    ) -> None:
        self.bucket = bucket
        self.stream = f"KV_{bucket}"
        self.secure = secure
        self.sealed = sealed
        self.keyring = keyring
        self._adapter: TypeAdapter[T] = TypeAdapter(value_type)
        self._kv: KeyValue | None = None
        self._js: JetStreamContext | None = None
        self._keeps_one_revision = False

    def check_keys(self) -> None:
        """Raise :class:`SealingError` if the store is sealed and has no keyring."""
        if self.sealed and self.keyring is None:
            raise SealingError(
                f"bucket {self.bucket} is sealed at rest: the service needs the sealing keys "
                "(GUILD_SEALING_KEYS_FILE, or GUILD_SEALING_KEYS; see docs/security.md)"
            )

    async def bind(self, js: JetStreamContext) -> None:
        """Attach to the (already provisioned) bucket."""
        self.check_keys()
        self._js = js
        self._kv = await js.key_value(self.bucket)
        kept = (await js.stream_info(self.stream)).config.max_msgs_per_subject
        self._keeps_one_revision = kept == 1

    @property
    def kv(self) -> KeyValue:
        if self._kv is None:
            raise RuntimeError(f"store {self.bucket} is not bound; call bind() at start-up")
        return self._kv

    @property
    def js(self) -> JetStreamContext:
        if self._js is None:
            raise RuntimeError(f"store {self.bucket} is not bound; call bind() at start-up")
        return self._js

    def encode(self, value: T) -> bytes:
        return self._adapter.dump_json(value)

    def opened(self, key: str, stored: bytes) -> bytes:
        """The plain bytes of what is stored under ``key`` (as they are, unless sealed)."""
        if not self.sealed or self.keyring is None:
            return stored
        return self.keyring.open(stored, f"{self.bucket}/{key}")

    def _stored(self, key: str, data: bytes) -> bytes:
        if not self.sealed or self.keyring is None:
            return data
        return self.keyring.seal(data, f"{self.bucket}/{key}")

    def decode(self, data: bytes) -> T:
        return self._adapter.validate_json(data)

    async def get(self, key: str) -> Versioned[T] | None:
        try:
            entry = await self.kv.get(key)
        except KeyNotFoundError:
            return None
        if entry.value is None:
            return None
        return Versioned(self.decode(self.opened(key, entry.value)), entry.revision or 0)

    async def _revision(self, key: str) -> int | None:
        try:
            entry = await self.kv.get(key)
        except KeyNotFoundError:
            return None
        return entry.revision

    async def put(self, key: str, value: T) -> int:
        """Set ``key`` to ``value``; returns the new revision."""
        return await self.put_raw(key, self.encode(value))

    async def create(self, key: str, value: T) -> int | None:
        """Set ``key`` only if it does not exist; returns the revision, or None if it existed."""
        return await self.create_raw(key, self.encode(value))

    async def create_raw(self, key: str, data: bytes) -> int | None:
        try:
            return await self._write(key, data, last=0)
        except KeyWrongLastSequenceError:
            pass
        try:  # a value (the key is taken), or a delete or purge marker (written over)
            await self.kv.get(key)
        except KeyNotFoundError as missing:  # the marker's revision, or none left at all
            marker = missing.entry.revision if missing.entry is not None else 0
            with contextlib.suppress(KeyWrongLastSequenceError):
                return await self._write(key, data, last=marker)
        return None

    async def update(self, key: str, value: T, *, revision: int) -> int:
        """Set ``key`` only if it is still at ``revision``."""
        return await self.update_raw(key, self.encode(value), revision=revision)

    async def update_raw(self, key: str, data: bytes, *, revision: int) -> int:
        try:
            new_revision = await self._write(key, data, last=revision)
        except KeyWrongLastSequenceError as error:
            raise StaleRevision(f"{self.bucket}/{key} changed since revision {revision}") from error
        if self.secure:
            await self._erase_revision(revision)
        return new_revision

    async def change(self, key: str, change: Callable[[T | None], T | None]) -> T | None:
        """Set ``key`` to ``change(its value now)``, again if someone wrote it meanwhile
        (optimistic concurrency); ``change`` returning None leaves the key as it is. Returns
        the value the key has afterwards."""
        result: list[T | None] = []

        def encoded(data: bytes | None) -> bytes | None:
            held = self.decode(data) if data is not None else None
            changed = change(held)
            result[:] = [held if changed is None else changed]
            return None if changed is None else self.encode(changed)

        await self.change_raw(key, encoded)
        return result[0]

    async def change_raw(
        self, key: str, change: Callable[[bytes | None], bytes | None]
    ) -> int | None:
        """:meth:`change` on the stored bytes; returns the new revision (None: unchanged)."""
        while True:
            try:
                entry = await self.kv.get(key)
                data, revision = entry.value, entry.revision
            except KeyNotFoundError:
                data, revision = None, None
            data = self.opened(key, data) if data else None
            changed = change(data or None)
            if changed is None:
                return None
            if revision is None or data is None:
                created = await self.create_raw(key, changed)
                if created is not None:
                    return created
                continue
            with contextlib.suppress(StaleRevision):
                return await self.update_raw(key, changed, revision=revision)

    async def delete(self, key: str) -> int:
        """Delete ``key``: a delete marker, holding no data, that followers of the bucket see.
        Earlier revisions stay as the bucket's history allows; in a secure bucket they are
        securely deleted after the marker is written (the marker stays a delete, not the
        purge of :meth:`erase`). Returns the marker's revision."""
        replaced = await self._revisions(key) if self.secure else []
        marker = await self._mark(key, _DELETE_MARKER)
        for revision in replaced:
            await self._erase_revision(revision)
        return marker

    async def erase(self, key: str) -> int:
        """Erase ``key``: every stored revision securely deleted (its bytes overwritten on
        disk), then a purge marker that followers see (they drop the key and leave it out of
        their next snapshot). Safe to repeat. Returns the marker's revision."""
        for revision in await self._revisions(key):
            await self._erase_revision(revision)
        return await self._mark(key, _PURGE_MARKER)

    async def erased_after(self, key: str, moment: datetime | None) -> bool:
        """Whether ``key``'s latest entry is the marker :meth:`erase` leaves, written at or
        after ``moment`` (any time, if None). An event about the key from before then is
        stale (a retry delayed past the erasure): applying it would bring back what was
        erased. A key written again since is not erased."""
        try:
            last = await self.js.get_last_msg(self.stream, f"$KV.{self.bucket}.{key}")
        except NotFoundError:
            return False
        purged = (last.headers or {}).get("KV-Operation") == _PURGE_MARKER["KV-Operation"]
        return purged and (moment is None or last.time is None or moment <= last.time)

    async def _revisions(self, key: str) -> list[int]:
        """Every stored revision of ``key`` (values and markers), read with :func:`scan`: not
        nats-py's ``history``, whose watcher can say "nothing more" before revisions already
        on their way, and a revision it misses would stay on disk after an erasure."""
        subject = f"$KV.{self.bucket}.{key}"
        return [sequence async for sequence, _, _, _ in scan(self.js, self.stream, subject)]

    async def _mark(self, key: str, marker: dict[str, str]) -> int:
        ack = await self.js.publish(
            f"$KV.{self.bucket}.{key}", b"", headers=marker, stream=self.stream
        )
        return int(ack.seq)

    async def put_raw(self, key: str, data: bytes) -> int:
        """Set ``key`` to already encoded ``data``; returns the new revision."""
        replaced = await self._revision(key) if self.secure else None
        revision = await self._write(key, data)
        await self._erase_revision(replaced)
        return revision

    async def _write(self, key: str, data: bytes, *, last: int | None = None) -> int:
        """Store ``data`` as ``key``'s new revision and return it once JetStream confirms it;
        with ``last``, only if the key is still at that revision (0: has none). Raises
        :class:`KeyWrongLastSequenceError` if it is not, nats-py's ``TimeoutError`` if no
        PubAck came within :data:`WRITE_TIMEOUT`.

        Through :mod:`shared.pubacks` (one reply subscription for every write of the
        connection), not nats-py's ``KeyValue``, whose every write is a request-reply: the
        cost that limited a handler's writes."""
        if not _KEY.match(key) or key.startswith(".") or key.endswith("."):
            raise InvalidKeyError(key)
        headers = None if last is None else {_EXPECTED_LAST_SUBJECT_SEQUENCE: str(last)}
        try:
            ack = await pubacks(self.js._nc).publish(
                f"$KV.{self.bucket}.{key}",
                self._stored(key, data),
                headers=headers,
                timeout=WRITE_TIMEOUT,
            )
        except APIError as error:
            if error.err_code in _WRONG_LAST:
                raise KeyWrongLastSequenceError(description=error.description) from error
            raise
        return int(ack.seq)

    async def erase_prefix(self, prefix: str) -> int:
        """:meth:`erase` every key starting with ``prefix`` (a whole token path such as
        ``"e1001."``); returns how many keys."""
        subject_prefix = f"$KV.{self.bucket}."
        keys: set[str] = set()

        def note_key(subject: str, _headers: dict[str, str], _data: bytes) -> bool:
            keys.add(subject[len(subject_prefix) :])
            return True

        await erase_messages(self.js, self.stream, f"{subject_prefix}{prefix}>", note_key)
        for key in sorted(keys):
            await self._mark(key, _PURGE_MARKER)
        return len(keys)

    async def _erase_revision(self, revision: int | None) -> None:
        if revision:
            await _erase_message(self.js, self.stream, revision)

    async def rewrite_all(self, rewrite: Callable[[bytes], bytes | None]) -> int:
        """Set every key whose stored bytes ``rewrite`` changes (None: leave it) to what it
        gives, compare-and-set; in a secure bucket the replaced bytes are securely deleted.
        Returns how many keys changed."""
        keys = [key async for key, data in self.raw_items() if rewrite(data) is not None]
        for key in keys:
            await self.rewrite(key, rewrite)
        return len(keys)

    async def reseal(self) -> int:
        """Seal again, with the keyring's current key, every value sealed with another key or
        written before the bucket was sealed; the replaced bytes are securely deleted. Returns
        how many keys. (After a new key is put first in the keyring: see shared.sealing.)"""
        if not self.sealed or self.keyring is None:
            return 0
        prefix, current = f"$KV.{self.bucket}.", self.keyring.sealed_with_current
        keys = [
            subject[len(prefix) :]
            async for _, subject, headers, data in scan(
                self.js, self.stream, prefix + ">", latest_per_subject=True
            )
            if data and not _DELETED.intersection(headers) and not current(data)
        ]
        for key in keys:
            await self.rewrite(key, lambda plain: plain)
        return len(keys)

    async def raw_items(self, key_filter: str = ">") -> AsyncIterator[tuple[str, bytes]]:
        """Each key's latest value (plain), with :func:`scan` (see :meth:`items`)."""
        prefix = f"$KV.{self.bucket}."
        async for _, subject, headers, data in scan(
            self.js, self.stream, prefix + key_filter, latest_per_subject=True
        ):
            if data and not _DELETED.intersection(headers):
                key = subject[len(prefix) :]
                yield key, self.opened(key, data)

    async def rewrite(self, key: str, rewrite: Callable[[bytes], bytes | None]) -> None:
        """Set ``key`` to ``rewrite(its stored bytes)`` (None: leave it), compare-and-set, and
        securely delete the replaced bytes, in any bucket: for records that stay after an
        erasure with the person taken out. A bucket that keeps one revision drops the replaced
        one (bytes left on disk) as the new one is written, so there the replaced revision is
        securely deleted first and the new one written only if no one wrote the key since."""
        while True:
            try:
                entry = await self.kv.get(key)
            except KeyNotFoundError:
                return
            changed = rewrite(self.opened(key, entry.value)) if entry.value else None
            if changed is None or not entry.revision:
                return
            if await self._replace(key, changed, entry.revision):
                return

    async def _replace(self, key: str, data: bytes, revision: int) -> bool:
        """Write ``data`` in place of ``revision`` (the key's latest) and securely delete that
        revision; False if someone wrote the key meanwhile."""
        data = self._stored(key, data)
        if not self._keeps_one_revision:
            try:
                await self.kv.update(key, data, last=revision)
            except KeyWrongLastSequenceError:
                return False
            await self._erase_revision(revision)
            return True
        await self._erase_revision(revision)
        try:
            await self.js.publish(
                f"$KV.{self.bucket}.{key}",
                data,
                headers={"Nats-Expected-Last-Subject-Sequence": "0"},
                stream=self.stream,
            )
        except BadRequestError as error:
            if error.err_code != _WRONG_LAST_SEQUENCE:
                raise
            return False
        return True

    async def items(self, key_filter: str = ">") -> AsyncIterator[tuple[str, Versioned[T]]]:
        """The latest value of every key matching ``key_filter`` (e.g. ``'c-1.*'``).

        Read with :func:`scan`, not nats-py's key watcher: the watcher can signal "nothing
        more" before values already on their way, and a listing then misses a key written
        a moment before."""
        prefix = f"$KV.{self.bucket}."
        async for sequence, subject, headers, data in scan(
            self.js, self.stream, prefix + key_filter, latest_per_subject=True
        ):
            if data and not _DELETED.intersection(headers):
                key = subject[len(prefix) :]
                yield key, Versioned(self.decode(self.opened(key, data)), sequence)


async def kept_secret(store: KvStore[str], name: str) -> bytes:
    """The region's secret ``name`` for this service, made once (32 random bytes) and kept in
    ``store``, so every replica and every restart uses the same one."""
    while True:
        found = await store.get(name)
        if found is not None:
            return bytes.fromhex(found.value)
        await store.create(name, secrets.token_hex(32))


_WRONG_LAST_SEQUENCE = 10071
"""JetStream's error code for a publish whose expected last (subject) sequence is not met."""
_WRONG_LAST = (_WRONG_LAST_SEQUENCE, 10164)
"""... and the code newer servers give when the expected sequence is a constant (0)."""
_EXPECTED_LAST_SUBJECT_SEQUENCE = "Nats-Expected-Last-Subject-Sequence"
_KEY = re.compile(r"^[-/_=.a-zA-Z0-9]+$")
"""A valid key (as nats-py's and JetStream's KV clients check it)."""
WRITE_TIMEOUT = 5.0
"""Seconds a write waits for its PubAck (nats-py's default for a JetStream publish)."""
_NO_MESSAGE = 10057
"""JetStream's error code for a message that is not (or no longer) stored."""

_DELETED = {"KV-Operation", "Nats-Marker-Reason"}
"""Headers of delete and purge markers (a value's message has neither)."""
_DELETE_MARKER = {"KV-Operation": "DEL"}
_PURGE_MARKER = {"KV-Operation": "PURGE"}
"""A purge marker without ``Nats-Rollup``: the revisions are already securely deleted, and a
rollup would only drop (not overwrite) a value written meanwhile."""


async def scan(
    js: JetStreamContext,
    stream: str,
    subject: str = ">",
    *,
    batch: int = 500,
    latest_per_subject: bool = False,
) -> AsyncIterator[tuple[int, str, dict[str, str], bytes]]:
    """Every message of ``stream`` on ``subject`` (or only the latest of each subject):
    (sequence, subject, headers, data). What is pending is counted when the scan starts,
    so it neither stops early nor waits for messages that do not exist."""
    policy = DeliverPolicy.LAST_PER_SUBJECT if latest_per_subject else DeliverPolicy.ALL
    sub = await js.pull_subscribe(
        subject,
        stream=stream,
        config=ConsumerConfig(
            name=f"scan-{uuid.uuid4().hex[:12]}",
            deliver_policy=policy,
            ack_policy=AckPolicy.NONE,
            inactive_threshold=30,
            mem_storage=True,
        ),
    )
    try:
        if (await sub.consumer_info()).num_pending == 0:
            return
        while True:
            try:
                messages = await sub.fetch(batch, timeout=1.0)
            except (NatsTimeoutError, TimeoutError):
                return
            for msg in messages:
                yield msg.metadata.sequence.stream, msg.subject, dict(msg.headers or {}), msg.data
            if messages[-1].metadata.num_pending == 0:
                return
    finally:
        with contextlib.suppress(Exception):
            await sub.unsubscribe()


async def erase_messages(
    js: JetStreamContext,
    stream: str,
    subject: str,
    holds: Callable[[str, dict[str, str], bytes], bool] = lambda *_: True,
    *,
    work_queue: bool = False,
    up_to: int | None = None,
) -> int:
    """Securely delete the messages of ``stream`` on ``subject`` (up to sequence ``up_to``,
    if given) for which ``holds(subject, headers, data)`` is true; returns how many. A
    ``work_queue`` stream is read with :func:`walk`."""
    reader = walk(js, stream, subject) if work_queue else scan(js, stream, subject)
    doomed = [
        seq
        async for seq, subj, headers, data in reader
        if (up_to is None or seq <= up_to) and holds(subj, headers, data)
    ]
    for sequence in doomed:
        await _erase_message(js, stream, sequence)
    return len(doomed)


async def _erase_message(js: JetStreamContext, stream: str, sequence: int) -> None:
    """Securely delete message ``sequence`` of ``stream``; one already gone is fine."""
    try:
        await js.delete_msg(stream, sequence)
    except NotFoundError:
        return
    except APIError as error:
        if error.err_code != _NO_MESSAGE:
            raise


async def walk(
    js: JetStreamContext, stream: str, subject: str = ">"
) -> AsyncIterator[tuple[int, str, dict[str, str], bytes]]:
    """Every message of ``stream`` on ``subject``, read one by one without a consumer (a
    work-queue stream admits no second consumer on its subjects): as :func:`scan` yields."""
    sequence = 1
    while True:
        try:
            msg = await js.get_msg(stream, seq=sequence, subject=subject, next=True)
        except NotFoundError:
            return
        yield msg.seq, msg.subject or "", dict(msg.headers or {}), msg.data or b""
        sequence = msg.seq + 1


async def rewrite_messages(
    js: JetStreamContext,
    stream: str,
    subject: str,
    rewrite: Callable[[bytes], bytes | None],
    *,
    work_queue: bool = False,
) -> int:
    """Replace every message of ``stream`` on ``subject`` for which ``rewrite(data)`` gives new
    bytes: the new message goes on the same subject (after the stream's newest) and keeps the
    old one's place (:data:`FIRST_SEQUENCE`, see :func:`position`); the old one is securely
    deleted. Safe to repeat: a copy already made is not made twice. Where the subject is at
    the stream's per-subject limit, a new message would push its oldest out (lost, its bytes
    left on disk), so there the old one is deleted first. Returns how many were replaced."""
    reader = walk(js, stream, subject) if work_queue else scan(js, stream, subject)
    replaced = [
        (_Stored(stream, sequence, subj, headers, b""), new)
        async for sequence, subj, headers, data in reader
        if (new := rewrite(data)) is not None
    ]
    limit = (await js.stream_info(stream)).config.max_msgs_per_subject or -1
    for message, new in replaced:
        full = limit > 0 and await _messages_on(js, stream, message.subject) >= limit
        await _republish(js, message, new, delete_first=full)
    return len(replaced)


FIRST_SEQUENCE = "Guild-First-Sequence"
"""Header of a rewritten message: the sequence the message first had, its place in order."""


def position(sequence: int, headers: dict[str, str]) -> int:
    """A message's place in its stream's order: the sequence it was first stored at, kept
    when :func:`rewrite_messages` replaced it."""
    first = headers.get(FIRST_SEQUENCE, "")
    return int(first) if first.isdigit() else sequence


async def _messages_on(js: JetStreamContext, stream: str, subject: str) -> int:
    state = (await js.stream_info(stream, subjects_filter=subject)).state
    return (state.subjects or {}).get(subject, 0)


@dataclass(frozen=True)
class _Stored:
    """A message as read back: its stream, sequence, subject, headers and bytes."""

    stream: str
    sequence: int
    subject: str
    headers: dict[str, str]
    data: bytes


async def _dead_letters(
    js: JetStreamContext, region: str, service: Service
) -> list[tuple[_Stored, _Stored | None]]:
    """Each of ``service``'s dead letters in ``region``, with the verbatim copy of its
    original if one was made (a work-queue stream such as the outbox drops the original)."""
    stream = Streams(region).dead_letters
    letters = scan(js, stream, dead_letter_subject(region, service, "*"))
    found = [_Stored(stream, *message) async for message in letters]
    return [(letter, await _copied_original(js, letter.data)) for letter in found]


async def _copied_original(js: JetStreamContext, letter: bytes) -> _Stored | None:
    try:
        kept = json.loads(letter).get("original") or {}
    except (ValueError, AttributeError):
        return None
    if not kept.get("copied"):
        return None
    try:
        msg = await js.get_msg(kept["stream"], seq=kept["sequence"])
    except (NotFoundError, APIError):
        return None
    return _Stored(kept["stream"], msg.seq, msg.subject or "", dict(msg.headers or {}),
                   msg.data or b"")  # fmt: skip


async def erase_dead_letters(
    js: JetStreamContext, region: str, service: Service, holds: Callable[[bytes], bool]
) -> int:
    """Securely delete ``service``'s dead letters in ``region`` for which ``holds`` is true of
    the letter (its excerpt of the original, the original's subject and headers) or of the
    copy of its original, that copy with them. Returns how many letters."""
    erased = 0
    for letter, original in await _dead_letters(js, region, service):
        if holds(letter.data) or (original is not None and holds(original.data)):
            await _erase_message(js, letter.stream, letter.sequence)
            if original is not None:
                await _erase_message(js, original.stream, original.sequence)
            erased += 1
    return erased


async def rewrite_dead_letters(
    js: JetStreamContext, region: str, service: Service, rewrite: Callable[[bytes], bytes | None]
) -> int:
    """Replace ``service``'s dead letters in ``region`` that ``rewrite`` changes (the letter's
    bytes, or its original's copy): the new copy of the original first, then the letter
    pointing at it; the old ones securely deleted. Returns how many letters."""
    rewritten = 0
    for letter, original in await _dead_letters(js, region, service):
        data = letter.data
        new_original = rewrite(original.data) if original is not None else None
        if original is not None and new_original is not None:
            copy = await _republish(js, original, new_original)
            data = _pointing_at(data, copy)
        new_letter = rewrite(data) or (data if data != letter.data else None)
        if new_letter is not None:
            await _republish(js, letter, new_letter)
            rewritten += 1
    return rewritten


async def _republish(
    js: JetStreamContext, message: _Stored, data: bytes, *, delete_first: bool = False
) -> int:
    """``data`` in place of ``message`` (same stream and subject, after the newest, keeping
    its :func:`position`), the old one securely deleted (first, if ``delete_first``: no copy
    is made twice, but a crash between the two loses it); safe to repeat. Returns the new
    sequence."""
    kept = without_nats_headers(message.headers)
    kept[FIRST_SEQUENCE] = str(position(message.sequence, message.headers))
    kept["Nats-Msg-Id"] = f"rewritten:{message.stream}:{message.sequence}"
    if delete_first:
        await _erase_message(js, message.stream, message.sequence)
    ack = await js.publish(message.subject, data, headers=kept, stream=message.stream)
    if not delete_first:
        await _erase_message(js, message.stream, message.sequence)
    return int(ack.seq)


def _pointing_at(letter: bytes, sequence: int) -> bytes:
    """The dead letter ``letter`` with its original's copy now at ``sequence``."""
    document = json.loads(letter)
    document["original"]["sequence"] = sequence
    return json.dumps(document).encode()


class DeadLetters:
    """One service's dead letters in its region, reached through a bound store's connection:
    what an erasure takes (see :func:`erase_dead_letters`)."""

    def __init__(self, region: str, service: Service, via: KvStore[Any]) -> None:
        self.region, self.service, self._via = region, service, via

    async def erase(self, holds: Callable[[bytes], bool]) -> int:
        return await erase_dead_letters(self._via.js, self.region, self.service, holds)
