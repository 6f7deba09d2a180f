"""Load and leaks (issue 7): the aioreq client and aioreq.server under 100,000 requests each.

What each holds before, during and after the load is measured: file descriptors, resident
memory, pool slots, connections.

Two parts (`--part`), each against a server in a process of its own, started for that part:

1. client: `aioreq.Client(limits=Limits(max_connections=64))` in this process sends 100,000
   GETs from 256 tasks, a quarter each of a 20-byte JSON body, 16 KiB (Content-Length), 16 KiB
   chunked (4 chunks, a streamed `Response`) and a gzip-coded JSON body, every body compared
   with the one expected. The server is `aioreq.server` (the hidden ``--serve`` sub-command of
   this script) rather than the fake server of `pytest_aioreq`: in a process of its own, the
   file descriptors and the memory of this process are the client's alone, and the fake
   server, which records every request, would grow by 100,000 records and set the pace.
   Figures: errors (target 0); requests a second and this process's CPU time per request;
   open file descriptors (/proc/self/fd) before the client exists, at the peak and after
   `aclose()` (target: back to before); resident set size (/proc/self/statm) after a warm-up
   of 8 requests a task, at the peak and after `aclose()` and a garbage collection (target:
   growth under 10 MiB); the pool after the load (connections, idle, waiting: target all idle,
   at most 64); and how many connections the server accepted (64 means no connection was
   opened twice).
2. server: `aioreq.server.serve(app)` in its own process, 100,000 requests over 64 keep-alive
   connections: GET 20 bytes, POST 300 bytes echoed, GET 16 KiB chunked, GET 16 KiB, and every
   20th request a path whose handler raises (the server must answer 500 and keep the
   connection). Beside them a slow client on a connection of its own writes each request 3
   bytes at a time and reads a 1 MiB response 4 KiB at a time, a millisecond apart, for as
   long as the load lasts. The load comes from raw asyncio protocols in this process, one a
   connection, each writing prebuilt request bytes and parsing the response with aioreq's
   sans-IO `ResponseParser`: a full client (aioreq's own, 35-45 CPU µs a request) would cost
   as much as the server and set the pace, while the parser still checks every response's
   framing (status, body bytes). Figures: unexpected errors (target 0: any failed exchange,
   a wrong status or body, a 500 anywhere but the crashing path); requests a second and the
   server's CPU time per request (/proc/<pid>/stat); the server's open file descriptors
   (/proc/<pid>/fd) and resident set size (/proc/<pid>/statm) after a warm-up, at the peak
   and after every client closed (targets: back to before, growth under 10 MiB); the slow
   client's responses; the connections the server accepted, and the errors it logged (one a
   crash: the handler's exception).

Peaks are sampled every 50 ms. Each server runs on the loop of `--loop` (asyncio by default,
as the tests), and so does this process. On a machine with two CPUs or more the server is
pinned to the first and this script to the second (`--no-pin` to leave the scheduler alone);
every child gets SIGTERM if this script dies.

Run it with::

    python benchmarks/load.py                    # both parts, 100,000 requests each
    python benchmarks/load.py --quick            # 10,000 requests each: a smoke test
    python benchmarks/load.py --part server --requests 50000 --loop uvloop

The exit status is 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import gc
import gzip
import importlib.util
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from _common import (
    _version,
    child_setup,
    choose_cpus,
    machine,
    print_machine,
    run_on_loop,
    terminate,
)

HOST = "127.0.0.1"
MIB = 1 << 20
RSS_TARGET = 10 * MIB
CRASH_EVERY = 20
SAMPLE_EVERY = 0.05
READY = "serving"
START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0

BODY_SMALL = b'{"ok":true,"n":1234}'
BODY_16K = bytes(range(256)) * 64
CHUNK = 4096
BODY_CHUNKED = b"".join(bytes([letter]) * CHUNK for letter in b"abcd")
BODY_JSON = json.dumps({"encoding": "gzip", "ok": True}).encode()
BODY_GZIP = gzip.compress(BODY_JSON, mtime=0)
BODY_BIG = bytes(range(256)) * 4096  # 1 MiB, for the slow client
BODY_POSTED = b"x" * 300

#: The client's mix: path, and the body it must give (decoded).
CLIENT_MIX = [
    ("/small", BODY_SMALL),
    ("/16k", BODY_16K),
    ("/chunked", BODY_CHUNKED),
    ("/gzip", BODY_JSON),
]


# -- the server (run in its own process) ---------------------------------------------------------


async def _pieces() -> AsyncIterator[bytes]:
    for start in range(0, len(BODY_CHUNKED), CHUNK):
        yield BODY_CHUNKED[start : start + CHUNK]


async def _serve_until_signalled() -> None:
    import logging

    from aioreq.server import Request, Response, Server, serve

    failures = Counter[str]()

    class Count(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            failures[record.getMessage().partition(" on ")[0]] += 1

    log = logging.getLogger("aioreq.server")
    log.addHandler(Count(logging.ERROR))
    log.propagate = False  # counted, not printed: the crashes are asked for
    running: list[Server] = []
    octets = {"Content-Type": "application/octet-stream"}

    async def app(request: Request) -> Response:
        path = request.path
        if path == "/small":
            return Response(body=BODY_SMALL, headers={"Content-Type": "application/json"})
        if path == "/16k":
            return Response(body=BODY_16K, headers=octets)
        if path == "/chunked":
            return Response(body=_pieces(), headers={"Content-Type": "text/plain"})
        if path == "/gzip":
            coded = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
            return Response(body=BODY_GZIP, headers=coded)
        if path == "/echo":
            return Response(body=await request.body(), headers=octets)
        if path == "/crash":
            raise RuntimeError("the handler crashed, as benchmarks/load.py asks")
        if path == "/big":
            return Response(body=BODY_BIG, headers=octets)
        if path == "/stats":
            server = running[0]
            stats = {
                "accepted": server.accepted,
                "open": server.connection_count,
                "logged": dict(failures),
            }
            return Response(json=stats)
        return Response(404, text="not found\n")

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    server = await serve(app, host=HOST, port=0)
    running.append(server)
    try:
        print(f"{READY} {server.port}", flush=True)
        await stop.wait()
    finally:
        await server.close()


@dataclass
class ServerProcess:
    process: subprocess.Popen[str]
    log: IO[bytes]
    port: int = 0

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")


def start_server(cpu: int | None, loop_name: str, log: IO[bytes]) -> ServerProcess:
    command = [sys.executable, os.path.abspath(__file__), "--serve", "--loop", loop_name]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=log, text=True, preexec_fn=child_setup(cpu)
    )
    server = ServerProcess(process, log)
    deadline = time.monotonic() + START_TIMEOUT
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if line.startswith(READY + " "):
            server.port = int(line.split()[1])
            return server
        if not line and process.poll() is not None:
            break
    stop_server(server)
    raise RuntimeError(f"the server did not start: {server.output()[-2000:]}")


def stop_server(server: ServerProcess) -> None:
    terminate(server.process, STOP_TIMEOUT)
    if server.process.stdout is not None:
        server.process.stdout.close()


# -- what a process holds ------------------------------------------------------------------------


def fd_count(pid: int | str = "self") -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def rss_bytes(pid: int | str = "self") -> int:
    with open(f"/proc/{pid}/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


def cpu_seconds(pid: int | str = "self") -> float:
    """User and kernel time of a process so far (/proc/<pid>/stat, in clock ticks)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Peaks:
    """The highest open file descriptors and RSS of a process, sampled every 50 ms."""

    def __init__(self, pid: int | str = "self") -> None:
        self.pid = pid
        self.fds = fd_count(pid)
        self.rss = rss_bytes(pid)
        self._task: asyncio.Task[None] | None = None

    def sample(self) -> None:
        self.fds = max(self.fds, fd_count(self.pid))
        self.rss = max(self.rss, rss_bytes(self.pid))

    async def _run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(SAMPLE_EVERY)

    def __enter__(self) -> Peaks:
        self._task = asyncio.ensure_future(self._run())
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._task is not None:
            self._task.cancel()
        self.sample()


async def settle(count: Callable[[], int], target: int, within: float = 5.0) -> int:
    """`count()` once it is down to `target`, or after `within` seconds (a server closes its
    side of a connection when it sees the FIN, a client's pool when it is closed)."""
    deadline = time.monotonic() + within
    value = count()
    while value > target and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
        value = count()
    return value


async def server_stats(server: ServerProcess) -> dict[str, Any]:
    """What the server says of itself (on a connection of its own, closed after)."""
    reader, writer = await asyncio.open_connection(HOST, server.port)
    try:
        writer.write(b"GET /stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = await reader.read()
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    stats: dict[str, Any] = json.loads(data.partition(b"\r\n\r\n")[2])
    return stats


async def idle_server(server: ServerProcess, within: float = 5.0) -> dict[str, Any]:
    """The server's stats once it has closed every connection but the one asking (or after
    `within` seconds), that one closed too."""
    deadline = time.monotonic() + within
    stats = await server_stats(server)
    while stats["open"] > 1 and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
        stats = await server_stats(server)
    await asyncio.sleep(0.05)  # the server closes the asking connection after its answer
    return stats


# -- part 1: the client --------------------------------------------------------------------------


@dataclass
class Outcome:
    """What a load gave: counts, errors, and the figures measured."""

    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)

    def error(self, kind: str, example: str) -> None:
        self.errors[kind] += 1
        if len(self.examples) < 5:
            self.examples.append(example)


async def _client_requests(
    client: Any, urls: list[tuple[str, bytes]], count: int, tasks: int, outcome: Outcome
) -> None:
    import aioreq

    numbers = iter(range(count))

    async def worker() -> None:
        for n in numbers:
            url, expected = urls[n % len(urls)]
            try:
                response = await client.get(url)
            except aioreq.AioreqError as exc:
                outcome.error(type(exc).__name__, f"{url}: {exc}")
                continue
            outcome.statuses[response.status] += 1
            if response.status != 200 or response.body != expected:
                outcome.error("wrong answer", f"{url}: {response.status}, {response.body[:40]!r}")

    await asyncio.gather(*(worker() for _ in range(tasks)))


async def client_part(server: ServerProcess, requests: int, tasks: int, pool: int) -> Outcome:
    import aioreq

    urls = [(server.base + path, body) for path, body in CLIENT_MIX]
    # What the event loop and the library open or allocate once, on first use, is made first.
    async with aioreq.Client() as warm:
        await asyncio.gather(*(warm.get(url) for url, _ in urls))
    gc.collect()
    fds_before = await settle(fd_count, fd_count())
    accepted_before = (await server_stats(server))["accepted"]
    outcome = Outcome(requests)
    client = aioreq.Client(limits=aioreq.Limits(max_connections=pool))
    warm_up = Outcome(tasks * 8)
    await _client_requests(client, urls, tasks * 8, tasks, warm_up)
    if warm_up.errors:
        outcome.errors.update(warm_up.errors)
        outcome.examples += warm_up.examples
    gc.collect()
    rss_before = rss_bytes()
    with Peaks() as peaks:
        cpu = time.process_time()
        wall = time.perf_counter()
        await _client_requests(client, urls, requests, tasks, outcome)
        wall = time.perf_counter() - wall
        cpu = time.process_time() - cpu
    state = client._pool
    pool_after = (state.connection_count, state.idle_count, len(state._waiters))
    await client.aclose()
    closed_count = client._pool.connection_count
    del client, state
    gc.collect()
    fds_after = await settle(fd_count, fds_before)
    rss_after = rss_bytes()
    stats = await server_stats(server)
    outcome.figures = {
        "wall_s": wall,
        "cpu_s": cpu,
        "fds": (fds_before, peaks.fds, fds_after),
        "rss": (rss_before, peaks.rss, rss_after),
        "pool": pool_after,
        "pool_closed": closed_count,
        "accepted": stats["accepted"] - accepted_before - 1,  # less the /stats connection
        "limit": pool,
        "tasks": tasks,
    }
    return outcome


# -- part 2: the server --------------------------------------------------------------------------


def _request(method: str, path: str, body: bytes = b"") -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: {HOST}\r\n"
    if method == "POST":
        head += f"Content-Length: {len(body)}\r\nContent-Type: application/octet-stream\r\n"
    return head.encode("ascii") + b"\r\n" + body


#: The server's mix, in turn (every CRASH_EVERY-th request is the crash instead): method, the
#: request's bytes, the status and body expected.
SERVER_MIX = [
    (b"GET", _request("GET", "/small"), BODY_SMALL),
    (b"POST", _request("POST", "/echo", BODY_POSTED), BODY_POSTED),
    (b"GET", _request("GET", "/chunked"), BODY_CHUNKED),
    (b"GET", _request("GET", "/16k"), BODY_16K),
]
CRASH = _request("GET", "/crash")


class _Exchanges(asyncio.Protocol):
    """One keep-alive connection: a request written, its response parsed, then the next."""

    def __init__(self) -> None:
        from aioreq.protocol import ResponseParser

        self.parser = ResponseParser()
        self.transport: asyncio.Transport | None = None
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.status = 0
        self.body: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        from aioreq.protocol import EndOfMessage, ResponseHead

        waiter = self.waiter
        try:
            events = self.parser.feed(data)
        except Exception as exc:
            if waiter is not None and not waiter.done():
                waiter.set_exception(exc)
            return
        for event in events:
            if type(event) is bytes:
                self.body.append(event)
            elif type(event) is ResponseHead:
                self.status = event.status_code
            elif isinstance(event, EndOfMessage) and waiter is not None and not waiter.done():
                waiter.set_result((self.status, b"".join(self.body)))

    def connection_lost(self, exc: Exception | None) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(ConnectionError(f"the server closed the connection: {exc}"))

    async def exchange(self, method: bytes, request: bytes) -> tuple[int, bytes]:
        assert self.transport is not None
        self.parser.start_response(method)
        self.body = []
        self.status = 0
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return await self.waiter


async def _connections(
    server: ServerProcess, count: int, connections: int, outcome: Outcome
) -> None:
    loop = asyncio.get_running_loop()
    numbers = iter(range(count))

    async def one() -> None:
        transport, protocol = await loop.create_connection(_Exchanges, HOST, server.port)
        try:
            for n in numbers:
                crash = n % CRASH_EVERY == CRASH_EVERY - 1
                method, request, expected = SERVER_MIX[n % len(SERVER_MIX)]
                if crash:
                    method, request = b"GET", CRASH
                try:
                    status, body = await protocol.exchange(method, request)
                except Exception as exc:
                    outcome.error(type(exc).__name__, f"request {n}: {exc}")
                    return  # the connection is gone
                outcome.statuses[status] += 1
                if (crash and status != 500) or (not crash and (status, body) != (200, expected)):
                    outcome.error("wrong answer", f"request {n}: {status} {body[:40]!r}")
        finally:
            transport.close()

    await asyncio.gather(*(one() for _ in range(connections)))


async def _slow_client(server: ServerProcess, stop: asyncio.Event, outcome: Outcome) -> int:
    """Write each request 3 bytes at a time and read each 1 MiB response 4 KiB at a time, a
    millisecond apart, until `stop` is set (once at least); returns the responses read."""
    reader, writer = await asyncio.open_connection(HOST, server.port)
    served = 0
    request = _request("GET", "/big")
    try:
        while served == 0 or not stop.is_set():
            for start in range(0, len(request), 3):
                writer.write(request[start : start + 3])
                await writer.drain()
                await asyncio.sleep(0.001)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(head.lower().partition(b"content-length:")[2].split(b"\r\n")[0])
            body = bytearray()
            while len(body) < length:
                piece = await reader.read(min(4096, length - len(body)))
                if not piece:
                    raise ConnectionError("the server closed the slow client's connection")
                body += piece
                await asyncio.sleep(0.001)
            if not head.startswith(b"HTTP/1.1 200 ") or body != BODY_BIG:
                outcome.error("wrong answer", f"slow client: {head[:40]!r}, {len(body)} bytes")
            served += 1
    except (OSError, asyncio.IncompleteReadError) as exc:
        outcome.error(type(exc).__name__, f"slow client: {exc}")
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    return served


async def server_part(server: ServerProcess, requests: int, connections: int) -> Outcome:
    pid = server.pid
    warm_up = Outcome(connections * 8)
    await _connections(server, warm_up.requests, 2, warm_up)
    stats_before = await idle_server(server)
    fds_before = fd_count(pid)
    rss_before = rss_bytes(pid)
    outcome = Outcome(requests)
    if warm_up.errors:
        outcome.errors.update(warm_up.errors)
        outcome.examples += warm_up.examples
    stop = asyncio.Event()
    with Peaks(pid) as peaks:
        server_cpu = cpu_seconds(pid)
        wall = time.perf_counter()
        slow = asyncio.ensure_future(_slow_client(server, stop, outcome))
        await _connections(server, requests, connections, outcome)
        wall = time.perf_counter() - wall
        server_cpu = cpu_seconds(pid) - server_cpu
        stop.set()
        slow_served = await slow
    stats = await idle_server(server)
    fds_after = await settle(lambda: fd_count(pid), fds_before)
    rss_after = rss_bytes(pid)
    outcome.figures = {
        "wall_s": wall,
        "server_cpu_s": server_cpu,
        "fds": (fds_before, peaks.fds, fds_after),
        "rss": (rss_before, peaks.rss, rss_after),
        "slow_served": slow_served,
        # Less the warm-up's 2 and the /stats connection of each reading.
        "accepted": stats["accepted"] - stats_before["accepted"] - 1,
        "open": stats["open"] - 1,
        "logged": {
            name: count - stats_before["logged"].get(name, 0)
            for name, count in stats["logged"].items()
        },
        "crashes": sum(1 for n in range(requests) if n % CRASH_EVERY == CRASH_EVERY - 1),
        "connections": connections,
    }
    return outcome


# -- the report ----------------------------------------------------------------------------------


def _mib(value: int) -> str:
    return f"{value / MIB:.1f}"


def _met(ok: bool) -> str:
    return "met" if ok else "MISSED"


def _row(measure: str, figure: str, target: str = "", met: str = "") -> str:
    return f"  {measure:<22} {figure:<58} {target:<22} {met}".rstrip()


def report_client(outcome: Outcome) -> bool:
    f = outcome.figures
    errors = sum(outcome.errors.values())
    fds_before, fds_peak, fds_after = f["fds"]
    rss_before, rss_peak, rss_after = f["rss"]
    growth = rss_after - rss_before
    connections, idle, waiting = f["pool"]
    checks = {
        "errors": errors == 0,
        "fds": fds_after <= fds_before,
        "rss": growth < RSS_TARGET,
        "pool": connections == idle <= f["limit"] and waiting == 0 and f["pool_closed"] == 0,
    }
    print(
        f"client: {outcome.requests:,} GETs from {f['tasks']} tasks through "
        f"aioreq.Client(limits=Limits(max_connections={f['limit']}))"
    )
    print(_row("measure", "figure", "target", "met"))
    print(
        _row(
            "errors",
            f"{errors} ({', '.join(f'{k} {v}' for k, v in outcome.errors.items()) or 'none'})",
            "0",
            _met(checks["errors"]),
        )
    )
    statuses = ", ".join(f"{status}: {n:,}" for status, n in sorted(outcome.statuses.items()))
    print(_row("responses", statuses))
    rate = outcome.requests / f["wall_s"]
    cpu = f["cpu_s"] / outcome.requests * 1e6
    print(_row("throughput", f"{rate:,.0f} req/s, {cpu:.1f} CPU µs/req ({f['wall_s']:.1f} s)"))
    print(
        _row(
            "open fds",
            f"before {fds_before}, peak {fds_peak}, after aclose() {fds_after}",
            "back to before",
            _met(checks["fds"]),
        )
    )
    print(
        _row(
            "RSS (MiB)",
            f"before {_mib(rss_before)}, peak {_mib(rss_peak)}, after {_mib(rss_after)}"
            f" ({growth / MIB:+.2f})",
            "growth < 10 MiB",
            _met(checks["rss"]),
        )
    )
    print(
        _row(
            "pool after the load",
            f"{connections} connections, {idle} idle, {waiting} waiting;"
            f" {f['pool_closed']} after aclose()",
            f"all idle, <= {f['limit']}",
            _met(checks["pool"]),
        )
    )
    print(_row("connections opened", f"{f['accepted']} (the server's count)"))
    for example in outcome.examples:
        print(f"  error: {example}")
    return all(checks.values())


def report_server(outcome: Outcome) -> bool:
    f = outcome.figures
    errors = sum(outcome.errors.values())
    fds_before, fds_peak, fds_after = f["fds"]
    rss_before, rss_peak, rss_after = f["rss"]
    growth = rss_after - rss_before
    logged = f["logged"]
    checks = {
        "errors": errors == 0 and outcome.statuses[500] == f["crashes"],
        "fds": fds_after <= fds_before and f["open"] == 0,
        "rss": growth < RSS_TARGET,
        "slow": f["slow_served"] > 0,
        "logged": logged == {"the application failed": f["crashes"]},
    }
    print(
        f"server: {outcome.requests:,} requests over {f['connections']} keep-alive connections"
        f" to aioreq.server, every {CRASH_EVERY}th to a handler that raises, and a slow client"
    )
    print(_row("measure", "figure", "target", "met"))
    print(
        _row(
            "unexpected errors",
            f"{errors} ({', '.join(f'{k} {v}' for k, v in outcome.errors.items()) or 'none'})",
            "0",
            _met(checks["errors"]),
        )
    )
    statuses = ", ".join(f"{status}: {n:,}" for status, n in sorted(outcome.statuses.items()))
    print(_row("responses", statuses, f"500: {f['crashes']:,} (the crashes)"))
    rate = outcome.requests / f["wall_s"]
    cpu = f["server_cpu_s"] / outcome.requests * 1e6
    print(_row("throughput", f"{rate:,.0f} req/s, server {cpu:.1f} CPU µs/req"))
    print(
        _row(
            "server's open fds",
            f"before {fds_before}, peak {fds_peak}, after {fds_after}"
            f" ({f['open']} connections open)",
            "back to before",
            _met(checks["fds"]),
        )
    )
    print(
        _row(
            "server's RSS (MiB)",
            f"before {_mib(rss_before)}, peak {_mib(rss_peak)}, after {_mib(rss_after)}"
            f" ({growth / MIB:+.2f})",
            "growth < 10 MiB",
            _met(checks["rss"]),
        )
    )
    print(
        _row(
            "slow client",
            f"{f['slow_served']} responses of 1 MiB, read 4 KiB a millisecond",
            "> 0",
            _met(checks["slow"]),
        )
    )
    print(_row("connections accepted", f"{f['accepted']} (+1: the slow client)"))
    described = ", ".join(f"{k!r}: {v:,}" for k, v in logged.items()) or "none"
    print(_row("errors logged", described, "1 a crash", _met(checks["logged"])))
    for example in outcome.examples:
        print(f"  error: {example}")
    return all(checks.values())


def machine_info() -> dict[str, Any]:
    versions = {"aioreq": _version("aioreq"), "uvloop": _version("uvloop")}
    return machine({k: v for k, v in versions.items() if v is not None})


def load_average() -> str:
    try:
        with open("/proc/loadavg") as loadavg:
            one, five, fifteen = loadavg.read().split()[:3]
    except OSError:
        return "unknown"
    return f"{one} {five} {fifteen} (1, 5, 15 min)"


# -- main ----------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    cli = argparse.ArgumentParser(description=__doc__.partition("\n")[0] if __doc__ else None)
    cli.add_argument("--requests", type=int, help="requests a part (default 100,000)")
    cli.add_argument("--tasks", type=int, default=256, help="the client's tasks (default 256)")
    cli.add_argument(
        "--connections",
        type=int,
        default=64,
        help="the client's pool and the server's connections (default 64)",
    )
    cli.add_argument("--quick", action="store_true", help="10,000 requests a part")
    cli.add_argument("--part", choices=("client", "server", "both"), default="both")
    cli.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    cli.add_argument("--no-pin", action="store_true", help="do not pin server and clients")
    cli.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = cli.parse_args(argv)

    if args.loop == "uvloop" and importlib.util.find_spec("uvloop") is None:
        cli.error("--loop uvloop: uvloop is not installed (pip install uvloop)")
    if args.serve:
        run_on_loop(args.loop, _serve_until_signalled)
        return 0
    if not os.path.isdir("/proc/self/fd"):
        print("this script reads /proc (Linux only)", file=sys.stderr)
        return 1
    requests = args.requests or (10_000 if args.quick else 100_000)
    if requests < 1 or args.tasks < 1 or args.connections < 1:
        cli.error("--requests, --tasks and --connections must be positive")

    info = machine_info()
    load_before = load_average()
    server_cpu, _, pinning = choose_cpus(not args.no_pin, "each server", "this script")
    print_machine(info)
    print(f"pinning   {pinning}")
    print(f"loop      {args.loop} (this script and the servers)")
    print(f"load      {load_before} before the run")
    print()
    ok = True
    parts = ("client", "server") if args.part == "both" else (args.part,)
    for part in parts:
        with tempfile.TemporaryFile() as log:
            server = start_server(server_cpu, args.loop, log)
            try:
                if part == "client":
                    measure = functools.partial(
                        client_part, server, requests, args.tasks, args.connections
                    )
                    ok = report_client(run_on_loop(args.loop, measure)) and ok
                else:
                    measure = functools.partial(server_part, server, requests, args.connections)
                    ok = report_server(run_on_loop(args.loop, measure)) and ok
            finally:
                stop_server(server)
            written = server.output().strip()
            if written:
                print(f"  the server wrote: {' | '.join(written.splitlines()[-5:])}")
        print()
    print(f"load      {load_average()} after the run")
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted; the server process was stopped", file=sys.stderr)
        sys.exit(130)
