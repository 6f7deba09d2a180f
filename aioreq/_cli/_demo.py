"""`aioreq demo` (and a bare `aioreq`): a tour of the client, measured as it runs.

It starts two fake servers of `pytest_aioreq` in this process, one over HTTP and one over
HTTPS with a certificate from a CA made for the run, and walks through what aioreq does:
`get_requests`, the `Client` and its streaming, chunked and gzip bodies, TLS, keep-alive,
slow answers, timeouts and broken responses, sync against async timings, chains of dependent
requests run side by side, and the sans-IO parser refusing what HTTP forbids. Nothing leaves
127.0.0.1, and it takes a few seconds.

The tour checks its own results (a timeout must fire, a body must be whole, chains must end
where they would one after another): each section says whether everything held, and the exit
code is 1 when something did not, so a newcomer never reads a figure that was not true.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import hashlib
import json
import ssl
import time
import urllib.request
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any

import trustme
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

import aioreq
from aioreq.protocol import RequestParser, ResponseParser, encode_request_head
from aioreq.server import Response
from pytest_aioreq.fakeserver import FakeServer, RecordedRequest, faults

from ._tour import Section, Tour, cell, rate_text, seconds_text

__all__ = ["add_parser", "run"]

MIB = 1 << 20
FETCHED = 200  # URLs for get_requests
STREAMED = 8 * MIB
SLOW_COUNT = 40  # requests in the sync-versus-async table
SLOW_DELAY = 0.025  # seconds the server takes for each of them
WORKERS = 8
STEPS = 25  # dependent requests in each worker's chain
STEP_DELAY = 0.005  # seconds the server takes for each step
STALL_TIMEOUT = 0.3


def add_parser(commands: Any) -> None:
    """Add the `demo` subcommand to `commands` (argparse's subparsers)."""
    command = commands.add_parser(
        "demo",
        help="a tour of the client against fake servers started in-process (the default)",
        description=__doc__.split("\n\n")[1],
    )
    command.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Start the fake servers, run the tour, print its summary; 0 when every section held."""
    console = Console(highlight=False)
    started = time.perf_counter()
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost", "127.0.0.1").configure_cert(server_context)
    with FakeServer() as http, FakeServer(ssl=server_context, ca=ca) as https:
        tour = _Demo(console, http, https)
        asyncio.run(tour.run())
        problems = http.problems() + https.problems()
    return tour.summary(problems, time.perf_counter() - started, _NEXT)


_NEXT = (
    "Next:\n"
    "  aioreq get URL           one request, printed (post, put... alike)\n"
    "  aioreq serve [--tls]     these fake servers, standalone\n"
    "  aioreq bench             the client's throughput, sync and async\n"
    "  pytest -p pytest_aioreq  the fake servers as fixtures in your tests\n"
    "  docs/index.md            the documentation: guide, plugin, CLI, migrating\n"
    "  examples/                one runnable script per use case"
)


def _lineage(exc: BaseException) -> str:
    """The exception's place in aioreq's tree: "ReadTimeout → TimeoutError → ... AioreqError"."""
    return " → ".join(
        cls.__name__ for cls in type(exc).__mro__ if issubclass(cls, aioreq.AioreqError)
    )


def _sent_headers(echoed: dict[str, Any]) -> dict[str, str]:
    """The request's header fields, by lower-case name, from the JSON that /echo answers."""
    return {name.lower(): value for name, value in echoed["headers"]}


def _next_token(token: str) -> str:
    """What a step of a chain answers to a token (the client cannot guess it ahead)."""
    return hashlib.sha256(token.encode()).hexdigest()[:12]


class _Trace:
    """A client's trace function: counts the events, keeps the last TLS handshake's details."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.tls: dict[str, Any] = {}

    def __call__(self, event: str, info: dict[str, Any]) -> None:
        self.counts[event] += 1
        if event == "tls_done":
            self.tls = info


class _Demo(Tour):
    """The sections, in order: each prints its heading, what it shows, the code, and results."""

    def __init__(self, console: Console, http: FakeServer, https: FakeServer) -> None:
        super().__init__(console)
        self.http = http
        self.https = https
        self.trace = _Trace()
        self.client: aioreq.Client

    # -- the run ----------------------------------------------------------------------------------

    async def run(self) -> None:
        self.console.rule(f"[bold]aioreq {aioreq.__version__}: the demo")
        self.console.print(
            Text(
                "Two fake servers of pytest_aioreq run in this process, on their own thread:\n"
                f"  HTTP   {self.http.url}\n"
                f"  HTTPS  {self.https.url}  (certificate from a CA made for this run)\n"
                "Every request below goes to them over real loopback sockets; nothing leaves "
                "127.0.0.1. The clients are made with trust_env=False, so that proxy settings "
                "in your environment cannot divert them. The servers share this process's CPU: "
                "the timings show what overlaps what, not top speed (aioreq bench measures "
                "that)."
            )
        )
        sections: list[Section] = [
            ("get_requests: many URLs", "200 GETs, 64 at a time", self.fetch),
            ("The Client API", "params, headers, json=", self.client_api),
            ("Streaming", "download and upload", self.streaming),
            ("Content and transport", "gzip, TLS, keep-alive", self.transport),
            ("Timeouts and broken responses", "the error tree", self.failures),
            ("Sync versus async", "waits overlapped", self.sync_vs_async),
            ("Chains of dependent requests", "8 chains side by side", self.chains),
            ("Under the hood: the parser", "smuggling refused", self.parser),
        ]
        context = self.https.client_ssl_context()
        async with aioreq.Client(verify=context, trust_env=False, trace=self.trace) as client:
            self.client = client
            await self.run_sections(sections)

    # -- the sections -----------------------------------------------------------------------------

    async def fetch(self) -> None:
        self.intro(
            f"{FETCHED} URLs of the HTTP server (/bytes/{{n}}, each a different size), "
            "fetched with at most 64 requests in flight over shared keep-alive connections.",
            "urls = [server.url_for(f'/bytes/{100 + i}') for i in range(200)]\n"
            "responses = await aioreq.get_requests(urls, concurrency=64, trust_env=False)",
        )
        urls = [self.http.url_for(f"/bytes/{100 + i}") for i in range(FETCHED)]
        connections = self.http.connection_count
        start = time.perf_counter()
        responses = await aioreq.get_requests(urls, concurrency=64, trust_env=False)
        elapsed = time.perf_counter() - start
        opened = self.http.connection_count - connections
        statuses = Counter(
            r.status if isinstance(r, aioreq.Response) else type(r).__name__ for r in responses
        )
        whole = sum(
            isinstance(r, aioreq.Response) and len(r.body) == 100 + i
            for i, r in enumerate(responses)
        )
        self.facts(
            [
                ("responses", f"{len(responses)}, statuses {dict(statuses)}"),
                ("bodies of the right size", f"{whole} of {FETCHED}"),
                ("wall time", seconds_text(elapsed)),
                ("requests per second", rate_text(len(responses), elapsed)),
                ("connections opened", f"{opened} (the server's count; at most 64)"),
            ]
        )
        self.check(statuses == {200: FETCHED}, f"{FETCHED} responses, all 200")
        self.check(whole == FETCHED, "every body of the size asked for")
        self.check(1 <= opened <= 64, "between 1 and 64 connections")

    async def client_api(self) -> None:
        self.intro(
            "One Client for many requests: query parameters, headers and a JSON body go out; "
            "the server's /echo answers with what it received.",
            "async with aioreq.Client() as client:\n"
            "    resp = await client.get(url, params={'q': 'aioreq'},\n"
            "                            headers={'X-Demo': '1'})\n"
            "    posted = await client.post(url, json={'name': 'Ada', 'langs': ['py']})\n"
            "    resp.status, resp.headers['content-type'], resp.json()",
        )
        url = self.http.url_for("/echo")
        resp = await self.client.get(url, params={"q": "aioreq"}, headers={"X-Demo": "1"})
        echoed = resp.json()
        sent = _sent_headers(echoed)
        document = {"name": "Ada", "langs": ["py"]}
        posted = await self.client.post(url, json=document)
        received = posted.json()
        self.facts(
            [
                ("repr(resp)", repr(resp)),
                ("repr(resp.request)", repr(resp.request)),
                ("status, message", f"{resp.status} {resp.status_message}"),
                ("content-type", resp.headers["content-type"]),
                ("the server saw query", echoed["query"]),
                ("and header X-Demo", sent.get("x-demo")),
                ("and User-Agent", sent.get("user-agent")),
                ("POST json= arrived as", received["body"]),
                ("with content-type", posted.request.headers["content-type"]),
            ]
        )
        self.check(resp.status == 200 and echoed["query"] == {"q": ["aioreq"]}, "the query sent")
        self.check(sent.get("x-demo") == "1", "the X-Demo header sent")
        self.check(json.loads(received["body"]) == document, "the JSON body arrived intact")

    async def streaming(self) -> None:
        self.intro(
            f"A download of {STREAMED // MIB} MiB, read piece by piece as it arrives (never whole "
            "in memory), then an upload streamed from an async generator.",
            "async with client.stream('GET', url) as resp:\n"
            "    async for chunk in resp.iter_bytes():\n"
            "        digest.update(chunk)\n"
            "await client.post(url, content=pieces())  # async def pieces(): yield b'...'",
        )
        expected = hashlib.sha256(bytes(range(256)) * (STREAMED // 256)).hexdigest()
        digest = hashlib.sha256()
        chunks = size = largest = 0
        start = time.perf_counter()
        async with self.client.stream("GET", self.http.url_for(f"/bytes/{STREAMED}")) as resp:
            async for chunk in resp.iter_bytes():
                chunks += 1
                size += len(chunk)
                largest = max(largest, len(chunk))
                digest.update(chunk)
        elapsed = time.perf_counter() - start

        async def pieces() -> AsyncIterator[bytes]:
            for letter in b"streamed":
                yield bytes([letter]) * 4096

        uploaded = await self.client.post(self.http.url_for("/echo"), content=pieces())
        echoed = uploaded.json()
        framing = _sent_headers(echoed).get("transfer-encoding")
        self.facts(
            [
                ("downloaded", f"{size:,} bytes in {chunks} chunks (largest {largest:,})"),
                ("sha256", "matches /bytes/n" if digest.hexdigest() == expected else "differs"),
                ("wall time", f"{seconds_text(elapsed)} ({size / MIB / elapsed:,.0f} MiB/s)"),
                ("uploaded", f"8 pieces of 4,096 bytes, sent with Transfer-Encoding: {framing}"),
                ("the server received", f"{len(echoed['body']):,} bytes"),
            ]
        )
        self.check(size == STREAMED and digest.hexdigest() == expected, "the whole body, intact")
        self.check(echoed["body"] == "".join(c * 4096 for c in "streamed"), "the upload intact")
        self.check(framing == "chunked", "a body of unknown length sent chunked")

    async def transport(self) -> None:
        self.intro(
            "What the client handles below the API: chunked bodies with trailers, gzip "
            "decoding, TLS verified against the CA you give it, and connections kept alive.",
            "resp = await client.get(url)  # /chunked?chunks=5&size=1000&trailer=1\n"
            "resp.trailers['x-trailer'], resp.num_bytes_downloaded, len(resp.body)\n"
            "aioreq.Client(verify=ssl_context)  # the demo CA, not certifi's bundle",
        )
        chunked = await self.client.get(self.http.url_for("/chunked?chunks=5&size=1000&trailer=1"))
        rows = [{"id": i, "name": f"user-{i}", "active": i % 3 != 0} for i in range(1000)]
        self.http.expect("GET", "/report").respond(
            body=gzip.compress(json.dumps(rows).encode()),
            headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
        )
        report = await self.client.get(self.http.url_for("/report"))
        wire, decoded = report.num_bytes_downloaded, len(report.body)
        secure = await self.client.get(self.https.url_for("/echo"))
        tls = self.trace.tls
        try:
            async with aioreq.Client(trust_env=False) as default:
                await default.get(self.https.url_for("/echo"))
            refused = "accepted"
        except aioreq.TLSError as exc:
            refused = f"TLSError: {exc}"
        counts = _Trace()
        async with aioreq.Client(trust_env=False, trace=counts) as fresh:
            for _ in range(20):
                await fresh.get(self.http.url_for("/status/204"))
        opened = counts.counts["connection_created"]
        self.facts(
            [
                (
                    "chunked",
                    f"{chunked.headers.get('transfer-encoding')}, {len(chunked.body):,} "
                    f"bytes, trailer X-Trailer: {chunked.trailers.get('x-trailer')}",
                ),
                (
                    "gzip",
                    f"{wire:,} bytes on the wire, {decoded:,} decoded ({decoded / wire:.0f}×)",
                ),
                ("TLS", f"{tls.get('version')}, {tls.get('cipher', ('?',))[0]}: {secure!r}"),
                ("certificate", "verified against the demo CA (verify=ssl_context)"),
                ("with certifi's CAs", refused),
                ("keep-alive", f"a new Client, 20 requests: {opened} connection opened"),
            ]
        )
        self.check(
            chunked.body == b"".join(bytes([97 + i]) * 1000 for i in range(5)),
            "the chunked body, de-chunked",
        )
        self.check(chunked.trailers.get("x-trailer") == "done", "the trailer read")
        self.check(report.json() == rows and wire < decoded, "the gzip body decoded")
        self.check(secure.status == 200 and bool(tls), "an HTTPS request on a verified handshake")
        self.check(refused.startswith("TLSError"), "the demo certificate refused by certifi's CAs")
        self.check(opened == 1, "the 20 requests on one kept-alive connection")

    async def failures(self) -> None:
        self.intro(
            "A slow answer within its timeout; a server that never answers, cut off by a read "
            "timeout; a body cut short and a malformed status line. Each failure is an "
            "exception of one tree under aioreq.AioreqError.",
            "await client.get(url, timeout=aioreq.Timeout(read=1.0))  # /delay/0.2\n"
            "try:\n"
            "    await client.get(stall_url, timeout=aioreq.Timeout(read=0.3))\n"
            "except aioreq.ReadTimeout:  # also the builtin TimeoutError\n"
            "    ...",
        )
        self.http.expect("GET", "/bad-status").respond(
            body="hi", fault=faults.malformed_status_line(b"HTTP/1.1 2OO OK")
        )
        table = Table(box=box.SIMPLE_HEAD)
        table.add_column("request")
        table.add_column("outcome")
        table.add_column("after", justify="right")
        cases = [
            ("/delay/0.2", aioreq.Timeout(read=1.0)),
            ("/stall", aioreq.Timeout(read=STALL_TIMEOUT)),
            ("/truncate/1000", aioreq.Timeout(5)),
            ("/bad-status", aioreq.Timeout(5)),
        ]
        caught: dict[str, BaseException] = {}
        took: dict[str, float] = {}
        for path, timeout in cases:
            start = time.perf_counter()
            try:
                resp = await self.client.get(self.http.url_for(path), timeout=timeout)
                outcome = f"{resp.status} {resp.status_message}"
            except aioreq.AioreqError as exc:
                caught[path] = exc
                outcome = f"{type(exc).__name__}: {exc}"
            took[path] = time.perf_counter() - start
            table.add_row(cell(path), cell(outcome), seconds_text(took[path]))
        self.console.print(table)
        for path, error in caught.items():
            self.console.print(Text(f"  {path}: {_lineage(error)}"))
        self.check(
            "/delay/0.2" not in caught and 0.19 <= took["/delay/0.2"] < 1.0,
            "/delay/0.2 answered within its read timeout",
        )
        stalled = caught.get("/stall")
        self.check(
            isinstance(stalled, aioreq.ReadTimeout) and isinstance(stalled, TimeoutError),
            "/stall raises aioreq.ReadTimeout, a builtin TimeoutError too",
        )
        self.check(
            # An event loop may run a timer up to its clock resolution early.
            STALL_TIMEOUT - 0.01 <= took["/stall"] < STALL_TIMEOUT + 1.0,
            f"the read timeout fires after {STALL_TIMEOUT} s, not much later",
        )
        for path in ("/truncate/1000", "/bad-status"):
            self.check(
                isinstance(caught.get(path), aioreq.RemoteProtocolError),
                f"{path} raises aioreq.RemoteProtocolError",
            )

    async def sync_vs_async(self) -> None:
        self.intro(
            f"{SLOW_COUNT} requests to an endpoint that takes {SLOW_DELAY * 1000:.0f} ms to "
            "answer: awaited one after another, the waits add up; started together, asyncio "
            "overlaps them. urllib.request (synchronous) for reference.",
            "for url in urls:\n"
            "    await client.get(url)                               # one after another\n"
            "await asyncio.gather(*(client.get(url) for url in urls))  # concurrently",
        )
        urls = [self.http.url_for(f"/delay/{SLOW_DELAY}")] * SLOW_COUNT
        start = time.perf_counter()
        statuses = [(await self.client.get(url)).status for url in urls]
        one_by_one = time.perf_counter() - start
        start = time.perf_counter()
        statuses += [r.status for r in await asyncio.gather(*map(self.client.get, urls))]
        together = time.perf_counter() - start

        def with_urllib() -> list[int]:
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            found = []
            for url in urls:
                with opener.open(url, timeout=10) as answer:
                    answer.read()
                    found.append(answer.status)
            return found

        start = time.perf_counter()
        statuses += await asyncio.to_thread(with_urllib)
        synchronous = time.perf_counter() - start
        self.timings(
            [
                ("aioreq, one after another", SLOW_COUNT, one_by_one),
                ("aioreq, concurrently (gather)", SLOW_COUNT, together),
                ("urllib.request, one after another", SLOW_COUNT, synchronous),
            ]
        )
        self.check(statuses == [200] * 3 * SLOW_COUNT, "every answer 200")
        self.check(one_by_one >= 0.9 * SLOW_COUNT * SLOW_DELAY, "the sequential waits add up")
        self.check(together * 5 < one_by_one, "concurrent requests at least 5× faster")

    async def chains(self) -> None:
        self.intro(
            f"{WORKERS} workers, each a chain of {STEPS} POSTs where every request carries the "
            f"token the previous answer gave (the server takes {STEP_DELAY * 1000:.0f} ms a "
            "step). Within a chain the requests must wait for each other; the chains need not.",
            "async def chain(worker):\n"
            "    token = f'worker-{worker}'\n"
            "    for _ in range(25):\n"
            "        resp = await client.post(url, json={'token': token})\n"
            "        token = resp.json()['token']\n"
            "    return token\n"
            "await asyncio.gather(*(chain(w) for w in range(8)))",
        )

        async def step(request: RecordedRequest) -> Response:
            await asyncio.sleep(STEP_DELAY)
            return Response(json={"token": _next_token(request.json()["token"])})

        self.http.expect("POST", "/step").respond_with(step)
        url = self.http.url_for("/step")

        async def chain(worker: int) -> str:
            token = f"worker-{worker}"
            for _ in range(STEPS):
                token = (await self.client.post(url, json={"token": token})).json()["token"]
            return token

        start = time.perf_counter()
        one_by_one = [await chain(worker) for worker in range(WORKERS)]
        sequential = time.perf_counter() - start
        start = time.perf_counter()
        together = await asyncio.gather(*map(chain, range(WORKERS)))
        concurrent = time.perf_counter() - start
        expected = []
        for worker in range(WORKERS):
            token = f"worker-{worker}"
            for _ in range(STEPS):
                token = _next_token(token)
            expected.append(token)
        self.timings(
            [
                ("chains one after another", WORKERS * STEPS, sequential),
                ("chains side by side (gather)", WORKERS * STEPS, concurrent),
            ]
        )
        self.facts([("final tokens", f"{together[0]}, ... (the same both ways)")])
        self.check(one_by_one == together == expected, "each chain's final token, both ways")
        self.check(concurrent * 3 < sequential, "the chains side by side at least 3× faster")

    async def parser(self) -> None:
        self.intro(
            "aioreq.protocol parses and serializes HTTP/1.1 without any I/O: bytes in, events "
            "out. It refuses the ambiguities request smuggling lives on, and the client will "
            "not send a header that would inject another.",
            "ResponseParser().feed(data)  # raises aioreq.RemoteProtocolError\n"
            "RequestParser().feed(data)   # its status_hint: what a server answers",
        )
        cases: list[tuple[str, Callable[[], object]]] = [
            (
                "a response with Content-Length and Transfer-Encoding",
                lambda: ResponseParser().feed(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
                ),
            ),
            (
                "a request with Content-Length and Transfer-Encoding",
                lambda: RequestParser().feed(
                    b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
                    b"Transfer-Encoding: chunked\r\n\r\n"
                ),
            ),
            (
                "a request with two Host fields",
                lambda: RequestParser().feed(b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
            ),
            (
                "a chunk size with a 0x prefix",
                lambda: ResponseParser().feed(
                    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n"
                ),
            ),
            (
                "sending a header value with CRLF in it",
                lambda: encode_request_head(b"GET", b"/", [(b"X-Name", b"v\r\nInjected: yes")]),
            ),
        ]
        table = Table(box=box.SIMPLE_HEAD)
        table.add_column("message")
        table.add_column("verdict")
        refused = 0
        for what, attempt in cases:
            try:
                attempt()
                verdict = "accepted"
            except aioreq.ProtocolError as exc:
                refused += 1
                verdict = f"{type(exc).__name__}: {exc}"
                if isinstance(exc, aioreq.RemoteProtocolError):
                    verdict += f" (a server answers {exc.status_hint})"
            table.add_row(cell(what), cell(verdict))
        arrived = len(self.http.requests)
        try:
            await self.client.get(self.http.url_for("/echo"), headers={"X-Name": "v\r\nX: y"})
            injected = "sent"
        except aioreq.LocalProtocolError as exc:
            injected = f"LocalProtocolError: {exc}"
        sent = len(self.http.requests) - arrived
        table.add_row(
            "client.get(url, headers={'X-Name': 'v\\r\\nX: y'})",
            cell(f"{injected} ({sent} requests reached the server)"),
        )
        self.console.print(table)
        self.check(refused == len(cases), "every one of these refused")
        self.check(
            injected.startswith("LocalProtocolError") and sent == 0,
            "the client refuses the injection before sending anything",
        )
