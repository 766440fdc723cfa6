"""Run the benchmarks: all of them, or those named, at full size or ``--quick``.

    .venv/bin/python -m bench                      # every benchmark, full size (long)
    .venv/bin/python -m bench --quick              # every benchmark, small sizes (minutes)
    .venv/bin/python -m bench --quick storage hop  # some of them

Each writes ``bench/results/<name>.json`` (git-ignored) and prints its table. ``--quick``
gives each benchmark its small sizes (for development and the smoke test); its figures are
not the ones to quote. Each benchmark also runs alone: ``python -m bench.<name>_benchmark``.
``matching`` and ``restart`` (the read models at 100,000 members) run only when named: they
load gigabytes and keep their own options (see docs/performance.md).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

from bench import (
    end_to_end_benchmark,
    fanout_benchmark,
    hop_benchmark,
    regions_benchmark,
    storage_benchmark,
)
from bench.harness import ROOT

BENCHMARKS: dict[str, ModuleType] = {
    "hop": hop_benchmark,
    "end_to_end": end_to_end_benchmark,
    "fanout": fanout_benchmark,
    "storage": storage_benchmark,
    "regions": regions_benchmark,
}
NAMED_ONLY = {"matching": "bench.matching_benchmark", "restart": "bench.restart_benchmark"}
"""Benchmarks run only when asked for by name, as their own process with their defaults."""


def run_module(module: str) -> Callable[[list[str]], Any]:
    def run(argv: list[str]) -> None:
        subprocess.run([sys.executable, "-m", module, *argv], cwd=ROOT, check=True)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    known = [*BENCHMARKS, *NAMED_ONLY]
    parser.add_argument("names", nargs="*", metavar="name", help=f"any of {', '.join(known)}")
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    args = parser.parse_args()
    if unknown := sorted(set(args.names) - set(known)):
        parser.error(f"unknown benchmark {', '.join(unknown)}: choose from {', '.join(known)}")
    names = args.names or list(BENCHMARKS)
    for name in names:
        started = time.monotonic()
        print(f"== {name}{' (quick)' if args.quick else ''}", flush=True)
        if name in BENCHMARKS:
            module = BENCHMARKS[name]
            module.main(module.QUICK if args.quick else [])
        else:
            run_module(NAMED_ONLY[name])([])
        print(f"== {name}: {time.monotonic() - started:.0f} s\n", flush=True)


if __name__ == "__main__":
    main()
