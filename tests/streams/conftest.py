"""Fixtures of the stream tests: connected stream/peer pairs, TLS material, Unix socket paths."""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import pytest_asyncio

from aioreq.streams import Stream, create_ssl_context, open_tcp_stream

from ._support import Peer, settle

#: The receive buffer of the raw peer: small, so that a peer that does not read pushes back fast.
PEER_RCVBUF = 64 * 1024


@dataclass
class Connection:
    """A `Stream` connected over 127.0.0.1 to a raw socket `peer`."""

    stream: Stream
    peer: Peer


@pytest_asyncio.fixture
async def conn() -> AsyncIterator[Connection]:
    loop = asyncio.get_running_loop()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        # The accepted socket inherits the buffer size (and its window scale follows from it).
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, PEER_RCVBUF)
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.setblocking(False)
        stream = await open_tcp_stream("127.0.0.1", listener.getsockname()[1])
        try:
            sock, _ = await asyncio.wait_for(loop.sock_accept(listener), 1.0)
        except BaseException:
            await settle(stream)
            raise
    peer = Peer(sock)
    try:
        yield Connection(stream, peer)
    finally:
        peer.close()
        await settle(stream)


@pytest.fixture
def client_ssl(ca_file: str) -> ssl.SSLContext:
    """aioreq's client context trusting the test CA."""
    return create_ssl_context(cafile=ca_file)
