"""The HTTP clients that `benchmarks/client.py` runs, each behind the same small interface.

Every adapter imports its library only when it is opened, so a client process loads the one
library it measures. The methods are what the scenarios call:

* ``open(url, connections)``: make the client (inside the running loop) for requests to `url`,
  with room for `connections` keep-alive connections.
* ``check(slot)``: one request, returning (status, the body): used before timing, to verify.
* ``get(slot)``: one request whose body is read to the end; returns the body's length. `slot`
  is the number of the task calling it (only the raw floor, which has no pool, uses it).
* ``download(url, watch)``: stream the body of `url` with the library's streaming API, reading
  it chunk by chunk without keeping it; returns the bytes and the chunks received.
  `watch.took(chunk)` counts each chunk, and samples the RSS when the total crosses `watch.mark`.
* ``close()``.

urllib3 is synchronous: its adapter has the same methods without ``async``.
"""

from __future__ import annotations

import asyncio
import os
import resource
from typing import Any, Protocol, cast
from urllib.parse import urlsplit

#: The read size asked of the streaming APIs that take one.
STREAM_CHUNK = 65536


class RssWatch:
    """Samples the resident set size of this process every `step` bytes received."""

    def __init__(self, step: int = 1 << 20) -> None:
        self.step = step
        self._page = os.sysconf("SC_PAGE_SIZE")
        try:
            self._fd: int | None = os.open("/proc/self/statm", os.O_RDONLY)
        except OSError:
            self._fd = None
        self.baseline = self.rss()
        self.peak = self.baseline
        self.samples = 0
        self.mark = step
        self.maxrss_before = _maxrss()
        self.total = 0
        self.chunks = 0

    def rss(self) -> int:
        """The resident set size now, in bytes (the lifetime peak where /proc is missing)."""
        if self._fd is None:
            return _maxrss()
        return int(os.pread(self._fd, 128, 0).split()[1]) * self._page

    def took(self, chunk: bytes) -> None:
        """Count one chunk of the download, sampling the RSS at each `step`."""
        self.total += len(chunk)
        self.chunks += 1
        if self.total >= self.mark:
            self.seen(self.total)

    def seen(self, total: int) -> None:
        """Called with the bytes received so far once they reach `mark`."""
        value = self.rss()
        self.samples += 1
        if value > self.peak:
            self.peak = value
        self.mark = total + self.step

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _maxrss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


class AsyncPeer(Protocol):
    async def open(self, url: str, connections: int) -> None: ...
    async def check(self, slot: int) -> tuple[int, bytes]: ...
    async def get(self, slot: int) -> int: ...
    async def download(self, url: str, watch: RssWatch) -> tuple[int, int]: ...
    async def close(self) -> None: ...


# -- aioreq --------------------------------------------------------------------------------------


class AioreqPeer:
    """`aioreq.Client`: `get()` reads the whole body; `stream()` + `iter_raw()` to download."""

    def __init__(self) -> None:
        self.url = ""
        self.client: Any = None

    async def open(self, url: str, connections: int) -> None:
        import aioreq

        self.url = url
        self.client = aioreq.Client(limits=aioreq.Limits(max_connections=connections))

    async def check(self, slot: int) -> tuple[int, bytes]:
        response = await self.client.get(self.url)
        return response.status, response.body

    async def get(self, slot: int) -> int:
        response = await self.client.get(self.url)
        return len(response.body)

    async def download(self, url: str, watch: RssWatch) -> tuple[int, int]:
        async with self.client.stream("GET", url) as response:
            if response.status != 200:
                raise RuntimeError(f"status {response.status}")
            async for chunk in response.iter_raw():
                watch.took(chunk)
        return watch.total, watch.chunks

    async def close(self) -> None:
        await self.client.aclose()


# -- aiohttp -------------------------------------------------------------------------------------


class AiohttpPeer:
    """`aiohttp.ClientSession` with `TCPConnector(limit=...)`; `content.iter_chunked()`."""

    def __init__(self) -> None:
        self.url = ""
        self.session: Any = None

    async def open(self, url: str, connections: int) -> None:
        import aiohttp

        self.url = url
        self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=connections))

    async def check(self, slot: int) -> tuple[int, bytes]:
        async with self.session.get(self.url) as response:
            return response.status, await response.read()

    async def get(self, slot: int) -> int:
        async with self.session.get(self.url) as response:
            return len(await response.read())

    async def download(self, url: str, watch: RssWatch) -> tuple[int, int]:
        async with self.session.get(url) as response:
            if response.status != 200:
                raise RuntimeError(f"status {response.status}")
            async for chunk in response.content.iter_chunked(STREAM_CHUNK):
                watch.took(chunk)
        return watch.total, watch.chunks

    async def close(self) -> None:
        await self.session.close()


# -- httpx ---------------------------------------------------------------------------------------


class HttpxPeer:
    """`httpx.AsyncClient` (keep-alive pool as large as the connection limit); `aiter_raw()`."""

    def __init__(self) -> None:
        self.url = ""
        self.client: Any = None

    async def open(self, url: str, connections: int) -> None:
        import httpx

        self.url = url
        # httpx keeps only 20 idle connections by default: with 64 tasks it would close and
        # reopen connections all the time, which is not what is measured here.
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        self.client = httpx.AsyncClient(limits=limits)

    async def check(self, slot: int) -> tuple[int, bytes]:
        response = await self.client.get(self.url)
        return response.status_code, response.content

    async def get(self, slot: int) -> int:
        response = await self.client.get(self.url)
        return len(response.content)

    async def download(self, url: str, watch: RssWatch) -> tuple[int, int]:
        async with self.client.stream("GET", url) as response:
            if response.status_code != 200:
                raise RuntimeError(f"status {response.status_code}")
            async for chunk in response.aiter_raw():
                watch.took(chunk)
        return watch.total, watch.chunks

    async def close(self) -> None:
        await self.client.aclose()


# -- aiosonic ------------------------------------------------------------------------------------


class AiosonicPeer:
    """`aiosonic.HTTPClient`: pool of `connections`, no recycling; `stream()` + `read_chunks()`."""

    def __init__(self) -> None:
        self.url = ""
        self.client: Any = None

    async def open(self, url: str, connections: int) -> None:
        import aiosonic  # type: ignore[import-untyped]
        from aiosonic.pools import PoolConfig  # type: ignore[import-untyped]

        self.url = url
        # aiosonic closes a connection after 1000 requests by default (max_conn_requests);
        # the other clients keep theirs, so it is told to as well.
        pool = PoolConfig(size=connections, max_conn_requests=None)
        connector = aiosonic.TCPConnector(pool_configs={":default": pool})
        self.client = aiosonic.HTTPClient(connector=connector)

    async def check(self, slot: int) -> tuple[int, bytes]:
        response = await self.client.get(self.url)
        return response.status_code, await response.content()

    async def get(self, slot: int) -> int:
        response = await self.client.get(self.url)
        return len(await response.content())

    async def download(self, url: str, watch: RssWatch) -> tuple[int, int]:
        async with self.client.stream("GET", url) as response:
            if response.status_code != 200:
                raise RuntimeError(f"status {response.status_code}")
            async for chunk in response.read_chunks():
                watch.took(chunk)
        return watch.total, watch.chunks

    async def close(self) -> None:
        await self.client.aclose()


# -- the raw floor -------------------------------------------------------------------------------


class _FloorProtocol(asyncio.Protocol):
    """Writes a fixed request and counts the bytes of a fixed-length response.

    A response is complete when `size` bytes have come (requests are never pipelined, so the
    bytes of two responses never arrive together). While `collect` is set the bytes are kept,
    for the check before timing.
    """

    def __init__(self, request: bytes, size: int) -> None:
        self.request = request
        self.size = size
        self.transport: asyncio.Transport | None = None
        self.received = 0
        self.waiter: asyncio.Future[None] | None = None
        self.collect = False
        self.kept: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not derive from asyncio.Transport, but have its methods.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if self.collect:
            self.kept.append(data)
        received = self.received + len(data)
        if received < self.size:
            self.received = received
            return
        self.received = 0
        waiter = self.waiter
        if waiter is None or waiter.done():
            return
        if received > self.size:
            waiter.set_exception(RuntimeError(f"{received} bytes, expected {self.size}"))
        else:
            waiter.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(ConnectionError(f"connection lost: {exc}"))


class _FloorDownload(asyncio.Protocol):
    """Reads one response head (for its Content-Length), then counts the body's bytes."""

    def __init__(self, watch: RssWatch, done: asyncio.Future[tuple[int, int]]) -> None:
        self.watch = watch
        self.done = done
        self.head = b""
        self.length = -1
        self.total = 0
        self.chunks = 0

    def data_received(self, data: bytes) -> None:
        if self.length < 0:
            self.head += data
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.head[:end].decode("latin-1")
            if not head.startswith("HTTP/1.1 200 "):
                self.done.set_exception(RuntimeError(f"bad head {head!r}"))
                return
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    self.length = int(value)
            if self.length < 0:
                self.done.set_exception(RuntimeError(f"no Content-Length in {head!r}"))
                return
            data = self.head[end + 4 :]
        total = self.total = self.total + len(data)
        self.chunks += 1
        watch = self.watch
        if total >= watch.mark:
            watch.seen(total)
        if total >= self.length and not self.done.done():
            self.done.set_result((total, self.chunks))

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_exception(ConnectionError(f"connection lost: {exc}"))


class RawFloor:
    """The event loop's own cost: an `asyncio.Protocol` per connection, no HTTP parsing.

    Each task owns one connection (the floor has no pool): `get(slot)` writes the fixed
    request bytes on connection `slot` and waits until `response_bytes` bytes have come back.
    """

    def __init__(self, response_bytes: int, body_bytes: int) -> None:
        self.response_bytes = response_bytes
        self.body_bytes = body_bytes
        self.host = ""
        self.port = 0
        self.protocols: list[_FloorProtocol] = []

    @staticmethod
    def request_bytes(url: str) -> bytes:
        parts = urlsplit(url)
        target = parts.path or "/"
        return f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\n\r\n".encode("latin-1")

    async def open(self, url: str, connections: int) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        loop = asyncio.get_running_loop()
        request = self.request_bytes(url)
        for _ in range(connections):
            _, protocol = await loop.create_connection(
                lambda: _FloorProtocol(request, self.response_bytes), self.host, self.port
            )
            self.protocols.append(protocol)

    async def check(self, slot: int) -> tuple[int, bytes]:
        protocol = self.protocols[slot]
        protocol.collect = True
        protocol.kept = []
        try:
            await self.get(slot)
        finally:
            protocol.collect = False
        data = b"".join(protocol.kept)
        head, _, body = data.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/1.1 ") else 0
        if b"\r\ntransfer-encoding: chunked" in head.lower():
            body = _dechunk(body)
        return status, body

    async def get(self, slot: int) -> int:
        protocol = self.protocols[slot]
        waiter = protocol.waiter = asyncio.get_running_loop().create_future()
        assert protocol.transport is not None
        protocol.transport.write(protocol.request)
        await waiter
        return self.body_bytes

    async def download(self, url: str, watch: RssWatch) -> tuple[int, int]:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[tuple[int, int]] = loop.create_future()
        transport, _ = await loop.create_connection(
            lambda: _FloorDownload(watch, done), self.host, self.port
        )
        try:
            transport.write(self.request_bytes(url))
            return await done
        finally:
            transport.close()

    async def close(self) -> None:
        for protocol in self.protocols:
            if protocol.transport is not None:
                protocol.transport.close()
        await asyncio.sleep(0)


def _dechunk(data: bytes) -> bytes:
    """The content of a chunked body (no trailers expected); raises ValueError if malformed."""
    out: list[bytes] = []
    while True:
        line, _, data = data.partition(b"\r\n")
        size = int(line.split(b";")[0], 16)
        if size == 0:
            if data != b"\r\n":
                raise ValueError(f"bad end of chunked body: {data[:40]!r}")
            return b"".join(out)
        out.append(data[:size])
        if data[size : size + 2] != b"\r\n":
            raise ValueError("chunk not followed by CRLF")
        data = data[size + 2 :]


# -- urllib3 (synchronous) -----------------------------------------------------------------------


class Urllib3Peer:
    """urllib3's `HTTPConnectionPool`, `preload_content=False` and `stream(65536)`: no loop."""

    def __init__(self) -> None:
        self.pool: Any = None
        self.path = "/"

    def open(self, url: str, connections: int) -> None:
        import urllib3

        parts = urlsplit(url)
        self.path = parts.path or "/"
        self.pool = urllib3.HTTPConnectionPool(
            parts.hostname or "127.0.0.1", parts.port or 80, maxsize=connections
        )

    def check(self, slot: int) -> tuple[int, bytes]:
        response = self.pool.request("GET", self.path)
        return response.status, response.data

    def download(self, url: str, watch: RssWatch) -> tuple[int, int]:
        response = self.pool.request("GET", urlsplit(url).path, preload_content=False)
        try:
            if response.status != 200:
                raise RuntimeError(f"status {response.status}")
            for chunk in response.stream(STREAM_CHUNK):
                watch.took(chunk)
        finally:
            response.release_conn()
        return watch.total, watch.chunks

    def close(self) -> None:
        self.pool.close()


def make_async_peer(name: str, response_bytes: int, body_bytes: int) -> AsyncPeer:
    if name == "raw":
        return RawFloor(response_bytes, body_bytes)
    peers: dict[str, type[AsyncPeer]] = {
        "aioreq": AioreqPeer,
        "aiohttp": AiohttpPeer,
        "httpx": HttpxPeer,
        "aiosonic": AiosonicPeer,
    }
    return peers[name]()
