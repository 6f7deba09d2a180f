"""aioreq.Client against servers nobody here wrote: the standard library's `http.server`
(HTTP/1.1 with keep-alive, and HTTP/1.0) and aiohttp.web."""

from __future__ import annotations

import gzip
import http.server
import threading
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio
from aiohttp import web

import aioreq

pytestmark = pytest.mark.asyncio


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path == "/gzip":
            self._send(200, gzip.compress(b"squeezed"), {"Content-Encoding": "gzip"})
        elif self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for piece in (b"one ", b"two"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\n\r\n")
        elif self.path == "/close":
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"until the close")
            self.close_connection = True
        else:
            peer = f"{self.client_address[1]}".encode()
            self._send(200, b"GET " + self.path.encode() + b" from port " + peer)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        self._send(201, self.rfile.read(length), {"Content-Type": "application/octet-stream"})


@pytest.fixture
def stdlib_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


async def test_against_http_server(stdlib_server: str) -> None:
    async with aioreq.Client() as client:
        first = await client.get(stdlib_server + "/a")
        second = await client.get(stdlib_server + "/b")
        posted = await client.post(stdlib_server + "/p", content=b"payload")
        gzipped = await client.get(stdlib_server + "/gzip")
        chunked = await client.get(stdlib_server + "/chunked")
        closed = await client.get(stdlib_server + "/close")
        after = await client.get(stdlib_server + "/c")
    assert first.text.startswith("GET /a from port ")
    # Keep-alive: the second request came from the same client port.
    assert first.text.split()[-1] == second.text.split()[-1]
    assert (posted.status, posted.body) == (201, b"payload")
    assert gzipped.body == b"squeezed"
    assert chunked.body == b"one two"
    assert closed.body == b"until the close"
    assert after.status == 200


@pytest_asyncio.fixture
async def aiohttp_server() -> AsyncIterator[str]:
    async def hello(request: web.Request) -> web.StreamResponse:
        if request.path == "/stream":
            response = web.StreamResponse()
            await response.prepare(request)
            for n in range(3):
                await response.write(b"%d" % n)
            await response.write_eof()
            return response
        body = await request.read()
        return web.Response(body=b"aiohttp saw " + request.method.encode() + b" " + body)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", hello)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def test_against_aiohttp_web(aiohttp_server: str) -> None:
    async with aioreq.Client() as client:
        got = await client.get(aiohttp_server + "/x")
        posted = await client.post(aiohttp_server + "/y", json={"k": 1})
        async with client.stream("GET", aiohttp_server + "/stream") as response:
            streamed = b"".join([chunk async for chunk in response.iter_bytes()])
    assert got.body == b"aiohttp saw GET "
    assert posted.body == b'aiohttp saw POST {"k":1}'
    assert streamed == b"012"
