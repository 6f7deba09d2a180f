"""Request bodies: Content-Length and chunked, read whole or as a stream; limits; 100-continue."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import pytest

from aioreq.server import Request, Response, ServerLimits

from ._support import TIMEOUT, chunked, http_request
from .conftest import Connect, StartServer

pytestmark = pytest.mark.asyncio

CHUNKED = [("Transfer-Encoding", "chunked")]


async def echo_body(request: Request) -> Response:
    body = await request.body()
    return Response(json={"body": body.decode(), "trailers": request.trailers.multi_items()})


async def test_content_length_body_is_read(start: StartServer, connect: Connect) -> None:
    client = await connect(await start(echo_body))
    reply = await client.exchange(http_request("POST", body=b"some data"))
    assert json.loads(reply.body) == {"body": "some data", "trailers": []}


async def test_content_length_body_arriving_after_the_head_is_read(
    start: StartServer, connect: Connect
) -> None:
    client = await connect(await start(echo_body))
    await client.send_in_pieces(
        http_request("POST", headers=[("Content-Length", "10")]), b"01234", b"56789"
    )
    reply = await client.read_response()
    assert json.loads(reply.body)["body"] == "0123456789"


@pytest.mark.parametrize("in_pieces", [False, True], ids=["whole", "in-pieces"])
async def test_chunked_body_with_trailers(
    start: StartServer, connect: Connect, in_pieces: bool
) -> None:
    """RFC 9112 §7.1: the chunks make up the body; §7.1.2: the trailer fields follow them."""
    client = await connect(await start(echo_body))
    head = http_request("POST", headers=[*CHUNKED, ("Trailer", "X-Checksum")])
    body = chunked(b"hello ", b"chunked ", b"world", trailers=[("X-Checksum", "abc123")])
    if in_pieces:
        await client.send_in_pieces(head, body[:7], body[7:20], body[20:])
    else:
        await client.send(head + body)
    reply = await client.read_response()
    assert json.loads(reply.body) == {
        "body": "hello chunked world",
        "trailers": [["X-Checksum", "abc123"]],
    }
    # The connection goes on after a chunked body.
    again = await client.exchange(http_request("POST", body=b"next"))
    assert json.loads(again.body)["body"] == "next"


async def test_body_is_streamed_to_the_app_as_it_arrives(
    start: StartServer, connect: Connect
) -> None:
    """The app sees the first chunk while the client has not yet sent the second."""
    first_seen = asyncio.Event()
    received: list[bytes] = []

    async def app(request: Request) -> Response:
        async for piece in request.stream():
            received.append(piece)
            first_seen.set()
        return Response(text=str(sum(map(len, received))))

    client = await connect(await start(app))
    await client.send(http_request("POST", headers=CHUNKED) + b"5\r\nfirst\r\n")
    await asyncio.wait_for(first_seen.wait(), TIMEOUT)
    assert b"".join(received) == b"first"
    await client.send_in_pieces(b"6\r\nsecond\r\n", b"5\r\nthird\r\n", b"0\r\n\r\n")
    reply = await client.read_response()
    assert reply.body == b"16"
    assert b"".join(received) == b"firstsecondthird"


async def test_content_length_body_is_streamed_to_the_app(
    start: StartServer, connect: Connect
) -> None:
    first_seen = asyncio.Event()
    received: list[bytes] = []

    async def app(request: Request) -> Response:
        async for piece in request.stream():
            received.append(piece)
            first_seen.set()
        return Response(text=str(sum(map(len, received))))

    client = await connect(await start(app))
    await client.send(http_request("PUT", headers=[("Content-Length", "12")]) + b"abcd")
    await asyncio.wait_for(first_seen.wait(), TIMEOUT)
    await client.send_in_pieces(b"efgh", b"ijkl")
    reply = await client.read_response()
    assert reply.body == b"12"
    assert b"".join(received) == b"abcdefghijkl"


async def test_json_body(start: StartServer, connect: Connect) -> None:
    async def app(request: Request) -> Response:
        data = await request.json()
        return Response(json={"got": data, "text": await request.text()})

    client = await connect(await start(app))
    payload = json.dumps({"a": [1, "ü"]}).encode()
    reply = await client.exchange(
        http_request("POST", headers=[("Content-Type", "application/json")], body=payload)
    )
    assert json.loads(reply.body) == {"got": {"a": [1, "ü"]}, "text": payload.decode()}


async def test_body_read_twice_gives_the_same_bytes(start: StartServer, connect: Connect) -> None:
    async def app(request: Request) -> Response:
        first = await request.body()
        second = await request.body()
        return Response(body=b"%d:%d" % (len(first), int(first == second)))

    client = await connect(await start(app))
    await client.send_in_pieces(http_request("POST", headers=[("Content-Length", "4")]), b"data")
    reply = await client.read_response()
    assert reply.body == b"4:1"


async def test_content_length_over_max_body_size_is_413_and_close(
    start: StartServer, connect: Connect
) -> None:
    """RFC 9110 §15.5.14: 413 Content Too Large; the server closes as it will not read it."""
    called: list[str] = []

    async def app(request: Request) -> Response:
        called.append(request.path)
        return Response()

    client = await connect(await start(app, limits=ServerLimits(max_body_size=100)))
    reply = await client.exchange(http_request("POST", body=b"x" * 101))
    assert reply.status == 413
    assert reply.headers["Connection"] == "close"
    await client.assert_closed()
    assert called == []


async def test_chunked_body_over_max_body_size_is_413_and_close(
    start: StartServer, connect: Connect
) -> None:
    async def app(request: Request) -> Response:
        await request.body()
        return Response(text="read it all")

    client = await connect(await start(app, limits=ServerLimits(max_body_size=100)))
    await client.send_in_pieces(
        http_request("POST", headers=CHUNKED),
        b"40\r\n" + b"a" * 64 + b"\r\n",
        b"40\r\n" + b"b" * 64 + b"\r\n",
        b"0\r\n\r\n",
    )
    reply = await client.read_response()
    assert reply.status == 413
    assert not reply.keep_alive
    await client.assert_closed()


async def test_body_exactly_max_body_size_is_accepted(start: StartServer, connect: Connect) -> None:
    client = await connect(await start(echo_body, limits=ServerLimits(max_body_size=100)))
    reply = await client.exchange(http_request("POST", body=b"x" * 100))
    assert reply.status == 200
    assert len(json.loads(reply.body)["body"]) == 100


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
async def test_small_unread_body_does_not_cost_the_connection(
    start: StartServer, connect: Connect, framing: str
) -> None:
    """An app that ignores a small body: it is read and dropped, and the connection is kept."""

    async def app(request: Request) -> Response:
        return Response(text=f"ignored {request.path}")

    client = await connect(await start(app))
    if framing == "chunked":
        head = http_request("POST", "/1", headers=CHUNKED)
        body = chunked(b"a" * 1000, b"b" * 1000)
    else:
        head = http_request("POST", "/1", headers=[("Content-Length", "2000")])
        body = b"c" * 2000
    # The body arrives after the head, so the app answers before it has come in.
    await client.send(head)
    await asyncio.sleep(0.02)
    await client.send(body)
    first = await client.read_response()
    assert first.body == b"ignored /1"
    assert first.keep_alive
    second = await client.exchange(http_request("GET", "/2"))
    assert second.body == b"ignored /2"


async def test_large_unread_body_gets_the_response_then_a_close(
    start: StartServer, connect: Connect
) -> None:
    """An app that ignores a large body: the response arrives, then the connection closes
    (reading megabytes nobody wants is not worth keeping the connection)."""
    size = 512 * 1024

    async def app(request: Request) -> Response:
        return Response(text="not interested")

    client = await connect(await start(app))
    sending = asyncio.ensure_future(client.send(http_request("POST", body=b"z" * size)))
    try:
        reply = await client.read_response()
        assert reply.status == 200
        assert reply.body == b"not interested"
        # RFC 9112 §9.6: a server that will close says so in the response.
        assert reply.headers.get("connection") == "close"
        await client.assert_closed()
    finally:
        await asyncio.wait_for(sending, TIMEOUT)


async def test_expect_continue_sends_100_when_the_app_reads_the_body(
    start: StartServer, connect: Connect
) -> None:
    """RFC 9110 §10.1.1: a server that wants the body sends 100 (Continue) before it reads it;
    here only once the app asks for the body."""
    reading = asyncio.Event()
    expected: list[bool] = []

    async def app(request: Request) -> Response:
        expected.append(request.expect_continue)
        await reading.wait()
        return Response(body=b"got " + await request.body())

    client = await connect(await start(app))
    await client.send(
        http_request("PUT", headers=[("Expect", "100-continue"), ("Content-Length", "4")])
    )
    await client.assert_silent(0.05)  # the app has not asked for the body yet
    reading.set()
    interim = await client.read_until(b"\r\n\r\n")
    assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
    await client.send(b"data")
    reply = await client.read_response()
    assert reply.status == 200
    assert reply.body == b"got data"
    assert reply.keep_alive
    again = await client.exchange(http_request("PUT", body=b"more"))
    assert again.body == b"got more"
    assert again.interim == []
    assert expected == [True, False]


async def test_expect_continue_unread_gets_final_response_and_close(
    start: StartServer, connect: Connect
) -> None:
    """RFC 9110 §10.1.1: a server MAY answer with a final status without reading the body; it
    then cannot reuse the connection, since the client may or may not send the body."""

    async def app(request: Request) -> Response:
        return Response(401, text="no")

    client = await connect(await start(app))
    await client.send(
        http_request("PUT", headers=[("Expect", "100-continue"), ("Content-Length", "1000")])
    )
    reply = await client.read_response()
    assert reply.interim == []
    assert reply.status == 401
    assert reply.headers["Connection"] == "close"
    await client.assert_closed()


async def test_expect_continue_in_http10_is_ignored(start: StartServer, connect: Connect) -> None:
    """RFC 9110 §10.1.1: a server MUST ignore a 100-continue expectation in HTTP/1.0."""
    seen: list[Any] = []

    async def app(request: Request) -> Response:
        seen.append(request.expect_continue)
        return Response(body=await request.body())

    client = await connect(await start(app))
    reply = await client.exchange(
        http_request("POST", version="1.0", headers=[("Expect", "100-continue")], body=b"abc")
    )
    assert reply.interim == []
    assert reply.body == b"abc"
    assert seen == [False]


async def test_partly_read_body_is_drained_and_the_connection_kept(
    start: StartServer, connect: Connect
) -> None:
    """An app that stops reading after the first piece: the rest (small) is read and dropped,
    and the next request on the connection is framed right."""
    first_seen = asyncio.Event()

    async def app(request: Request) -> Response:
        if request.method == "POST":
            async for _piece in request.stream():
                first_seen.set()
                break
        return Response(text=f"done {request.path}")

    client = await connect(await start(app))
    await client.send(http_request("POST", "/1", headers=CHUNKED) + b"4\r\nfirs\r\n")
    await asyncio.wait_for(first_seen.wait(), TIMEOUT)
    await client.send(b"4\r\nsecn\r\n0\r\n\r\n")
    first = await client.read_response()
    assert first.body == b"done /1"
    assert (await client.exchange(http_request("GET", "/2"))).body == b"done /2"


async def test_413_reaches_a_client_still_sending_a_large_body(
    start: StartServer, connect: Connect
) -> None:
    """RFC 9112 §9.6: the server closes in stages (lingering close), so the client still
    sending its body reads the 413 instead of losing it to a TCP reset."""
    client = await connect(await start(echo_body, limits=ServerLimits(max_body_size=1000)))
    sending = asyncio.ensure_future(client.send(http_request("POST", body=b"q" * 512 * 1024)))
    try:
        reply = await client.read_response()
        assert reply.status == 413
    finally:
        # The server may close before taking every byte: only the 413 matters.
        with contextlib.suppress(OSError):
            await asyncio.wait_for(sending, TIMEOUT)
