"""Persistent connections (RFC 9112 §9.3): keep-alive, pipelining, and HTTP/1.0's rules."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest

from aioreq.server import Request, Response

from ._support import http_request
from .conftest import Connect, StartServer

pytestmark = pytest.mark.asyncio


async def echo_path(request: Request) -> Response:
    return Response(text=request.path)


async def test_several_requests_share_one_connection(start: StartServer, connect: Connect) -> None:
    """RFC 9112 §9.3: HTTP/1.1 defaults to persistent connections."""
    ports: list[int] = []

    async def app(request: Request) -> Response:
        ports.append(request.client[1])
        return Response(text=request.path)

    client = await connect(await start(app))
    for index in range(5):
        reply = await client.exchange(http_request(target=f"/{index}"))
        assert reply.body == f"/{index}".encode()
        assert "Connection" not in reply.headers
        assert reply.keep_alive
    assert ports == [client.port] * 5


async def test_pipelined_requests_are_answered_in_order(
    start: StartServer, connect: Connect
) -> None:
    """RFC 9112 §9.3.2: a server MUST send its responses in the order of the requests."""
    client = await connect(await start(echo_path))
    await client.send(b"".join(http_request(target=f"/{index}") for index in range(3)))
    bodies = [(await client.read_response()).body for _ in range(3)]
    assert bodies == [b"/0", b"/1", b"/2"]


async def test_pipelined_requests_to_an_awaiting_app_stay_in_order(
    start: StartServer, connect: Connect
) -> None:
    """RFC 9112 §9.3.2: order holds even when each response takes a while (the first longest)."""

    async def app(request: Request) -> Response:
        await asyncio.sleep(0.03 if request.path == "/0" else 0.01)
        return Response(text=request.path)

    client = await connect(await start(app))
    await client.send(b"".join(http_request(target=f"/{index}") for index in range(3)))
    bodies = [(await client.read_response()).body for _ in range(3)]
    assert bodies == [b"/0", b"/1", b"/2"]


async def test_pipelined_requests_with_bodies_are_each_seen_whole(
    start: StartServer, connect: Connect
) -> None:
    async def app(request: Request) -> Response:
        return Response(body=await request.body())

    client = await connect(await start(app))
    await client.send(
        http_request("POST", body=b"first")
        + http_request("POST", headers=[("Transfer-Encoding", "chunked")], body=b"")
        + b"3\r\nsec\r\n3\r\nond\r\n0\r\n\r\n"
        + http_request("POST", body=b"third")
    )
    bodies = [(await client.read_response()).body for _ in range(3)]
    assert bodies == [b"first", b"second", b"third"]


async def test_connection_close_from_the_client_is_honoured(
    start: StartServer, connect: Connect
) -> None:
    """RFC 9112 §9.6: after a request with "close" the server closes after its response."""
    client = await connect(await start(echo_path))
    reply = await client.exchange(http_request(headers=[("Connection", "close")]))
    assert reply.body == b"/"
    assert reply.headers["Connection"] == "close"
    await client.assert_closed()


async def test_connection_close_from_the_app_closes_the_connection(
    start: StartServer, connect: Connect
) -> None:
    async def app(request: Request) -> Response:
        return Response(text="bye", headers={"Connection": "close"})

    client = await connect(await start(app))
    reply = await client.exchange(http_request())
    assert reply.body == b"bye"
    assert not reply.keep_alive
    await client.assert_closed()


async def test_http10_closes_after_the_response_by_default(
    start: StartServer, connect: Connect
) -> None:
    """RFC 9112 §9.3: an HTTP/1.0 request without keep-alive ends its connection."""
    client = await connect(await start(echo_path))
    reply = await client.exchange(http_request(version="1.0", host=None))
    assert reply.body == b"/"
    assert reply.headers["Connection"] == "close"
    await client.assert_closed()


async def test_http10_keep_alive_is_honoured(start: StartServer, connect: Connect) -> None:
    """RFC 9112 §9.3 and Appendix C.2.2: an HTTP/1.0 client asks with Connection: keep-alive."""
    client = await connect(await start(echo_path))
    keep = [("Connection", "keep-alive")]
    first = await client.exchange(http_request(target="/1", version="1.0", headers=keep))
    assert first.http_version == b"1.1"
    assert first.headers["Connection"].lower() == "keep-alive"
    assert first.keep_alive
    second = await client.exchange(http_request(target="/2", version="1.0", headers=keep))
    assert second.body == b"/2"
    # The third one does not ask again: the server closes after it.
    third = await client.exchange(http_request(target="/3", version="1.0"))
    assert third.body == b"/3"
    await client.assert_closed()


async def test_streamed_response_to_http10_is_close_delimited(
    start: StartServer, connect: Connect
) -> None:
    """RFC 9112 §6.3 ¶8 and §7: an HTTP/1.0 client knows no chunked coding, so the body ends
    with the connection, even when the client asked for keep-alive."""

    async def body() -> AsyncIterator[bytes]:
        for piece in (b"one ", b"two ", b"three"):
            await asyncio.sleep(0)
            yield piece

    async def app(request: Request) -> Response:
        return Response(body=body())

    client = await connect(await start(app))
    await client.send(http_request(version="1.0", headers=[("Connection", "keep-alive")]))
    raw = await client.read_to_eof()
    head, _, payload = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ")
    lower = head.lower()
    assert b"transfer-encoding" not in lower
    assert b"content-length" not in lower
    assert b"connection: close" in lower
    assert payload == b"one two three"


async def test_streamed_response_to_http10_with_content_length_keeps_the_connection(
    start: StartServer, connect: Connect
) -> None:
    async def body() -> AsyncIterator[bytes]:
        yield b"12345"

    async def app(request: Request) -> Response:
        return Response(body=body(), headers={"Content-Length": "5"})

    client = await connect(await start(app))
    keep = [("Connection", "keep-alive")]
    for _ in range(2):
        reply = await client.exchange(http_request(version="1.0", headers=keep))
        assert reply.body == b"12345"
        assert reply.keep_alive


async def test_requests_after_connection_close_are_not_processed(
    start: StartServer, connect: Connect
) -> None:
    """RFC 9112 §9.6: after a request with "close" the server MUST NOT process any further
    requests received on that connection."""
    served: list[str] = []

    async def app(request: Request) -> Response:
        served.append(request.path)
        return Response(text=request.path)

    client = await connect(await start(app))
    await client.send(
        http_request(target="/first", headers=[("Connection", "close")])
        + http_request(target="/second")
    )
    reply = await client.read_response()
    assert reply.body == b"/first"
    await client.assert_closed()
    assert served == ["/first"]


async def test_empty_lines_before_a_request_are_ignored(
    start: StartServer, connect: Connect
) -> None:
    """RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the request-line
    (some clients send an extra CRLF after a POST body)."""
    client = await connect(await start(echo_path))
    first = await client.exchange(http_request("POST", "/a", body=b"x") + b"\r\n")
    assert first.body == b"/a"
    second = await client.exchange(b"\r\n" + http_request(target="/b"))
    assert second.body == b"/b"


async def test_head_trickled_byte_by_byte_is_served(start: StartServer, connect: Connect) -> None:
    """Where the reads split the head (even inside the final CRLF CRLF) does not matter."""
    client = await connect(await start(echo_path))
    request = http_request(target="/trickled", headers=[("X-A", "1")])
    await client.send_in_pieces(*(request[i : i + 1] for i in range(len(request))), pause=0.001)
    reply = await client.read_response()
    assert reply.body == b"/trickled"
    assert (await client.exchange(http_request(target="/after"))).body == b"/after"


async def test_many_pipelined_requests_to_a_client_that_reads_late(
    start: StartServer, connect: Connect
) -> None:
    """A client that pipelines more than its receive buffer holds, and only then reads, still
    gets every response, in order (the server waits for it instead of buffering without end or
    dropping anything)."""
    size = 32 * 1024

    async def app(request: Request) -> Response:
        index = int(request.path[1:])
        return Response(body=bytes([index % 251]) * size)

    count = 200  # 6.4 MB of responses
    client = await connect(await start(app), rcvbuf=64 * 1024)
    sending = asyncio.ensure_future(
        client.send(b"".join(http_request(target=f"/{index}") for index in range(count)))
    )
    try:
        await asyncio.sleep(0.1)
        for index in range(count):
            reply = await client.read_response()
            assert reply.body == bytes([index % 251]) * size, index
    finally:
        await asyncio.wait_for(sending, 5.0)


@pytest.mark.parametrize("awaits", [False, True], ids=["at-once", "after-await"])
async def test_client_that_half_closes_after_its_request_gets_the_response(
    start: StartServer, connect: Connect, awaits: bool
) -> None:
    """A client may shut its sending side once the request is out (`shutdown(SHUT_WR)`, as
    netcat and some HTTP/1.0 clients do) and still read the response."""

    async def app(request: Request) -> Response:
        if awaits:
            await asyncio.sleep(0.05)
        return Response(text="still answered")

    client = await connect(await start(app))
    await client.send(http_request(headers=[("Connection", "close")]))
    client.sock.shutdown(socket.SHUT_WR)
    raw = await client.read_to_eof()
    assert raw.startswith(b"HTTP/1.1 200 OK\r\n")
    assert raw.endswith(b"\r\n\r\nstill answered")
