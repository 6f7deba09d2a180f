"""Streamed responses: an async iterable body goes out chunked, as it is produced."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest

from aioreq import RemoteProtocolError
from aioreq.protocol import EndOfMessage, Event, ResponseHead, ResponseParser
from aioreq.server import Request, Response

from ._support import TIMEOUT, http_request
from .conftest import Connect, StartServer

pytestmark = pytest.mark.asyncio

MiB = 2**20


async def pieces(*items: bytes) -> AsyncIterator[bytes]:
    for item in items:
        await asyncio.sleep(0)
        yield item


async def test_async_generator_body_is_sent_chunked(start: StartServer, connect: Connect) -> None:
    """RFC 9112 §7.1: a body of unknown length to an HTTP/1.1 client is sent chunked."""

    async def app(request: Request) -> Response:
        return Response(body=pieces(b"alpha ", b"beta ", b"gamma"))

    client = await connect(await start(app))
    reply = await client.exchange(http_request())
    assert reply.headers["Transfer-Encoding"] == "chunked"
    assert "Content-Length" not in reply.headers
    assert reply.body == b"alpha beta gamma"
    assert reply.keep_alive
    again = await client.exchange(http_request())
    assert again.body == b"alpha beta gamma"


async def test_empty_pieces_do_not_end_the_chunked_body_early(
    start: StartServer, connect: Connect
) -> None:
    """RFC 9112 §7.1: a zero-size chunk is the last chunk, so an empty piece must be skipped."""

    async def app(request: Request) -> Response:
        return Response(body=pieces(b"a", b"", b"b", b""))

    client = await connect(await start(app))
    reply = await client.exchange(http_request())
    assert reply.body == b"ab"
    assert (await client.exchange(http_request())).body == b"ab"


async def test_streamed_body_is_sent_as_it_is_produced(
    start: StartServer, connect: Connect
) -> None:
    """The head and the first chunk arrive while the rest of the body does not exist yet."""
    go_on = asyncio.Event()

    async def body() -> AsyncIterator[bytes]:
        yield b"first"
        await go_on.wait()
        yield b"second"

    async def app(request: Request) -> Response:
        return Response(body=body())

    client = await connect(await start(app))
    await client.send(http_request())
    head = await client.read_until(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert await client.read_until(b"first\r\n") == b"5\r\nfirst\r\n"
    go_on.set()
    assert await client.read_until(b"0\r\n\r\n") == b"6\r\nsecond\r\n0\r\n\r\n"


async def test_trailers_are_sent_after_a_chunked_body(start: StartServer, connect: Connect) -> None:
    """RFC 9112 §7.1.2: trailer fields follow the last chunk."""

    async def app(request: Request) -> Response:
        return Response(
            body=pieces(b"data"),
            headers={"Trailer": "X-Checksum, X-Bytes"},
            trailers=[("X-Checksum", "abc"), (b"X-Bytes", b"4")],
        )

    client = await connect(await start(app))
    reply = await client.exchange(http_request())
    assert reply.body == b"data"
    assert reply.trailers.multi_items() == [("X-Checksum", "abc"), ("X-Bytes", "4")]


async def test_trailers_from_a_callable_see_the_whole_body(
    start: StartServer, connect: Connect
) -> None:
    """A callable gives the trailers once the body has ended (a checksum of what was sent)."""
    sent = bytearray()

    async def body() -> AsyncIterator[bytes]:
        for piece in (b"one", b"two", b"three"):
            sent.extend(piece)
            await asyncio.sleep(0)
            yield piece

    async def app(request: Request) -> Response:
        return Response(body=body(), trailers=lambda: [("X-Length", str(len(sent)))])

    client = await connect(await start(app))
    reply = await client.exchange(http_request())
    assert reply.body == b"onetwothree"
    assert reply.trailers["X-Length"] == "11"


async def test_trailers_are_dropped_for_an_http10_client(
    start: StartServer, connect: Connect, caplog: pytest.LogCaptureFixture
) -> None:
    """An HTTP/1.0 client knows no chunked coding, so a stream reaches it close-delimited, and
    trailers, which only chunked can carry, are left out -- without an error."""

    async def app(request: Request) -> Response:
        return Response(body=pieces(b"one ", b"two"), trailers=[("X-Sum", "2")])

    client = await connect(await start(app))
    await client.send(http_request(version="1.0"))
    reply = await client.read_response()
    assert reply.body == b"one two"
    assert "Transfer-Encoding" not in reply.headers
    await client.assert_closed()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_streamed_body_with_content_length_is_not_chunked(
    start: StartServer, connect: Connect
) -> None:
    """RFC 9112 §6.3: with a Content-Length the body is sent as is, not chunked."""

    async def app(request: Request) -> Response:
        return Response(body=pieces(b"12345", b"67890"), headers={"Content-Length": "10"})

    client = await connect(await start(app))
    await client.send(http_request() + http_request())
    for _ in range(2):
        reply = await client.read_response()
        assert reply.headers["Content-Length"] == "10"
        assert "Transfer-Encoding" not in reply.headers
        assert reply.body == b"1234567890"


async def test_generator_failing_midway_aborts_the_connection(
    start: StartServer, connect: Connect, caplog: pytest.LogCaptureFixture
) -> None:
    """Once the head is out no error response can follow: the client must see a body cut
    short (never a complete-looking one), and the error is logged."""

    async def body() -> AsyncIterator[bytes]:
        yield b"partial "
        await asyncio.sleep(0.01)
        raise RuntimeError("the database went away")

    async def app(request: Request) -> Response:
        if request.path == "/ok":
            return Response(text="still serving")
        return Response(body=body())

    server = await start(app)
    client = await connect(server)
    with caplog.at_level(logging.ERROR, logger="aioreq.server"):
        await client.send(http_request())
        with pytest.raises((RemoteProtocolError, ConnectionResetError)):
            await client.read_response()
    records = [r for r in caplog.records if r.name == "aioreq.server"]
    assert len(records) == 1
    assert records[0].levelno == logging.ERROR
    assert records[0].exc_info is not None
    assert "the database went away" in str(records[0].exc_info[1])
    # Other connections are not disturbed.
    other = await connect(server)
    assert (await other.exchange(http_request(target="/ok"))).body == b"still serving"


async def test_generator_is_closed_when_the_client_goes_away(
    start: StartServer, connect: Connect
) -> None:
    """A client that disconnects mid-stream stops the producer (its `finally` runs)."""
    finished = asyncio.Event()
    started = asyncio.Event()

    async def body() -> AsyncIterator[bytes]:
        try:
            while True:
                started.set()
                yield b"tick"
                await asyncio.sleep(0.005)
        finally:
            finished.set()

    async def app(request: Request) -> Response:
        return Response(body=body())

    client = await connect(await start(app))
    await client.send(http_request())
    await asyncio.wait_for(started.wait(), TIMEOUT)
    await client.read_until(b"tick")
    client.close()
    await asyncio.wait_for(finished.wait(), 2.0)


async def test_slow_reader_gets_a_large_stream_intact_with_back_pressure(
    start: StartServer, connect: Connect
) -> None:
    """A client that does not read holds the producer back (the server does not buffer the
    whole body), and what it then reads is every byte, in order."""
    piece_size = 64 * 1024
    count = 128  # 8 MiB: more than the kernel buffers can hide
    produced = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal produced
        for index in range(count):
            produced += piece_size
            yield bytes([index % 251]) * piece_size

    async def app(request: Request) -> Response:
        return Response(body=body())

    client = await connect(await start(app), rcvbuf=64 * 1024)
    await client.send(http_request())
    await asyncio.sleep(0.2)  # the client reads nothing meanwhile
    held_back_at = produced
    assert 0 < held_back_at < count * piece_size
    # Now read, slowly at first, and parse strictly what arrives.
    parser = ResponseParser()
    events: list[Event] = []
    for _ in range(5):
        await asyncio.sleep(0.02)
        events += parser.feed(await client.recv(16 * 1024))
    while not events or not isinstance(events[-1], EndOfMessage):
        data = await client.recv(MiB)
        assert data, "the server closed before the end of the body"
        events += parser.feed(data)
    head = events[0]
    assert isinstance(head, ResponseHead)
    assert (head.status_code, head.reason) == (200, b"OK")
    body_bytes = b"".join(event for event in events if isinstance(event, bytes))
    expected = b"".join(bytes([index % 251]) * piece_size for index in range(count))
    assert body_bytes == expected
    assert produced == count * piece_size
