"""The demo's identity provider: one signing key per data directory (private, made once), its
JWKS beside it, short-lived member tokens that notifications' own check accepts, and
`guild token` refusing a data directory Guild never ran in."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import jwt
import pytest

from guild_cli.identity import AUDIENCE, ISSUER, DemoIdentity, IdentityError
from services.notifications.identity import Tokens
from services.notifications.settings import NotificationsSettings


def test_the_signing_key_is_made_once_and_private(tmp_path: Path) -> None:
    first = DemoIdentity.create(tmp_path)
    key = first.key_file.read_bytes()
    assert stat.S_IMODE(first.key_file.stat().st_mode) == 0o600
    again = DemoIdentity.create(tmp_path)
    assert again.key_file.read_bytes() == key
    (public,) = json.loads(again.jwks_file.read_text())["keys"]
    assert "d" not in public  # the JWKS holds the public key only
    assert public["kid"] == json.loads(first.jwks_file.read_text())["keys"][0]["kid"]


def test_a_token_names_the_member_and_is_short_lived(tmp_path: Path) -> None:
    identity = DemoIdentity.create(tmp_path)
    token = DemoIdentity.open(tmp_path).token("e1001")
    keys = jwt.PyJWKSet.from_json(identity.jwks_file.read_text())
    claims = jwt.decode(token, keys.keys[0].key, algorithms=["EdDSA"], audience=AUDIENCE,
                        issuer=ISSUER)  # fmt: skip
    assert claims["sub"] == "e1001"
    assert claims["exp"] - claims["iat"] == 15 * 60


async def test_notifications_configured_from_the_demo_environment_accepts_its_tokens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    identity = DemoIdentity.create(tmp_path)
    for name, value in identity.settings_env().items():
        monkeypatch.setenv(name, value)
    tokens = Tokens(NotificationsSettings(region="local"))
    assert await tokens.person_id(identity.token("e2001")) == "e2001"


def test_an_unknown_data_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(IdentityError, match="guild up"):
        DemoIdentity.open(tmp_path / "nowhere")
    refused = subprocess.run(
        [sys.executable, "-m", "guild_cli", "token", "e1001", "--data-dir", str(tmp_path / "x")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert refused.returncode != 0
    assert refused.stdout == ""
    assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert "guild up" in refused.stderr


def test_guild_token_prints_only_the_token(tmp_path: Path) -> None:
    DemoIdentity.create(tmp_path)
    issued = subprocess.run(
        [sys.executable, "-m", "guild_cli", "token", "e1001"],
        capture_output=True, text=True, check=True, env={"GUILD_DATA_DIR": str(tmp_path),
                                                         "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert jwt.decode(issued.stdout.strip(), options={"verify_signature": False})["sub"] == "e1001"
    bad = subprocess.run(
        [sys.executable, "-m", "guild_cli", "token", "not a member id", "--data-dir",
         str(tmp_path)], capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert bad.returncode != 0
    assert len(bad.stderr.strip().splitlines()) == 1, bad.stderr
