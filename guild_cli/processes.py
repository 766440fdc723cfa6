"""Child processes that never outlive ``guild up``.

On Linux a child asks the kernel, between fork and exec, for SIGTERM when the thread that
started it dies (``PR_SET_PDEATHSIG``): a supervisor killed with SIGKILL, which can stop
nothing itself, still leaves no service or nats-server behind to hold the data directory.
Elsewhere the children rely on the supervisor's own stop.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
from collections.abc import Callable

PR_SET_PDEATHSIG = 1


def die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` for :class:`subprocess.Popen` that ties the child to this process
    (call it from the thread that will keep running: the kernel watches that thread)."""
    if not sys.platform.startswith("linux"):
        return None
    parent = os.getpid()
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)

    def in_child() -> None:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died before the request was made
            os.kill(os.getpid(), signal.SIGTERM)

    return in_child
