"""Buffered byte streams over asyncio transports, TCP/TLS connect, and a TCP server helper.

This is the only package of aioreq that touches asyncio transports, sockets and ssl. Everything
above it (the client's connections, the server) reads and writes through `Stream`.

Why not `asyncio.StreamReader`: its reads go through several layers of coroutines and copies. A
`Stream` keeps one `bytearray` per connection, fed by a plain `asyncio.Protocol`; a reader that is
already waiting when data arrives gets the received `bytes` object itself, without a copy. That is
the common case of a request/response exchange, so it is the one made cheap.

Errors: `OSError`, `ssl.SSLError` and timeouts are translated here, once, into aioreq's tree with
`raise ... from exc`: `ConnectError`/`ConnectTimeout` while connecting (its subclass `TLSError`,
naming the check that failed, for a TLS handshake), `ReadError`/`ReadTimeout` (with
`IncompleteReadError` and `LimitOverrunError`) while reading, `WriteError`/`WriteTimeout` while
writing. Code above this layer never sees a foreign exception from the network.
"""

from ._connect import open_tcp_stream, open_unix_stream
from ._contexts import create_ssl_context, default_ssl_context
from ._resource import AsyncResource
from ._server import StreamServer, start_tcp_server, start_unix_server
from ._stream import DEFAULT_LIMIT, Stream

__all__ = [
    "DEFAULT_LIMIT",
    "AsyncResource",
    "Stream",
    "StreamServer",
    "create_ssl_context",
    "default_ssl_context",
    "open_tcp_stream",
    "open_unix_stream",
    "start_tcp_server",
    "start_unix_server",
]
