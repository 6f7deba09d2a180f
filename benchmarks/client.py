"""How fast the aioreq client fetches, beside aiohttp, httpx, aiosonic, urllib3 and a raw floor.

What is measured: HTTP/1.1 GETs over keep-alive connections to a local server, by each client
with its defaults except for the size of its connection pool:

* aioreq: `aioreq.Client(limits=Limits(max_connections=N))`; `get()` and `.body`, and for the
  download `client.stream("GET", url)` + `iter_raw()`.
* aiohttp: `ClientSession(connector=TCPConnector(limit=N))`; `read()`; `content.iter_chunked()`.
* httpx: `AsyncClient(limits=Limits(max_connections=N, max_keepalive_connections=N))` (it keeps
  only 20 idle connections by default, which would make it reconnect under 64 tasks);
  `.content`; `client.stream()` + `aiter_raw()`.
* aiosonic: `HTTPClient` with a pool of N and no recycling of connections (by default it closes
  a connection after 1000 requests); `await response.content()`; `client.stream()` +
  `read_chunks()`.
* raw floor: an `asyncio.Protocol` per connection that writes the same request bytes and counts
  the bytes of the fixed-length response it knows to expect (for the chunked scenario that
  length ends at ``0\\r\\n\\r\\n``), with no HTTP parsing at all: the cost of the event loop and
  the socket calls alone. Each task has a connection of its own (the floor has no pool).
* urllib3 (the download only, synchronous, no event loop): `HTTPConnectionPool.request(...,
  preload_content=False)` + `stream(65536)`: the reference for MB/s.

Each async client runs on the default asyncio event loop and on uvloop (`--loop`). The
scenarios (`--scenarios`):

1. sequential: 5,000 GETs of a 20-byte body, one after the other, over one connection;
2. concurrent: 20,000 GETs of the same from 64 concurrent tasks (64 connections);
3. 16k: 10,000 GETs of a 16 KiB body (Content-Length) from 16 tasks;
4. chunked: 10,000 GETs of a 16 KiB body sent chunked (4 chunks of 4 KiB) from 16 tasks;
5. download: one streamed GET of a 256 MiB body (Content-Length, sent in 256 KiB pieces), read
   chunk by chunk with each client's streaming API and thrown away: MB/s (10^6 bytes a second),
   the client's CPU time per MiB, and the growth of its resident set size: sampled from
   /proc/self/statm every MiB received, the peak minus the RSS just before the download.

`--quick`: 1 round of 1,000 / 4,000 / 2,000 / 2,000 requests and a 64 MiB download, a 1 s
budget (under a minute).

Per run: the wall time (`time.perf_counter`) and the client process's CPU time
(`time.process_time`: user + kernel, all threads; the kernel's share from `getrusage`) around
the timed part, so requests per second and CPU µs per request; the client's minor page faults;
and the CPU time the server spent meanwhile (/proc/<pid>/task/*/schedstat), shown as how busy
the server was: near 100% means the server, not the client, set the pace, and the req/s of that
row is a floor of what the client could do (its CPU µs/req is unaffected). The CPU µs per
request is the figure least disturbed by anything: the server, the other CPU, the wake-ups.

The server (`--server`) is `aioreq.server` on uvloop (the default: it needs nothing but this
project), or nginx from the system's packages; either runs in a process of its own and is
checked with `http.client` before anything is measured (status, body, framing, keep-alive).
Since the clients are what is measured, the server's cost per request is kept low:

* aioreq.server (a hidden ``--serve`` sub-command of this script): the fixed routes answer with
  a prebuilt `RawResponse` (the bytes aioreq.server would send: status line, Content-Type, Date
  renewed each second, Content-Length or the 4 chunks), in one write; the download is a real
  streamed `Response` (an async generator of 256 KiB pieces).
* nginx: one process (``master_process off``, so its CPU time is the serving process's), static
  files (``etag off``; Content-Length), the chunked route through SSI (four included 4 KiB parts
  give exactly the 4 chunks of 4 KiB), the download a sparse file sent with sendfile. nginx in
  C answers a small request with less delay than a Python server, which shows in the
  sequential scenario (the server's delay is part of every request's round trip); but it sends
  a 16 KiB response's head and body in separate writes, so the clients often read it in two
  pieces, and its SSI route costs it more than aioreq.server's prebuilt chunks.

Each run is a fresh process (a hidden ``--run`` sub-command), one per client, loop, scenario
and round, so imports, caches, pools and the heap of one run never reach another, and the RSS
growth of a download is that download's alone. The process first frees one 1 MiB block, which
settles glibc's mmap threshold (see `settle_malloc`: without it a random half of the processes
on the default loop paid two page faults per socket read, and the same client ran at 60 or at
95 CPU µs a request). Then one response is checked (status 200 and the exact body), and a
warm-up runs untimed (200 sequential requests, or 8 per task, which opens all the connections;
for the download, a 1 MiB streamed download); the garbage collector is run, and stays enabled
during the timed part as in real use. The sum of the body lengths read is checked against the
count after the timed part (so every response was read to its end); a client that fails is
reported with its traceback and not run again. A client so slow that the count would take
longer than the budget (`--budget`, 5 s; httpx) runs the count its warm-up rate fits in it
(at least 8 per task), printed below the table: the rates are per request either way.

The rounds (5 by default) interleave the clients: in each round, each scenario runs every
client on every loop, the order rotating each round so that drift in the machine hits all of
them alike. The result per client is the median over the rounds, with the min and max. On a
machine with two or more CPUs the server is pinned to the first CPU and the clients (and this
script) to the second (`--no-pin` to leave the scheduler alone). The server process is stopped
(SIGTERM, then SIGKILL after 10 s) when the run ends, on error and on Ctrl-C alike; a client
process is killed if it outlives its time limit (or this script), and every child gets SIGTERM
if this script dies.

The targets of the aioreq client, printed against the figures (not enforced): sequential ≥ 2×
aiohttp; 64 concurrent ≥ 3×; 16 KiB and chunked ≥ 2×; download ≥ urllib3's MB/s with an RSS
growth under 2 MiB; the same on uvloop against aiohttp on uvloop. The ratios are given for
requests per second (wall) and for CPU µs per request.

Run it with::

    python benchmarks/client.py                    # everything, 5 rounds (about 8 minutes)
    python benchmarks/client.py --quick            # 1 round, smaller counts: a smoke test
    python benchmarks/client.py --scenarios sequential,download --clients aioreq,aiohttp
    python benchmarks/client.py --loop uvloop --rounds 9 --json
    python benchmarks/client.py --server nginx     # nginx as the server (if installed)

nginx is a system package (``sudo apt-get install nginx-light`` on Debian/Ubuntu), not a Python
one.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import http.client
import importlib.util
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from _client_peers import RawFloor, RssWatch, Urllib3Peer, make_async_peer
from _common import (
    _median,
    _no_nan,
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

BODY_SMALL = b'{"ok":true,"n":1234}'
BODY_16K = bytes(range(256)) * 64
CHUNK_16K = 4096
DOWNLOAD_PIECE = 256 * 1024
WARMUP_DOWNLOAD = MIB
SETTLE_BYTES = MIB
BODIES = {"/small": BODY_SMALL, "/16k": BODY_16K, "/chunked": BODY_16K}

#: The clients, by the name given to --clients, with the label printed for them.
CLIENTS = {
    "raw": "raw floor",
    "aioreq": "aioreq",
    "aiohttp": "aiohttp",
    "httpx": "httpx",
    "aiosonic": "aiosonic",
    "urllib3": "urllib3 (sync)",
}
#: The module each client needs.
MODULES = {
    "raw": None,
    "aioreq": "aioreq",
    "aiohttp": "aiohttp",
    "httpx": "httpx",
    "aiosonic": "aiosonic",
    "urllib3": "urllib3",
}
SYNC_CLIENTS = ("urllib3",)
LOOPS = ("asyncio", "uvloop")
SUBJECT = "aioreq"
REFERENCE = "aiohttp"
DOWNLOAD_REFERENCE = "urllib3"
RSS_TARGET = 2 * MIB

START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0
RUN_TIMEOUT = 300.0
#: A run during which the server was on a CPU this share of the time or more is marked: the
#: server, not the client, was the limit.
SERVER_BOUND = 0.9
READY = "serving"
RESULT = "RESULT "


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    path: str
    tasks: int
    count: int
    quick_count: int
    warmup: int
    #: The target of aioreq against aiohttp (× requests/s and ÷ CPU per request).
    target: float | None = None
    download: bool = False


SCENARIOS = {
    s.key: s
    for s in (
        Scenario(
            "sequential",
            "GETs of a 20-byte body, one after the other over one keep-alive connection",
            "/small",
            tasks=1,
            count=5000,
            quick_count=1000,
            warmup=200,
            target=2.0,
        ),
        Scenario(
            "concurrent",
            "GETs of a 20-byte body from 64 concurrent tasks (64 connections)",
            "/small",
            tasks=64,
            count=20000,
            quick_count=4000,
            warmup=64 * 8,
            target=3.0,
        ),
        Scenario(
            "16k",
            "GETs of a 16 KiB body (Content-Length) from 16 tasks",
            "/16k",
            tasks=16,
            count=10000,
            quick_count=2000,
            warmup=16 * 8,
            target=2.0,
        ),
        Scenario(
            "chunked",
            "GETs of a 16 KiB chunked body (4 chunks of 4 KiB) from 16 tasks",
            "/chunked",
            tasks=16,
            count=10000,
            quick_count=2000,
            warmup=16 * 8,
            target=2.0,
        ),
        Scenario(
            "download",
            "one streamed download, Content-Length, sent in 256 KiB pieces",
            "/download",
            tasks=1,
            count=256 * MIB,
            quick_count=64 * MIB,
            warmup=WARMUP_DOWNLOAD,
            download=True,
        ),
    )
}


# -- the server (run in its own process) ---------------------------------------------------------


def _prebuilt(path: str, date: bytes) -> bytes:
    """The whole response for a fixed route: what aioreq.server sends for it, head and all."""
    body = BODIES[path]
    if path == "/chunked":
        framing = b"Transfer-Encoding: chunked"
        payload = b"".join(
            b"%x\r\n%b\r\n" % (len(body[i : i + CHUNK_16K]), body[i : i + CHUNK_16K])
            for i in range(0, len(body), CHUNK_16K)
        )
        payload += b"0\r\n\r\n"
    else:
        framing = b"Content-Length: %d" % len(body)
        payload = body
    content_type = b"application/json" if path == "/small" else b"application/octet-stream"
    head = b"HTTP/1.1 200 OK\r\nContent-Type: %b\r\nDate: %b\r\n%b\r\n\r\n" % (
        content_type,
        date,
        framing,
    )
    return head + payload


async def _download_body(size: int) -> AsyncIterator[bytes]:
    whole, rest = divmod(size, DOWNLOAD_PIECE)
    piece = b"\x5a" * DOWNLOAD_PIECE
    for _ in range(whole):
        yield piece
    if rest:
        yield piece[:rest]


async def _serve_until_signalled() -> None:
    from aioreq.server import RawResponse, Request, Response, http_date, serve

    # The fixed routes answer with their whole response prebuilt (the Date field renewed each
    # second), in one write: the server's cost per request is kept low, since the clients are
    # what is measured. The download is a real streamed Response.
    prebuilt: dict[str, RawResponse] = {}
    stamp = [b""]

    async def app(request: Request) -> Response | RawResponse:
        target = request.target
        date = http_date()
        if date is not stamp[0]:
            stamp[0] = date
            for path in BODIES:
                prebuilt[path] = RawResponse(_prebuilt(path, date), keep_alive=True)
        found = prebuilt.get(target)
        if found is not None:
            return found
        if target.startswith("/download/"):
            size = int(target.rpartition("/")[2])
            headers = {"Content-Type": "application/octet-stream", "Content-Length": str(size)}
            return Response(body=_download_body(size), headers=headers)
        return Response(404, body=b"not found\n")

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    server = await serve(app, host=HOST, port=0)
    try:
        loop_type = type(loop)
        print(
            f"{READY} {server.port} on {loop_type.__module__}.{loop_type.__qualname__}",
            flush=True,
        )
        await stop.wait()
    finally:
        await server.close()


def settle_malloc() -> None:
    """Put glibc's allocator in the state a long-running process reaches: free one large block.

    glibc serves blocks above its mmap threshold (128 KiB at start) with mmap, and raises the
    threshold the first time such a block is freed. Until then, every `sock.recv(256 KiB)` of
    the default event loop maps fresh pages (two page faults per read, tens of µs), after it
    not: whether a process had freed a large block before the timed part decided, at random,
    whether the same client ran at 60 or 95 CPU µs a request. Freeing 1 MiB here settles it.
    """
    block = bytearray(SETTLE_BYTES)
    del block


def serve_main() -> int:
    """The hidden ``--serve`` sub-command: serve on uvloop (if importable) until signalled."""
    settle_malloc()
    run_on_loop(
        "uvloop" if importlib.util.find_spec("uvloop") else "asyncio", _serve_until_signalled
    )
    return 0


# -- one run of one client (in its own process) --------------------------------------------------


def server_cpu_seconds(pid: int) -> float:
    """The CPU time of a process so far, in seconds, summed over its threads.

    From /proc/<pid>/task/*/schedstat (nanoseconds) where the kernel keeps it; else from
    /proc/<pid>/stat (clock ticks, 10 ms: too coarse for a run of a fraction of a second).
    NaN if neither can be read.
    """
    total = 0
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/schedstat") as stat:
                total += int(stat.read().split()[0])
    except (OSError, ValueError, IndexError):
        total = 0
    if total:
        return total / 1e9
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Meter:
    """Wall time, this process's CPU time (user and kernel), its minor page faults, and the
    server's CPU time, between `start()` and `stop()`."""

    def __init__(self, server_pid: int) -> None:
        self.server_pid = server_pid
        self._server = self._cpu = self._wall = 0.0
        self._usage = resource.getrusage(resource.RUSAGE_SELF)

    def start(self) -> None:
        self._server = server_cpu_seconds(self.server_pid)
        self._usage = resource.getrusage(resource.RUSAGE_SELF)
        self._cpu = time.process_time()
        self._wall = time.perf_counter()

    def stop(self) -> dict[str, float]:
        wall = time.perf_counter() - self._wall
        cpu = time.process_time() - self._cpu
        usage = resource.getrusage(resource.RUSAGE_SELF)
        server = server_cpu_seconds(self.server_pid) - self._server
        before = self._usage
        return {
            "wall_s": wall,
            "cpu_s": cpu,
            "user_s": usage.ru_utime - before.ru_utime,
            "sys_s": usage.ru_stime - before.ru_stime,
            "minflt": usage.ru_minflt - before.ru_minflt,
            "server_cpu_s": server,
        }


async def _worker(get: Callable[[int], Coroutine[Any, Any, int]], slot: int, n: int) -> int:
    total = 0
    for _ in range(n):
        total += await get(slot)
    return total


async def _drive(get: Callable[[int], Coroutine[Any, Any, int]], tasks: int, count: int) -> int:
    """`count` requests from `tasks` tasks; returns the sum of the body lengths read."""
    if tasks == 1:
        return await _worker(get, 0, count)
    share, extra = divmod(count, tasks)
    totals = await asyncio.gather(
        *(_worker(get, slot, share + (slot < extra)) for slot in range(tasks))
    )
    return sum(totals)


def _check_body(client: str, status: int, body: bytes, expected: bytes) -> None:
    if status != 200 or body != expected:
        raise RuntimeError(
            f"{client}: check failed: status {status}, a {len(body)}-byte body"
            f" {body[:40]!r}..., expected 200 and {len(expected)} bytes {expected[:40]!r}..."
        )


def _loop_class() -> str:
    loop = type(asyncio.get_running_loop())
    return f"{loop.__module__}.{loop.__qualname__}"


async def _request_run(spec: dict[str, Any]) -> dict[str, Any]:
    client, tasks = spec["client"], spec["tasks"]
    expected = BODIES[spec["path"]]
    peer = make_async_peer(client, spec["response_bytes"], len(expected))
    meter = Meter(spec["server_pid"])
    await peer.open(spec["url"], tasks)
    try:
        status, body = await peer.check(0)
        _check_body(client, status, body, expected)
        started = time.perf_counter()
        await _drive(peer.get, tasks, spec["warmup"])
        warmup_rate = spec["warmup"] / (time.perf_counter() - started)
        # A client so slow that the count would take more than the budget runs fewer.
        count = min(spec["count"], max(tasks * 8, round(warmup_rate * spec["budget_s"])))
        gc.collect()
        meter.start()
        total = await _drive(peer.get, tasks, count)
        figures = meter.stop()
        if total != count * len(expected):
            raise RuntimeError(
                f"{client}: read {total} body bytes in {count} responses,"
                f" expected {count * len(expected)}"
            )
    finally:
        await peer.close()
    return {"loop_class": _loop_class(), "count": count, "bytes": total, **figures}


def _download_result(
    watch: RssWatch, figures: dict[str, float], total: int, chunks: int
) -> dict[str, Any]:
    maxrss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {
        "count": total,
        "bytes": total,
        "chunks": chunks,
        **figures,
        "rss_baseline": watch.baseline,
        "rss_peak": watch.peak,
        "rss_growth": watch.peak - watch.baseline,
        "rss_samples": watch.samples,
        "maxrss_growth": maxrss_after - watch.maxrss_before,
    }


async def _download_run(spec: dict[str, Any]) -> dict[str, Any]:
    client, size = spec["client"], spec["count"]
    peer = make_async_peer(client, spec["response_bytes"], len(BODY_SMALL))
    meter = Meter(spec["server_pid"])
    await peer.open(spec["check_url"], 1)
    try:
        status, body = await peer.check(0)
        _check_body(client, status, body, BODY_SMALL)
        warm = RssWatch()
        received, _ = await peer.download(spec["warmup_url"], warm)
        warm.close()
        if received != spec["warmup"]:
            raise RuntimeError(f"{client}: the warm-up download gave {received} bytes")
        gc.collect()
        watch = RssWatch()
        meter.start()
        total, chunks = await peer.download(spec["url"], watch)
        figures = meter.stop()
        watch.close()
        if total != size:
            raise RuntimeError(f"{client}: downloaded {total} bytes, expected {size}")
    finally:
        await peer.close()
    return {"loop_class": _loop_class(), **_download_result(watch, figures, total, chunks)}


def _sync_download_run(spec: dict[str, Any]) -> dict[str, Any]:
    size = spec["count"]
    peer = Urllib3Peer()
    meter = Meter(spec["server_pid"])
    peer.open(spec["check_url"], 1)
    try:
        status, body = peer.check(0)
        _check_body("urllib3", status, body, BODY_SMALL)
        warm = RssWatch()
        received, _ = peer.download(spec["warmup_url"], warm)
        warm.close()
        if received != spec["warmup"]:
            raise RuntimeError(f"urllib3: the warm-up download gave {received} bytes")
        gc.collect()
        watch = RssWatch()
        meter.start()
        total, chunks = peer.download(spec["url"], watch)
        figures = meter.stop()
        watch.close()
        if total != size:
            raise RuntimeError(f"urllib3: downloaded {total} bytes, expected {size}")
    finally:
        peer.close()
    return {"loop_class": "none (synchronous)", **_download_result(watch, figures, total, chunks)}


def run_main(spec_text: str) -> int:
    """The hidden ``--run`` sub-command: one run, its figures printed as a JSON line."""
    spec = json.loads(spec_text)
    settle_malloc()
    try:
        if spec["client"] in SYNC_CLIENTS:
            result = _sync_download_run(spec)
        else:
            job = _download_run if spec["download"] else _request_run
            result = run_on_loop(spec["loop"], lambda: job(spec))
    except Exception:
        traceback.print_exc()
        return 1
    print(RESULT + json.dumps(result), flush=True)
    return 0


# -- the server process, from this side ----------------------------------------------------------


def _child_env() -> dict[str, str]:
    """This environment without proxy settings (every client must talk to the server)."""
    return {key: value for key, value in os.environ.items() if "proxy" not in key.lower()}


@dataclass
class ServerProcess:
    process: subprocess.Popen[bytes]
    log: IO[bytes]
    port: int = 0
    loop_class: str = ""
    #: What serves, for the report: "aioreq.server on <loop>" or "nginx <version>".
    description: str = ""
    #: The bytes of each route's response to the raw floor's request.
    response_bytes: dict[str, int] = field(default_factory=dict)
    response_fields: dict[str, list[str]] = field(default_factory=dict)

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"


def start_server(cpu: int | None, log: IO[bytes]) -> ServerProcess:
    process = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), "--serve"],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=child_setup(cpu),
        env=_child_env(),
    )
    return ServerProcess(process, log)


# nginx serving the routes of BODIES and /download/<size> from `root` (see start_nginx).
NGINX_CONF = """
worker_processes 1;
master_process off;
daemon off;
pid {root}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    server_tokens off;
    keepalive_requests 10000000;
    keepalive_timeout 120s;
    sendfile on;
    tcp_nopush on;
    open_file_cache max=64;
    open_file_cache_valid 600s;
    etag off;
    client_body_temp_path {root}/tmp-body;
    proxy_temp_path {root}/tmp-proxy;
    fastcgi_temp_path {root}/tmp-fastcgi;
    uwsgi_temp_path {root}/tmp-uwsgi;
    scgi_temp_path {root}/tmp-scgi;
    server {{
        listen {host}:{port};
        root {root}/www;
        default_type application/octet-stream;
        location = /small {{ default_type application/json; }}
        location = /chunked {{ ssi on; ssi_types *; ssi_last_modified off; }}
        location /parts/ {{ internal; }}
    }}
}}
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def start_nginx(
    nginx: str, cpu: int | None, log: IO[bytes], root: str, download_sizes: Sequence[int]
) -> ServerProcess:
    """nginx in one process on `cpu`, serving the fixed routes and the downloads from `root`."""
    www = os.path.join(root, "www")
    os.makedirs(os.path.join(www, "parts"))
    os.makedirs(os.path.join(www, "download"))
    with open(os.path.join(www, "small"), "wb") as file:
        file.write(BODY_SMALL)
    with open(os.path.join(www, "16k"), "wb") as file:
        file.write(BODY_16K)
    includes = []
    for index, start in enumerate(range(0, len(BODY_16K), CHUNK_16K)):
        with open(os.path.join(www, "parts", str(index)), "wb") as file:
            file.write(BODY_16K[start : start + CHUNK_16K])
        includes.append(f'<!--# include file="/parts/{index}" -->')
    with open(os.path.join(www, "chunked"), "w") as file:
        file.write("".join(includes))
    for size in download_sizes:
        with open(os.path.join(www, "download", str(size)), "wb") as file:
            file.truncate(size)  # sparse: the clients count the bytes, not what they are
    port = _free_port()
    conf = os.path.join(root, "nginx.conf")
    with open(conf, "w") as file:
        file.write(NGINX_CONF.format(root=root, host=HOST, port=port))
    version = subprocess.run(
        [nginx, "-v"], capture_output=True, text=True, check=False
    ).stderr.strip()
    process = subprocess.Popen(
        [nginx, "-c", conf, "-p", root, "-e", "stderr"],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=child_setup(cpu),
        env=_child_env(),
    )
    name = version.rpartition("nginx/")[2] or "?"
    return ServerProcess(
        process, log, port, loop_class="nginx", description=f"nginx {name}, one process"
    )


def wait_ready(server: ServerProcess, timeout: float = START_TIMEOUT) -> None:
    """Wait for the server's ready line (its port and loop), then for connect to succeed."""
    deadline = time.monotonic() + timeout
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(f"exited with status {server.process.returncode} at start")
        for line in server.output().splitlines():
            if line.startswith(READY + " "):
                port, _, loop_class = line[len(READY) + 1 :].partition(" on ")
                server.port, server.loop_class = int(port), loop_class
                server.description = f"aioreq.server on {loop_class}"
        if server.port:
            with contextlib.suppress(OSError), socket.create_connection((HOST, server.port), 0.5):
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"not ready in {timeout} s")
        time.sleep(0.05)


def _raw_response(port: int, path: str) -> bytes:
    """The whole response to the raw floor's request for `path`."""
    request = RawFloor.request_bytes(f"http://{HOST}:{port}{path}")
    with socket.create_connection((HOST, port), 5) as sock:
        sock.sendall(request)
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                raise RuntimeError(f"{path}: the server closed after {len(data)} bytes")
            data += chunk
            head, found, body = data.partition(b"\r\n\r\n")
            if not found:
                continue
            fields = {
                name.strip().lower(): value.strip()
                for name, _, value in (line.partition(b":") for line in head.split(b"\r\n")[1:])
            }
            if b"content-length" in fields:
                if len(body) >= int(fields[b"content-length"]):
                    return data
            elif body.endswith(b"\r\n0\r\n\r\n"):
                return data


def verify_server(server: ServerProcess, download_size: int) -> None:
    """Each route once with http.client (status, body, framing); the raw response sizes."""
    conn = http.client.HTTPConnection(HOST, server.port, timeout=10)
    try:
        routes = [*BODIES.items(), (f"/download/{download_size}", None)]
        for path, expected in routes:
            conn.request("GET", path)
            response = conn.getresponse()
            body = response.read()
            if response.status != 200:
                raise RuntimeError(f"GET {path}: status {response.status}")
            if expected is not None and body != expected:
                raise RuntimeError(f"GET {path}: a {len(body)}-byte body, not the expected one")
            if expected is None and len(body) != download_size:
                raise RuntimeError(f"GET {path}: {len(body)} bytes, expected {download_size}")
            chunked = response.getheader("Transfer-Encoding", "").lower() == "chunked"
            if chunked != (path == "/chunked"):
                raise RuntimeError(f"GET {path}: Transfer-Encoding {chunked=}")
            if response.will_close:
                raise RuntimeError(f"GET {path}: the server closes the connection")
    finally:
        conn.close()
    for path in BODIES:
        data = _raw_response(server.port, path)
        server.response_bytes[path] = len(data)
        head = data.partition(b"\r\n\r\n")[0].decode("latin-1")
        server.response_fields[path] = [line.partition(":")[0] for line in head.split("\r\n")[1:]]


def stop_server(server: ServerProcess) -> str | None:
    """SIGTERM, then SIGKILL after STOP_TIMEOUT; what went wrong, if anything."""
    return terminate(server.process, STOP_TIMEOUT)


# -- the runs ------------------------------------------------------------------------------------


@dataclass
class Run:
    """What one client process reported."""

    wall_s: float
    cpu_s: float
    count: int
    bytes: int
    server_cpu_s: float
    user_s: float = float("nan")
    sys_s: float = float("nan")
    minflt: int = 0
    loop_class: str = ""
    chunks: int | None = None
    rss_baseline: int | None = None
    rss_peak: int | None = None
    rss_growth: int | None = None
    rss_samples: int | None = None
    maxrss_growth: int | None = None

    @property
    def server_busy(self) -> float:
        return self.server_cpu_s / self.wall_s if self.wall_s else float("nan")

    @property
    def client_busy(self) -> float:
        return self.cpu_s / self.wall_s if self.wall_s else float("nan")


@dataclass
class Cell:
    """One client on one loop (None: a synchronous client) in one scenario."""

    client: str
    loop: str | None
    scenario: Scenario
    runs: list[Run] = field(default_factory=list)
    failure: str | None = None
    loop_class: str = ""

    @property
    def name(self) -> str:
        where = f"on {self.loop}" if self.loop else "(no loop)"
        return f"{self.client} {where}"

    def rates(self) -> list[float]:
        """req/s, or MB/s (10^6 bytes) for the download."""
        if self.scenario.download:
            return [run.bytes / run.wall_s / 1e6 for run in self.runs]
        return [run.count / run.wall_s for run in self.runs]

    def _per(self, seconds: Callable[[Run], float]) -> list[float]:
        per = MIB if self.scenario.download else 1
        return [seconds(run) * 1e6 / (run.count / per) for run in self.runs]

    def cpu(self) -> list[float]:
        """CPU µs per request, or per MiB for the download."""
        return self._per(lambda run: run.cpu_s)

    def kernel(self) -> list[float]:
        """The kernel's part of cpu() (the split of getrusage)."""
        return self._per(lambda run: run.sys_s)


def summary(cell: Cell) -> dict[str, Any]:
    rates = cell.rates()
    growth = [float(run.rss_growth) for run in cell.runs if run.rss_growth is not None]
    return {
        "median": _median(rates),
        "min": min(rates) if rates else float("nan"),
        "max": max(rates) if rates else float("nan"),
        "cpu": _median(cell.cpu()),
        "kernel": _median(cell.kernel()),
        "count": _median([run.count for run in cell.runs]),
        # Minor page faults per MiB (download) or per request.
        "faults": _median(
            [
                run.minflt / (run.bytes / MIB if cell.scenario.download else run.count)
                for run in cell.runs
            ]
        ),
        "chunk_kib": _median([run.bytes / run.chunks / 1024 for run in cell.runs if run.chunks]),
        "client_busy": _median([run.client_busy for run in cell.runs]),
        "server_busy": _median([run.server_busy for run in cell.runs]),
        "server_bound_rounds": sum(run.server_busy >= SERVER_BOUND for run in cell.runs),
        "rss_growth_median": _median(growth),
        "rss_growth_max": max(growth) if growth else float("nan"),
    }


def job_spec(
    cell: Cell, server: ServerProcess, count: int, download_warmup: int, budget: float
) -> dict[str, Any]:
    scenario = cell.scenario
    base = server.base_url
    if scenario.download:
        return {
            "client": cell.client,
            "loop": cell.loop,
            "download": True,
            "url": f"{base}/download/{count}",
            "check_url": f"{base}/small",
            "warmup_url": f"{base}/download/{download_warmup}",
            "warmup": download_warmup,
            "count": count,
            "tasks": 1,
            "response_bytes": server.response_bytes["/small"],
            "server_pid": server.process.pid,
        }
    return {
        "client": cell.client,
        "loop": cell.loop,
        "download": False,
        "url": base + scenario.path,
        "path": scenario.path,
        "count": count,
        "tasks": scenario.tasks,
        "warmup": scenario.warmup,
        "budget_s": budget,
        "response_bytes": server.response_bytes[scenario.path],
        "server_pid": server.process.pid,
    }


def run_cell(cell: Cell, spec: dict[str, Any], cpu: int | None) -> Run | None:
    """One client process; its Run, or None with cell.failure set."""
    command = [sys.executable, os.path.abspath(__file__), "--run", json.dumps(spec)]
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
            preexec_fn=child_setup(cpu),
            env=_child_env(),
            check=False,
        )
    except subprocess.TimeoutExpired:
        cell.failure = f"did not finish within {RUN_TIMEOUT:g} s; killed"
        return None
    lines = [line for line in done.stdout.splitlines() if line.startswith(RESULT)]
    if done.returncode != 0 or not lines:
        output = (done.stdout + done.stderr).strip().splitlines() or ["(no output)"]
        cell.failure = f"exited with status {done.returncode}: {output[-1]}\n" + "\n".join(
            output[-20:]
        )
        return None
    figures = json.loads(lines[-1][len(RESULT) :])
    run = Run(**figures)
    loop_class = run.loop_class
    if cell.loop == "uvloop" and not loop_class.startswith("uvloop"):
        cell.failure = f"asked for uvloop, ran on {loop_class}"
        return None
    if cell.loop == "asyncio" and loop_class.startswith("uvloop"):
        cell.failure = f"asked for the default loop, ran on {loop_class}"
        return None
    cell.loop_class = loop_class
    return run


def measure(
    cells: list[Cell],
    server: ServerProcess,
    *,
    rounds: int,
    counts: dict[str, int],
    download_warmup: int,
    budget: float,
    cpu: int | None,
) -> None:
    """The rounds: each scenario in turn, every client and loop, the order rotating."""
    by_scenario: dict[str, list[Cell]] = {}
    for cell in cells:
        by_scenario.setdefault(cell.scenario.key, []).append(cell)
    for number in range(rounds):
        print(f"  round {number + 1}/{rounds}", file=sys.stderr, flush=True)
        for key, group in by_scenario.items():
            shift = number % len(group)
            for cell in group[shift:] + group[:shift]:
                if cell.failure is not None:
                    continue
                if server.process.poll() is not None:
                    cell.failure = f"the server exited ({server.process.returncode})"
                    continue
                spec = job_spec(cell, server, counts[key], download_warmup, budget)
                run = run_cell(cell, spec, cpu)
                if run is None:
                    first = (cell.failure or "").splitlines()[0]
                    print(f"    {key:<10} {cell.name:<22} FAILED: {first}", file=sys.stderr)
                    continue
                cell.runs.append(run)
                if cell.scenario.download:
                    figures = (
                        f"{run.bytes / run.wall_s / 1e6:>9,.0f} MB/s"
                        f" {run.cpu_s * 1e6 / (run.bytes / MIB):>8.0f} CPU µs/MiB"
                        f"  RSS +{(run.rss_growth or 0) / MIB:.1f} MiB"
                    )
                else:
                    figures = (
                        f"{run.count / run.wall_s:>9,.0f} req/s"
                        f" {run.cpu_s * 1e6 / run.count:>8.1f} CPU µs/req"
                    )
                print(
                    f"    {key:<10} {cell.name:<22} {figures}  server {run.server_busy:.0%}",
                    file=sys.stderr,
                    flush=True,
                )


# -- reporting -----------------------------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    packages = ("aioreq", "aiohttp", "httpx", "httpcore", "aiosonic", "urllib3", "uvloop")
    return machine({package: _version(package) for package in packages})


def cpu_ticks(cpu: int) -> dict[str, int]:
    names = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")
    with contextlib.suppress(OSError), open("/proc/stat") as stat:
        for line in stat:
            if line.startswith(f"cpu{cpu} "):
                return dict(zip(names, map(int, line.split()[1:9]), strict=True))
    return {}


def background_load(seconds: float = 1.0) -> str | None:
    """How busy each CPU is before anything starts: other processes would skew the figures."""
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    before = {cpu: cpu_ticks(cpu) for cpu in cpus}
    time.sleep(seconds)
    parts = []
    for cpu in cpus:
        after = cpu_ticks(cpu)
        total = sum(after.values()) - sum(before[cpu].values())
        if before[cpu] and total > 0:
            idle = after["idle"] + after["iowait"] - before[cpu]["idle"] - before[cpu]["iowait"]
            parts.append(f"CPU {cpu} {1 - idle / total:.0%} busy")
    return f"before the server started: {', '.join(parts)} over {seconds:g} s" if parts else None


def cpu_steal(before: dict[int, dict[str, int]]) -> str | None:
    """How much of each CPU's time since `before` the hypervisor stole, and how much was idle."""
    parts = []
    for cpu, ticks in before.items():
        after = cpu_ticks(cpu)
        total = sum(after.values()) - sum(ticks.values())
        if ticks and total > 0:
            steal = (after["steal"] - ticks["steal"]) / total
            idle = (after["idle"] + after["iowait"] - ticks["idle"] - ticks["iowait"]) / total
            parts.append(f"CPU {cpu} {idle:.0%} idle, {steal:.1%} stolen")
    return f"during the measurements: {'; '.join(parts)}" if parts else None


def times(value: float) -> str:
    return "n/a" if value != value else f"{value:.2f}×"


def _cells_for(cells: list[Cell], loop: str, key: str) -> list[Cell]:
    return [
        c
        for c in cells
        if c.scenario.key == key and c.loop in (loop, None) and c.runs and c.failure is None
    ]


def ratios(cells: list[Cell], loop: str, key: str) -> dict[str, dict[str, float]]:
    """Per client: its rate over aiohttp's, and aiohttp's CPU per unit over its own."""
    rows = {c.client: summary(c) for c in _cells_for(cells, loop, key)}
    reference = rows.get(REFERENCE)
    out: dict[str, dict[str, float]] = {}
    for client, s in rows.items():
        if reference is None:
            out[client] = {"rate": float("nan"), "cpu": float("nan")}
        else:
            out[client] = {
                "rate": s["median"] / reference["median"],
                "cpu": reference["cpu"] / s["cpu"],
            }
    return out


def targets(cells: list[Cell], loops: Sequence[str]) -> list[dict[str, Any]]:
    """aioreq against its targets, per loop and scenario (with why, when it has no figure)."""
    found: list[dict[str, Any]] = []
    for loop in loops:
        for key, scenario in SCENARIOS.items():
            mine = [c for c in cells if c.client == SUBJECT and c.loop == loop]
            cell = next((c for c in mine if c.scenario.key == key), None)
            if cell is None:
                continue
            entry: dict[str, Any] = {"loop": loop, "scenario": key, "failure": cell.failure}
            found.append(entry)
            rows = {c.client: summary(c) for c in _cells_for(cells, loop, key)}
            subject = rows.get(SUBJECT)
            if scenario.download:
                reference = rows.get(DOWNLOAD_REFERENCE)
                ratio = (
                    subject["median"] / reference["median"]
                    if subject and reference
                    else float("nan")
                )
                growth = subject["rss_growth_max"] if subject else float("nan")
                entry.update(
                    {
                        "mb_per_s": subject["median"] if subject else None,
                        "urllib3_mb_per_s": reference["median"] if reference else None,
                        "ratio_vs_urllib3": ratio,
                        "throughput_met": ratio >= 1.0 if ratio == ratio else None,
                        "rss_growth_max": growth,
                        "rss_met": growth < RSS_TARGET if growth == growth else None,
                    }
                )
                continue
            versus = ratios(cells, loop, key).get(SUBJECT, {})
            rate, cpu = versus.get("rate", float("nan")), versus.get("cpu", float("nan"))
            assert scenario.target is not None
            entry.update(
                {
                    "target": scenario.target,
                    "ratio_rps": rate,
                    "ratio_cpu": cpu,
                    "rps_met": rate >= scenario.target if rate == rate else None,
                    "cpu_met": cpu >= scenario.target if cpu == cpu else None,
                }
            )
    return found


def _verdict(met: bool | None) -> str:
    return "n/a" if met is None else ("met" if met else "NOT met")


def print_report(
    info: dict[str, Any],
    server: ServerProcess | None,
    cells: list[Cell],
    notes: list[str],
    *,
    loops: Sequence[str],
    rounds: int,
    counts: dict[str, int],
    budget: float,
    pinning: str,
) -> None:
    print("HTTP/1.1 client: aioreq beside aiohttp, httpx, aiosonic, urllib3 and a raw floor")
    print_machine(info)
    print(f"pinning   {pinning}")
    plural = "s" if rounds != 1 else ""
    print(
        f"method    a fresh client process per client, loop, scenario and round; {rounds}"
        f" interleaved round{plural}, the"
    )
    print("          order rotating each round; one checked response and an untimed warm-up")
    print("          before the timed part; median (min, max) over the rounds. CPU = the client")
    print("          process's time.process_time() over the timed part (kernel: its getrusage")
    print("          stime share); busy = CPU time / wall time of the client and of the server")
    print("          (server ≥ 90% in a round: it set the pace, marked *). vs aiohttp: req/s =")
    print("          the client's req/s / aiohttp's; CPU = aiohttp's CPU µs/req / the client's")
    print(f"          (above 1: less CPU). A client that would need more than {budget:g} s for")
    print("          the count runs fewer requests (the count its warm-up rate allows). Each")
    print("          client process first frees a 1 MiB block to settle glibc's mmap threshold")
    if server is not None:
        print(f"server    {server.description}, port {server.port}")
        for path, size in server.response_bytes.items():
            fields = ", ".join(server.response_fields.get(path, []))
            print(f"response  {path}: {size} bytes ({fields})")
    for note in notes:
        print(f"note      {note}")
    for loop in loops:
        for key, scenario in SCENARIOS.items():
            rows = _cells_for(cells, loop, key)
            if not rows:
                continue
            loop_class = next((c.loop_class for c in rows if c.loop == loop), "")
            print()
            if scenario.download:
                print(
                    f"{loop} ({loop_class}) — download: {counts[key] // MIB} MiB, {scenario.title}"
                )
                _print_download(rows)
            else:
                print(f"{loop} ({loop_class}) — {key}: {counts[key]:,} {scenario.title}")
                _print_requests(rows, ratios(cells, loop, key), counts[key])
    found = targets(cells, loops)
    if found:
        print()
        print("targets   aioreq beside aiohttp on the same loop (printed, not enforced)")
        for t in found:
            where = f"  {t['loop']:<8} {t['scenario']:<11}"
            if "target" in t:
                goal = f"≥ {t['target']:g}× aiohttp:"
                if t["failure"] is not None:
                    print(f"{where} {goal} no figure: aioreq failed (see below)")
                    continue
                if t["ratio_rps"] != t["ratio_rps"]:
                    print(f"{where} {goal} no figure: aiohttp not measured")
                    continue
                print(
                    f"{where} {goal} req/s {times(t['ratio_rps'])}"
                    f" {_verdict(t['rps_met'])}; CPU/req {times(t['ratio_cpu'])}"
                    f" {_verdict(t['cpu_met'])}"
                )
                continue
            goal = "≥ urllib3's MB/s, RSS growth < 2 MiB:"
            if t["failure"] is not None:
                print(f"{where} {goal} no figure: aioreq failed (see below)")
                continue
            reference = t["urllib3_mb_per_s"]
            versus = (
                f"{t['mb_per_s']:,.0f} MB/s vs {reference:,.0f} ({times(t['ratio_vs_urllib3'])})"
                if reference is not None
                else f"{t['mb_per_s']:,.0f} MB/s, urllib3 not measured"
            )
            print(
                f"{where} {goal} {versus} {_verdict(t['throughput_met'])};"
                f" RSS +{t['rss_growth_max'] / MIB:.2f} MiB (max) {_verdict(t['rss_met'])}"
            )
    failures: dict[str, list[Cell]] = {}
    for cell in cells:
        if cell.failure is not None:
            failures.setdefault(cell.failure, []).append(cell)
    for failure, failed in failures.items():
        names = sorted({c.name for c in failed})
        scenarios = ", ".join(dict.fromkeys(c.scenario.key for c in failed))
        print()
        print(f"FAILED    {' and '.join(names)}, in: {scenarios}")
        for line in failure.splitlines():
            print(f"          | {line}")


def _print_requests(rows: list[Cell], versus: dict[str, dict[str, float]], count: int) -> None:
    print(
        f"  {'client':<10} {'req/s':>8} {'min':>8} {'max':>8} {'CPU µs/req':>10} {'kernel':>7}"
        f"  busy: client server  vs aiohttp: req/s    CPU"
    )
    capped = []
    for cell in rows:
        s = summary(cell)
        mark = "*" if s["server_bound_rounds"] else " "
        ratio = versus.get(cell.client, {})
        print(
            f"  {CLIENTS[cell.client]:<10} {s['median']:>8,.0f} {s['min']:>8,.0f}"
            f" {s['max']:>8,.0f} {s['cpu']:>10.1f} {s['kernel']:>7.1f}"
            f"  {s['client_busy']:>12.0%} {s['server_busy']:>6.0%}{mark}"
            f" {times(ratio.get('rate', float('nan'))):>17}"
            f" {times(ratio.get('cpu', float('nan'))):>6}"
        )
        if s["count"] < count:
            capped.append(f"{CLIENTS[cell.client]} {s['count']:,.0f}")
    if capped:
        print(f"  requests a run (median), cut to fit the time budget: {', '.join(capped)}")


def _print_download(rows: list[Cell]) -> None:
    stats = {c.client: summary(c) for c in rows}
    reference = stats.get(DOWNLOAD_REFERENCE)
    aiohttp = stats.get(REFERENCE)
    print(
        f"  {'client':<14} {'MB/s':>6} {'min':>6} {'max':>6} {'CPU µs/MiB':>10} {'kernel':>6}"
        f"  busy: client server  RSS + MiB (max)  faults/MiB  KiB/chunk"
        "  vs urllib3  vs aiohttp"
    )
    for cell in rows:
        s = stats[cell.client]
        mark = "*" if s["server_bound_rounds"] else " "
        growth = f"{s['rss_growth_median'] / MIB:.2f} ({s['rss_growth_max'] / MIB:.2f})"
        vs_ref = s["median"] / reference["median"] if reference else float("nan")
        vs_aiohttp = s["median"] / aiohttp["median"] if aiohttp else float("nan")
        print(
            f"  {CLIENTS[cell.client]:<14} {s['median']:>6,.0f} {s['min']:>6,.0f}"
            f" {s['max']:>6,.0f} {s['cpu']:>10.0f} {s['kernel']:>6.0f}"
            f"  {s['client_busy']:>12.0%} {s['server_busy']:>6.0%}{mark} {growth:>15}"
            f"  {s['faults']:>10.0f} {s['chunk_kib']:>10.0f}"
            f"  {times(vs_ref):>10}  {times(vs_aiohttp):>10}"
        )
    print("  MB/s = 10^6 bytes a second. RSS + MiB: median (max) over the rounds of the peak RSS")
    print("  during the download (sampled every MiB received) minus the RSS just before it.")
    print("  faults/MiB: minor page faults of the client process (getrusage) per MiB received.")


def json_report(
    info: dict[str, Any],
    server: ServerProcess | None,
    cells: list[Cell],
    notes: list[str],
    *,
    loops: Sequence[str],
    rounds: int,
    counts: dict[str, int],
    budget: float,
    pinning: str,
) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for loop in loops:
        per_loop: dict[str, Any] = {}
        for key in SCENARIOS:
            rows = [c for c in cells if c.scenario.key == key and c.loop in (loop, None)]
            if not rows:
                continue
            versus = ratios(cells, loop, key)
            per_loop[key] = {
                c.client: {
                    "loop_class": c.loop_class,
                    "failure": c.failure,
                    "unit": "MB/s" if c.scenario.download else "req/s",
                    "cpu_unit": "µs/MiB" if c.scenario.download else "µs/request",
                    **summary(c),
                    "ratio_vs_aiohttp": versus.get(c.client),
                    "rounds": [{**vars(run), "server_busy": run.server_busy} for run in c.runs],
                }
                for c in rows
            }
        results[loop] = per_loop
    return {
        **info,
        "rounds": rounds,
        "counts": counts,
        "budget_s": budget,
        "tasks": {key: s.tasks for key, s in SCENARIOS.items()},
        "pinning": pinning,
        "server": {
            "loop_class": server.loop_class,
            "description": server.description,
            "response_bytes": server.response_bytes,
            "response_fields": server.response_fields,
        }
        if server is not None
        else None,
        "notes": notes,
        "results": results,
        "targets": targets(cells, loops),
    }


# -- main ----------------------------------------------------------------------------------------


def _names(text: str, known: Sequence[str], option: str, cli: argparse.ArgumentParser) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in known]
    if unknown or not names:
        cli.error(f"{option}: unknown {unknown}; choose from {', '.join(known)}")
    return [name for name in known if name in names]


def main(argv: Sequence[str] | None = None) -> int:
    cli = argparse.ArgumentParser(description=__doc__.partition("\n")[0] if __doc__ else None)
    cli.add_argument(
        "--clients", default=",".join(CLIENTS), help=f"from {', '.join(CLIENTS)} (default: all)"
    )
    cli.add_argument(
        "--scenarios",
        default=",".join(SCENARIOS),
        help=f"from {', '.join(SCENARIOS)} (default: all)",
    )
    cli.add_argument("--loop", choices=(*LOOPS, "both"), default="both", help="default: both")
    cli.add_argument("--rounds", type=int, help="interleaved rounds (default 5, 1 with --quick)")
    cli.add_argument("--quick", action="store_true", help="1 round, smaller counts: a smoke test")
    cli.add_argument(
        "--download-mib", type=int, help="size of the download (default 256, 64 with --quick)"
    )
    cli.add_argument(
        "--budget",
        type=float,
        help="seconds a timed run may take before its count is cut (default 5, 1 with --quick)",
    )
    cli.add_argument("--json", action="store_true", help="print the results as JSON")
    cli.add_argument("--no-pin", action="store_true", help="do not pin server and clients")
    cli.add_argument(
        "--server",
        choices=("aioreq", "nginx"),
        default="aioreq",
        help="aioreq.server on uvloop (default) or nginx (a system package)",
    )
    cli.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    cli.add_argument("--run", metavar="SPEC", help=argparse.SUPPRESS)
    args = cli.parse_args(argv)

    if args.serve:
        return serve_main()
    if args.run is not None:
        return run_main(args.run)

    clients = _names(args.clients, list(CLIENTS), "--clients", cli)
    scenarios = _names(args.scenarios, list(SCENARIOS), "--scenarios", cli)
    rounds = args.rounds or (1 if args.quick else 5)
    budget = args.budget or (1.0 if args.quick else 5.0)
    if rounds < 1 or budget <= 0:
        cli.error("--rounds and --budget must be positive")
    counts = {key: (s.quick_count if args.quick else s.count) for key, s in SCENARIOS.items()}
    if args.download_mib is not None:
        if args.download_mib < 2:
            cli.error("--download-mib must be at least 2")
        counts["download"] = args.download_mib * MIB

    notes: list[str] = []
    loops = list(LOOPS) if args.loop == "both" else [args.loop]
    if importlib.util.find_spec("uvloop") is None:
        notes.append("uvloop not importable: the server runs on the default loop")
        if "uvloop" in loops:
            loops.remove("uvloop")
            notes.append("uvloop skipped for the clients (pip install uvloop)")
    for name in list(clients):
        module = MODULES[name]
        if module is not None and importlib.util.find_spec(module) is None:
            clients.remove(name)
            notes.append(f"{name} skipped: not importable")
    if "urllib3" in clients and "download" not in scenarios:
        clients.remove("urllib3")
    if not loops or not clients or not scenarios:
        print("nothing to measure: " + "; ".join(notes), file=sys.stderr)
        return 1

    cells = []
    for key in scenarios:
        scenario = SCENARIOS[key]
        for client in clients:
            if client in SYNC_CLIENTS:
                if scenario.download:
                    cells.append(Cell(client, None, scenario))
                continue
            cells.extend(Cell(client, loop, scenario) for loop in loops)

    info = machine_info()
    load = background_load()
    if load is not None:
        notes.append(load)
    server_cpu, client_cpu, pinning = choose_cpus(
        not args.no_pin, "server", "the clients and this script"
    )
    server: ServerProcess | None = None
    nginx = shutil.which("nginx") or next(
        (path for path in ("/usr/sbin/nginx", "/sbin/nginx") if os.access(path, os.X_OK)), None
    )
    if args.server == "nginx" and nginx is None:
        cli.error("--server nginx: nginx is not installed (sudo apt-get install nginx-light)")
    use_nginx = args.server == "nginx"
    with tempfile.TemporaryFile() as log, tempfile.TemporaryDirectory() as root:
        try:
            if use_nginx:
                assert nginx is not None
                sizes = sorted({WARMUP_DOWNLOAD, counts["download"]})
                server = start_nginx(nginx, server_cpu, log, root, sizes)
            else:
                server = start_server(server_cpu, log)
            try:
                wait_ready(server)
                verify_server(server, WARMUP_DOWNLOAD)
            except (RuntimeError, OSError, http.client.HTTPException) as exc:
                print(f"the server failed at start or check: {exc}", file=sys.stderr)
                for line in server.output().splitlines()[-40:]:
                    print(f"  | {line}", file=sys.stderr)
                return 1
            print(
                f"measuring {len(cells)} client runs a round, {rounds} round(s) ...",
                file=sys.stderr,
                flush=True,
            )
            cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
            if server_cpu is not None and client_cpu is not None:
                cpus = [server_cpu, client_cpu]
            ticks = {cpu: cpu_ticks(cpu) for cpu in cpus}
            measure(
                cells,
                server,
                rounds=rounds,
                counts=counts,
                download_warmup=WARMUP_DOWNLOAD,
                budget=budget,
                cpu=client_cpu,
            )
            steal = cpu_steal(ticks)
            if steal is not None:
                notes.append(steal)
        finally:
            if server is not None:
                problem = stop_server(server)
                if problem is not None:
                    notes.append(problem)
        if server is not None:
            output = [
                line for line in server.output().splitlines() if not line.startswith(READY + " ")
            ]
            if output:
                notes.append("the server wrote: " + " | ".join(output[-10:]))

    options: dict[str, Any] = {
        "loops": loops,
        "rounds": rounds,
        "counts": counts,
        "budget": budget,
        "pinning": pinning,
    }
    if args.json:
        report = _no_nan(json_report(info, server, cells, notes, **options))
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        print_report(info, server, cells, notes, **options)
    return 1 if any(c.failure is not None for c in cells) else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted; the server and client processes were stopped", file=sys.stderr)
        sys.exit(130)
