"""`serve()`: start an HTTP/1.1 server for an application; `Server`, the running server; `run()`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import ssl as _ssl
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from ..protocol import (
    DEFAULT_MAX_HEADER_COUNT,
    DEFAULT_MAX_HEADER_SIZE,
    DEFAULT_MAX_LINE_SIZE,
)
from ..streams import AsyncResource, Stream, StreamServer, start_tcp_server, start_unix_server
from ._connection import _Connection
from ._messages import RawResponse, Request, Response

__all__ = ["App", "Server", "ServerLimits", "run", "serve"]

logger = logging.getLogger("aioreq.server")

#: An application: an async callable from a `Request` to a `Response` (or `RawResponse`).
App = Callable[[Request], Awaitable[Response | RawResponse]]


@dataclass(frozen=True)
class ServerLimits:
    """How much, and how long, the server accepts from a client.

    Attributes:
        max_line_size: longest request line (414 beyond it).
        max_header_size: largest header section (431).
        max_header_count: most header lines (431).
        max_body_size: largest request body (413), or None for no limit.
        header_timeout: seconds for a whole request head, from its first byte (408); also how
            long a new connection may stay silent.
        keep_alive_timeout: seconds an idle persistent connection is kept open.
        body_timeout: seconds a read of the request body may wait (408), and seconds a write
            of the response may wait for the client to take data (the connection is then
            dropped: a client that stops reading cannot hold it).
    """

    max_line_size: int = DEFAULT_MAX_LINE_SIZE
    max_header_size: int = DEFAULT_MAX_HEADER_SIZE
    max_header_count: int = DEFAULT_MAX_HEADER_COUNT
    max_body_size: int | None = 16 * 2**20
    header_timeout: float = 10.0
    keep_alive_timeout: float = 5.0
    body_timeout: float = 60.0


class Server(AsyncResource):
    """A running `aioreq.server`; made by `serve()`.

    Attributes:
        app: the application.
        limits: the `ServerLimits` in force.
    """

    def __init__(self, app: App, limits: ServerLimits, graceful_shutdown: float, tls: bool) -> None:
        self.app = app
        self.limits = limits
        self._graceful_shutdown = graceful_shutdown
        self._tls = tls
        self._streams: StreamServer | None = None
        self._connections: set[_Connection] = set()
        self._uds: str | None = None
        self._closed = asyncio.Event()
        #: True once `close()` has begun (read on every request: a plain attribute).
        self.closing = False
        #: How many connections the server has accepted.
        self.accepted = 0

    async def _handle(self, stream: Stream) -> None:
        connection = _Connection(self, stream)
        self._connections.add(connection)
        try:
            await connection.run()
        finally:
            self._connections.discard(connection)

    @property
    def sockets(self) -> list[socket.socket]:
        """The listening sockets."""
        return self._streams.sockets if self._streams is not None else []

    @property
    def host(self) -> str:
        """The address the server listens on, e.g. "127.0.0.1" or "::1"."""
        if self._uds is not None:
            return "localhost"
        return str(self._address()[0])

    @property
    def port(self) -> int:
        """The port the server listens on (the one chosen when `serve()` was given 0)."""
        if self._uds is not None:
            return 0
        return int(self._address()[1])

    @property
    def url(self) -> str:
        """The server's base URL, e.g. "http://127.0.0.1:8080" (brackets around IPv6)."""
        scheme = "https" if self._tls else "http"
        if self._uds is not None:
            return f"{scheme}://localhost"
        host = self.host
        if ":" in host:
            host = f"[{host}]"
        return f"{scheme}://{host}:{self.port}"

    @property
    def path(self) -> str | None:
        """The Unix socket path when serving on one, else None."""
        return self._uds

    def _address(self) -> Any:
        if self._streams is None or not self._streams.sockets:
            raise RuntimeError("the server is closed")
        return self._streams.address

    async def close(self, *, graceful_shutdown: float | None = None) -> None:
        """Stop accepting, finish the requests in progress, then close every connection.

        Idle keep-alive connections are closed at once; a request in progress gets up to the
        grace period to finish (its response then says `Connection: close`), after which its
        handler is cancelled.

        Args:
            graceful_shutdown: seconds to wait, overriding the server's own setting.
        """
        streams = self._streams
        if streams is None:
            return
        self.closing = True
        grace = self._graceful_shutdown if graceful_shutdown is None else graceful_shutdown
        closing = streams.aclose(graceful_shutdown=grace)
        task = asyncio.ensure_future(closing)
        # Stopping the listener happens first inside aclose(); then idle connections go.
        await asyncio.sleep(0)
        for connection in list(self._connections):
            if connection.idle:
                connection.stream.abort()
        await task
        self._closed.set()
        if self._uds is not None:
            with contextlib.suppress(OSError):
                os.unlink(self._uds)

    aclose = close

    async def drop_connections(self) -> int:
        """Close every open connection at once, cancelling the handlers still running on
        them (a request that never gets an answer, say); the server goes on listening.

        Returns:
            How many connections were dropped.
        """
        if self._streams is None:
            return 0
        return await self._streams.drop_connections()

    @property
    def connection_count(self) -> int:
        """How many connections are open now."""
        return len(self._connections)

    async def serve_forever(self) -> None:
        """Wait until the server is closed (from another task)."""
        if not self.closing:
            await self._closed.wait()

    def __repr__(self) -> str:
        where = self._uds or (self.url if self.sockets else "closed")
        return f"<aioreq.server.Server {where}, {len(self._connections)} connection(s)>"


async def serve(
    app: App,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    ssl: _ssl.SSLContext | None = None,
    uds: str | os.PathLike[str] | None = None,
    limits: ServerLimits | None = None,
    graceful_shutdown: float = 5.0,
    backlog: int = 1024,
    reuse_port: bool = False,
) -> Server:
    """Start serving `app` over HTTP/1.1 (HTTPS with `ssl`), and return the running server.

    Args:
        app: `async (Request) -> Response`.
        host: the address to bind ("127.0.0.1", "::1", "" for every interface).
        port: the port; 0 picks a free one (read it back from `Server.port` or `.url`).
        ssl: a server-side TLS context.
        uds: serve on this Unix domain socket path instead of host and port.
        limits: sizes and timeouts (`ServerLimits()` when None).
        graceful_shutdown: seconds `close()` lets requests in progress finish.
        backlog: the listen queue length.
        reuse_port: set SO_REUSEPORT, so several processes can share the port.

    Raises:
        OSError: the address could not be bound.
    """
    server = Server(app, limits or ServerLimits(), graceful_shutdown, ssl is not None)
    if uds is not None:
        server._uds = os.fspath(uds)
        server._streams = await start_unix_server(
            uds, server._handle, ssl=ssl, graceful_shutdown=graceful_shutdown, backlog=backlog
        )
    else:
        server._streams = await start_tcp_server(
            host,
            port,
            server._handle,
            ssl=ssl,
            graceful_shutdown=graceful_shutdown,
            backlog=backlog,
            reuse_port=reuse_port,
        )
    return server


def run(
    app: App,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    use_uvloop: bool | None = None,
    **serve_kwargs: Any,
) -> None:
    """Serve `app` until interrupted (Ctrl-C or SIGTERM), then close gracefully.

    The blocking entry point for a script: `aioreq.server.run(app, port=8080)`.

    Args:
        app: `async (Request) -> Response`.
        host: the address to bind.
        port: the port.
        use_uvloop: run on uvloop (the `speedups` extra); None uses it when it is installed.
        **serve_kwargs: the keyword arguments of `serve()` (ssl, limits, graceful_shutdown...).

    Raises:
        ImportError: `use_uvloop=True` and uvloop is not installed.
    """
    loop_factory = _loop_factory(use_uvloop)

    async def main() -> None:
        server = await serve(app, host, port, **serve_kwargs)
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signum, stop.set)
        logger.info("serving on %s", server.url)
        try:
            await stop.wait()
        finally:
            await server.close()

    if sys.version_info >= (3, 11):
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            runner.run(main())
    else:  # pragma: no cover -- Python 3.10 has no Runner
        if loop_factory is not None:
            asyncio.set_event_loop_policy(_uvloop().EventLoopPolicy())
        asyncio.run(main())


def _uvloop() -> Any:
    import uvloop

    return uvloop


def _loop_factory(use_uvloop: bool | None) -> Callable[[], asyncio.AbstractEventLoop] | None:
    if use_uvloop is False:
        return None
    try:
        factory: Callable[[], asyncio.AbstractEventLoop] = _uvloop().new_event_loop
    except ImportError:
        if use_uvloop:
            raise
        return None
    return factory
