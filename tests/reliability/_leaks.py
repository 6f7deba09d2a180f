"""Leak checks shared by the reliability suite: open file descriptors, and the
ResourceWarnings finalizers raise (an unclosed socket or transport) on any thread."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import sys
import warnings
from collections.abc import Iterator
from typing import Any

__all__ = ["fds_settle", "open_fds", "unclosed_resources"]


def open_fds() -> int:
    """The number of file descriptors this process has open."""
    return len(os.listdir("/proc/self/fd"))


async def fds_settle(baseline: int, *, within: float = 5.0) -> int:
    """The number of open file descriptors once it is back to `baseline`, or after `within`
    seconds (a server closes its side of a connection when it sees the client's FIN).

    A garbage collection comes first: a socket dropped without being closed is closed by it,
    with a ResourceWarning (which `unclosed_resources` collects), and what stays open after it
    is what something still holds."""
    gc.collect()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    count = open_fds()
    while count > baseline and loop.time() < deadline:
        await asyncio.sleep(0.02)
        count = open_fds()
    return count


@contextlib.contextmanager
def unclosed_resources() -> Iterator[list[str]]:
    """Collect the ResourceWarnings (unclosed sockets, transports) raised by finalizers, on any
    thread, until the block ends with a garbage collection."""
    found: list[str] = []
    previous = sys.unraisablehook

    def hook(unraisable: Any) -> None:
        if isinstance(unraisable.exc_value, ResourceWarning):
            found.append(str(unraisable.exc_value))
        else:
            previous(unraisable)

    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        sys.unraisablehook = hook
        try:
            yield found
            gc.collect()
        finally:
            sys.unraisablehook = previous
