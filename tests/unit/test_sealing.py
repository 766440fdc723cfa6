"""Sealing: AES-GCM under the operator's keyring, bound to bucket and key, rotatable."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from shared.sealing import (
    Keyring,
    SealingError,
    add_key,
    drop_key,
    is_sealed,
    keyring_file,
    new_key_line,
)

SECRET = b'{"secret": "whsec_0123456789abcdef", "address": "https://hooks.example.com/x"}'


def ring(*lines: str) -> Keyring:
    return Keyring.parse("\n".join(lines), "test keys")


def test_a_sealed_value_holds_nothing_in_clear_and_opens_again() -> None:
    keys = ring(new_key_line("k1"))
    sealed = keys.seal(SECRET, "notifications_endpoints_eu/m1")
    assert is_sealed(sealed)
    assert b"whsec_" not in sealed
    assert b"hooks.example.com" not in sealed
    assert keys.open(sealed, "notifications_endpoints_eu/m1") == SECRET
    assert keys.seal(SECRET, "notifications_endpoints_eu/m1") != sealed  # a fresh nonce


def test_a_value_moved_to_another_key_does_not_open() -> None:
    keys = ring(new_key_line("k1"))
    sealed = keys.seal(SECRET, "notifications_endpoints_eu/m1")
    with pytest.raises(SealingError, match="does not open with key 'k1'"):
        keys.open(sealed, "notifications_endpoints_eu/m2")


def test_after_a_rotation_old_values_open_and_new_ones_use_the_new_key() -> None:
    old = new_key_line("k1")
    before = ring(old).seal(SECRET, "b/k")
    rotated = ring(new_key_line("k2"), old)
    assert rotated.open(before, "b/k") == SECRET
    assert not rotated.sealed_with_current(before)
    assert rotated.sealed_with_current(rotated.seal(SECRET, "b/k"))
    with pytest.raises(SealingError, match="sealed with key 'k1', which the sealing keys do not"):
        ring(new_key_line("k2")).open(before, "b/k")


def test_a_value_written_before_sealing_reads_as_it_is() -> None:
    assert ring(new_key_line("k1")).open(b'{"plain": true}', "b/k") == b'{"plain": true}'


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", "holds no sealing key"),
        ("# only a comment", "holds no sealing key"),
        ("K1:AAAA", "key id 'K1' is not valid"),
        ("k1:AAAA", "is not 32 bytes of base64"),
        ("k1:not base64!", "is not 32 bytes of base64"),
    ],
)
def test_a_malformed_keyring_is_refused_with_the_line(text: str, error: str) -> None:
    with pytest.raises(SealingError, match=error):
        Keyring.parse(text, "keys")


def test_the_keyring_file_is_made_once_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = keyring_file(tmp_path / "sealing.keys")
    assert path.stat().st_mode & 0o777 == 0o600
    first = Keyring.read(path)
    assert Keyring.read(keyring_file(path)).keys == first.keys
    os.chmod(path, 0o644)
    with pytest.raises(SealingError, match="readable by others"):
        Keyring.read(path)


def test_adding_a_key_puts_it_first_and_dropping_keeps_the_current(tmp_path: Path) -> None:
    path = keyring_file(tmp_path / "sealing.keys")
    first = Keyring.read(path)
    rotated = add_key(path, "k2")
    assert list(rotated.keys) == ["k2", "k1"]
    assert rotated.keys["k1"] == first.keys["k1"]
    assert path.stat().st_mode & 0o777 == 0o600
    with pytest.raises(SealingError, match="already holds"):
        add_key(path, "k2")
    with pytest.raises(SealingError, match="is the key that seals"):
        drop_key(path, "k2")
    assert list(drop_key(path, "k1").keys) == ["k2"]
