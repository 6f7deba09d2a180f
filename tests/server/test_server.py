"""The `Server` object: addresses, closing (graceful and not), Unix sockets, concurrency, TLS."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import ssl
from typing import Any

import pytest

from aioreq.server import Request, Response, serve

from ._support import TIMEOUT, http_request
from .conftest import Connect, StartServer

pytestmark = pytest.mark.asyncio


async def ok(request: Request) -> Response:
    return Response(text=f"ok {request.path}")


def refused(host: str, port: int) -> bool:
    """True when a connection to host:port is refused (nothing listens there)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(TIMEOUT)
        try:
            sock.connect((host, port))
        except ConnectionRefusedError:
            return True
    return False


async def test_url_host_and_port_over_ipv4(start: StartServer, connect: Connect) -> None:
    server = await start(ok)
    assert server.host == "127.0.0.1"
    assert server.port == server.sockets[0].getsockname()[1] > 0
    assert server.url == f"http://127.0.0.1:{server.port}"
    assert server.path is None
    client = await connect(server)
    assert (await client.exchange(http_request())).body == b"ok /"


@pytest.mark.ipv6
async def test_url_brackets_an_ipv6_host(start: StartServer, connect: Connect) -> None:
    """RFC 3986 §3.2.2: an IPv6 literal is enclosed in brackets in a URL."""
    seen: list[Any] = []

    async def app(request: Request) -> Response:
        seen.append(request.client)
        return Response(text=request.url)

    server = await start(app, host="::1")
    assert server.host == "::1"
    assert server.url == f"http://[::1]:{server.port}"
    client = await connect(server)
    reply = await client.exchange(http_request(host=f"[::1]:{server.port}"))
    assert reply.body == f"http://[::1]:{server.port}/".encode()
    assert seen[0][:2] == ("::1", client.port)


async def test_tls_server_says_https_and_serves_over_tls(
    start: StartServer, server_ssl: ssl.SSLContext, client_ssl: ssl.SSLContext
) -> None:
    seen: list[tuple[str, str]] = []

    async def app(request: Request) -> Response:
        seen.append((request.scheme, request.url))
        return Response(text="secure")

    server = await start(app, ssl=server_ssl)
    assert server.url == f"https://127.0.0.1:{server.port}"
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", server.port, ssl=client_ssl, server_hostname="localhost"
    )
    try:
        writer.write(
            http_request(host=f"localhost:{server.port}", headers=[("Connection", "close")])
        )
        raw = await asyncio.wait_for(reader.read(), TIMEOUT)
    finally:
        writer.close()
        with contextlib.suppress(OSError, ssl.SSLError):
            await writer.wait_closed()
    assert raw.startswith(b"HTTP/1.1 200 OK\r\n")
    assert raw.endswith(b"\r\n\r\nsecure")
    assert seen == [("https", f"https://localhost:{server.port}/")]


async def test_unix_socket_server(start: StartServer, connect: Connect, unix_path: str) -> None:
    server = await start(ok, uds=unix_path)
    assert server.path == unix_path
    assert server.url == "http://localhost"
    assert await asyncio.to_thread(os.path.exists, unix_path)
    client = await connect(server)
    first = await client.exchange(http_request(target="/a"))
    second = await client.exchange(http_request(target="/b"))
    assert (first.body, second.body) == (b"ok /a", b"ok /b")
    client.close()
    await server.close()
    assert not await asyncio.to_thread(os.path.exists, unix_path)


async def test_async_with_closes_the_server() -> None:
    async with await serve(ok) as server:
        port = server.port
        closing_inside = server.closing
    assert not closing_inside
    assert server.closing
    assert await asyncio.to_thread(refused, "127.0.0.1", port)


async def test_close_is_idempotent(start: StartServer) -> None:
    server = await start(ok)
    await server.close()
    await server.close()
    await server.aclose()
    assert server.closing
    with pytest.raises(RuntimeError):
        _ = server.port


async def test_serve_forever_returns_once_closed(start: StartServer) -> None:
    server = await start(ok)
    forever = asyncio.ensure_future(server.serve_forever())
    await asyncio.sleep(0.01)
    assert not forever.done()
    await server.close()
    await asyncio.wait_for(forever, TIMEOUT)


async def test_binding_a_taken_port_raises_oserror(start: StartServer) -> None:
    server = await start(ok)
    with pytest.raises(OSError, match="in use"):
        await serve(ok, port=server.port)


async def test_new_connections_are_refused_after_close(start: StartServer) -> None:
    server = await start(ok)
    port = server.port
    await server.close()
    assert await asyncio.to_thread(refused, "127.0.0.1", port)


async def test_close_lets_a_request_in_progress_finish(
    start: StartServer, connect: Connect
) -> None:
    """Graceful shutdown: the response of a request being handled still arrives, marked
    `Connection: close` (RFC 9112 §9.6), then the connection closes."""
    handling = asyncio.Event()

    async def app(request: Request) -> Response:
        handling.set()
        await asyncio.sleep(0.2)
        return Response(text="finished")

    loop = asyncio.get_running_loop()
    server = await start(app, graceful_shutdown=5.0)
    client = await connect(server)
    await client.send(http_request())
    await asyncio.wait_for(handling.wait(), TIMEOUT)
    began = loop.time()
    await server.close()
    assert loop.time() - began < 1.0  # no waiting for the grace period once it is done
    reply = await client.read_response()
    assert reply.body == b"finished"
    assert reply.headers["Connection"] == "close"
    await client.assert_closed()


async def test_close_closes_a_connection_that_never_sent_a_request_at_once(
    start: StartServer, connect: Connect
) -> None:
    loop = asyncio.get_running_loop()
    server = await start(ok, graceful_shutdown=2.0)
    client = await connect(server)
    await asyncio.sleep(0.01)  # the server has accepted it
    began = loop.time()
    await server.close()
    assert loop.time() - began < 0.5
    await client.assert_closed(within=1.0)


async def test_close_closes_idle_keep_alive_connections_at_once(
    start: StartServer, connect: Connect
) -> None:
    loop = asyncio.get_running_loop()
    server = await start(ok, graceful_shutdown=1.0)
    client = await connect(server)
    assert (await client.exchange(http_request())).status == 200
    began = loop.time()
    await server.close()
    elapsed = loop.time() - began
    await client.assert_closed(within=1.0)
    assert elapsed < 0.5, f"close() took {elapsed:.2f} s"


async def test_handler_outliving_the_grace_period_is_cancelled(
    start: StartServer, connect: Connect
) -> None:
    cancelled = asyncio.Event()
    handling = asyncio.Event()

    async def app(request: Request) -> Response:
        handling.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return Response(text="too late")

    loop = asyncio.get_running_loop()
    server = await start(app, graceful_shutdown=0.2)
    client = await connect(server)
    await client.send(http_request())
    await asyncio.wait_for(handling.wait(), TIMEOUT)
    began = loop.time()
    await server.close()
    assert 0.15 <= loop.time() - began < 1.0
    assert cancelled.is_set()
    assert await client.read_to_eof(timeout=1.0) == b""  # closed, no response


async def test_slow_handler_does_not_delay_another_connection(
    start: StartServer, connect: Connect
) -> None:
    """Handlers run concurrently: /fast on one connection is answered while /slow sleeps."""

    async def app(request: Request) -> Response:
        if request.path == "/slow":
            await asyncio.sleep(0.3)
        return Response(text=request.path)

    loop = asyncio.get_running_loop()
    server = await start(app)
    slow = await connect(server)
    fast = await connect(server)
    began = loop.time()
    await slow.send(http_request(target="/slow"))
    await asyncio.sleep(0.02)
    fast_reply = await fast.exchange(http_request(target="/fast"))
    fast_elapsed = loop.time() - began
    slow_reply = await slow.read_response()
    slow_elapsed = loop.time() - began
    assert fast_reply.body == b"/fast"
    assert slow_reply.body == b"/slow"
    assert fast_elapsed < 0.15
    assert slow_elapsed >= 0.3


async def test_many_concurrent_connections_are_served(start: StartServer, connect: Connect) -> None:
    async def app(request: Request) -> Response:
        await asyncio.sleep(0.05)
        return Response(text=request.path)

    server = await start(app)
    clients = [await connect(server) for _ in range(20)]
    loop = asyncio.get_running_loop()
    began = loop.time()
    replies = await asyncio.gather(
        *(client.exchange(http_request(target=f"/{index}")) for index, client in enumerate(clients))
    )
    assert [reply.body for reply in replies] == [f"/{index}".encode() for index in range(20)]
    assert loop.time() - began < 0.5  # together, not one after the other (20 x 0.05 s)
