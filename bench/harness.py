"""What every benchmark shares: the machine it ran on, its results as a table and as JSON.

Each benchmark prints its figures as a table and writes ``bench/results/<name>.json`` (the
directory is git-ignored: results belong to the machine that made them; the figures that
matter are copied into docs/performance.md with their command). The JSON holds the command,
the parameters, the machine (CPUs, CPU model, RAM, Python, nats-server, FastStream and nats-py
versions), the commit measured and the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from guild_cli.nats_server import nats_server_binary

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"


def machine() -> dict[str, Any]:
    """The machine and the software versions a figure depends on."""
    return {
        "nproc": os.cpu_count(),
        "cpu": _cpu_model(),
        "ram_gb": round(_ram_bytes() / 2**30, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "nats_server": _nats_server_version(),
        "faststream": _package("faststream"),
        "nats_py": _package("nats-py"),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_bytes() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _nats_server_version() -> str:
    try:
        out = subprocess.run(
            [str(nats_server_binary()), "--version"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout
    except (OSError, RuntimeError, subprocess.TimeoutExpired):
        return "unknown"
    return out.strip().removeprefix("nats-server: ")


def _package(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def commit() -> str:
    """The commit measured (with ``+dirty`` if the work tree has changes)."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(ROOT), *args], capture_output=True, text=True, timeout=10, check=False
        ).stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    return head + ("+dirty" if git("status", "--porcelain", "--untracked-files=no") else "")


def command() -> str:
    """The command line that ran this benchmark (``python -m bench...`` as it was typed)."""
    script = Path(sys.argv[0]).resolve()
    module = ".".join(script.relative_to(ROOT).with_suffix("").parts).removesuffix(".__main__")
    return " ".join(["python", "-m", module, *sys.argv[1:]])


def write_results(
    name: str, parameters: dict[str, Any], figures: dict[str, Any], measured: str | None = None
) -> Path:
    """Write ``bench/results/<name>.json``; returns its path. ``measured`` is the commit the
    run started on (:func:`commit` now if not given: a long run outlives later commits)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    document = {
        "benchmark": name,
        "command": command(),
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": measured or commit(),
        "machine": machine(),
        "parameters": parameters,
        "figures": figures,
    }
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")
    return path


def table(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain-text table, numbers right-aligned."""
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [
        max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)
    ]
    lines = [
        title,
        "  ".join(
            h.ljust(w) if i == 0 else h.rjust(w)
            for i, (h, w) in enumerate(zip(headers, widths, strict=True))
        ),
    ]
    for row in cells:
        lines.append(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 10 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def percentile(samples: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (nearest rank) of ``samples``; ``None`` if there are none."""
    if not samples:
        return None
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def rss_line(title: str, rss: dict[str, dict[str, float]]) -> str:
    """Each process's peak and end RSS on one line."""
    shown = ", ".join(f"{n} {v['peak_mb']:.0f}/{v['end_mb']:.0f}" for n, v in rss.items())
    return f"{title} (peak/end MB): {shown}"


def run_main(
    name: str,
    parser: argparse.ArgumentParser,
    run: Callable[[argparse.Namespace], dict[str, Any]],
    report: Callable[[dict[str, Any]], str],
    argv: list[str] | None,
) -> dict[str, Any]:
    """Parse ``argv``, run the benchmark, print its report and write its results."""
    args, measured = parser.parse_args(argv), commit()
    figures = run(args)
    print(report(figures))
    parameters = {k: v for k, v in vars(args).items() if not k.startswith("_")}
    print(f"results: {write_results(name, parameters, figures, measured)}")
    return figures
