"""The server under uvloop's event loop (the optional speed-up): the same behaviour."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import AsyncIterator, Coroutine
from typing import Any

import pytest

from aioreq.server import Request, Response, serve

from ._support import TIMEOUT, RawClient, chunked, http_request

uvloop = pytest.importorskip("uvloop")


def run_under_uvloop(main: Coroutine[Any, Any, None]) -> None:
    """Run `main` on a new uvloop event loop (the test's own loop is not involved)."""
    uvloop.run(main)


async def app(request: Request) -> Response:
    if request.path == "/stream":

        async def pieces() -> AsyncIterator[bytes]:
            for piece in (b"s1", b"s2", b"s3"):
                await asyncio.sleep(0)
                yield piece

        return Response(body=pieces(), trailers=[("X-Done", "yes")])
    if request.path == "/sleep":
        await asyncio.sleep(0.01)
    body = await request.body()
    return Response(text=f"{request.path} {len(body)} {body.decode()}")


def test_keep_alive_pipelining_and_chunked_bodies_under_uvloop() -> None:
    async def main() -> None:
        assert isinstance(asyncio.get_running_loop(), uvloop.Loop)
        server = await serve(app)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        client: RawClient | None = None
        try:
            sock.setblocking(False)
            await asyncio.wait_for(
                asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", server.port)), TIMEOUT
            )
            client = RawClient(sock)
            # Keep-alive: two requests, one after the other.
            assert (await client.exchange(http_request(target="/a"))).body == b"/a 0 "
            assert (await client.exchange(http_request(target="/b"))).body == b"/b 0 "
            # Pipelining, with an awaiting handler in the middle.
            await client.send(
                http_request(target="/1")
                + http_request(target="/sleep")
                + http_request("POST", "/3", body=b"xyz")
            )
            bodies = [(await client.read_response()).body for _ in range(3)]
            assert bodies == [b"/1 0 ", b"/sleep 0 ", b"/3 3 xyz"]
            # A chunked request body sent in pieces.
            body = chunked(b"hello ", b"uvloop")
            await client.send_in_pieces(
                http_request("POST", "/chunked", headers=[("Transfer-Encoding", "chunked")]),
                body[:5],
                body[5:],
                pause=0.01,
            )
            assert (await client.read_response()).body == b"/chunked 12 hello uvloop"
            # A streamed response, with trailers.
            streamed = await client.exchange(http_request(target="/stream"))
            assert streamed.body == b"s1s2s3"
            assert streamed.trailers["X-Done"] == "yes"
        finally:
            if client is not None:
                client.close()
            else:
                sock.close()
            await server.close(graceful_shutdown=0)

    run_under_uvloop(main())


def test_tls_under_uvloop(server_ssl: ssl.SSLContext, client_ssl: ssl.SSLContext) -> None:
    async def main() -> None:
        server = await serve(app, ssl=server_ssl)
        try:
            reader, writer = await asyncio.open_connection(
                "127.0.0.1", server.port, ssl=client_ssl, server_hostname="localhost"
            )
            try:
                writer.write(
                    http_request("POST", "/tls", body=b"ok")
                    + http_request(target="/last", headers=[("Connection", "close")])
                )
                raw = await asyncio.wait_for(reader.read(), TIMEOUT)
            finally:
                writer.close()
                with contextlib.suppress(OSError, ssl.SSLError):
                    await writer.wait_closed()
        finally:
            await server.close(graceful_shutdown=0)
        assert raw.count(b"HTTP/1.1 200 OK\r\n") == 2
        assert b"\r\n\r\n/tls 2 ok" in raw
        assert raw.endswith(b"\r\n\r\n/last 0 ")

    run_under_uvloop(main())
