"""`write_all` over TLS: back-pressure, resets and atomic writes.

asyncio's TLS transport encrypts a whole write into the TCP transport below it and pauses its
protocol only for the data it still holds, so `Stream` writes large data over TLS in slices
(aioreq/streams/_stream.py). These tests hold it to what `write_all` promises over plain TCP:
it waits for a peer that does not read, times out, sees a reset while sending, and keeps each
call's bytes together when several tasks write.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import pytest_asyncio

from aioreq import WriteError, WriteTimeout
from aioreq.streams import Stream, StreamServer, open_tcp_stream, start_tcp_server

from ._support import MiB, random_bytes

pytestmark = pytest.mark.asyncio

Handler = Callable[[Stream], Awaitable[None]]
Connect = Callable[[Handler], Awaitable[Stream]]


@pytest_asyncio.fixture
async def tls_connect(
    server_ssl: ssl.SSLContext, client_ssl: ssl.SSLContext
) -> AsyncIterator[Connect]:
    """Start a TLS server running `handler` and return a client stream connected to it."""
    servers: list[StreamServer] = []
    streams: list[Stream] = []

    async def connect(handler: Handler) -> Stream:
        server = await start_tcp_server("127.0.0.1", 0, handler, ssl=server_ssl)
        servers.append(server)
        host, port = server.address
        stream = await open_tcp_stream(
            host, port, ssl=client_ssl, server_hostname="localhost", connect_timeout=2
        )
        streams.append(stream)
        return stream

    try:
        yield connect
    finally:
        for stream in streams:
            stream.abort()
            await stream.aclose()
        for server in servers:
            await server.aclose(graceful_shutdown=0)


async def _never_reads(stream: Stream) -> None:
    await asyncio.sleep(30)


async def test_write_all_over_tls_times_out_when_the_peer_does_not_read(
    tls_connect: Connect,
) -> None:
    stream = await tls_connect(_never_reads)
    loop = asyncio.get_running_loop()
    start = loop.time()
    with pytest.raises(WriteTimeout, match=r"0\.2 seconds"):
        await stream.write_all(random_bytes(16 * MiB), timeout=0.2)
    assert loop.time() - start < 2.0
    # The call stopped midway: more bytes would be read as part of its message.
    with pytest.raises(WriteError, match="midway"):
        await stream.write_all(b"more")
    with pytest.raises(WriteError, match="midway"):
        stream.write_nowait(b"more")


async def test_write_all_over_tls_sees_a_reset_while_sending(tls_connect: Connect) -> None:
    async def reads_a_little_then_resets(stream: Stream) -> None:
        await stream.read_exactly(1000)
        stream.reset()

    stream = await tls_connect(reads_a_little_then_resets)
    with pytest.raises(WriteError):
        await asyncio.wait_for(stream.write_all(random_bytes(16 * MiB), timeout=5), 5)


async def test_concurrent_writes_over_tls_arrive_whole_and_in_one_piece_each(
    tls_connect: Connect,
) -> None:
    received = asyncio.get_running_loop().create_future()
    sizes = [3 * MiB, 5, 2 * MiB, 17]
    total = sum(sizes) + len(b"nowait")

    async def collects(stream: Stream) -> None:
        received.set_result(await stream.read_exactly(total, timeout=10))

    stream = await tls_connect(collects)
    messages = [bytes([65 + i]) * size for i, size in enumerate(sizes)]
    writers = [asyncio.create_task(stream.write_all(m, timeout=10)) for m in messages]
    await asyncio.sleep(0)  # the first writer is between its slices now
    stream.write_nowait(b"nowait")  # queued behind the slices, not among them
    await asyncio.gather(*writers)
    # In the order they began, none cut into another: b"nowait" waited for the first's slices.
    expected = messages[0] + b"nowait" + b"".join(messages[1:])
    assert await asyncio.wait_for(received, 10) == expected


async def test_write_all_over_tls_delivers_every_byte_to_a_slow_reader(
    tls_connect: Connect,
) -> None:
    data = random_bytes(8 * MiB)
    received = asyncio.get_running_loop().create_future()

    async def reads_slowly(stream: Stream) -> None:
        got = bytearray()
        while len(got) < len(data):
            got += await stream.read_some(256 * 1024, timeout=10)
            await asyncio.sleep(0.001)
        received.set_result(bytes(got))

    stream = await tls_connect(reads_slowly)
    await stream.write_all(data, timeout=10)
    assert await asyncio.wait_for(received, 10) == data
