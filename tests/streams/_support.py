"""Shared helpers of the stream tests: a raw-socket peer, loopback checks, small waiting tools.

The far end of most connections is a plain socket driven through the event loop (`Peer`), not
another `Stream`, so that a failure points at the side under test.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import struct
import sys
from collections.abc import Callable

import pytest

from aioreq import ReadError
from aioreq.streams import Stream

MiB = 2**20

#: The most bytes asyncio's selector transports take from a socket in one `recv`.
RECV_SIZE = 256 * 1024


requires_unix_sockets = pytest.mark.skipif(
    sys.platform == "win32" or not hasattr(socket, "AF_UNIX"),
    reason="the event loop has no Unix domain sockets here",
)


def random_bytes(n: int) -> bytes:
    """Bytes without a period, so that reordered or repeated chunks cannot compare equal."""
    return os.urandom(n)


class Peer:
    """The far end of a connection: a non-blocking socket driven through the running loop."""

    def __init__(self, sock: socket.socket) -> None:
        sock.setblocking(False)
        self.sock = sock
        self._loop = asyncio.get_running_loop()

    async def send(self, data: bytes) -> None:
        await self._loop.sock_sendall(self.sock, data)

    async def send_in_pieces(self, *pieces: bytes, pause: float = 0.005) -> None:
        """Send each piece on its own, pausing between them so that each is its own read."""
        for piece in pieces:
            await self.send(piece)
            await asyncio.sleep(pause)

    async def recv(self, max_bytes: int = 65536) -> bytes:
        return await self._loop.sock_recv(self.sock, max_bytes)

    async def recv_exactly(self, n: int) -> bytes:
        data = bytearray()
        while len(data) < n:
            chunk = await self.recv(min(n - len(data), MiB))
            if not chunk:
                raise AssertionError(f"the connection closed after {len(data)} of {n} bytes")
            data += chunk
        return bytes(data)

    async def recv_until_eof(self) -> bytes:
        """Everything until the other side closes (a reset also counts as the end)."""
        data = bytearray()
        while True:
            try:
                chunk = await self.recv(MiB)
            except ConnectionResetError:
                return bytes(data)
            if not chunk:
                return bytes(data)
            data += chunk

    def shutdown_write(self) -> None:
        """Half-close: the other side reads EOF."""
        self.sock.shutdown(socket.SHUT_WR)

    def reset(self) -> None:
        """Close with SO_LINGER 0: the kernel sends a TCP RST instead of a FIN."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    def close(self) -> None:
        self.sock.close()


async def eventually(condition: Callable[[], bool], *, within: float = 1.0) -> None:
    """Let the loop run until `condition()` holds; fail the test after `within` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"the condition did not hold within {within} s")
        await asyncio.sleep(0.001)


async def assert_closed_by_peer(stream: Stream) -> None:
    """The other side has closed: a read gives b"" (FIN) or ReadError (RST), promptly."""
    try:
        data = await stream.read_some(timeout=1.0)
    except ReadError:
        return
    assert data == b"", f"expected the connection to be closed, got {data!r}"


async def settle(stream: Stream) -> None:
    """Abort `stream` and let the loop finish closing its socket (for fixture teardown)."""
    stream.abort()
    closed = stream._protocol._closed
    if closed.done():
        return
    if stream.transport.get_protocol() is not stream._protocol:
        # A failed start_tls left the transport to asyncio's TLS layer, which never tells the
        # stream's protocol that the connection is lost; the socket closes all the same.
        await asyncio.sleep(0.01)
        return
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(asyncio.shield(closed), 1.0)
