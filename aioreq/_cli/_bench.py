"""`aioreq bench`: how fast the client fetches from a local server, one by one and concurrently.

The server is `aioreq.server` answering every request with the same 20-byte JSON body, in a
process of its own (on uvloop when it is installed), so that the CPU time measured in this
process is the client's alone. Three modes, each over keep-alive connections to 127.0.0.1:

* aioreq, one after another: `await client.get(url)` in a loop, on one connection;
* aioreq, concurrently: `--concurrency` tasks sharing the requests, a pool as large;
* http.client, one after another: the standard library's synchronous client, for reference.

Each mode makes a fresh client, warms it up (which also opens its connections), then times
`--requests` requests: the wall time (`time.perf_counter`) and the CPU time of this process
(`time.process_time`), whence requests per second and CPU µs per request, the figure least
disturbed by the server and the machine. Every response is checked (status 200 and the body's
length). The rounds interleave the modes and the table shows each one's median.
`benchmarks/client.py` in the repository has the full comparison with aiohttp, httpx, aiosonic
and urllib3, on both event loops, with the server and the client pinned to their own CPUs.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import http.client
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

import aioreq
from aioreq.server import Request, Response, serve

__all__ = ["add_parser", "run", "serve_until_eof"]

HOST = "127.0.0.1"
BODY = b'{"ok":true,"n":1234}'
WARMUP = 200  # requests before the timed part (at least one per task)
STOP_TIMEOUT = 10.0


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def add_parser(commands: Any) -> None:
    """Add the `bench` subcommand to `commands` (argparse's subparsers)."""
    command = commands.add_parser(
        "bench",
        help="the client's throughput against a local aioreq.server, sync-style and async",
        description="How fast the client fetches from a local aioreq.server, one request after "
        "another and concurrently, with http.client for reference.",
    )
    command.add_argument(
        "--requests", type=_positive, default=4000, help="requests per mode (default 4000)"
    )
    command.add_argument(
        "--concurrency", type=_positive, default=64, help="tasks of the concurrent mode (64)"
    )
    command.add_argument("--rounds", type=_positive, default=3, help="rounds, median (3)")
    command.set_defaults(run=run)


# -- the server (in its own process) -------------------------------------------------------------


def serve_until_eof() -> None:
    """The server process: print the port and the event loop, serve `BODY` until stdin closes."""

    async def app(request: Request) -> Response:
        return Response(body=BODY, headers={"Content-Type": "application/json"})

    async def main(loop_name: str) -> None:
        server = await serve(app, HOST, 0)
        print(server.port, loop_name, flush=True)
        try:
            await asyncio.get_running_loop().run_in_executor(None, sys.stdin.buffer.read)
        finally:
            await server.close()

    # Ctrl-C reaches the whole process group: the parent stops this server by closing stdin.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        import uvloop
    except ImportError:
        asyncio.run(main("asyncio"))
        return
    if sys.version_info >= (3, 11):
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(main("uvloop"))
    else:  # pragma: no cover -- Python 3.10 has no Runner
        uvloop.run(main("uvloop"))


def _start_server() -> tuple[subprocess.Popen[bytes], int, str]:
    """The server process, its port and its event loop (it stops when its stdin closes)."""
    process = subprocess.Popen(
        [sys.executable, "-c", "from aioreq._cli._bench import serve_until_eof; serve_until_eof()"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert process.stdout is not None
    port, _, loop_name = process.stdout.readline().decode().strip().partition(" ")
    if not port.isdigit():
        _stop_server(process)
        raise RuntimeError(f"the server did not start (exit status {process.returncode})")
    return process, int(port), loop_name


def _stop_server(process: subprocess.Popen[bytes]) -> None:
    for stream in (process.stdin, process.stdout):
        if stream is not None:
            stream.close()
    try:
        process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# -- the modes ------------------------------------------------------------------------------------


@dataclass
class _Run:
    """One timed run: wall and CPU seconds, and the body bytes of the 200s received."""

    wall: float
    cpu: float
    received: int


def _clock() -> tuple[float, float]:
    """The start of a timed part (after a collection, so that none is owed to the warm-up)."""
    gc.collect()
    return time.perf_counter(), time.process_time()


def _since(start: tuple[float, float], received: int) -> _Run:
    return _Run(time.perf_counter() - start[0], time.process_time() - start[1], received)


async def _get(client: aioreq.Client, url: str, count: int) -> int:
    """`count` GETs one after another; the body bytes of those answered 200."""
    received = 0
    for _ in range(count):
        response = await client.get(url)
        if response.status == 200:
            received += len(response.body)
    return received


async def _aioreq(url: str, count: int, tasks: int) -> _Run:
    """`count` GETs shared by `tasks` tasks, on a pool of as many connections."""
    shares = [count // tasks + (task < count % tasks) for task in range(tasks)]
    limits = aioreq.Limits(max_connections=tasks)
    async with aioreq.Client(limits=limits, trust_env=False) as client:
        warmup = max(1, WARMUP // tasks)
        await asyncio.gather(*(_get(client, url, warmup) for _ in range(tasks)))
        start = _clock()
        received = await asyncio.gather(*(_get(client, url, share) for share in shares))
        return _since(start, sum(received))


def _http_client(port: int, count: int) -> _Run:
    """`count` GETs one after another with `http.client`, on one keep-alive connection."""
    connection = http.client.HTTPConnection(HOST, port, timeout=10)

    def get(count: int) -> int:
        received = 0
        for _ in range(count):
            connection.request("GET", "/")
            response = connection.getresponse()
            body = response.read()
            if response.status == 200:
                received += len(body)
        return received

    try:
        get(WARMUP)
        start = _clock()
        return _since(start, get(count))
    finally:
        connection.close()


# -- the command ----------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    """Start the server, run the rounds, print the table; 1 if something went wrong."""
    console = Console(highlight=False)
    count, tasks = args.requests, min(args.concurrency, args.requests)
    try:
        process, port, loop_name = _start_server()
    except RuntimeError as exc:
        console.print(Text(f"aioreq bench: {exc}", style="bold red"))
        return 1
    url = f"http://{HOST}:{port}/"
    modes: dict[str, Callable[[], _Run]] = {
        "aioreq, one after another": lambda: asyncio.run(_aioreq(url, count, 1)),
        f"aioreq, {tasks} concurrent tasks": lambda: asyncio.run(_aioreq(url, count, tasks)),
        "http.client, one after another": lambda: _http_client(port, count),
    }
    console.rule("[bold]aioreq bench")
    console.print(
        Text(
            f"GETs of a {len(BODY)}-byte body over keep-alive connections to aioreq.server on "
            f"{loop_name}, in a process of its own at {url}. The clients run in this process "
            f"(Python {sys.version.split()[0]}, the default asyncio loop; http.client is "
            f"synchronous): {count:,} requests a mode, {args.rounds} round(s), medians."
        )
    )
    runs: dict[str, list[_Run]] = {mode: [] for mode in modes}
    try:
        for _ in range(args.rounds):
            for mode, measure in modes.items():
                runs[mode].append(measure())
    except (aioreq.AioreqError, OSError, http.client.HTTPException) as exc:
        console.print(Text(f"aioreq bench: {type(exc).__name__}: {exc}", style="bold red"))
        return 1
    finally:
        _stop_server(process)
    return _report(console, runs, count)


def _report(console: Console, runs: dict[str, list[_Run]], count: int) -> int:
    """Print the table of medians and the ratios; 1 if a response was not the one expected."""
    table = Table(box=box.SIMPLE_HEAD)
    table.add_column("mode")
    for name in ("requests", "wall s", "req/s", "CPU µs/request"):
        table.add_column(name, justify="right")
    rates: list[float] = []
    costs: list[float] = []
    for mode, done in runs.items():
        wall = statistics.median(run.wall for run in done)
        rates.append(count / wall)
        costs.append(statistics.median(run.cpu for run in done) / count * 1e6)
        table.add_row(
            Text(mode), f"{count:,}", f"{wall:.3f}", f"{rates[-1]:,.0f}", f"{costs[-1]:.1f}"
        )
    console.print(table)
    console.print(
        Text(
            f"One after another, aioreq makes {rates[0] / rates[-1]:.2f}× the requests per "
            f"second of http.client, for {costs[0] / costs[-1]:.2f}× its CPU time per request. "
            "CPU µs/request is this process's CPU time (time.process_time) per request: the "
            "figure least disturbed by the server and the rest of the machine."
        )
    )
    console.print(
        Text(
            "The full comparison, with aiohttp, httpx, aiosonic and urllib3 on both event loops "
            "and the server and client on CPUs of their own, is benchmarks/client.py in the "
            "repository; benchmarks/README.md has its results."
        )
    )
    wrong = [
        f"{mode}: {sum(run.received for run in done) // len(BODY):,} of {count * len(done):,} "
        "responses were 200 with the whole body"
        for mode, done in runs.items()
        if any(run.received != count * len(BODY) for run in done)
    ]
    for line in wrong:
        console.print(Text(f"✗ {line}", style="bold red"))
    return 1 if wrong else 0
