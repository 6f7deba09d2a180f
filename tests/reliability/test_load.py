"""Load and leaks: many requests through the client's pool, and many through `aioreq.server`, with
nothing left behind afterwards.

The client: 5,000 GETs (a small body, 16 KiB, chunked, gzip) from 128 tasks through a pool of
16 connections against the fake server. The server: 5,000 requests over 16 keep-alive
connections to `aioreq.server.serve`, with a slow client (its request written 3 bytes at a time,
a 1 MiB response read 4 KiB at a time) and a handler that raises on every 20th request mixed in.
`AIOREQ_LONG=1` runs the figures of issue 7: 100,000 requests from 256 tasks through a pool of
64, and 100,000 requests over 64 connections, and bounds the growth of the resident set size to
10 MiB (it is too noisy to bound in short runs).

After each: no request failed, the pool holds only idle connections and opened no more than its
limit, the process has the file descriptors it had before (the fake server and `aioreq.server`
run in this process, so their side of every connection counts too), and a garbage collection
finds no unclosed socket or transport (`ResourceWarning`). `benchmarks/load.py` runs the same
with the server in a process of its own and prints the figures.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import resource
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

import aioreq
from aioreq.server import Request, Response, Server, serve
from pytest_aioreq import FakeServer

from ._leaks import fds_settle, open_fds, unclosed_resources
from ._scale import LONG, scaled

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.skipif(
        not os.path.isdir("/proc/self/fd"), reason="reads /proc/self/fd and /proc/self/statm"
    ),
]

MIB = 1 << 20
RSS_BOUND = 10 * MIB
PATTERN_16K = bytes(i % 256 for i in range(16384))
#: The mix of the client's load: path, and the body it must give.
CLIENT_MIX = [
    ("/echo", None),  # a small JSON body, checked apart
    ("/bytes/16384", PATTERN_16K),
    ("/chunked?chunks=4&size=4096", b"a" * 4096 + b"b" * 4096 + b"c" * 4096 + b"d" * 4096),
    ("/gzip", b'{"encoding": "gzip", "ok": true}'),
]


# -- measuring --------------------------------------------------------------------------------


def rss() -> int:
    """The resident set size of this process, in bytes."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


# -- the client under load --------------------------------------------------------------------


async def test_the_client_under_load_leaks_nothing(aioreq_server: FakeServer) -> None:
    """Many requests from many tasks through a small pool: every response whole, at most the
    pool's limit of connections opened, nothing held or left open afterwards."""
    total = scaled(5_000, 100_000)
    tasks = scaled(128, 256)
    limit = scaled(16, 64)
    # The fake server keeps a record of every request: forgetting it every so often keeps the
    # process's memory the client's (its connections stay open, and are counted again).
    segment = 5_000
    urls = [(aioreq_server.url_for(path), body) for path, body in CLIENT_MIX]

    async with aioreq.Client() as warm:  # what the loop and the server open once
        await asyncio.gather(*(warm.get(url) for url, _ in urls))
    aioreq_server.drop_connections()
    aioreq_server.clear()
    baseline_fds = await fds_settle(open_fds())
    errors: list[str] = []
    statuses: Counter[int] = Counter()
    opened: list[int] = []
    with unclosed_resources() as unclosed:
        client = aioreq.Client(limits=aioreq.Limits(max_connections=limit))
        try:
            done = 0
            baseline_rss = peak_rss = 0
            while done < total:
                count = min(segment, total - done)
                await _client_segment(client, urls, done, count, tasks, statuses, errors)
                done += count
                opened.append(aioreq_server.connection_count)
                aioreq_server.clear()
                gc.collect()
                if baseline_rss == 0:
                    baseline_rss = rss()  # after the first segment: caches and arenas made
                peak_rss = max(peak_rss, rss())
            pool = client._pool
            assert not errors, f"{len(errors)} failed: {errors[:5]}"
            assert statuses == {200: total}
            assert pool.connection_count == pool.idle_count <= limit, repr(pool)
            assert not pool._waiters, repr(pool)
            assert max(opened) <= limit, f"connections used per {segment} requests: {opened}"
        finally:
            await client.aclose()
        assert client._pool.connection_count == 0
        after_fds = await fds_settle(baseline_fds)
        gc.collect()
        growth = rss() - baseline_rss
    peak = (peak_rss - baseline_rss) / MIB
    print(
        f"client: {total} requests, {tasks} tasks, pool of {limit}; fds {baseline_fds} -> "
        f"{after_fds}; RSS growth after the first {segment}: {growth / MIB:.2f} MiB"
        f" (peak +{peak:.2f})"
    )
    assert after_fds == baseline_fds, f"{after_fds - baseline_fds} file descriptor(s) left open"
    assert not unclosed, unclosed[:3]
    if LONG:
        assert growth < RSS_BOUND, f"RSS grew by {growth / MIB:.2f} MiB"


async def _client_segment(
    client: aioreq.Client,
    urls: list[tuple[str, bytes | None]],
    start: int,
    count: int,
    tasks: int,
    statuses: Counter[int],
    errors: list[str],
) -> None:
    """Requests `start` to `start + count` of the mix, from `tasks` tasks."""
    numbers = iter(range(start, start + count))

    async def worker() -> None:
        for n in numbers:
            url, body = urls[n % len(urls)]
            try:
                response = await client.get(url)
            except aioreq.AioreqError as exc:
                errors.append(f"{url}: {type(exc).__name__}: {exc}")
                continue
            statuses[response.status] += 1
            if body is None:
                if response.json()["method"] != "GET":
                    errors.append(f"{url}: {response.body[:80]!r}")
            elif response.body != body:
                errors.append(f"{url}: {len(response.body)} bytes, not the {len(body)} expected")

    await asyncio.gather(*(worker() for _ in range(tasks)))


# -- the server under load --------------------------------------------------------------------

BIG = bytes(range(256)) * 4096  # 1 MiB
SMALL = b'{"ok":true}'


async def _app(request: Request) -> Response:
    path = request.path
    if path == "/crash":
        raise RuntimeError("the handler crashed, as this test asks")
    if path == "/big":
        return Response(body=BIG, headers={"Content-Type": "application/octet-stream"})
    if path == "/echo":
        body = await request.body()
        return Response(body=body, headers={"Content-Type": "application/octet-stream"})
    if path == "/chunked":
        return Response(body=_pieces(), headers={"Content-Type": "text/plain"})
    return Response(body=SMALL, headers={"Content-Type": "application/json"})


async def _pieces() -> Any:
    for letter in b"abcd":
        yield bytes([letter]) * 1024


class _Count(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        self.messages[record.getMessage()] += 1


@contextlib.contextmanager
def counted_server_errors() -> Iterator[Counter[str]]:
    """The errors `aioreq.server` logs in the block, counted by message and kept from pytest,
    which keeps every record it captures, traceback and all: thousands of them would be
    counted in the memory measured."""
    log = logging.getLogger("aioreq.server")
    counter = _Count()
    log.addHandler(counter)
    log.propagate = False
    try:
        yield counter.messages
    finally:
        log.removeHandler(counter)
        log.propagate = True


async def test_the_server_under_load_with_a_slow_client_and_a_crashing_handler() -> None:
    """Many keep-alive connections, a slow client and a crashing handler: every request gets
    its answer (500 for the crash, on the same connection), the slow client is served whole,
    and closing the server leaves nothing open."""
    total = scaled(5_000, 100_000)
    connections = scaled(16, 64)
    crash_every = 20

    baseline_fds = open_fds()
    with unclosed_resources() as unclosed, counted_server_errors() as logged:
        server = await serve(_app, "127.0.0.1", 0)
        try:
            await _serve_once(server)  # the loop's and the server's first-use allocations
            gc.collect()
            baseline_rss = rss()
            stop = asyncio.Event()
            slow = asyncio.ensure_future(_slow_client(server, stop))
            errors, statuses = await _server_load(server, total, connections, crash_every)
            stop.set()
            slow_served = await slow
            gc.collect()
            growth = rss() - baseline_rss
            assert not errors, f"{len(errors)} failed: {errors[:5]}"
            crashes = total // crash_every
            assert statuses == {200: total - crashes, 500: crashes}
            assert slow_served >= 3
            # Keep-alive survived the crashes: one connection per client, and one for the
            # first request and the slow client.
            assert server.accepted == connections + 2, server.accepted
            assert sum(logged.values()) == crashes, logged
            assert all(message.startswith("the application failed") for message in logged)
            for _ in range(250):  # the server closes each connection when it sees the FIN
                if server.connection_count == 0:
                    break
                await asyncio.sleep(0.02)
            assert server.connection_count == 0, repr(server)
        finally:
            await server.close()
        after_fds = await fds_settle(baseline_fds)
    print(
        f"server: {total} requests over {connections} connections + a slow one; fds "
        f"{baseline_fds} -> {after_fds}; RSS growth {growth / MIB:.2f} MiB"
    )
    assert after_fds == baseline_fds, f"{after_fds - baseline_fds} file descriptor(s) left open"
    assert not unclosed, unclosed[:3]
    if LONG:
        assert growth < RSS_BOUND, f"RSS grew by {growth / MIB:.2f} MiB"


async def _serve_once(server: Server) -> None:
    reader, writer = await asyncio.open_connection(server.host, server.port)
    writer.write(b"GET /small HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert (await reader.read()).endswith(SMALL)
    writer.close()
    await writer.wait_closed()


async def _server_load(
    server: Server, total: int, connections: int, crash_every: int
) -> tuple[list[str], Counter[int]]:
    """`total` requests from `connections` clients of one connection each: GETs of a small
    body, a chunked one, a POST echoed, and every `crash_every`-th request the crashing
    path."""
    errors: list[str] = []
    statuses: Counter[int] = Counter()
    numbers = iter(range(total))
    base = server.url
    echoed = b"x" * 300

    async def one_connection() -> None:
        async with aioreq.Client(limits=aioreq.Limits(max_connections=1)) as client:
            for n in numbers:
                try:
                    if n % crash_every == crash_every - 1:
                        response = await client.get(base + "/crash")
                        expected = None
                    elif n % 3 == 0:
                        response = await client.post(base + "/echo", content=echoed)
                        expected = echoed
                    elif n % 3 == 1:
                        response = await client.get(base + "/chunked")
                        expected = b"a" * 1024 + b"b" * 1024 + b"c" * 1024 + b"d" * 1024
                    else:
                        response = await client.get(base + "/small")
                        expected = SMALL
                except aioreq.AioreqError as exc:
                    errors.append(f"request {n}: {type(exc).__name__}: {exc}")
                    continue
                statuses[response.status] += 1
                if expected is not None and response.body != expected:
                    errors.append(f"request {n}: {response.status} {response.body[:60]!r}")

    await asyncio.gather(*(one_connection() for _ in range(connections)))
    return errors, statuses


async def _slow_client(server: Server, stop: asyncio.Event) -> int:
    """One keep-alive connection that writes each request 3 bytes at a time and reads each
    1 MiB response 4 KiB at a time, a millisecond apart, until `stop` is set (and 3 times at
    least); returns how many responses it was served."""
    reader, writer = await asyncio.open_connection(server.host, server.port)
    served = 0
    try:
        while served < 3 or not stop.is_set():
            request = b"GET /big HTTP/1.1\r\nHost: slow\r\n\r\n"
            for i in range(0, len(request), 3):
                writer.write(request[i : i + 3])
                await writer.drain()
                await asyncio.sleep(0.001)
            head = await reader.readuntil(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200 "), head
            length = int(head.lower().partition(b"content-length:")[2].split(b"\r\n")[0])
            body = bytearray()
            while len(body) < length:
                body += await reader.read(min(4096, length - len(body)))
                await asyncio.sleep(0.001)
            assert body == BIG
            served += 1
    finally:
        writer.close()
        await writer.wait_closed()
    return served
