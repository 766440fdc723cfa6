"""Sealing: what a bucket must not give away to whoever copies it, encrypted at rest.

Webhook signing secrets, channel addresses, contacts and each region's own keys (the
link-signing key among them) are stored *sealed*: AES-256-GCM under a key the operator
provides, with the bucket and the entry's key as associated data, so a sealed value cannot be
moved to another member's entry either. A copy of the bucket's stream, a backup or a stolen
disk then holds no secret and no address in clear; the services that own the bucket hold the
keys.

The keys come as a *keyring*, one ``<id>:<32 bytes, base64>`` line per key, newest first: a
file (``GUILD_SEALING_KEYS_FILE``, readable by its owner only) or the text itself in an
environment secret (``GUILD_SEALING_KEYS``). The first key seals; every key of the ring opens
what it sealed. Rotating: put a new key first (``guild sealing-key add``), restart the
services, re-seal what the old key sealed (``python -m services.<name> reseal``), then drop the
old line. A value sealed with a key the ring no longer holds cannot be read, and the service
says which key it needs.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"\x00guild-sealed-1:"
"""How a sealed value begins (a JSON value never begins with a NUL byte)."""
NONCE_BYTES = 12
KEY_BYTES = 32
_KEY_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")


class SealingError(Exception):
    """The keys are missing or wrong, or a sealed value cannot be opened with them."""


@dataclass(frozen=True)
class Keyring:
    """The operator's sealing keys, newest (the one that seals) first."""

    keys: Mapping[str, bytes]
    current: str

    @classmethod
    def parse(cls, text: str, where: str) -> Keyring:
        keys: dict[str, bytes] = {}
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            key_id, _, encoded = line.partition(":")
            checked = _checked_id(key_id, where, number)
            keys[checked] = _decoded_key(encoded, where, number)
        if not keys:
            raise SealingError(f"{where} holds no sealing key (lines of '<id>:<base64 key>')")
        return cls(keys, next(iter(keys)))

    @classmethod
    def read(cls, path: Path) -> Keyring:
        try:
            mode = path.stat().st_mode
            text = path.read_text()
        except OSError as error:
            raise SealingError(f"cannot read the sealing keys {path}: {error.strerror}") from None
        if mode & 0o077:
            raise SealingError(f"{path} is readable by others: chmod 600 it")
        return cls.parse(text, str(path))

    def seal(self, data: bytes, context: str) -> bytes:
        """``data`` encrypted with the current key, bound to ``context`` (bucket and key)."""
        nonce = os.urandom(NONCE_BYTES)
        cipher = AESGCM(self.keys[self.current]).encrypt(nonce, data, context.encode())
        return MAGIC + self.current.encode() + b":" + nonce + cipher

    def open(self, data: bytes, context: str) -> bytes:
        """What :meth:`seal` sealed; a value written before sealing (not sealed) as it is."""
        if not is_sealed(data):
            return data
        key_id, nonce, cipher = _parts(data)
        key = self.keys.get(key_id)
        if key is None:
            raise SealingError(
                f"{context} is sealed with key {key_id!r}, which the sealing keys do not hold"
            )
        try:
            return AESGCM(key).decrypt(nonce, cipher, context.encode())
        except InvalidTag:
            raise SealingError(f"{context} does not open with key {key_id!r}") from None

    def sealed_with_current(self, data: bytes) -> bool:
        return is_sealed(data) and _parts(data)[0] == self.current


def is_sealed(data: bytes) -> bool:
    return data.startswith(MAGIC)


def _parts(data: bytes) -> tuple[str, bytes, bytes]:
    key_id, _, rest = data[len(MAGIC) :].partition(b":")
    return key_id.decode(errors="replace"), rest[:NONCE_BYTES], rest[NONCE_BYTES:]


def _checked_id(key_id: str, where: str, number: int) -> str:
    if not _KEY_ID.match(key_id):
        raise SealingError(
            f"{where} line {number}: key id {key_id!r} is not valid (1-32 lowercase letters, "
            "digits or '-')"
        )
    return key_id


def _decoded_key(encoded: str, where: str, number: int) -> bytes:
    try:
        key = base64.b64decode(encoded.strip(), validate=True)
    except ValueError:
        key = b""
    if len(key) != KEY_BYTES:
        raise SealingError(f"{where} line {number}: the key is not {KEY_BYTES} bytes of base64")
    return key


def new_key_line(key_id: str) -> str:
    """A keyring line with a fresh random key."""
    key = base64.b64encode(os.urandom(KEY_BYTES)).decode()
    return f"{_checked_id(key_id, 'the new key', 1)}:{key}"


KEYS_FILE_VARIABLE = "GUILD_SEALING_KEYS_FILE"
KEYS_VARIABLE = "GUILD_SEALING_KEYS"
HANDOVER_KEYS_VARIABLE = "GUILD_HANDOVER_KEYS_FILE"
"""The handover keyring's file, the same in every region (see shared.contracts.handover)."""


_HEADER = "# Guild's sealing keys, newest first: the first seals (see docs/security.md)\n"


def keyring_file(path: Path, key_id: str = "k1") -> Path:
    """``path``, holding a keyring of one fresh key if it did not exist (owner-readable only):
    what ``guild up`` keeps in its data directory."""
    if not path.exists():
        _write_keyring(path, [new_key_line(key_id)])
    return path


def add_key(path: Path, key_id: str) -> Keyring:
    """Put a fresh key ``key_id`` first in the keyring at ``path``: it seals from the next
    start of the services on; the others still open what they sealed."""
    held = Keyring.read(path)
    if key_id in held.keys:
        raise SealingError(f"{path} already holds a key {key_id!r}")
    _write_keyring(path, [new_key_line(key_id), *_lines(held, held.keys)])
    return Keyring.read(path)


def drop_key(path: Path, key_id: str) -> Keyring:
    """Take ``key_id`` out of the keyring at ``path`` (once every service has resealed what it
    sealed: ``python -m services.<name> reseal``). The current key cannot be dropped."""
    held = Keyring.read(path)
    if key_id not in held.keys:
        raise SealingError(f"{path} holds no key {key_id!r}")
    if key_id == held.current:
        raise SealingError(f"{key_id!r} is the key that seals: add a new one first")
    _write_keyring(path, _lines(held, [k for k in held.keys if k != key_id]))
    return Keyring.read(path)


def _lines(held: Keyring, key_ids: Iterable[str]) -> list[str]:
    return [f"{k}:{base64.b64encode(held.keys[k]).decode()}" for k in key_ids]


def _write_keyring(path: Path, lines: list[str]) -> None:
    """Replace ``path`` at once with a keyring of ``lines``, readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = path.with_name(f".{path.name}.{os.getpid()}")
    descriptor = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as out:
        out.write(_HEADER + "".join(line + "\n" for line in lines))
    os.replace(staged, path)
