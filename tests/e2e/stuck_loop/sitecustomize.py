"""Test-only: put on a service's PYTHONPATH by a test, so that SIGUSR1 blocks its event loop.

Python runs signal handlers in the main thread, the one that runs the service's event loop;
sleeping in the handler is a loop that stopped turning. Nothing in Guild installs this.
"""

import signal
import time


def _block_the_loop(signum: int, frame: object) -> None:
    time.sleep(3600)


signal.signal(signal.SIGUSR1, _block_the_loop)
