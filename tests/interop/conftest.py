"""Fixtures of the interop tests: an `aioreq.server` app for third-party clients, and TLS."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from aioreq.server import Request, Response, Server

#: Seconds any blocking client call may take before the test fails.
TIMEOUT = 5.0

StartServer = Callable[..., Awaitable[Server]]


def pattern(size: int) -> bytes:
    """`size` bytes that differ from one 64 KiB piece to the next (order matters)."""
    piece = 64 * 1024
    return b"".join(bytes([index % 251]) * piece for index in range(-(-size // piece)))[:size]


class App:
    """What the third-party clients talk to; it notes the client port of every request.

    GET/POST /echo: the request as JSON (method, path, query, some fields, body, trailers).
    GET /bytes?n=N: N bytes held in memory. GET /stream?n=N: N bytes streamed (chunked).
    """

    def __init__(self) -> None:
        self.ports: list[int] = []

    async def __call__(self, request: Request) -> Response:
        self.ports.append(request.client[1])
        if request.path == "/echo":
            body = await request.body()
            return Response(
                json={
                    "method": request.method,
                    "path": request.path,
                    "query": request.query,
                    "http_version": request.http_version,
                    "scheme": request.scheme,
                    "transfer_encoding": request.headers.get("transfer-encoding"),
                    "content_type": request.headers.get("content-type"),
                    "body": body.decode("utf-8", "replace"),
                    "trailers": request.trailers.multi_items(),
                }
            )
        size = int(request.query.get("n", ["0"])[0])
        if request.path == "/bytes":
            return Response(
                body=pattern(size), headers={"Content-Type": "application/octet-stream"}
            )
        if request.path == "/stream":
            return Response(body=_stream(size), headers={"X-Streamed": "yes"})
        return Response(404, text="not found")


async def _stream(size: int) -> AsyncIterator[bytes]:
    data = pattern(size)
    for offset in range(0, size, 64 * 1024):
        await asyncio.sleep(0)
        yield data[offset : offset + 64 * 1024]


@pytest.fixture
def app() -> App:
    return App()


@pytest.fixture
def start(app: App, start: StartServer) -> StartServer:
    """`await start(**serve_kwargs)`: the `app` served; closed when the test ends."""

    async def start_(**kwargs: Any) -> Server:
        return await start(app, **kwargs)

    return start_
