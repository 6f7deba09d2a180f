"""`start_tcp_server` / `start_unix_server`: serving, handler failures, and graceful shutdown.

The clients are aioreq streams; every server is closed at teardown by the `serve` fixture
(closing twice is allowed, so tests may close their servers themselves).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
import ssl
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import pytest_asyncio

from aioreq import AioreqError, ConnectError, ReadError
from aioreq.streams import (
    Stream,
    StreamServer,
    open_tcp_stream,
    open_unix_stream,
    start_tcp_server,
    start_unix_server,
)

from ._support import (
    MiB,
    assert_closed_by_peer,
    eventually,
    random_bytes,
    requires_unix_sockets,
)

pytestmark = pytest.mark.asyncio

Handler = Callable[[Stream], Awaitable[None]]
Serve = Callable[..., Awaitable[StreamServer]]


@pytest_asyncio.fixture
async def serve() -> AsyncIterator[Serve]:
    """Start a TCP server on 127.0.0.1 (any port); every one is closed at teardown."""
    servers: list[StreamServer] = []

    async def start(handler: Handler, host: str = "127.0.0.1", **kwargs: Any) -> StreamServer:
        server = await start_tcp_server(host, 0, handler, **kwargs)
        servers.append(server)
        return server

    try:
        yield start
    finally:
        for server in servers:
            await server.aclose(graceful_shutdown=0)


async def echo_lines(stream: Stream) -> None:
    """Echo each line until the client closes."""
    while True:
        try:
            line = await stream.read_until(b"\n")
        except ReadError:
            return
        await stream.write_all(line)


async def connect(server: StreamServer) -> Stream:
    host, port = server.address[:2]
    return await open_tcp_stream(host, port, connect_timeout=1)


async def assert_echoes(stream: Stream, line: bytes = b"ping\n") -> None:
    await stream.write_all(line)
    assert await stream.read_until(b"\n", timeout=1) == line


# --- serving -------------------------------------------------------------------------------------


async def test_server_serves_a_client_and_reports_its_address(serve: Serve) -> None:
    server = await serve(echo_lines)
    host, port = server.address
    assert host == "127.0.0.1"
    assert port > 0
    assert [s.getsockname() for s in server.sockets] == [server.address]
    assert not server.closing
    async with await connect(server) as client:
        await assert_echoes(client)
        assert repr(server) == f"<StreamServer [{server.address!r}] serving, 1 connection(s)>"


async def test_connections_lists_the_streams_being_served(serve: Serve) -> None:
    served: list[Stream] = []

    async def record(stream: Stream) -> None:
        served.append(stream)
        await echo_lines(stream)

    server = await serve(record)
    assert server.connections == []
    async with await connect(server) as client:
        await assert_echoes(client)
        assert server.connections == served
        assert served[0].peername == client.sockname
    await eventually(lambda: server.connections == [])


async def test_many_connections_are_served_concurrently(serve: Serve) -> None:
    """Ten handlers that each sleep 0.2 s take about 0.2 s together, not 2 s."""
    active = 0
    most = 0

    async def slow_echo(stream: Stream) -> None:
        nonlocal active, most
        line = await stream.read_until(b"\n")
        active += 1
        most = max(most, active)
        await asyncio.sleep(0.2)
        active -= 1
        await stream.write_all(line)

    server = await serve(slow_echo)
    loop = asyncio.get_running_loop()
    async with contextlib.AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(await connect(server)) for _ in range(10)]
        start = loop.time()
        for i, client in enumerate(clients):
            await client.write_all(b"%d\n" % i)
        replies = await asyncio.gather(*(c.read_until(b"\n", timeout=2) for c in clients))
        elapsed = loop.time() - start
    assert replies == [b"%d\n" % i for i in range(10)]
    assert most == 10
    assert elapsed < 1.0


async def test_the_stream_is_closed_when_the_handler_returns(serve: Serve) -> None:
    async def say_bye(stream: Stream) -> None:
        await stream.write_all(b"bye\n")

    server = await serve(say_bye)
    async with await connect(server) as client:
        assert await client.read_until(b"\n", timeout=1) == b"bye\n"
        assert await client.read_some(timeout=1) == b""
        assert client.at_eof


async def test_output_queued_by_a_returning_handler_is_delivered(serve: Serve) -> None:
    payload = random_bytes(2 * MiB)

    async def dump(stream: Stream) -> None:
        stream.write_nowait(payload)

    server = await serve(dump)
    async with await connect(server) as client:
        received = bytearray()
        while chunk := await client.read_some(timeout=1):
            received += chunk
    assert received == payload


async def test_a_failing_handler_is_logged_and_closes_only_its_connection(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="aioreq.streams")

    async def fragile(stream: Stream) -> None:
        while line := await stream.read_until(b"\n"):
            if line == b"boom\n":
                raise ValueError("boom")
            await stream.write_all(line)

    server = await serve(fragile)
    async with await connect(server) as bystander, await connect(server) as victim:
        await assert_echoes(bystander)
        await victim.write_all(b"boom\n")
        await assert_closed_by_peer(victim)
        await assert_echoes(bystander, b"still here\n")
        async with await connect(server) as newcomer:
            await assert_echoes(newcomer)
    [record] = [r for r in caplog.records if r.name == "aioreq.streams"]
    assert record.levelno == logging.ERROR
    assert "handler" in record.getMessage()
    assert record.exc_info is not None
    assert record.exc_info[0] is ValueError


async def test_a_client_leaving_mid_exchange_is_not_logged_as_an_error(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="aioreq.streams")
    ended = asyncio.Event()

    async def wants_more(stream: Stream) -> None:
        try:
            await stream.read_exactly(100)
        finally:
            ended.set()

    server = await serve(wants_more)
    async with await connect(server) as client:
        await client.write_all(b"only ten..")
    await asyncio.wait_for(ended.wait(), 1)
    records = [r for r in caplog.records if r.name == "aioreq.streams"]
    assert records, "the ended connection was not logged at all"
    assert all(r.levelno == logging.DEBUG for r in records)
    assert "ended" in records[0].getMessage()


async def test_tls_server_end_to_end(
    serve: Serve, server_ssl: ssl.SSLContext, client_ssl: ssl.SSLContext
) -> None:
    async def tell_tls_version(stream: Stream) -> None:
        version = stream.ssl_object.version() if stream.ssl_object is not None else None
        await stream.write_all(f"{version}\n".encode())
        await echo_lines(stream)

    server = await serve(tell_tls_version, ssl=server_ssl)
    host, port = server.address
    async with await open_tcp_stream(
        host, port, ssl=client_ssl, server_hostname="localhost", connect_timeout=1
    ) as client:
        assert client.ssl_object is not None
        version = await client.read_until(b"\n", timeout=1)
        assert version.decode().strip() == client.ssl_object.version()
        await assert_echoes(client)


async def test_tls_server_keeps_serving_after_a_client_rejects_it(
    serve: Serve, server_ssl: ssl.SSLContext, client_ssl: ssl.SSLContext
) -> None:
    server = await serve(echo_lines, ssl=server_ssl)
    host, port = server.address
    with pytest.raises(ConnectError, match="rejected"):
        await open_tcp_stream(host, port, ssl=client_ssl, server_hostname="wrong.example")
    async with await open_tcp_stream(
        host, port, ssl=client_ssl, server_hostname="localhost"
    ) as client:
        await assert_echoes(client)


@pytest.mark.ipv6
async def test_server_on_ipv6_loopback(serve: Serve) -> None:
    server = await serve(echo_lines, host="::1")
    assert server.address[0] == "::1"
    async with await connect(server) as client:
        await assert_echoes(client)


async def test_binding_a_port_in_use_raises_os_error(serve: Serve) -> None:
    server = await serve(echo_lines)
    port = server.address[1]

    async def start_and_close() -> None:
        second = await start_tcp_server("127.0.0.1", port, echo_lines)
        await second.aclose()

    with pytest.raises(OSError, match=r"(?i)address already in use") as info:
        await start_and_close()
    assert info.value.errno == errno.EADDRINUSE
    assert not isinstance(info.value, AioreqError)


@pytest.mark.skipif(not hasattr(socket, "SO_REUSEPORT"), reason="no SO_REUSEPORT here")
async def test_reuse_port_lets_two_servers_share_a_port(serve: Serve) -> None:
    first = await serve(echo_lines, reuse_port=True)
    port = first.address[1]
    second = await start_tcp_server("127.0.0.1", port, echo_lines, reuse_port=True)
    try:
        assert second.address == first.address
        async with await connect(second) as client:
            await assert_echoes(client)
    finally:
        await second.aclose()


# --- shutting down -------------------------------------------------------------------------------


async def test_aclose_stops_accepting_and_waits_for_a_handler_within_the_grace_period(
    serve: Serve,
) -> None:
    started = asyncio.Event()

    async def slow_reply(stream: Stream) -> None:
        await stream.read_until(b"\n")
        started.set()
        await asyncio.sleep(0.1)
        await stream.write_all(b"done\n")

    server = await serve(slow_reply, graceful_shutdown=1.0)
    host, port = server.address
    loop = asyncio.get_running_loop()
    async with await connect(server) as client:
        await client.write_all(b"go\n")
        await asyncio.wait_for(started.wait(), 1)
        start = loop.time()
        closing = asyncio.create_task(server.aclose())
        await eventually(lambda: server.closing)
        with pytest.raises(ConnectError):
            await open_tcp_stream(host, port)
        assert await client.read_until(b"\n", timeout=1) == b"done\n"
        await asyncio.wait_for(closing, 1)
        assert loop.time() - start < 0.5  # it ended with the handler, not at the grace period
        assert await client.read_some(timeout=1) == b""
    assert server.connections == []


async def test_handlers_can_watch_closing_to_finish_early(serve: Serve) -> None:
    async def until_closing(stream: Stream) -> None:
        await stream.write_all(b"hello\n")
        await eventually(lambda: server.closing, within=2)
        await stream.write_all(b"goodbye\n")

    server = await serve(until_closing, graceful_shutdown=1.0)
    async with await connect(server) as client:
        assert await client.read_until(b"\n", timeout=1) == b"hello\n"
        await asyncio.wait_for(server.aclose(), 0.5)
        assert await client.read_until(b"\n", timeout=1) == b"goodbye\n"
        assert await client.read_some(timeout=1) == b""


async def test_a_handler_past_the_grace_period_is_cancelled_and_its_connection_closed(
    serve: Serve,
) -> None:
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def stuck(stream: Stream) -> None:
        started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    server = await serve(stuck, graceful_shutdown=0.1)
    loop = asyncio.get_running_loop()
    async with await connect(server) as client:
        await asyncio.wait_for(started.wait(), 1)
        start = loop.time()
        await server.aclose()
        elapsed = loop.time() - start
        assert cancelled.is_set()
        assert 0.08 <= elapsed < 0.4
        assert server.connections == []
        await assert_closed_by_peer(client)


async def test_aclose_grace_period_can_be_overridden(serve: Serve) -> None:
    started = asyncio.Event()

    async def stuck(stream: Stream) -> None:
        started.set()
        await asyncio.sleep(3600)

    server = await serve(stuck)  # the default grace period is 10 s
    loop = asyncio.get_running_loop()
    async with await connect(server) as client:
        await asyncio.wait_for(started.wait(), 1)
        start = loop.time()
        await server.aclose(graceful_shutdown=0.05)
        assert loop.time() - start < 0.3
        await assert_closed_by_peer(client)


async def test_aclose_leaves_no_connection_open_whose_handler_already_returned(
    serve: Serve,
) -> None:
    served: list[Stream] = []

    async def dump(stream: Stream) -> None:
        served.append(stream)
        stream.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
        stream.write_nowait(random_bytes(8 * MiB))

    server = await serve(dump, graceful_shutdown=0.1)
    # A client that never reads: the queued output cannot drain.
    with socket.create_connection(server.address) as client:
        await eventually(lambda: bool(served))
        await asyncio.wait_for(server.aclose(), 1)
        closed = served[0]._protocol._closed.done()
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    assert closed, "server.aclose() returned while one of its connections was still open"


async def test_aclose_is_idempotent(serve: Serve) -> None:
    server = await serve(echo_lines)
    address = server.address
    await server.aclose()
    await asyncio.wait_for(server.aclose(), 0.1)
    assert server.closing
    assert server.sockets == []
    assert repr(server) == "<StreamServer [] closed, 0 connection(s)>"
    with pytest.raises(ConnectError):
        await open_tcp_stream(*address)


async def test_async_with_closes_the_server() -> None:
    async with await start_tcp_server("127.0.0.1", 0, echo_lines) as server:
        address = server.address
        async with await connect(server) as client:
            await assert_echoes(client)
    assert server.sockets == []
    with pytest.raises(ConnectError):
        await open_tcp_stream(*address)


# --- Unix domain sockets -------------------------------------------------------------------------


@requires_unix_sockets
async def test_unix_server_serves_and_stops(unix_path: str) -> None:
    server = await start_unix_server(unix_path, echo_lines, graceful_shutdown=0.1)
    try:
        assert server.address == unix_path
        async with await open_unix_stream(unix_path, connect_timeout=1) as client:
            await assert_echoes(client)
    finally:
        await server.aclose()
    with pytest.raises(ConnectError):
        await open_unix_stream(unix_path)


@requires_unix_sockets
async def test_unix_server_with_tls(
    unix_path: str, server_ssl: ssl.SSLContext, client_ssl: ssl.SSLContext
) -> None:
    async with (
        await start_unix_server(unix_path, echo_lines, ssl=server_ssl) as server,
        await open_unix_stream(unix_path, ssl=client_ssl, server_hostname="localhost") as client,
    ):
        assert client.ssl_object is not None
        await assert_echoes(client)
        assert len(server.connections) == 1
