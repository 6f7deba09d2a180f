"""How fast aioreq parses an HTTP/1.1 response, beside its peers, in one run.

What is measured: the CPU time to turn one ~300-byte keep-alive response (a status line, 8 header
fields, a 20-byte body with Content-Length) into its status code, its header fields and its body,
with the message confirmed complete. Each parser is driven the way its users must drive it, and
one parser object is reused for every response, as on a kept-alive connection:

* aioreq: `ResponseParser.start_response(b"GET")`, then `feed()`; the events (`ResponseHead`,
  body `bytes`, `EndOfMessage`) are dispatched by type.
* h11 (pure Python): a client `Connection` must send a request before it may receive a response,
  so each cycle sends one prebuilt `Request` and `EndOfMessage`, feeds the response with
  `receive_data()`, pulls events with `next_event()` and calls `start_next_cycle()`. Its row
  includes that request send; the cost of the send alone is measured too and printed below the
  table, so it can be subtracted.
* httptools (llhttp in C): one `HttpResponseParser` with Python callbacks that collect the header
  fields into a list of (name, value) pairs and the body chunks into a list.
* aiohttp: its C parser (`aiohttp._http_parser.HttpResponseParser`, llhttp) and its pure-Python
  parser, built as aiohttp's client builds them; the body is taken from the `StreamReader` that
  the parser makes for each response with `read_nowait()`. An event loop is passed in (the
  parser requires one) but never runs.

A parser that is not installed is skipped with a note. Before anything is timed, each parser's
result is checked against the response (status 200, the 8 fields with their values, the body,
complete) on several successive responses; a parser that fails is reported and not timed.

Two scenarios: the whole response in one read, and the same bytes in 4 reads cut mid status
line, mid header section and mid body (incremental parsing; every parser here supports it).

How: each parser runs a batch of N responses, N sized so that a batch takes about 0.2 s. Rounds
interleave the parsers (7 by default, the order rotating each round) so that drift in the
machine hits all of them alike; the result per parser is the median over the rounds of the CPU
time per response (`time.process_time_ns`), with the minimum beside it and the ratio of medians
to aioreq. The garbage collector is disabled during each batch and run between batches. The
process is pinned to one CPU (the last, unless `--cpu` says otherwise) so that the scheduler
does not move it between rounds.

Run it with::

    python benchmarks/parser.py            # full run, a table (about 20 s)
    python benchmarks/parser.py --quick    # 3 rounds of 0.05 s batches: a smoke test
    python benchmarks/parser.py --rounds 11 --json
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

from _common import _version, machine, print_machine

CLOCK = time.process_time_ns
CLOCK_NAME = "time.process_time_ns (CPU time of this process)"

BODY = b'{"ok":true,"n":1234}'
FIELDS = [
    (b"Date", b"Mon, 04 May 2026 12:00:00 GMT"),
    (b"Server", b"nginx/1.25.3"),
    (b"Content-Type", b"application/json; charset=utf-8"),
    (b"Content-Length", b"%d" % len(BODY)),
    (b"Connection", b"keep-alive"),
    (b"Cache-Control", b"no-cache, no-store, must-revalidate"),
    (b"X-Request-Id", b"7f3c2a9e-4b1d-4e8a-9c6f-2d5e8b1a0c34"),
    (b"Vary", b"Accept-Encoding"),
]
RESPONSE = (
    b"HTTP/1.1 200 OK\r\n"
    + b"".join([name + b": " + value + b"\r\n" for name, value in FIELDS])
    + b"\r\n"
    + BODY
)
# Cut points for the incremental scenario: inside "200", inside the Cache-Control value (the
# middle of the header section), and 8 bytes before the end of the body.
CUTS = (10, RESPONSE.index(b"no-store") + 3, len(RESPONSE) - 8)

ONE_READ = (RESPONSE,)
SPLIT_READS = tuple(
    RESPONSE[start:end] for start, end in zip((0, *CUTS), (*CUTS, len(RESPONSE)), strict=True)
)
SCENARIOS = {
    "one read": ONE_READ,
    "4 reads, cut mid status line, mid header section, mid body": SPLIT_READS,
}

#: What one parse returns: status code, header fields (any sized collection of pairs, or a
#: mapping), the body, and whether the parser saw the end of the message.
Result = tuple[int, Any, bytes, bool]
Parse = Callable[[Sequence[bytes]], Result]

BASELINE = "aioreq"


# -- the parsers ---------------------------------------------------------------------------------


def make_aioreq() -> Parse:
    """aioreq's sans-IO `ResponseParser`, reused: one `start_response` per response."""
    from aioreq.protocol import EndOfMessage, ResponseHead, ResponseParser

    parser = ResponseParser()

    def parse(reads: Sequence[bytes]) -> Result:
        parser.start_response(b"GET")
        status, headers, body, complete = 0, None, [], False
        for data in reads:
            for event in parser.feed(data):
                kind = type(event)
                if kind is bytes:
                    body.append(event)
                elif kind is ResponseHead:
                    status, headers = event.status_code, event.headers
                elif kind is EndOfMessage:
                    complete = True
        return status, headers, b"".join(body), complete

    return parse


def make_h11() -> Parse:
    """h11's client `Connection`, reused with `start_next_cycle`; includes the request send."""
    import h11

    conn = h11.Connection(h11.CLIENT)
    # Events are plain values: sending the same ones every cycle is legal and the cheapest.
    request = h11.Request(method="GET", target="/", headers=[("Host", "example.org")])
    end_of_request = h11.EndOfMessage()
    response_type, data_type, end_type = h11.Response, h11.Data, h11.EndOfMessage

    def parse(reads: Sequence[bytes]) -> Result:
        conn.send(request)
        conn.send(end_of_request)
        status, headers, body, complete = 0, None, [], False
        for data in reads:
            conn.receive_data(data)
            while True:
                event = conn.next_event()
                kind = type(event)
                if kind is data_type:
                    body.append(event.data)
                elif kind is response_type:
                    status, headers = event.status_code, event.headers
                elif kind is end_type:
                    complete = True
                    break
                else:  # NEED_DATA
                    break
        if complete:
            conn.start_next_cycle()
        return status, headers, b"".join(body), complete

    return parse


def h11_send_batch() -> Callable[[int], int]:
    """The request send that h11's row includes, alone: `send(Request)` + `send(EndOfMessage)`.

    A connection that has sent its request cannot send another until a response has come, so
    this sends on fresh connections, made in blocks outside the timed part. The send follows the
    same code path on the first cycle of a connection as after `start_next_cycle()`.
    """
    import h11

    request = h11.Request(method="GET", target="/", headers=[("Host", "example.org")])
    end_of_request = h11.EndOfMessage()
    client = h11.CLIENT

    def batch(n: int) -> int:
        elapsed = 0
        while n > 0:
            block = min(n, 256)
            conns = [h11.Connection(client) for _ in range(block)]
            start = CLOCK()
            for conn in conns:
                conn.send(request)
                conn.send(end_of_request)
            elapsed += CLOCK() - start
            n -= block
        return elapsed

    return batch


class _HttptoolsCollector:
    """The callbacks httptools calls: the least a user must do to keep the fields and body."""

    __slots__ = ("body", "complete", "headers")

    def __init__(self) -> None:
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.complete = False

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.complete = True


def make_httptools() -> Parse:
    """httptools' `HttpResponseParser` (llhttp), reused across responses."""
    import httptools

    collector = _HttptoolsCollector()
    parser = httptools.HttpResponseParser(collector)

    def parse(reads: Sequence[bytes]) -> Result:
        collector.headers = []
        collector.body = []
        collector.complete = False
        for data in reads:
            parser.feed_data(data)
        return (
            parser.get_status_code(),
            collector.headers,
            b"".join(collector.body),
            collector.complete,
        )

    return parse


class _AiohttpProtocol:
    """The two methods aiohttp's `StreamReader` calls on its protocol (flow control)."""

    def pause_reading(self) -> None:
        pass

    def resume_reading(self, resume_parser: bool = True) -> None:
        pass


def _aiohttp_parse(parser_class: Any, loop: asyncio.AbstractEventLoop) -> Parse:
    # As aiohttp's client (ResponseHandler.set_response_params) builds it, with its default
    # read buffer size; the loop is only stored by the StreamReader of each response.
    parser = parser_class(_AiohttpProtocol(), loop, 2**18)

    def parse(reads: Sequence[bytes]) -> Result:
        message = payload = None
        for data in reads:
            messages, _upgraded, _tail = parser.feed_data(data)
            if messages:
                message, payload = messages[0]
        body = payload.read_nowait()
        return message.code, message.headers, body, payload.is_eof()

    return parse


def make_aiohttp_c(loop: asyncio.AbstractEventLoop) -> Parse:
    """aiohttp's C parser (Cython over llhttp)."""
    from aiohttp._http_parser import HttpResponseParser

    return _aiohttp_parse(HttpResponseParser, loop)


def make_aiohttp_py(loop: asyncio.AbstractEventLoop) -> Parse:
    """aiohttp's pure-Python parser, what aiohttp runs when its C extension is missing."""
    from aiohttp.http_parser import HttpResponseParserPy

    return _aiohttp_parse(HttpResponseParserPy, loop)


def candidates(loop: asyncio.AbstractEventLoop) -> list[tuple[str, Callable[[], Parse]]]:
    """The parsers, by the label printed for them; the baseline first."""
    return [
        (BASELINE, make_aioreq),
        ("h11 (incl. request send)", make_h11),
        ("httptools (C, llhttp)", make_httptools),
        ("aiohttp (C, llhttp)", lambda: make_aiohttp_c(loop)),
        ("aiohttp (pure Python)", lambda: make_aiohttp_py(loop)),
    ]


# -- checking and timing -------------------------------------------------------------------------


def _text(value: bytes | str) -> str:
    return value.decode("latin-1") if isinstance(value, bytes | bytearray) else value


def verify(parse: Parse, reads: Sequence[bytes]) -> str | None:
    """Why `parse` does not get this response out right, three times in a row, or None."""
    expected = [(name.decode().lower(), value.decode()) for name, value in FIELDS]
    for attempt in range(1, 4):
        try:
            status, headers, body, complete = parse(reads)
        except Exception as exc:
            return f"response {attempt} raised {type(exc).__name__}: {exc}"
        pairs = headers.items() if hasattr(headers, "items") else headers or ()
        got = [(_text(name).lower(), _text(value)) for name, value in pairs]
        if status != 200:
            return f"response {attempt}: status {status!r}, expected 200"
        if got != expected:
            return f"response {attempt}: {len(got)} header fields {got!r}, expected {expected!r}"
        if body != BODY:
            return f"response {attempt}: body {body!r}, expected {BODY!r}"
        if not complete:
            return f"response {attempt}: the end of the message was not reported"
    return None


def parse_batch(parse: Parse, reads: Sequence[bytes]) -> Callable[[int], int]:
    """A batch: parse the response `n` times; returns the CPU nanoseconds it took."""

    def batch(n: int) -> int:
        start = CLOCK()
        for _ in repeat(None, n):
            parse(reads)
        return CLOCK() - start

    return batch


def run_batch(batch: Callable[[int], int], n: int) -> int:
    """Run one batch with the garbage collector off (collected beforehand, untimed)."""
    gc.collect()
    gc.disable()
    try:
        return batch(n)
    finally:
        gc.enable()


def calibrate(batch: Callable[[int], int], target_ns: int) -> int:
    """The batch size N for which a batch takes about `target_ns`."""
    n = 1
    while True:
        elapsed = run_batch(batch, n)
        if elapsed >= target_ns // 8:
            return max(1, round(n * target_ns / elapsed))
        n = max(n * 2, round(n * target_ns / 8 / max(elapsed, 1)))


@dataclass
class Entry:
    """One thing timed: a parser in a scenario, or h11's request send."""

    scenario: str
    label: str
    batch: Callable[[int], int]
    parse: Parse | None = None
    reads: Sequence[bytes] = ()
    n: int = 0
    per_response_us: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.per_response_us)

    @property
    def min(self) -> float:
        return min(self.per_response_us)


def measure(entries: list[Entry], *, rounds: int, target_ns: int) -> None:
    """Size each entry's batch, then run the rounds, the order rotating each round."""
    if not entries:
        return
    for entry in entries:
        entry.n = calibrate(entry.batch, target_ns)
    for number in range(rounds):
        shift = number % len(entries)
        print(f"  round {number + 1}/{rounds}", file=sys.stderr, flush=True)
        for entry in entries[shift:] + entries[:shift]:
            elapsed = run_batch(entry.batch, entry.n)
            entry.per_response_us.append(elapsed / entry.n / 1000)


# -- reporting -----------------------------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    packages = ("aioreq", "h11", "httptools", "aiohttp", "multidict")
    return machine({package: _version(package) for package in packages}, source=False)


def ratio_text(ratio: float) -> str:
    if ratio >= 1:
        return f"{ratio:.1f}x slower"
    return f"{1 / ratio:.1f}x faster"


def print_report(
    info: dict[str, Any],
    tables: dict[str, list[Entry]],
    sends: Entry | None,
    notes: list[str],
    *,
    rounds: int,
    target_ns: int,
) -> None:
    print("HTTP/1.1 response parsing: aioreq beside its peers")
    print_machine(info)
    print(f"clock     {CLOCK_NAME}, {PINNED[0] if PINNED else 'not pinned'}")
    plural = "s" if rounds != 1 else ""
    print(f"method    {rounds} interleaved round{plural}, the order rotating; each a batch of N")
    print(f"          responses per parser, N sized to ~{target_ns / 1e9:.2g} s a batch; median")
    print("          and min over the rounds; GC disabled during each batch, run between batches")
    print(
        f"response  {len(RESPONSE)} bytes: a status line, {len(FIELDS)} header fields,"
        f" a {len(BODY)}-byte body (Content-Length)"
    )
    for note in notes:
        print(f"note      {note}")
    for scenario, entries in tables.items():
        sizes = " + ".join(str(len(data)) for data in SCENARIOS[scenario])
        print()
        print(f"{scenario} ({sizes} bytes)")
        print(f"  {'parser':<26} {'µs/response':>12} {'min':>8} {'N':>8}  vs aioreq")
        base = next((entry for entry in entries if entry.label == BASELINE), None)
        for entry in entries:
            if entry.label == BASELINE:
                versus = "baseline"
            elif base is None:
                versus = "n/a"
            else:
                versus = ratio_text(entry.median / base.median)
            print(
                f"  {entry.label:<26} {entry.median:>12.2f} {entry.min:>8.2f} "
                f"{entry.n:>8}  {versus}"
            )
        h11 = next((entry for entry in entries if entry.label.startswith("h11")), None)
        if sends is not None and h11 is not None:
            parse_only = h11.median - sends.median
            line = f"  h11 with the request send subtracted: {parse_only:.2f} µs"
            if base is not None:
                line += f" ({ratio_text(parse_only / base.median)} than aioreq)"
            print(line)
    if sends is not None:
        print()
        print(
            f"h11 request send alone (send Request + EndOfMessage): {sends.median:.2f} µs "
            f"median, {sends.min:.2f} min, N={sends.n}"
        )


def json_report(
    info: dict[str, Any],
    tables: dict[str, list[Entry]],
    sends: Entry | None,
    notes: list[str],
    *,
    rounds: int,
    target_ns: int,
) -> dict[str, Any]:
    def row(entry: Entry, base: Entry | None) -> dict[str, Any]:
        return {
            "n": entry.n,
            "median_us": entry.median,
            "min_us": entry.min,
            "rounds_us": entry.per_response_us,
            "ratio_vs_aioreq": entry.median / base.median if base is not None else None,
        }

    scenarios = {}
    for scenario, entries in tables.items():
        base = next((entry for entry in entries if entry.label == BASELINE), None)
        scenarios[scenario] = {
            "reads": [len(data) for data in SCENARIOS[scenario]],
            "parsers": {entry.label: row(entry, base) for entry in entries},
        }
    return {
        **info,
        "clock": CLOCK_NAME,
        "rounds": rounds,
        "target_batch_seconds": target_ns / 1e9,
        "gc_disabled_during_batch": True,
        "response_bytes": len(RESPONSE),
        "notes": notes,
        "scenarios": scenarios,
        "h11_request_send": row(sends, None) if sends is not None else None,
    }


# -- main ----------------------------------------------------------------------------------------


#: The CPU the run is pinned to, as pin_to_cpu reported it (printed in the header).
PINNED: list[str] = []


def pin_to_cpu(cpu: int) -> str:
    """Pin this process to one CPU, so the scheduler does not move it between rounds.

    Migrations and a cold cache on another core were the largest source of run-to-run noise
    on the 2-CPU machine this was written on; pinning narrows it (pyperf does the same).
    """
    if cpu == -2 or not hasattr(os, "sched_setaffinity"):
        return "not pinned"
    allowed = sorted(os.sched_getaffinity(0))
    chosen = allowed[-1] if cpu == -1 else cpu
    if chosen not in allowed:
        return f"not pinned (CPU {chosen} is not available)"
    os.sched_setaffinity(0, {chosen})
    return f"pinned to CPU {chosen}"


def main(argv: Sequence[str] | None = None) -> int:
    cli = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    cli.add_argument("--rounds", type=int, help="interleaved rounds (default 7, 3 with --quick)")
    cli.add_argument("--quick", action="store_true", help="3 rounds of ~0.05 s batches")
    cli.add_argument("--json", action="store_true", help="print the results as JSON")
    cli.add_argument(
        "--cpu",
        type=int,
        default=-1,
        help="pin the process to this CPU (default: the last one; -2 to leave it unpinned)",
    )
    args = cli.parse_args(argv)
    PINNED.append(pin_to_cpu(args.cpu))
    rounds = args.rounds or (3 if args.quick else 7)
    if rounds < 1:
        cli.error("--rounds must be at least 1")
    target_ns = 50_000_000 if args.quick else 200_000_000

    notes: list[str] = []
    tables: dict[str, list[Entry]] = {}
    sends: Entry | None = None
    with contextlib.closing(asyncio.new_event_loop()) as loop:
        for label, make in candidates(loop):
            for scenario, reads in SCENARIOS.items():
                try:
                    parse = make()  # a fresh parser per scenario
                except ImportError as exc:
                    notes.append(f"{label} skipped: not importable ({exc})")
                    break
                problem = verify(parse, reads)
                if problem is not None:
                    notes.append(f"{label} [{scenario}] FAILED verification, not timed: {problem}")
                    continue
                entry = Entry(scenario, label, parse_batch(parse, reads), parse, reads)
                tables.setdefault(scenario, []).append(entry)
                if label.startswith("h11") and sends is None:
                    sends = Entry("-", "h11 request send", h11_send_batch())
        everything = [entry for entries in tables.values() for entry in entries]
        if sends is not None:
            everything.append(sends)
        print(
            f"measuring {len(everything)} entries, {rounds} rounds ...",
            file=sys.stderr,
            flush=True,
        )
        measure(everything, rounds=rounds, target_ns=target_ns)
        # The same parser objects, after every timed response: still right?
        for entry in everything:
            if entry.parse is not None:
                problem = verify(entry.parse, entry.reads)
                if problem is not None:
                    notes.append(f"{entry.label} [{entry.scenario}] FAILED after timing: {problem}")

    info = machine_info()
    if args.json:
        report = json_report(info, tables, sends, notes, rounds=rounds, target_ns=target_ns)
        print(json.dumps(report, indent=2))
    else:
        print_report(info, tables, sends, notes, rounds=rounds, target_ns=target_ns)
    return 0


if __name__ == "__main__":
    sys.exit(main())
