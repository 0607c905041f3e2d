"""Start-up readiness between `govwx serve` and the background workers it starts.

`serve` starts its workers first and opens the port only when they are ready: a worker
that is still importing Django and loading jieba's dictionary (a second or two of CPU)
does not compete with the first requests, and the first messages do not wait for a
desk that is not there yet. The worker closes an inherited pipe when it is ready (its
exit closes it too); `serve` waits for the pipe's end, never longer than a timeout.
"""

from __future__ import annotations

import os
import select
import time

FD_ENV = "GOVWX_READY_FD"


def notify() -> None:
    """Tell the `serve` that started this process that it is ready (no-op otherwise)."""
    fd = os.environ.pop(FD_ENV, "")
    if fd.isdigit():
        try:
            os.close(int(fd))
        except OSError:
            pass


def wait(read_fd: int, timeout: float) -> bool:
    """Wait until every process holding the pipe's write end is ready (or has exited):
    True, or False when the timeout passed first. Closes `read_fd`."""
    deadline = time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            readable, _, _ = select.select([read_fd], [], [], left)
            if readable and not os.read(read_fd, 64):
                return True  # end of file: every writer closed it
    finally:
        os.close(read_fd)
