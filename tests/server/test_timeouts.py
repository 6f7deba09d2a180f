"""Timeouts: slow heads (slowloris), silent and idle connections, stalled bodies."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from aioreq.server import Request, Response, ServerLimits

from ._support import http_request
from .conftest import Connect, StartServer

pytestmark = pytest.mark.asyncio


async def ok(request: Request) -> Response:
    return Response(text="ok")


async def test_half_a_head_then_silence_gets_408_and_a_close(
    start: StartServer, connect: Connect
) -> None:
    """RFC 9110 §15.5.9: 408 when the request did not arrive in time; then the close."""
    loop = asyncio.get_running_loop()
    client = await connect(await start(ok, limits=ServerLimits(header_timeout=0.3)))
    began = loop.time()
    await client.send(b"GET / HTTP/1.1\r\nHost: te")
    reply = await client.read_response()
    elapsed = loop.time() - began
    assert reply.status == 408
    assert reply.headers["Connection"] == "close"
    assert 0.25 <= elapsed < 1.5
    await client.assert_closed()


async def test_a_trickling_head_gets_408_at_the_header_timeout(
    start: StartServer, connect: Connect
) -> None:
    """Slowloris: bytes that keep coming do not extend the deadline of the head; it runs from
    the first byte."""
    loop = asyncio.get_running_loop()
    client = await connect(await start(ok, limits=ServerLimits(header_timeout=0.3)))
    head = http_request(headers=[("X-Padding", "p" * 200)])

    async def trickle() -> None:
        with contextlib.suppress(OSError):
            for index in range(len(head) - 1):  # never the final byte
                await client.send(head[index : index + 1])
                await asyncio.sleep(0.02)

    began = loop.time()
    sender = asyncio.ensure_future(trickle())
    try:
        reply = await client.read_response()
    finally:
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender
    assert reply.status == 408
    assert 0.25 <= loop.time() - began < 1.5


async def test_silent_new_connection_is_closed_after_the_header_timeout(
    start: StartServer, connect: Connect
) -> None:
    loop = asyncio.get_running_loop()
    client = await connect(await start(ok, limits=ServerLimits(header_timeout=0.3)))
    began = loop.time()
    await client.assert_closed(within=2.0)
    assert 0.25 <= loop.time() - began < 1.5


async def test_idle_keep_alive_connection_is_closed_after_keep_alive_timeout(
    start: StartServer, connect: Connect
) -> None:
    """RFC 9112 §9.8: a server may close an idle connection; here after keep_alive_timeout
    (longer than the header timeout: the connection survives the header timeout)."""
    loop = asyncio.get_running_loop()
    limits = ServerLimits(header_timeout=0.2, keep_alive_timeout=0.5)
    client = await connect(await start(ok, limits=limits))
    assert (await client.exchange(http_request())).status == 200
    idle_since = loop.time()
    await client.assert_silent(0.35)  # past the header timeout, still open
    assert (await client.exchange(http_request())).status == 200
    idle_since = loop.time()
    await client.assert_closed(within=2.0)
    assert 0.4 <= loop.time() - idle_since < 1.5


async def test_keep_alive_timeout_shorter_than_header_timeout_is_honoured(
    start: StartServer, connect: Connect
) -> None:
    loop = asyncio.get_running_loop()
    client = await connect(await start(ok, limits=ServerLimits(keep_alive_timeout=0.3)))
    assert (await client.exchange(http_request())).status == 200
    idle_since = loop.time()
    await client.assert_closed(within=1.0)
    assert loop.time() - idle_since >= 0.25


async def test_stalled_body_gets_408(start: StartServer, connect: Connect) -> None:
    """A body that stops arriving for longer than body_timeout: 408 and a close."""

    async def app(request: Request) -> Response:
        return Response(body=await request.body())

    loop = asyncio.get_running_loop()
    client = await connect(await start(app, limits=ServerLimits(body_timeout=0.3)))
    await client.send(http_request("POST", headers=[("Content-Length", "10")]) + b"abc")
    began = loop.time()
    reply = await client.read_response()
    assert reply.status == 408
    assert 0.25 <= loop.time() - began < 1.5
    await client.assert_closed()


async def test_stalled_chunked_body_streamed_by_the_app_gets_408(
    start: StartServer, connect: Connect
) -> None:
    received: list[bytes] = []

    async def app(request: Request) -> Response:
        async for piece in request.stream():
            received.append(piece)  # noqa: PERF401 -- what arrived before the stall is kept
        return Response(text="complete")

    client = await connect(await start(app, limits=ServerLimits(body_timeout=0.3)))
    await client.send(http_request("POST", headers=[("Transfer-Encoding", "chunked")]))
    await client.send(b"3\r\nabc\r\n")
    reply = await client.read_response()
    assert reply.status == 408
    assert received == [b"abc"]
    await client.assert_closed()


async def test_slow_but_steady_body_is_not_timed_out(start: StartServer, connect: Connect) -> None:
    """body_timeout bounds each wait, not the whole body: a body that keeps coming is read."""

    async def app(request: Request) -> Response:
        return Response(body=await request.body())

    client = await connect(await start(app, limits=ServerLimits(body_timeout=0.2)))
    await client.send(http_request("POST", headers=[("Content-Length", "8")]))
    await client.send_in_pieces(b"ab", b"cd", b"ef", b"gh", pause=0.1)
    reply = await client.read_response()
    assert reply.status == 200
    assert reply.body == b"abcdefgh"
