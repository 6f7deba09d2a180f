"""How many requests a second aioreq.server answers, beside aiohttp.web, under wrk.

What is measured: the same hello-world handler (GET / -> 200, body ``Hello, World!``,
``Content-Type: text/plain``) served by `aioreq.server` and by `aiohttp.web`, each in its own
process (a subprocess of the same Python running this script with a hidden ``--serve``
sub-command), loaded by wrk over 64 keep-alive connections with one wrk thread. aiohttp runs a
`web.Application` with one route through `web.AppRunner` / `web.TCPSite`, its access log off
(``access_log=None``), so that neither server writes a line per request. Each server runs on the
default asyncio event loop and on uvloop (`--loop`); uvloop is skipped with a note when it is not
importable.

Per wrk run, three figures: the requests per second wrk reports (``Requests/sec:``), the
requests it completed (``N requests in``), and the CPU time the server process spent during the
run (utime + stime from ``/proc/<pid>/stat``, in clock ticks of ``os.sysconf("SC_CLK_TCK")``),
which divided by the requests gives the server's CPU µs per request (split into user and kernel
time below each table). wrk's socket error and non-2xx/3xx counts are parsed too; a run that has
any is flagged in the output. The CPU time wrk itself used is recorded as well, to show whether
the load generator was the limit, and so is how the two pinned CPUs spent the run (idle, stolen
by the hypervisor, other work, from ``/proc/stat``): a run in which the server was on a CPU for
less than 85% of the time is flagged too, since then something other than the server (the client,
or another process on the machine) set the pace. Such runs still count in the medians; the CPU µs
per request is the figure they disturb least. How busy each CPU was for 1 s before the servers
started is printed as a note.

How: every server process (server x loop) is started, waited for (connect on its port is polled,
with a timeout) and checked once with `http.client` (status 200, the body, the content type, two
requests on one kept-alive connection) before anything is measured; a server that fails to start
or to answer right is reported with its output and not measured. Each gets a 2 s wrk warm-up
run, not counted. Then the rounds (5 by default) run wrk against each server for 5 s, the order
rotating each round so that drift in the machine hits all of them alike, and the result per
server is the median of requests/s over the rounds, with its min and max, and the median of its
CPU µs per request. The servers sit idle while another is loaded. On a machine with two or more
CPUs the servers are pinned to the first CPU and wrk (and this script) to the second, so that
client and server do not compete for one core (`--no-pin` to leave the scheduler alone). Every
server process is stopped (SIGTERM, then SIGKILL after 10 s) when the run ends, on error and on
Ctrl-C alike.

wrk is not a Python package; install it with::

    sudo apt-get install wrk     # Debian/Ubuntu
    brew install wrk             # macOS

Run it with::

    python benchmarks/server.py                      # both servers, both loops, 5 rounds of 5 s
    python benchmarks/server.py --quick              # 1 round of 2 s: a smoke test
    python benchmarks/server.py --servers aiohttp --loop asyncio --quick
    python benchmarks/server.py --rounds 9 --json
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import importlib.util
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from _common import (
    _median,
    _no_nan,
    _version,
    child_setup,
    choose_cpus,
    machine,
    print_machine,
    run_on_loop,
)

HOST = "127.0.0.1"
BODY = b"Hello, World!"
CONTENT_TYPE = "text/plain"

#: The servers, by the name given to --servers, with the label printed for them.
SERVERS = {"aioreq": "aioreq.server", "aiohttp": "aiohttp.web"}
LOOPS = ("asyncio", "uvloop")
BASELINE = "aioreq"
TARGET = 1.5

START_TIMEOUT = 20.0
#: A run in which the server was on a CPU for less than this share of the time is flagged: the
#: server was not the bottleneck (the client, or another process on its CPU, was).
BUSY_FLOOR = 0.85
STOP_TIMEOUT = 10.0
READY = "serving"

INSTALL_WRK = """\
wrk is not installed (it is not a Python package). Install it with:
    sudo apt-get install wrk     # Debian/Ubuntu
    brew install wrk             # macOS
then run this script again."""


# -- the servers (run in the child processes) ----------------------------------------------------


async def _serve_aioreq(port: int) -> Callable[[], Awaitable[None]]:
    from aioreq.server import Request, Response, serve

    async def app(request: Request) -> Response:
        return Response(body=BODY, headers={"Content-Type": CONTENT_TYPE})

    server = await serve(app, host=HOST, port=port)
    return server.close


async def _serve_aiohttp(port: int) -> Callable[[], Awaitable[None]]:
    from aiohttp import web

    async def hello(request: web.Request) -> web.Response:
        return web.Response(body=BODY, content_type=CONTENT_TYPE)

    app = web.Application()
    app.router.add_get("/", hello)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, HOST, port)
    await site.start()
    return runner.cleanup


STARTERS: dict[str, Callable[[int], Awaitable[Callable[[], Awaitable[None]]]]] = {
    "aioreq": _serve_aioreq,
    "aiohttp": _serve_aiohttp,
}


async def _serve_until_signalled(name: str, port: int) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    close = await STARTERS[name](port)
    try:
        loop_type = type(loop)
        print(f"{READY} {name} on {loop_type.__module__}.{loop_type.__qualname__}", flush=True)
        await stop.wait()
    finally:
        await close()


def serve_main(name: str, loop_name: str, port: int) -> int:
    """The hidden ``--serve`` sub-command: serve until SIGINT or SIGTERM, then close."""
    run_on_loop(loop_name, lambda: _serve_until_signalled(name, port))
    return 0


# -- starting, checking and stopping the server processes ----------------------------------------


@dataclass
class WrkRun:
    """What one wrk run reported, and the server CPU time it cost."""

    requests_per_s: float
    requests: int
    seconds: float
    socket_errors: dict[str, int]
    non_2xx_3xx: int
    latency_ms: dict[str, float]
    server_cpu_s: float
    #: The kernel's share of server_cpu_s (stime): system calls, the TCP stack.
    server_sys_s: float
    wrk_cpu_s: float
    #: How the server's CPU and wrk's CPU spent the run (fractions of the time: "idle",
    #: "steal"), when they are pinned; empty otherwise.
    server_cpu_share: dict[str, float] = field(default_factory=dict)
    wrk_cpu_share: dict[str, float] = field(default_factory=dict)

    @property
    def cpu_us_per_request(self) -> float:
        return self.server_cpu_s / self.requests * 1e6 if self.requests else float("nan")

    @property
    def sys_us_per_request(self) -> float:
        return self.server_sys_s / self.requests * 1e6 if self.requests else float("nan")

    @property
    def server_busy(self) -> float:
        """The share of the run's wall time the server process was on a CPU."""
        return self.server_cpu_s / self.seconds if self.seconds else float("nan")

    @property
    def flags(self) -> list[str]:
        found = [
            f"{count} socket {kind} errors" for kind, count in self.socket_errors.items() if count
        ]
        if self.non_2xx_3xx:
            found.append(f"{self.non_2xx_3xx} non-2xx/3xx responses")
        if self.server_busy < BUSY_FLOOR:
            text = f"server on a CPU only {self.server_busy:.0%} of the run"
            shares = [
                f"{whose} CPU: idle {share['idle']:.0%}, steal {share['steal']:.0%}, other work"
                f" {max(0.0, 1 - share['idle'] - share['steal'] - busy):.0%}"
                for whose, share, busy in (
                    ("its", self.server_cpu_share, self.server_busy),
                    ("wrk's", self.wrk_cpu_share, self.wrk_cpu_s / self.seconds),
                )
                if share
            ]
            found.append(text + (f" ({'; '.join(shares)})" if shares else ""))
        return found


@dataclass
class Contender:
    """One server on one event loop, in its own process."""

    server: str
    loop: str
    port: int
    cpu: int | None = None
    process: subprocess.Popen[bytes] | None = None
    log: IO[bytes] | None = None
    loop_class: str = ""
    response_bytes: int = 0
    response_fields: list[str] = field(default_factory=list)
    warmup: WrkRun | None = None
    runs: list[WrkRun] = field(default_factory=list)
    failure: str | None = None

    @property
    def label(self) -> str:
        return SERVERS[self.server]

    @property
    def name(self) -> str:
        return f"{self.label} on {self.loop}"

    def rps(self) -> list[float]:
        return [run.requests_per_s for run in self.runs]

    def output(self) -> str:
        if self.log is None:
            return ""
        self.log.flush()
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def start(contender: Contender, cpu: int | None, log: IO[bytes]) -> None:
    """Start the server process of `contender`, its output going to `log`."""
    contender.log = log
    command = [
        sys.executable,
        os.path.abspath(__file__),
        "--serve",
        contender.server,
        "--loop",
        contender.loop,
        "--port",
        str(contender.port),
    ]
    contender.process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=contender.log,
        stderr=subprocess.STDOUT,
        preexec_fn=child_setup(cpu),
    )


def wait_ready(contender: Contender, timeout: float = START_TIMEOUT) -> None:
    """Poll connect on the port until the server accepts and has said which loop it runs."""
    assert contender.process is not None
    deadline = time.monotonic() + timeout
    while True:
        if contender.process.poll() is not None:
            raise RuntimeError(f"exited with status {contender.process.returncode} at start")
        accepting = False
        with contextlib.suppress(OSError), socket.create_connection((HOST, contender.port), 0.5):
            accepting = True
        if accepting:
            for line in contender.output().splitlines():
                if line.startswith(READY + " "):
                    contender.loop_class = line.rpartition(" on ")[2]
                    return
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"did not accept connections on port {contender.port} in {timeout} s"
            )
        time.sleep(0.05)


def verify(contender: Contender) -> None:
    """Two GETs on one kept-alive connection with http.client; then the raw response once."""
    if contender.loop == "uvloop" and not contender.loop_class.startswith("uvloop"):
        raise RuntimeError(f"asked for uvloop, runs {contender.loop_class}")
    if contender.loop == "asyncio" and contender.loop_class.startswith("uvloop"):
        raise RuntimeError(f"asked for the default asyncio loop, runs {contender.loop_class}")
    conn = http.client.HTTPConnection(HOST, contender.port, timeout=5)
    try:
        for attempt in (1, 2):
            conn.request("GET", "/")
            response = conn.getresponse()
            body = response.read()
            content_type = response.getheader("Content-Type", "")
            if response.status != 200:
                raise RuntimeError(f"request {attempt}: status {response.status}, expected 200")
            if body != BODY:
                raise RuntimeError(f"request {attempt}: body {body!r}, expected {BODY!r}")
            if content_type.split(";")[0].strip() != CONTENT_TYPE:
                raise RuntimeError(f"request {attempt}: Content-Type {content_type!r}")
            if response.will_close:
                raise RuntimeError(f"request {attempt}: the server closes the connection")
    finally:
        conn.close()
    # The bytes each server sends per response, to show what wrk reads from each.
    with socket.create_connection((HOST, contender.port), 5) as sock:
        sock.sendall(f"GET / HTTP/1.1\r\nHost: {HOST}:{contender.port}\r\n\r\n".encode())
        data = b""
        while b"\r\n\r\n" not in data or not data.endswith(BODY):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    head = data.partition(b"\r\n\r\n")[0].decode("latin-1")
    contender.response_bytes = len(data)
    contender.response_fields = [line.partition(":")[0] for line in head.split("\r\n")[1:]]


def stop(contenders: Sequence[Contender]) -> None:
    """SIGTERM to every server still running, then SIGKILL to those not gone after STOP_TIMEOUT.

    Any that is still alive when this is interrupted (a second Ctrl-C) is killed on the way out.
    """
    running = [c for c in contenders if c.process is not None and c.process.poll() is None]
    try:
        for contender in running:
            assert contender.process is not None
            contender.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for contender in running:
            assert contender.process is not None
            try:
                contender.process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                contender.process.kill()
                contender.process.wait()
                if contender.failure is None:
                    contender.failure = f"did not stop within {STOP_TIMEOUT} s of SIGTERM; killed"
    finally:
        for contender in contenders:
            process = contender.process
            if process is None:
                continue
            if process.poll() is None:
                process.kill()
                process.wait()
            clean = (0, -signal.SIGKILL, -signal.SIGTERM)
            if process.returncode not in clean and contender.failure is None:
                contender.failure = f"exited with status {process.returncode} when stopped"


def check(contender: Contender) -> None:
    """Wait for the server and verify it; on failure, note why and stop it."""
    try:
        wait_ready(contender)
        verify(contender)
    except (RuntimeError, OSError, http.client.HTTPException) as exc:
        contender.failure = f"failed at start or check: {exc}"
        print(f"  {contender.name}: {contender.failure}", file=sys.stderr, flush=True)
        stop([contender])


# -- wrk -----------------------------------------------------------------------------------------

_UNITS_S = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def _seconds(value: str, unit: str) -> float:
    return float(value) * _UNITS_S[unit]


def cpu_seconds(pid: int) -> tuple[float, float]:
    """(utime + stime, stime) of a process in seconds, from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    # After the command name: state is field 3, utime field 14 and stime field 15 (1-based).
    utime, stime = int(fields[11]), int(fields[12])
    ticks = os.sysconf("SC_CLK_TCK")
    return (utime + stime) / ticks, stime / ticks


def cpu_ticks(cpu: int | None) -> dict[str, int]:
    """The tick counters of one CPU from /proc/stat ({} if unknown)."""
    if cpu is None:
        return {}
    names = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")
    with contextlib.suppress(OSError), open("/proc/stat") as stat:
        for line in stat:
            if line.startswith(f"cpu{cpu} "):
                return dict(zip(names, map(int, line.split()[1:9]), strict=True))
    return {}


def cpu_share(before: dict[str, int], after: dict[str, int]) -> dict[str, float]:
    """The share of a CPU's time between two readings that was idle and stolen."""
    if not before or not after:
        return {}
    total = sum(after.values()) - sum(before.values())
    if total <= 0:
        return {}
    idle = after["idle"] + after["iowait"] - before["idle"] - before["iowait"]
    return {"idle": idle / total, "steal": (after["steal"] - before["steal"]) / total}


def background_load(seconds: float = 1.0) -> str | None:
    """How busy each CPU is before anything starts: other processes would skew the figures."""
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    before = {cpu: cpu_ticks(cpu) for cpu in cpus}
    time.sleep(seconds)
    shares = {cpu: cpu_share(before[cpu], cpu_ticks(cpu)) for cpu in cpus}
    parts = [f"CPU {cpu} {1 - share['idle']:.0%} busy" for cpu, share in shares.items() if share]
    return f"before the servers started: {', '.join(parts)} over {seconds:g} s" if parts else None


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def parse_wrk(output: str) -> dict[str, Any]:
    """The figures in wrk's report; raises ValueError if they are not there."""
    total = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m|h),", output)
    rate = re.search(r"^Requests/sec:\s*([\d.]+)", output, re.MULTILINE)
    if total is None or rate is None:
        raise ValueError("no 'requests in' or 'Requests/sec:' line in wrk's output")
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    counts = [int(group) for group in errors.groups()] if errors else [0, 0, 0, 0]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    latency = {
        percent: round(_seconds(value, unit) * 1e3, 4)
        for percent, value, unit in re.findall(
            r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s|m)", output, re.MULTILINE
        )
    }
    return {
        "requests_per_s": float(rate.group(1)),
        "requests": int(total.group(1)),
        "seconds": _seconds(total.group(2), total.group(3)),
        "socket_errors": dict(zip(("connect", "read", "write", "timeout"), counts, strict=True)),
        "non_2xx_3xx": int(non_2xx.group(1)) if non_2xx else 0,
        "latency_ms": latency,
    }


def run_wrk(
    wrk: str, contender: Contender, *, seconds: float, connections: int, cpu: int | None
) -> WrkRun:
    assert contender.process is not None
    url = f"http://{HOST}:{contender.port}/"
    command = [wrk, "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency", url]
    pid = contender.process.pid
    wrk_before = children_cpu_seconds()
    ticks_before = cpu_ticks(contender.cpu)
    wrk_ticks_before = cpu_ticks(cpu)
    before = cpu_seconds(pid)
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        preexec_fn=child_setup(cpu, arm=False),
        check=False,
    )
    after = cpu_seconds(pid)
    ticks_after = cpu_ticks(contender.cpu)
    wrk_ticks_after = cpu_ticks(cpu)
    wrk_after = children_cpu_seconds()
    if done.returncode != 0:
        raise RuntimeError(
            f"wrk exited with status {done.returncode}: {done.stderr or done.stdout}"
        )
    try:
        figures = parse_wrk(done.stdout)
    except ValueError as exc:
        raise RuntimeError(f"{exc}:\n{done.stdout}{done.stderr}") from None
    return WrkRun(
        **figures,
        server_cpu_s=after[0] - before[0],
        server_sys_s=after[1] - before[1],
        wrk_cpu_s=wrk_after - wrk_before,
        server_cpu_share=cpu_share(ticks_before, ticks_after),
        wrk_cpu_share=cpu_share(wrk_ticks_before, wrk_ticks_after),
    )


def wrk_version(wrk: str) -> str:
    done = subprocess.run([wrk, "--version"], capture_output=True, text=True, check=False)
    first = (done.stdout or done.stderr).strip().splitlines()
    words = first[0].split() if first else []
    return words[1] if len(words) > 1 else "?"


# -- measuring -----------------------------------------------------------------------------------


def measure(
    contenders: list[Contender],
    wrk: str,
    *,
    rounds: int,
    seconds: float,
    warmup: float,
    connections: int,
    cpu: int | None,
) -> None:
    """A warm-up run for each, then the rounds, the order rotating each round."""

    def load(contender: Contender, seconds: float) -> WrkRun | None:
        if contender.failure is not None:
            return None
        try:
            run = run_wrk(wrk, contender, seconds=seconds, connections=connections, cpu=cpu)
        except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
            contender.failure = f"wrk run failed: {exc}"
            return None
        assert contender.process is not None
        if contender.process.poll() is not None:
            contender.failure = f"the server exited during a run ({contender.process.returncode})"
            return None
        return run

    for contender in contenders:
        if warmup > 0:
            print(f"  warm-up {contender.name} ({warmup:g} s)", file=sys.stderr, flush=True)
            contender.warmup = load(contender, warmup)
    for number in range(rounds):
        shift = number % len(contenders)
        print(f"  round {number + 1}/{rounds}", file=sys.stderr, flush=True)
        for contender in contenders[shift:] + contenders[:shift]:
            run = load(contender, seconds)
            if run is not None:
                contender.runs.append(run)
                flags = f" [{', '.join(run.flags)}]" if run.flags else ""
                print(
                    f"    {contender.name:<28} {run.requests_per_s:>10,.0f} req/s"
                    f" {run.cpu_us_per_request:>7.1f} CPU µs/req{flags}",
                    file=sys.stderr,
                    flush=True,
                )


# -- reporting -----------------------------------------------------------------------------------


def machine_info(wrk: str) -> dict[str, Any]:
    versions = {package: _version(package) for package in ("aioreq", "aiohttp", "uvloop")}
    versions["wrk"] = wrk_version(wrk)
    return machine(versions)


def summary(contender: Contender) -> dict[str, Any]:
    rps = contender.rps()
    cpu = [run.cpu_us_per_request for run in contender.runs]
    return {
        "median": _median(rps),
        "min": min(rps) if rps else float("nan"),
        "max": max(rps) if rps else float("nan"),
        "cpu_us": _median(cpu),
        "sys_us": _median([run.sys_us_per_request for run in contender.runs]),
        "server_cpu_busy": _median([run.server_busy for run in contender.runs]),
        "wrk_cpu_busy": _median(
            [run.wrk_cpu_s / run.seconds for run in contender.runs if run.seconds]
        ),
        "p50_ms": _median([run.latency_ms.get("50", float("nan")) for run in contender.runs]),
        "p99_ms": _median([run.latency_ms.get("99", float("nan")) for run in contender.runs]),
        "flagged_rounds": [
            (number, run.flags) for number, run in enumerate(contender.runs, 1) if run.flags
        ],
    }


def ratio_text(ratio: float) -> str:
    """A contender's req/s beside aioreq's: ratio = contender / aioreq."""
    if ratio != ratio:  # NaN
        return "n/a"
    if ratio <= 1:
        return f"{1 / ratio:.2f}x slower"
    return f"{ratio:.2f}x faster"


def loop_title(loop: str) -> str:
    return "default asyncio event loop" if loop == "asyncio" else "uvloop"


def print_report(
    info: dict[str, Any],
    contenders: list[Contender],
    notes: list[str],
    *,
    rounds: int,
    seconds: float,
    warmup: float,
    connections: int,
    pinning: str,
) -> None:
    print("HTTP/1.1 server throughput: aioreq.server beside aiohttp.web, loaded by wrk")
    print_machine(info)
    print(f"pinning   {pinning}")
    plural = "s" if rounds != 1 else ""
    print(
        f"method    wrk -t1 -c{connections} -d{seconds:g}s --latency (keep-alive), each server in"
        " its own process;"
    )
    print(
        f"          a {warmup:g} s warm-up run per server, not counted; {rounds} interleaved"
        f" round{plural}, the order"
    )
    print("          rotating each round; median, min and max of requests/s over the rounds;")
    print("          CPU µs/req = the server process's CPU time during a run (utime + stime,")
    print("          /proc/<pid>/stat) / the requests wrk completed, median over the rounds")
    print(f"handler   GET / -> 200, body {BODY!r}, Content-Type: {CONTENT_TYPE}")
    seen: set[str] = set()
    for contender in contenders:
        if contender.response_bytes and contender.server not in seen:
            seen.add(contender.server)
            fields = ", ".join(contender.response_fields)
            print(f"response  {contender.label}: {contender.response_bytes} bytes ({fields})")
    for note in notes:
        print(f"note      {note}")
    for loop in LOOPS:
        rows = [c for c in contenders if c.loop == loop and c.failure is None and c.runs]
        if not rows:
            continue
        stats = {c.server: summary(c) for c in rows}
        base = stats.get(BASELINE)
        print()
        loop_class = rows[0].loop_class
        print(f"{loop_title(loop)} ({loop_class})")
        print(
            f"  {'server':<16} {'req/s median':>12} {'min':>9} {'max':>9} {'CPU µs/req':>11}"
            "  vs aioreq"
        )
        for contender in rows:
            s = stats[contender.server]
            if contender.server == BASELINE:
                versus = "baseline"
            elif base is None:
                versus = "n/a"
            else:
                versus = ratio_text(s["median"] / base["median"])
            mark = " !" if s["flagged_rounds"] else ""
            print(
                f"  {contender.label:<16} {s['median']:>12,.0f} {s['min']:>9,.0f}"
                f" {s['max']:>9,.0f} {s['cpu_us']:>11.1f}  {versus}{mark}"
            )
        for contender in rows:
            values = " ".join(f"{value:,.0f}" for value in contender.rps())
            s = stats[contender.server]
            print(
                f"  {contender.label} rounds: {values} req/s; latency p50 {s['p50_ms']:.2f} ms,"
                f" p99 {s['p99_ms']:.2f} ms; CPU µs/req {s['cpu_us'] - s['sys_us']:.1f} user"
                f" + {s['sys_us']:.1f} kernel; CPU busy: server {s['server_cpu_busy']:.0%},"
                f" wrk {s['wrk_cpu_busy']:.0%}"
            )
            for number, flags in s["flagged_rounds"]:
                print(f"  ! {contender.label} round {number}: {', '.join(flags)}")
        other = stats.get("aiohttp")
        if base is not None and other is not None:
            ratio = base["median"] / other["median"]
            verdict = "met" if ratio >= TARGET else "NOT met"
            cpu_ratio = other["cpu_us"] / base["cpu_us"]
            print(
                f"  aioreq.server / aiohttp.web = {ratio:.2f}× requests/s"
                f" (target ≥ {TARGET}×: {verdict}); aiohttp.web uses {cpu_ratio:.2f}× the CPU"
                " per request"
            )
    failed = [c for c in contenders if c.failure is not None]
    for contender in failed:
        print()
        print(f"FAILED    {contender.name}: {contender.failure}")
        output = contender.output().strip()
        if output:
            print("          its output:")
            for line in output.splitlines()[-40:]:
                print(f"          | {line}")


def json_report(
    info: dict[str, Any],
    contenders: list[Contender],
    notes: list[str],
    *,
    rounds: int,
    seconds: float,
    warmup: float,
    connections: int,
    pinning: str,
) -> dict[str, Any]:
    loops: dict[str, Any] = {}
    for loop in LOOPS:
        rows = [c for c in contenders if c.loop == loop]
        if not rows:
            continue
        servers: dict[str, Any] = {}
        for contender in rows:
            s = summary(contender)
            servers[contender.label] = {
                "loop_class": contender.loop_class,
                "failure": contender.failure,
                "output": contender.output() if contender.failure else None,
                "response_bytes": contender.response_bytes,
                "response_fields": contender.response_fields,
                "requests_per_s_median": s["median"],
                "requests_per_s_min": s["min"],
                "requests_per_s_max": s["max"],
                "cpu_us_per_request_median": s["cpu_us"],
                "kernel_cpu_us_per_request_median": s["sys_us"],
                "server_cpu_busy_median": s["server_cpu_busy"],
                "wrk_cpu_busy_median": s["wrk_cpu_busy"],
                "warmup": vars(contender.warmup) if contender.warmup else None,
                "rounds": [
                    {
                        **vars(run),
                        "cpu_us_per_request": run.cpu_us_per_request,
                        "server_busy": run.server_busy,
                        "flags": run.flags,
                    }
                    for run in contender.runs
                ],
            }
        by_server = {c.server: summary(c) for c in rows if c.failure is None and c.runs}
        ratio = None
        if BASELINE in by_server and "aiohttp" in by_server:
            ratio = by_server[BASELINE]["median"] / by_server["aiohttp"]["median"]
        loops[loop] = {
            "servers": servers,
            "ratio_aioreq_over_aiohttp": ratio,
            "target": TARGET,
            "target_met": ratio >= TARGET if ratio is not None else None,
        }
    return {
        **info,
        "wrk_command": f"wrk -t1 -c{connections} -d{seconds:g}s --latency",
        "rounds": rounds,
        "seconds_per_run": seconds,
        "warmup_seconds": warmup,
        "connections": connections,
        "pinning": pinning,
        "notes": notes,
        "loops": loops,
    }


# -- main ----------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    cli = argparse.ArgumentParser(description=__doc__.partition("\n")[0] if __doc__ else None)
    cli.add_argument(
        "--servers",
        default=",".join(SERVERS),
        help=f"comma-separated, from {', '.join(SERVERS)} (default: all)",
    )
    cli.add_argument("--loop", choices=(*LOOPS, "both"), default="both", help="default: both")
    cli.add_argument("--rounds", type=int, help="interleaved rounds (default 5, 1 with --quick)")
    cli.add_argument(
        "--duration", type=float, help="seconds per wrk run (default 5, 2 with --quick)"
    )
    cli.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds (default 2)")
    cli.add_argument("--connections", type=int, default=64, help="wrk connections (default 64)")
    cli.add_argument("--quick", action="store_true", help="1 round of 2 s: a smoke test")
    cli.add_argument("--json", action="store_true", help="print the results as JSON")
    cli.add_argument("--no-pin", action="store_true", help="do not pin servers and wrk to CPUs")
    cli.add_argument("--serve", choices=tuple(SERVERS), help=argparse.SUPPRESS)
    cli.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = cli.parse_args(argv)

    if args.serve is not None:
        if args.port is None or args.loop == "both":
            cli.error("--serve needs --port and --loop asyncio|uvloop")
        return serve_main(args.serve, args.loop, args.port)

    servers = [name.strip() for name in args.servers.split(",") if name.strip()]
    unknown = [name for name in servers if name not in SERVERS]
    if unknown or not servers:
        cli.error(f"--servers: unknown {unknown}; choose from {', '.join(SERVERS)}")
    servers = [name for name in SERVERS if name in servers]  # the baseline first
    rounds = args.rounds or (1 if args.quick else 5)
    seconds = args.duration or (2.0 if args.quick else 5.0)
    if rounds < 1 or seconds <= 0 or args.warmup < 0 or args.connections < 1:
        cli.error("--rounds, --duration and --connections must be positive")

    wrk = shutil.which("wrk")
    if wrk is None:
        print(INSTALL_WRK, file=sys.stderr)
        return 2

    notes: list[str] = []
    loops = list(LOOPS) if args.loop == "both" else [args.loop]
    if "uvloop" in loops and importlib.util.find_spec("uvloop") is None:
        loops.remove("uvloop")
        notes.append("uvloop skipped: not importable (pip install uvloop)")
    for name in list(servers):
        module = "aioreq.server" if name == "aioreq" else "aiohttp.web"
        try:
            found = importlib.util.find_spec(module) is not None
        except ImportError:
            found = False
        if not found:
            servers.remove(name)
            notes.append(f"{SERVERS[name]} skipped: module {module} not found")
    if not loops or not servers:
        print("nothing to measure: " + "; ".join(notes), file=sys.stderr)
        return 1

    info = machine_info(wrk)  # before the servers import aioreq: the source state they run
    load = background_load()
    if load is not None:
        notes.append(load)
    server_cpu, wrk_cpu, pinning = choose_cpus(not args.no_pin, "servers", "wrk and this script")
    contenders = [
        Contender(name, loop, free_port(), server_cpu) for loop in loops for name in servers
    ]
    with contextlib.ExitStack() as logs:
        try:
            for contender in contenders:
                start(contender, server_cpu, logs.enter_context(tempfile.TemporaryFile()))
            for contender in contenders:
                check(contender)
            ready = [c for c in contenders if c.failure is None]
            print(
                f"measuring {len(ready)} servers, {rounds} rounds of {seconds:g} s ...",
                file=sys.stderr,
                flush=True,
            )
            if ready:
                measure(
                    ready,
                    wrk,
                    rounds=rounds,
                    seconds=seconds,
                    warmup=args.warmup,
                    connections=args.connections,
                    cpu=wrk_cpu,
                )
        finally:
            stop(contenders)

        options: dict[str, Any] = {
            "rounds": rounds,
            "seconds": seconds,
            "warmup": args.warmup,
            "connections": args.connections,
            "pinning": pinning,
        }
        if args.json:
            report = _no_nan(json_report(info, contenders, notes, **options))
            print(json.dumps(report, indent=2, ensure_ascii=False))
        else:
            print_report(info, contenders, notes, **options)
    return 1 if any(c.failure is not None for c in contenders) else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted; the server processes were stopped", file=sys.stderr)
        sys.exit(130)
