"""The client's pool of keep-alive connections, per origin, within `Limits`.

The rule that keeps it correct under cancellation (after httpcore): every change of the pool's
state happens in one synchronous step -- taking an idle connection, reserving a slot, handing a
connection to a waiter, releasing one. IO (connecting, closing gracefully) happens outside those
steps, and whatever a cancelled task was holding is given back in its `except` clause without
awaiting. A slot is counted from the moment it is reserved (before the connection exists) until
the connection is closed, so the limits hold while connections are being opened.

There are no background tasks: idle connections past their keep-alive expiry are closed when
the pool next looks at them.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

from ._config import Limits
from ._exceptions import PoolTimeout
from .connection import Connection, Origin
from .streams._protocol import _Expired, _on_timeout

__all__ = ["ConnectionPool"]

# Keep-alive expiry is on the monotonic clock (the event loop's, without asking the loop for it).
_now = time.monotonic

#: Opens a connection to an origin within a connect timeout (the client supplies TLS).
Connector = Callable[[Origin, "float | None"], Awaitable[Connection]]


class _Waiter:
    __slots__ = ("future", "origin")

    def __init__(self, origin: Origin, future: asyncio.Future[Connection | None]) -> None:
        self.origin = origin
        self.future = future


class ConnectionPool:
    """Keep-alive connections, handed out one exchange at a time.

    `acquire()` gives a connection to the origin: an idle one if there is one, else a new one
    if the limits allow, else it waits (up to the pool timeout) for one to be released.
    `release()` takes it back: kept for reuse if it can be, closed otherwise.

    Args:
        connect: opens a new connection to an origin.
        limits: the connection limits and keep-alive expiry.
    """

    def __init__(self, connect: Connector, limits: Limits | None = None) -> None:
        self._connect = connect
        self._limits = limits or Limits()
        self._idle: dict[Origin, list[Connection]] = {}
        self._count = 0
        self._per_origin: dict[Origin, int] = {}
        self._waiters: deque[_Waiter] = deque()
        self._closed = False

    # -- numbers --------------------------------------------------------------------------------

    @property
    def connection_count(self) -> int:
        """Connections open or being opened."""
        return self._count

    @property
    def idle_count(self) -> int:
        """Connections waiting for reuse."""
        return sum(len(idle) for idle in self._idle.values())

    # -- acquiring ------------------------------------------------------------------------------

    async def acquire(
        self,
        origin: Origin,
        *,
        timeout: float | None = None,
        connect_timeout: float | None = None,
        fresh: bool = False,
    ) -> Connection:
        """A connection to `origin`, for one exchange; give it back with `release()`.

        Args:
            origin: (scheme, host, port).
            timeout: seconds to wait for a free slot when the pool is at its limits.
            connect_timeout: seconds for opening a new connection.
            fresh: do not reuse an idle connection (for a retry after a stale one failed).

        Raises:
            PoolTimeout: no connection became available within `timeout` seconds.
            ConnectError, ConnectTimeout: opening a new connection failed.
            RuntimeError: the pool is closed.
        """
        if self._closed:
            raise RuntimeError("the connection pool is closed")
        connection = None if fresh else self._take_idle(origin)
        if connection is not None:
            return connection
        if self._reserve(origin):
            return await self._open(origin, connect_timeout)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Connection | None] = loop.create_future()
        waiter = _Waiter(origin, future)
        self._waiters.append(waiter)
        # The future is awaited directly, with a timer of its own: asyncio.wait_for would cost
        # a shield and (before Python 3.12) a task per wait, and may drop a cancellation.
        timer = None if timeout is None else loop.call_later(timeout, _on_timeout, future)
        try:
            given = await future
        except asyncio.CancelledError:
            self._withdraw(waiter)
            raise
        except _Expired:
            self._withdraw(waiter)
            raise PoolTimeout(
                f"no connection to {origin[1]}:{origin[2]} became free within "
                f"{timeout:g} seconds ({self._limits!r})"
            ) from None
        finally:
            if timer is not None:
                timer.cancel()
        if given is not None:
            return given
        # A slot was reserved for this waiter: open the connection in it.
        return await self._open(origin, connect_timeout)

    def _withdraw(self, waiter: _Waiter) -> None:
        """A waiter gave up: take it off the queue, and give back what it was handed."""
        if waiter in self._waiters:
            self._waiters.remove(waiter)
        future = waiter.future
        if not future.done():
            future.cancel()
        elif not future.cancelled() and future.exception() is None:
            given = future.result()
            if given is not None:
                self.release(given, reusable=True)
            else:
                self._free(waiter.origin)

    def take_idle(self, origin: Origin) -> Connection | None:
        """An idle connection to `origin` if one is ready, without waiting; else None."""
        if self._closed:
            return None
        return self._take_idle(origin)

    def _take_idle(self, origin: Origin) -> Connection | None:
        idle = self._idle.get(origin)
        if not idle:
            return None
        expiry = self._limits.keepalive_expiry
        now = _now() if expiry is not None else 0.0
        while idle:
            connection = idle.pop()  # the most recently used: the least likely to be stale
            if connection.stale or (expiry is not None and now - connection.idle_since > expiry):
                self._discard(connection)
                continue
            return connection
        return None

    def _reserve(self, origin: Origin) -> bool:
        """Count a slot for a new connection to `origin` if the limits allow one."""
        limits = self._limits
        per_origin = self._per_origin.get(origin, 0)
        if (
            limits.max_connections_per_host is not None
            and per_origin >= limits.max_connections_per_host
        ):
            return False
        # At the limit, an idle connection (of another origin) may give up its slot.
        if (
            limits.max_connections is not None
            and self._count >= limits.max_connections
            and not self._evict_idle()
        ):
            return False
        self._count += 1
        self._per_origin[origin] = self._per_origin.get(origin, 0) + 1
        return True

    def _evict_idle(self) -> bool:
        oldest: Connection | None = None
        for idle in self._idle.values():
            if idle and (oldest is None or idle[0].idle_since < oldest.idle_since):
                oldest = idle[0]
        if oldest is None:
            return False
        self._idle[oldest.origin].remove(oldest)
        oldest.close()
        # The slot passes straight to the caller: no waiter is woken for it (that would count
        # it twice, and re-enter the waiter loop that may be running).
        self._uncount(oldest.origin)
        return True

    async def _open(self, origin: Origin, connect_timeout: float | None) -> Connection:
        try:
            return await self._connect(origin, connect_timeout)
        except BaseException:
            self._free(origin)
            raise

    # -- releasing ------------------------------------------------------------------------------

    def release(self, connection: Connection, *, reusable: bool) -> None:
        """Take a connection back after an exchange: kept if `reusable` and it can be."""
        if reusable and not self._closed and connection.reusable:
            for waiter in self._waiters:
                if waiter.origin == connection.origin and not waiter.future.done():
                    self._waiters.remove(waiter)
                    waiter.future.set_result(connection)
                    return
            connection.idle_since = _now()
            idle = self._idle.get(connection.origin)
            if idle is None:
                self._idle[connection.origin] = [connection]
            else:
                idle.append(connection)
            if self._waiters:
                self._wake_for_other_origins()
            return
        self._discard(connection)

    def _discard(self, connection: Connection) -> None:
        connection.close()
        self._free(connection.origin)

    def _free(self, origin: Origin) -> None:
        """A slot of `origin` is free: uncount it, then let a waiter have it."""
        self._uncount(origin)
        self._wake_for_other_origins()

    def _uncount(self, origin: Origin) -> None:
        self._count -= 1
        left = self._per_origin.get(origin, 1) - 1
        if left:
            self._per_origin[origin] = left
        else:
            self._per_origin.pop(origin, None)

    def _wake_for_other_origins(self) -> None:
        """Give slots to waiters that can now open a connection of their own."""
        for waiter in list(self._waiters):
            if waiter not in self._waiters:
                continue
            if waiter.future.done():
                self._waiters.remove(waiter)
                continue
            if self._reserve(waiter.origin):
                self._waiters.remove(waiter)
                waiter.future.set_result(None)

    # -- closing --------------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Close every idle connection; connections in use are closed when released."""
        self._closed = True
        idle = [c for connections in self._idle.values() for c in connections]
        self._idle.clear()
        for waiter in self._waiters:
            if not waiter.future.done():
                waiter.future.cancel()
        self._waiters.clear()
        for connection in idle:
            self._uncount(connection.origin)
        if idle:
            await asyncio.gather(*(c.aclose() for c in idle), return_exceptions=True)

    def __repr__(self) -> str:
        return (
            f"<ConnectionPool {self._count} connection(s), {self.idle_count} idle, "
            f"{len(self._waiters)} waiting>"
        )
