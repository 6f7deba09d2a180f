"""`StreamServer`: accepting connections over TCP or a Unix socket, each served by a handler in
a task of its own, with a graceful shutdown."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import ssl as _ssl
from collections.abc import Awaitable, Callable
from typing import Any

from .._exceptions import (
    ReadError,
    WriteError,
)
from ._protocol import _Protocol
from ._resource import AsyncResource
from ._stream import Stream

__all__ = ["StreamServer", "start_tcp_server", "start_unix_server"]


logger = logging.getLogger("aioreq.streams")

Handler = Callable[["Stream"], Awaitable[None]]


class StreamServer(AsyncResource):
    """A listening server that runs a handler for each accepted connection.

    Closing (`aclose()`, or leaving `async with`) stops accepting at once, waits for running
    handlers up to the grace period, then cancels the rest and closes their connections.

    Attributes:
        sockets: the listening sockets.
    """

    def __init__(
        self, handler: Handler, graceful_shutdown: float, loop: asyncio.AbstractEventLoop
    ) -> None:
        self._handler = handler
        self._graceful_shutdown = graceful_shutdown
        self._loop = loop
        self._server: asyncio.Server | None = None
        self._tasks: dict[asyncio.Task[None], Stream] = {}
        self._closing = False
        self._closed = False

    def _protocol(self) -> _Protocol:
        protocol = _Protocol(self._loop)
        protocol.on_connect = self._accept
        return protocol

    def _accept(self, transport: asyncio.Transport, protocol: _Protocol) -> None:
        stream = Stream(transport, protocol)
        if self._closing:
            stream.abort()
            return
        task = self._loop.create_task(self._run(stream))
        self._tasks[task] = stream

    async def _run(self, stream: Stream) -> None:
        cancelled = False
        try:
            await self._handler(stream)
        except asyncio.CancelledError:
            cancelled = True
        except (ReadError, WriteError, ConnectionError) as exc:
            # The peer went away mid-exchange: routine for a server.
            logger.debug("connection from %r ended: %s", stream.peername, exc)
        except Exception:
            logger.exception("unhandled error in the connection handler for %r", stream.peername)
        finally:
            try:
                if cancelled or stream.is_closing:
                    stream.abort()
                else:
                    await stream.aclose()
            finally:
                self._tasks.pop(asyncio.current_task(), None)  # type: ignore[arg-type]

    @property
    def sockets(self) -> list[socket.socket]:
        """The listening sockets (empty once closed)."""
        if self._server is None or self._closed:
            return []
        return list(self._server.sockets)

    @property
    def address(self) -> Any:
        """The address of the first listening socket, e.g. ('127.0.0.1', 8080).

        Raises:
            RuntimeError: the server is closed.
        """
        sockets = self.sockets
        if not sockets:
            raise RuntimeError("the server is closed: it has no address")
        return sockets[0].getsockname()

    @property
    def connections(self) -> list[Stream]:
        """The streams of the connections being served now."""
        return list(self._tasks.values())

    @property
    def closing(self) -> bool:
        """True once closing has begun (handlers may check it to finish early)."""
        return self._closing

    async def drop_connections(self) -> int:
        """Cancel every running handler and close its connection at once; keep listening.

        Returns:
            How many connections were dropped.
        """
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)
        return len(tasks)

    async def aclose(self, *, graceful_shutdown: float | None = None) -> None:
        """Stop accepting, let handlers finish for the grace period, then cancel them.

        Args:
            graceful_shutdown: seconds to wait, overriding the server's own setting.
        """
        if self._closed:
            return
        self._closing = True
        grace = self._graceful_shutdown if graceful_shutdown is None else graceful_shutdown
        if self._server is not None:
            self._server.close()
        tasks = list(self._tasks)
        if tasks and grace > 0:
            await asyncio.wait(tasks, timeout=grace)
        for task in self._tasks:
            task.cancel()
        remaining = list(self._tasks)
        if remaining:
            await asyncio.wait(remaining)
        if self._server is not None:
            await self._server.wait_closed()
        self._closed = True

    def __repr__(self) -> str:
        state = "closed" if self._closed else "closing" if self._closing else "serving"
        names = [s.getsockname() for s in self.sockets]
        return f"<StreamServer {names!r} {state}, {len(self._tasks)} connection(s)>"


async def start_tcp_server(
    host: str | None,
    port: int,
    handler: Handler,
    *,
    ssl: _ssl.SSLContext | None = None,
    graceful_shutdown: float = 10.0,
    backlog: int = 1024,
    reuse_port: bool = False,
) -> StreamServer:
    """Listen on host:port and run `await handler(stream)` for each connection.

    The stream is closed when the handler returns. A handler's exception is logged (on the
    "aioreq.streams" logger) and closes only its own connection.

    Args:
        host: the address to bind; None or "" for every interface (IPv4 and IPv6).
        port: the port, or 0 for any free one (see `StreamServer.address`).
        handler: an async callable taking the `Stream`.
        ssl: a server-side `ssl.SSLContext` for TLS.
        graceful_shutdown: seconds closing waits for running handlers before cancelling them.
        backlog: the listen queue length.
        reuse_port: set SO_REUSEPORT (several processes on one port).

    Raises:
        OSError: the address could not be bound (in use, not local). Raised as is: it is the
            caller's configuration, not a network failure.
    """
    loop = asyncio.get_running_loop()
    server = StreamServer(handler, graceful_shutdown, loop)
    server._server = await loop.create_server(
        server._protocol,
        host or None,
        port,
        ssl=ssl,
        backlog=backlog,
        reuse_port=reuse_port or None,
    )
    return server


async def start_unix_server(
    path: str | os.PathLike[str],
    handler: Handler,
    *,
    ssl: _ssl.SSLContext | None = None,
    graceful_shutdown: float = 10.0,
    backlog: int = 1024,
) -> StreamServer:
    """Like `start_tcp_server`, on a Unix domain socket at `path`."""
    loop = asyncio.get_running_loop()
    server = StreamServer(handler, graceful_shutdown, loop)
    server._server = await loop.create_unix_server(
        server._protocol, os.fspath(path), ssl=ssl, backlog=backlog
    )
    return server
