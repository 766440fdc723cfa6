"""NATS identities: an operator, its accounts and the users it issues (decentralised JWT auth).

Guild runs nats-server in operator mode. One operator key signs two accounts: ``SYS`` (the
server's system account) and ``GUILD`` (everything Guild and the systems around it exchange).
The ``GUILD`` account's key signs one user per identity (a service of a region, a publishing
system, the operator's CLI, the provisioning admin); each user JWT carries that identity's
publish and subscribe permissions, generated from Guild's own tables (:mod:`shared.access`).

Why JWTs rather than users listed in the server's configuration: the server is configured once
with the operator and the two accounts; issuing a credential for a new publishing system, a
new region's services or a rotated key never touches it (no reload across a cluster and its
leaf nodes), credentials expire, and the permissions travel with the credential that was
generated from the same tables the services use. A credential is revoked by listing its user
key in the account (``revoke``), which the server picks up on reload.

The key files (``*.nk``: one seed per line) and credentials files (``*.creds``: the user's JWT
and seed, the format nats-py's ``user_credentials`` and the ``nats`` CLI read) are written
readable by their owner only.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import ssl
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nkeys

from shared.access import Grants, inbox_prefix

ALGORITHM = "ed25519-nkey"
"""The JWT ``alg`` of NATS v2 claims."""

UNLIMITED = -1

ACCOUNT_LIMITS: dict[str, Any] = {
    "subs": UNLIMITED,
    "data": UNLIMITED,
    "payload": UNLIMITED,
    "imports": UNLIMITED,
    "exports": UNLIMITED,
    "wildcards": True,
    "conn": UNLIMITED,
    "leaf": UNLIMITED,
}
JETSTREAM_LIMITS: dict[str, Any] = {
    "mem_storage": UNLIMITED,
    "disk_storage": UNLIMITED,
    "streams": UNLIMITED,
    "consumer": UNLIMITED,
}
"""JetStream is enabled for an account only when its limits say so."""

MAX_CONTROL_LINE = 65536
"""Bytes of one protocol line the server accepts: a client's CONNECT carries its user JWT,
whose generated permissions (a service's streams, buckets, events and answers) run to
10-20 KB, beyond nats-server's default of 4 KB."""

REVOCATIONS = "revoked.json"

_KINDS = {
    "operator": nkeys.PREFIX_BYTE_OPERATOR,
    "account": nkeys.PREFIX_BYTE_ACCOUNT,
    "user": nkeys.PREFIX_BYTE_USER,
}


class CredentialsError(RuntimeError):
    """A key or credentials file is missing, unreadable or not what it should be."""


def new_key(kind: str) -> nkeys.KeyPair:
    """A fresh ed25519 key of ``kind`` ('operator', 'account' or 'user')."""
    return nkeys.from_seed(nkeys.encode_seed(os.urandom(32), _KINDS[kind]))


def public_key(key: nkeys.KeyPair) -> str:
    return str(key.public_key.decode())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def encode_jwt(
    issuer: nkeys.KeyPair,
    subject: str,
    name: str,
    claims: dict[str, Any],
    *,
    expires_at: int | None = None,
) -> str:
    """A NATS v2 JWT: ``claims`` (the ``nats`` part) about ``subject``, signed by ``issuer``.
    Its ``jti`` is the SHA-512/256 of the claims without it, as the Go library computes it."""
    body: dict[str, Any] = {
        "iat": int(time.time()),
        "iss": public_key(issuer),
        "name": name,
        "sub": subject,
        "nats": {**claims, "version": 2},
    }
    if expires_at is not None:
        body["exp"] = expires_at
    digest = hashlib.new("sha512_256", _json(body)).digest()
    body["jti"] = base64.b32encode(digest).decode().rstrip("=")
    header = _b64(_json({"typ": "JWT", "alg": ALGORITHM}))
    payload = _b64(_json(body))
    signature = issuer.sign(f"{header}.{payload}".encode())
    return f"{header}.{payload}.{_b64(signature)}"


def decode_jwt(token: str) -> dict[str, Any]:
    """The claims of ``token`` (not verified: for reading what a credential grants)."""
    payload = token.split(".")[1]
    padded = payload + "=" * (-len(payload) % 4)
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(padded))
    return claims


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode()


def user_claims(grants: Grants) -> dict[str, Any]:
    """The ``nats`` claims of a user JWT that grants exactly ``grants``."""
    claims: dict[str, Any] = {
        "type": "user",
        "subs": UNLIMITED,
        "data": UNLIMITED,
        "payload": UNLIMITED,
        "pub": _permission(grants.publish, grants.publish_deny),
        "sub": _permission(grants.subscribe, grants.subscribe_deny),
    }
    if grants.responds:
        claims["resp"] = {"max": 1, "ttl": 0}
    return claims


def _permission(allow: tuple[str, ...], deny: tuple[str, ...]) -> dict[str, list[str]]:
    permission: dict[str, list[str]] = {}
    if allow:
        permission["allow"] = list(allow)
    if deny:
        permission["deny"] = list(deny)
    return permission


def creds_text(user_jwt: str, seed: str) -> str:
    """A ``.creds`` file's content: the user's JWT and seed between the markers NATS tools
    read."""
    return (
        "-----BEGIN NATS USER JWT-----\n"
        f"{user_jwt}\n"
        "------END NATS USER JWT------\n\n"
        "************************* IMPORTANT *************************\n"
        "NKEY Seed printed below can be used to sign and prove identity.\n"
        "NKEYs are sensitive and should be treated as secrets.\n\n"
        "-----BEGIN USER NKEY SEED-----\n"
        f"{seed}\n"
        "------END USER NKEY SEED------\n"
    )


def read_creds_jwt(path: Path) -> str:
    """The user JWT in the credentials file at ``path``."""
    lines = [line.strip() for line in _read_private(path).splitlines()]
    try:
        return lines[lines.index("-----BEGIN NATS USER JWT-----") + 1]
    except (ValueError, IndexError) as error:
        raise CredentialsError(f"{path} is not a NATS credentials file") from error


CREDENTIALS_VARIABLE = "GUILD_NATS_CREDENTIALS"


def credentials_from_environment() -> Path | None:
    """The credentials file ``GUILD_NATS_CREDENTIALS`` names (what services, the CLI and the
    benchmarks connect with), or None."""
    given = os.environ.get(CREDENTIALS_VARIABLE)
    return Path(given) if given else None


def tls_context(ca: Path | None, cert: Path | None = None, key: Path | None = None
                ) -> ssl.SSLContext | None:  # fmt: skip
    """The TLS context of a connection to NATS: servers verified against ``ca``, and this
    client's certificate for mutual TLS; None without a CA (no TLS)."""
    if ca is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(ca))
    if cert is not None:
        context.load_cert_chain(str(cert), str(key) if key is not None else None)
    return context


def tls_from_environment() -> ssl.SSLContext | None:
    """The TLS context ``GUILD_NATS_TLS_CA``, ``_CERT`` and ``_KEY`` describe (as services read
    them from their settings), for the CLI and other tools; None without a CA."""
    paths = {part: os.environ.get(f"GUILD_NATS_TLS_{part}") for part in ("CA", "CERT", "KEY")}
    ca, cert, key = (Path(v) if v else None for v in paths.values())
    return tls_context(ca, cert, key)


def check_credentials(credentials: Path | None) -> None:
    """Raise a clear error if the credentials file is missing or not one (a service would
    otherwise retry its connection forever, as if NATS were away)."""
    if credentials is not None:
        read_creds_jwt(credentials)


def connection_options(credentials: Path | None) -> dict[str, Any]:
    """nats-py's ``connect`` options for the identity in the credentials file (none: connect
    without): the file (read at each connection), and the inbox prefix its permissions give
    it, from the credential's user name (``<identity>@<region>``)."""
    if credentials is None:
        return {}
    name = str(decode_jwt(read_creds_jwt(credentials)).get("name", ""))
    identity, _, region = name.partition("@")
    if not identity or not region:
        raise CredentialsError(f"{credentials} was not issued by Guild (user {name!r})")
    return {"user_credentials": str(credentials), "inbox_prefix": inbox_prefix(identity, region)}


def write_private(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` readable and writable by its owner only (created so: never
    briefly readable by others)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(text)
    os.chmod(path, 0o600)
    return path


def _read_private(path: Path) -> str:
    try:
        return path.read_text()
    except OSError as error:
        raise CredentialsError(f"cannot read {path}: {error.strerror}") from error


@dataclass
class Authority:
    """The operator and the accounts it signs: what issues every Guild credential.

    Kept in ``folder`` (``operator.nk``, ``sys.nk``, ``guild.nk``, owner-only, and the
    revocations in ``revoked.json``) and loaded again from there, so a restarted ``guild up``
    keeps the identities it issued and the ones it revoked."""

    operator: nkeys.KeyPair
    system: nkeys.KeyPair
    account: nkeys.KeyPair
    revoked: dict[str, int] = field(default_factory=dict)
    """User keys revoked, and since when (unix seconds): a JWT of that key issued before then
    is refused."""
    folder: Path | None = None

    @classmethod
    def create(cls) -> Authority:
        return cls(new_key("operator"), new_key("account"), new_key("account"))

    @classmethod
    def load_or_create(cls, folder: Path) -> Authority:
        files = {name: folder / f"{name}.nk" for name in ("operator", "sys", "guild")}
        revocations = folder / REVOCATIONS
        if all(path.exists() for path in files.values()):
            keys = {name: nkeys.from_seed(_read_private(path).strip().encode())
                    for name, path in files.items()}  # fmt: skip
            revoked = json.loads(_read_private(revocations)) if revocations.exists() else {}
            return cls(keys["operator"], keys["sys"], keys["guild"], revoked, folder)
        authority = cls.create()
        authority.folder = folder
        for name, key in (("operator", authority.operator), ("sys", authority.system),
                          ("guild", authority.account)):  # fmt: skip
            write_private(files[name], key.seed.decode() + "\n")
        return authority

    @property
    def account_key(self) -> str:
        return public_key(self.account)

    def operator_jwt(self) -> str:
        claims = {"type": "operator", "system_account": public_key(self.system)}
        return encode_jwt(self.operator, public_key(self.operator), "guild", claims)

    def account_jwts(self) -> dict[str, str]:
        """Each account's public key and JWT, for the server's resolver."""
        system = {"type": "account", "limits": ACCOUNT_LIMITS}
        guild: dict[str, Any] = {
            "type": "account",
            "limits": {**ACCOUNT_LIMITS, **JETSTREAM_LIMITS},
        }
        if self.revoked:
            guild["revocations"] = dict(self.revoked)
        system_key = public_key(self.system)
        return {
            system_key: encode_jwt(self.operator, system_key, "SYS", system),
            self.account_key: encode_jwt(self.operator, self.account_key, "GUILD", guild),
        }

    def server_config(self) -> str:
        """The nats-server configuration block that trusts this operator (operator mode: no
        client connects without a credential it signed)."""
        preload = "\n".join(f"  {key}: {token}" for key, token in self.account_jwts().items())
        return (
            f"max_control_line: {MAX_CONTROL_LINE}\n"
            f"operator: {self.operator_jwt()}\n"
            f"system_account: {public_key(self.system)}\n"
            "resolver: MEMORY\n"
            f"resolver_preload: {{\n{preload}\n}}\n"
        )

    def issue(self, grants: Grants, *, valid_for: float | None = None) -> str:
        """A credentials file's text for a new user key that may do what ``grants`` allow."""
        user = new_key("user")
        expires = int(time.time() + valid_for) if valid_for is not None else None
        token = encode_jwt(
            self.account, public_key(user), grants.user_name, user_claims(grants),
            expires_at=expires,
        )  # fmt: skip
        return creds_text(token, user.seed.decode())

    def revoke(self, user_key: str, at: int | None = None) -> None:
        """Revoke every JWT of ``user_key`` issued before ``at`` (now by default), kept in the
        folder; effective once the servers have the account's new JWT (``server_config``
        again, and a reload)."""
        self.revoked[user_key] = at if at is not None else int(time.time()) + 1
        if self.folder is not None:
            write_private(self.folder / REVOCATIONS, json.dumps(self.revoked, indent=2))
