"""The demo's identity provider, so that the member self-service API can be tried locally.

`guild up` makes one Ed25519 signing key in ``<data dir>/identity/`` the first time (the
private key readable by its owner only) and writes the public key beside it as a JWKS file;
notifications is pointed at that file and this issuer. `guild token <member id>` signs a
short-lived token for a member with that key. It stands in for the company's single sign-on:
anyone who can read the data directory can sign in as anyone, which is right for a demo on
one's own machine and for nothing else.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

ISSUER = "urn:guild:demo-identity"
AUDIENCE = "guild"
LIFETIME = 15 * 60
"""Seconds a demo token is valid."""


class IdentityError(Exception):
    """No identity provider where one was expected."""


@dataclass(frozen=True)
class DemoIdentity:
    folder: Path

    @property
    def key_file(self) -> Path:
        return self.folder / "signing-key.pem"

    @property
    def jwks_file(self) -> Path:
        return self.folder / "jwks.json"

    @classmethod
    def create(cls, data_dir: Path) -> DemoIdentity:
        """The data directory's identity provider, its key made the first time."""
        identity = cls(data_dir / "identity")
        identity.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not identity.key_file.exists():
            identity._write_new_key()
        identity._write_jwks()
        return identity

    @classmethod
    def open(cls, data_dir: Path) -> DemoIdentity:
        """The identity provider `guild up` made in ``data_dir``; :class:`IdentityError` if
        there is none."""
        identity = cls(data_dir / "identity")
        if not identity.key_file.is_file():
            raise IdentityError(
                f"no Guild demo identity provider in {data_dir}: run `guild up` there first "
                "(or pass the --data-dir it uses)"
            )
        return identity

    def _write_new_key(self) -> None:
        """Written aside with mode 0600 and linked into place: never readable by others, and
        two starts at once keep one key."""
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        aside = self.folder / f".signing-key.{os.getpid()}.tmp"
        descriptor = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            os.fchmod(out.fileno(), 0o600)
            out.write(pem)
        try:
            with contextlib.suppress(FileExistsError):
                os.link(aside, self.key_file)
        finally:
            aside.unlink()

    def _private_key(self) -> Ed25519PrivateKey:
        key = serialization.load_pem_private_key(self.key_file.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise IdentityError(f"{self.key_file} is not an Ed25519 key")
        return key

    def _kid(self) -> str:
        public = (
            self._private_key()
            .public_key()
            .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        )
        return base64.urlsafe_b64encode(hashlib.sha256(public).digest()[:12]).decode()

    def _write_jwks(self) -> None:
        public = jwt.algorithms.OKPAlgorithm.to_jwk(self._private_key().public_key(), as_dict=True)
        jwks = {"keys": [{**public, "kid": self._kid(), "use": "sig", "alg": "EdDSA"}]}
        aside = self.jwks_file.with_suffix(".tmp")
        aside.write_text(json.dumps(jwks, indent=2) + "\n")
        aside.replace(self.jwks_file)

    def token(self, member_id: str, lifetime: int = LIFETIME) -> str:
        """A bearer token for ``member_id``, valid ``lifetime`` seconds."""
        now = int(time.time())
        claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": member_id, "iat": now,
                  "exp": now + lifetime}  # fmt: skip
        return jwt.encode(claims, self._private_key(), algorithm="EdDSA",
                          headers={"kid": self._kid()})  # fmt: skip

    def settings_env(self) -> dict[str, str]:
        """Notifications' settings that make it accept this provider's tokens."""
        return {
            "GUILD_NOTIFICATIONS_JWT_ISSUER": ISSUER,
            "GUILD_NOTIFICATIONS_JWT_AUDIENCE": AUDIENCE,
            "GUILD_NOTIFICATIONS_JWKS_FILE": str(self.jwks_file),
        }
