"""Fixtures of the server tests: servers that are always closed, raw clients, TLS material."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest_asyncio

from aioreq.server import Server

from ._support import TIMEOUT, RawClient

StartServer = Callable[..., Awaitable[Server]]
Connect = Callable[..., Awaitable[RawClient]]


@pytest_asyncio.fixture
async def connect() -> AsyncIterator[Connect]:
    """`await connect(server)`: a raw client connected to it, closed when the test ends.

    `rcvbuf` sets the client's receive buffer before connecting (a small one makes a client
    that does not read push back on the server quickly).
    """
    clients: list[RawClient] = []
    loop = asyncio.get_running_loop()

    async def connect_(server: Server, *, rcvbuf: int | None = None) -> RawClient:
        if server.path is not None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            address: Any = server.path
        else:
            family = socket.AF_INET6 if ":" in server.host else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            address = (server.host, server.port)
        try:
            if rcvbuf is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            sock.setblocking(False)
            await asyncio.wait_for(loop.sock_connect(sock, address), TIMEOUT)
        except BaseException:
            sock.close()
            raise
        client = RawClient(sock)
        clients.append(client)
        return client

    try:
        yield connect_
    finally:
        for client in clients:
            client.close()
