"""Where a running ``guild up`` is found: the lock and the state file in its data directory.

``guild up`` holds an exclusive ``flock`` on ``<data dir>/guild.lock`` for as long as it runs
(the kernel lets go when the process ends, however it ends), with its pid and NATS URL in the
file; a second start on the same directory is refused and told who holds it. The client
commands read ``<data dir>/state.json`` to find that Guild's NATS.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

DEFAULT_DATA_DIR = Path(".guild")


def data_dir_or_default(data_dir: Path | None) -> Path:
    """``data_dir`` if given, else ``GUILD_DATA_DIR``, else ``.guild``."""
    if data_dir is not None:
        return data_dir
    return Path(os.environ.get("GUILD_DATA_DIR") or DEFAULT_DATA_DIR)


@dataclass(frozen=True)
class RunningGuild:
    """What ``guild up`` wrote about itself."""

    pid: int
    nats_url: str
    region: str
    services: dict[str, int]
    regions: dict[str, str] = field(default_factory=dict)
    """With ``guild up --regions``: each region's NATS URL (its first is ``nats_url``)."""


def state_file(data_dir: Path) -> Path:
    return data_dir / "state.json"


def write_state(data_dir: Path, running: RunningGuild) -> None:
    temporary = data_dir / "state.json.new"
    temporary.write_text(
        json.dumps(
            {
                "pid": running.pid,
                "nats_url": running.nats_url,
                "region": running.region,
                "services": running.services,
                "regions": running.regions,
            }
        )
    )
    temporary.replace(state_file(data_dir))


def running_guild(data_dir: Path) -> RunningGuild | None:
    """The Guild that ``guild up`` runs on ``data_dir``, or None if none runs there."""
    try:
        state = json.loads(state_file(data_dir).read_text())
        running = RunningGuild(
            int(state["pid"]),
            str(state["nats_url"]),
            str(state["region"]),
            state["services"],
            dict(state.get("regions") or {}),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return running if _alive(running.pid) else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class DataDirLock:
    """An exclusive lock on a data directory, held by the ``guild up`` that runs on it."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "guild.lock"
        self._file: IO[str] | None = None

    def acquire(self) -> bool:
        """Take the lock (and write this process's pid in it); False if another holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        file = self.path.open("a+")
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            file.close()
            return False
        self._file = file
        self.record(pid=os.getpid(), nats_url="(starting)")
        return True

    def record(self, **fields: Any) -> None:
        """Write who holds the lock, for the message of a refused second start."""
        assert self._file is not None
        held = self.holder()
        self._file.seek(0)
        self._file.truncate()
        self._file.write(json.dumps({**held, **fields}))
        self._file.flush()

    def holder(self) -> dict[str, Any]:
        with contextlib.suppress(OSError, ValueError):
            held = json.loads(self.path.read_text())
            if isinstance(held, dict):
                return held
        return {}

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing the last descriptor lets go of the flock
            self._file = None
