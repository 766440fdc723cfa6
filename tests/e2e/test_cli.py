"""The ``guild`` client commands as a newcomer meets them: they talk to the Guild of the data
directory they are given (never silently to whatever listens on port 4222), say in one line on
stderr when something is wrong, with a non-zero exit code and no traceback, and speak JSON on
request."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import nats
import pytest

from guild_cli.identities import Identities
from guild_cli.nats_server import EmbeddedNats
from shared.credentials import connection_options
from tests import access
from tests.e2e.test_standalone_services import free_port
from tests.helpers import eventually
from tests.slice import hire_data

pytestmark = pytest.mark.e2e


async def guild(*args: str, data_dir: Path | None = None) -> tuple[int, str, str]:
    """Run ``guild`` as a user would (``GUILD_DATA_DIR`` when a data directory is given)."""
    env = {k: v for k, v in os.environ.items() if k not in ("NATS_URL", "GUILD_DATA_DIR")}
    env |= {"COLUMNS": "200", "NO_COLOR": "1"}
    if data_dir is not None:
        env["GUILD_DATA_DIR"] = str(data_dir)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "guild_cli",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=data_dir.parent if data_dir else None,
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def one_line_error(code: int, err: str) -> str:
    assert code != 0
    assert "Traceback" not in err
    (line,) = err.strip().splitlines()
    return line


def guild_up_state(tmp_path: Path, nats_url: str, region: str, authorized: bool = False) -> Path:
    """A data directory as a running ``guild up`` leaves it (this test process plays it)."""
    data_dir = tmp_path / "guild-data"
    data_dir.mkdir()
    state = {"pid": os.getpid(), "nats_url": nats_url, "region": region, "services": {}}
    (data_dir / "state.json").write_text(json.dumps(state))
    operator = access.operator_environment(region, own_server=authorized)
    for name, value in operator.items():  # the operator's credential
        assert name == "GUILD_NATS_CREDENTIALS"
        issued = Identities.path_in(data_dir, "operator", region)
        issued.parent.mkdir(mode=0o700, exist_ok=True)
        Path(value).replace(issued)
    return data_dir


async def test_a_client_command_without_a_running_guild_says_so_in_one_line(tmp_path):
    empty = tmp_path / "guild-data"
    empty.mkdir()
    for command in (["status"], ["inbox", "e1001"], ["dlq", "list"]):
        code, _, err = await guild(*command, data_dir=empty)  # GUILD_DATA_DIR
        line = one_line_error(code, err)
        assert "Guild is not running" in line, command
        assert str(empty) in line
    code, _, err = await guild("status", "--data-dir", str(empty))
    assert "Guild is not running" in one_line_error(code, err)


async def test_status_with_nats_down_is_one_line(tmp_path, region):
    data_dir = guild_up_state(tmp_path, f"nats://127.0.0.1:{free_port()}", region)
    code, _, err = await guild("status", "--region", region, data_dir=data_dir)
    assert "cannot reach NATS" in one_line_error(code, err)


async def test_client_commands_use_the_guild_of_their_data_directory(
    services, world, nats_url, region, tmp_path
):
    data_dir = guild_up_state(tmp_path, nats_url, region)
    code, out, err = await guild("status", "--json", "--region", region, data_dir=data_dir)
    assert code == 0, err
    assert {s["service"]: s["ready"] for s in json.loads(out)} == {
        "membership": True,
        "content": True,
        "matching": True,
        "notifications": True,
    }
    await world.hire(hire_data("ana", "Ana Lima", "emea", "Europe/Lisbon", {"sap": "expert"}))
    await world.wait_for_members("ana")
    code, out, err = await guild("inbox", "ana", "--json", "--region", region, data_dir=data_dir)
    assert code == 0, err
    assert json.loads(out)["items"] == []
    code, _, err = await guild("inbox", "nobody", "--region", region, data_dir=data_dir)
    assert "member 'nobody' is unknown" in one_line_error(code, err)


async def test_publish_errors_are_one_line(nats_url, region, tmp_path):
    data_dir = guild_up_state(tmp_path, nats_url, region)
    missing = tmp_path / "nope.json"
    code, _, err = await guild("publish", "ingest.x.y", str(missing), data_dir=data_dir)
    assert f"no such file: {missing}" in one_line_error(code, err)
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"id": "1", "type": "t", "specversion": "1.0"}))
    unstored = f"ingest.{region}.nowhere.v1"  # the operator may publish it; no stream stores it
    code, _, err = await guild(
        "publish", unstored, str(event), "--region", region, data_dir=data_dir
    )
    assert f"no stream stores subject {unstored}" in one_line_error(code, err)


async def test_publishing_where_the_operator_may_not_says_so_in_one_line(
    nats_server, region, tmp_path
):
    """On a server of its own: the session's must log no refusal."""
    data_dir = guild_up_state(tmp_path, nats_server.url, region, authorized=True)
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"id": "1", "type": "t", "specversion": "1.0"}))
    code, _, err = await guild(
        "publish", "nowhere.at.all", str(event), "--region", region, data_dir=data_dir
    )
    assert "not permitted to publish on nowhere.at.all" in one_line_error(code, err)


async def test_guild_tells_its_version():
    code, out, _ = await guild("--version")
    assert code == 0
    assert out.strip() == "guild 0.1.0"


async def test_an_issued_credential_lets_a_system_publish_its_subjects_only(tmp_path):
    """`guild identity issue` as an operator runs it for a publishing system, against a server
    that trusts the same data directory's authority (`guild identity server-config`)."""
    data_dir, creds = tmp_path / "authority", tmp_path / "hr.creds"
    code, out, err = await guild(
        "identity", "issue", "hr-directory", "--region", "eu", "--out", str(creds),
        "--data-dir", str(data_dir),
    )  # fmt: skip
    assert code == 0, err
    assert "hr-directory@eu" in out
    assert creds.stat().st_mode & 0o077 == 0
    authority = Identities(data_dir / "identities").authority
    with EmbeddedNats(tmp_path / "nats", authority=authority) as server:
        errors: list[str] = []

        async def note(error: Exception) -> None:
            errors.append(str(error))

        nc = await nats.connect(server.url, error_cb=note, **connection_options(creds))
        try:
            await nc.publish("ingest.eu.hr-directory.hr.person_hired.v1", b"{}")
            await nc.publish("ingest.eu.portal.content.question_asked.v1", b"{}")
            await nc.flush()
            await eventually(lambda: _holds(bool(errors)), what="the refusal")
        finally:
            await nc.close()
    assert len(errors) == 1
    assert "ingest.eu.portal.content.question_asked.v1" in errors[0]


async def _holds(value: bool) -> bool:
    return value


async def test_a_revoked_credential_is_refused_once_the_server_has_the_new_account(tmp_path):
    data_dir, old, new = tmp_path / "authority", tmp_path / "old.creds", tmp_path / "new.creds"
    for out in (old, new):
        code, _, err = await guild(
            "identity", "issue", "portal", "--region", "eu", "--out", str(out),
            "--data-dir", str(data_dir),
        )  # fmt: skip
        assert code == 0, err
    identities = data_dir / "identities"
    server = EmbeddedNats(tmp_path / "nats", authority=Identities(identities).authority)
    with server:
        await (await nats.connect(server.url, **connection_options(old))).close()
    code, out, err = await guild("identity", "revoke", str(old), "--data-dir", str(data_dir))
    assert code == 0, err
    assert "revoked portal@eu" in out
    server.authority = Identities(identities).authority  # as a restart reads it again
    with server:
        with pytest.raises(nats.errors.Error, match="Authorization Violation"):
            await nats.connect(
                server.url, allow_reconnect=False, max_reconnect_attempts=0,
                **connection_options(old),
            )  # fmt: skip
        await (await nats.connect(server.url, **connection_options(new))).close()
