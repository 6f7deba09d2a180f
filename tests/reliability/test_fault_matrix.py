"""The client fault matrix: every wire fault, in every phase of an exchange, on a fresh and on a
reused connection, over real loopback sockets.

For each row the tests assert what a user of `aioreq.Client` relies on:

1. the outcome: the exception class the project promises (`RemoteProtocolError` for a malformed
   or truncated response, `ReadError` for a reset, `ReadTimeout`, `WriteError`, `ConnectError`,
   `ConnectTimeout`...), or the response, with its body, when the fault is one a client copes
   with;
2. the time: a timeout row ends within its configured timeout (plus `MARGIN`) and not before
   it; any other row ends within `PROMPT`, far below the read timeout of 10 s its client has --
   a closed or reset connection is noticed at once, not when a timer runs out;
3. the pool: afterwards every connection it counts is idle (no slot leaked), a connection that
   saw a fault is not kept (the next request opens a fresh one), and only a clean keep-alive
   exchange leaves its connection for reuse; then a normal request on the same client succeeds;
4. no ResourceWarning: pytest turns warnings into errors, and `gc.collect()` at the end of each
   test, and again once its event loop is closed, makes an unclosed socket warn inside the test
   that leaked it.

The phases, and where their faults come from:

- response head and body: `pytest_aioreq.fakeserver.faults` on the fake servers, HTTP and
  HTTPS (`RESPONSE_ROWS`, crossed with `WAYS`: GET, POST, a streamed GET, GET over TLS);
- connect: a port nobody listens on, and a listener whose accept queue is full;
- TLS handshake, and request write: `Scripted`, a small threaded server of this module, since
  these faults come before the fake server's HTTP layer or while the request is still going out.

"Reused" means the request goes out on a keep-alive connection that already carried one good
exchange, so the fault meets a reused connection. The client sends an idempotent request with a
replayable body once more, on a fresh connection, when a reused connection fails before any
byte of the response arrived (a server may close an idle connection just as it is reused): the
rows say where that happens (`retried`), and the test named
`test_a_reused_connection_that_fails_before_the_response_is_retried_once` checks it on
purpose. A connection that never carried a request has no such excuse, and nothing that may
have been processed (POST, PATCH, a consumed stream) is sent twice. For the connect and TLS
phases, which only a new connection goes through, "reused" is a pool whose keep-alive
connection the server closed: the request finds it stale and opens a new one, which meets the
fault.

Adding a fault adds a row: append it to `RESPONSE_ROWS`, `HANDSHAKE_ROWS` or `WRITE_ROWS`.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import select
import socket
import ssl
import struct
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import trustme

import aioreq
from aioreq.server import RawResponse
from aioreq.server import Response as ServerResponse
from pytest_aioreq import FakeServer
from pytest_aioreq.fakeserver import faults

from ._scale import scaled

pytestmark = pytest.mark.asyncio

#: The body of the faulted responses: larger than one read of the client's, so "mid-body" is.
BODY = bytes(range(256)) * 16
#: A short timeout, for the rows whose outcome is a timeout.
SHORT = 0.3
#: How far past its timeout a timeout row may end (a loaded CI machine wakes up late).
MARGIN = 0.5
#: How long a row that is not a timeout may take: far below the 10 s read timeout it runs with.
PROMPT = 2.0
#: The timeout of the rows that do not wait for one.
PATIENT = aioreq.Timeout(10.0)
#: The idempotent methods (RFC 9110 §9.2.2) the client's stale-connection retry may resend.
IDEMPOTENT = frozenset(("GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"))


@pytest.fixture(autouse=True, scope="module")
def _young_heap() -> Iterator[None]:
    """Move everything alive before this module to the collector's permanent generation, so
    that the `gc.collect()` closing each test scans only what the tests made (a leaked socket
    is among it) instead of the whole of pytest's heap, 30 ms a time."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@pytest.fixture(autouse=True)
def _collect_after_the_loop() -> Iterator[None]:
    """Collect once more after the test's event loop is closed: a transport the loop still
    held (a connection leaked while registered with it) is garbage only then."""
    yield
    gc.collect()


# -- outcomes -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What a request meets: an exception of one of the classes `errors` (one, unless which
    side notices a failure first is a race), or a response (`status`, `body`)."""

    errors: tuple[type[aioreq.AioreqError], ...] = ()
    status: int = 200
    body: bytes | None = None

    def __str__(self) -> str:
        if self.errors:
            return " or ".join(error.__name__ for error in self.errors)
        return f"{self.status} response"


def fails(*errors: type[aioreq.AioreqError]) -> Outcome:
    return Outcome(errors=errors)


def answers(status: int = 200, body: bytes | None = BODY) -> Outcome:
    return Outcome(status=status, body=body)


@dataclass
class Result:
    """What a request got, and how long it took."""

    elapsed: float
    status: int | None = None
    body: bytes | None = None
    error: BaseException | None = None


async def attempt(request: Callable[[], Any]) -> Result:
    """Run `request()` (a coroutine giving (status, body)), timing it and catching its error."""
    started = time.monotonic()
    try:
        status, body = await request()
    except aioreq.AioreqError as exc:
        return Result(time.monotonic() - started, error=exc)
    return Result(time.monotonic() - started, status=status, body=body)


def check_outcome(result: Result, expected: Outcome, *, waits: float | None) -> None:
    """The outcome is the one expected, within the time allowed (see the module docstring)."""
    if not expected.errors:
        assert result.error is None, f"expected {expected}, got {result.error!r}"
        assert result.status == expected.status
        if expected.body is not None:
            assert result.body == expected.body
    else:
        assert isinstance(result.error, expected.errors), (
            f"expected {expected}, got "
            f"{result.error!r}" + ("" if result.error else f" (a {result.status} response)")
        )
        if isinstance(result.error, aioreq.TimeoutError):
            assert isinstance(result.error, TimeoutError)  # the builtin, that users catch
    if waits is None:
        assert result.elapsed <= PROMPT, f"took {result.elapsed:.2f} s: it waited for a timer"
    else:
        # It waited for its timeout (that is what ended it), and not much longer.
        assert waits - 0.05 <= result.elapsed <= waits + MARGIN, f"took {result.elapsed:.2f} s"


def check_pool(client: aioreq.Client, *, kept: bool) -> None:
    """Every connection the pool counts is idle; one is idle only if the exchange kept it."""
    pool = client._pool
    assert pool.connection_count == pool.idle_count, repr(pool)
    assert pool.idle_count == (1 if kept else 0), repr(pool)


def make_client(timeout: aioreq.Timeout, verify: bool | ssl.SSLContext = True) -> aioreq.Client:
    # trust_env=False: no proxy or .netrc of the machine running the tests gets in the way.
    return aioreq.Client(timeout=timeout, verify=verify, trust_env=False)


async def until_stale(client: aioreq.Client) -> None:
    """Wait until the client has seen the server close its idle connection."""
    idle = [c for connections in client._pool._idle.values() for c in connections]
    assert idle, "no idle connection to wait for"
    for _ in range(400):
        if all(connection.stale for connection in idle):
            return
        await asyncio.sleep(0.005)
    raise AssertionError("the server's close of the idle connection never arrived")


# -- phases: response head and body, from the fake servers --------------------------------------


def respond(fault: faults.Fault, body: bytes = BODY) -> Callable[[Any], object]:
    """Install: answer with `body`, delivered with `fault`."""
    return lambda expectation: expectation.respond(body=body, fault=fault)


def respond_raw(data: bytes) -> Callable[[Any], object]:
    """Install: these bytes, and the connection left open (not a catalogue fault)."""
    reply = RawResponse(data, keep_alive=True)
    return lambda expectation: expectation.respond_with(lambda _request: reply)


def respond_closing() -> Callable[[Any], object]:
    """Install: `faults.close_after(1, ...)`, a response with `Connection: close`."""
    return lambda expectation: expectation.respond_with(
        faults.close_after(1, ServerResponse(body=BODY))
    )


@dataclass(frozen=True)
class Row:
    """One fault of the matrix.

    Attributes:
        id: the test id.
        phase: where the fault strikes: "head" (before the whole head arrived) or "body".
        install: sets up the fault on an expectation of the fake server.
        outcome: what the request meets (the same on a fresh and a reused connection).
        timeout: the client's timeout (None: `PATIENT`).
        waits: the timeout (seconds) the outcome waits for; None for a prompt one.
        kept: the connection stays idle in the pool afterwards (a clean keep-alive exchange).
        retried: on a reused connection the request fails before any response byte, so an
            idempotent one is sent again on a fresh connection (where the fault strikes again).
        reported: where `client.stream()` reports the failure ("head": entering it; "body":
            reading), when not where it strikes.
    """

    id: str
    phase: str
    install: Callable[[Any], object]
    outcome: Outcome
    timeout: aioreq.Timeout | None = None
    waits: float | None = None
    kept: bool = False
    retried: bool = False
    reported: str | None = None


_SMALL = BODY[:64]  # byte by byte, 1 ms apart: the head and this take ~0.15 s
_LONE = b"HTTP/1.1 200 OK\r\nContent-Length: 64\r\n\r\n" + _SMALL
_SLOW = aioreq.Timeout(SHORT)
_SLOW_TOTAL = aioreq.Timeout(10.0, total=SHORT)
# The outcomes, by name: the matrix below reads as a table.
MALFORMED = fails(aioreq.RemoteProtocolError)
RESET = fails(aioreq.ReadError)
TIMED_OUT = fails(aioreq.ReadTimeout)
OK = answers()
f = faults

RESPONSE_ROWS = [
    Row("truncate-in-head", "head", respond(f.truncate(10)), MALFORMED),
    Row("truncate-in-body", "body", respond(f.truncate(300)), MALFORMED),
    Row("close-before-head", "head", respond(f.close("before-head")), MALFORMED, retried=True),
    Row("close-after-head", "body", respond(f.close("after-head")), MALFORMED),
    Row("close-mid-body", "body", respond(f.close("mid-body")), MALFORMED),
    Row("reset-before-head", "head", respond(f.reset("before-head")), RESET, retried=True),
    Row("reset-after-head", "body", respond(f.reset("after-head")), RESET),
    Row("reset-mid-body", "body", respond(f.reset("mid-body")), RESET),
    Row("stall", "head", respond(f.stall()), TIMED_OUT, _SLOW, waits=SHORT),
    Row("delay-within-read-timeout", "head", respond(f.delay(0.05)), OK, kept=True),
    Row("delay-past-read-timeout", "head", respond(f.delay(3.0)), TIMED_OUT, _SLOW, waits=SHORT),
    Row("drip-within-read-timeout", "body", respond(f.drip(0.1, chunk_size=1024)), OK, kept=True),
    Row("drip-gaps-past-read-timeout", "body", respond(f.drip(3.0, chunk_size=1024)), TIMED_OUT,
        _SLOW, waits=SHORT),
    Row("drip-past-total-timeout", "body", respond(f.drip(1.0, chunk_size=256)), TIMED_OUT,
        _SLOW_TOTAL, waits=SHORT),
    Row("malformed-status-line", "head", respond(f.malformed_status_line()), MALFORMED),
    Row("malformed-field", "head", respond(f.malformed_field()), MALFORMED),
    # The first chunk-size line comes in the same read as the head, and the parser, reading
    # all that arrived, fails on it before it gives the head: the request fails at the head.
    Row("bad-chunk-size", "body", respond(f.bad_chunk_size()), MALFORMED, reported="head"),
    Row("missing-last-chunk", "body", respond(f.missing_last_chunk()), MALFORMED),
    Row("length-and-chunked", "head", respond(f.length_and_chunked()), MALFORMED),
    Row("byte-by-byte", "body", respond(f.byte_by_byte(), _SMALL), answers(body=_SMALL),
        kept=True),
    Row("http10", "body", respond(f.http10()), OK),
    Row("http10-close-delimited", "body", respond(f.http10(content_length=False)), OK),
    Row("raw-empty", "head", respond(f.raw(b"")), MALFORMED, retried=True),
    Row("raw-garbage", "head", respond(f.raw(b"garbage\r\n\r\n")), MALFORMED),
    Row("raw-unsolicited-bytes-after", "body", respond_raw(_LONE + b"HTTP/1.1 200 OK\r\n"),
        answers(body=_SMALL)),
    Row("connection-close", "body", respond_closing(), OK),
]  # fmt: skip


@dataclass(frozen=True)
class Way:
    """How the faulted request is made."""

    id: str
    method: str
    tls: bool = False
    streamed: bool = False


WAYS = [
    Way("get", "GET"),
    Way("post", "POST"),  # not idempotent: never sent twice
    Way("stream", "GET", streamed=True),  # client.stream(), the body read as it arrives
    Way("tls", "GET", tls=True),
]


async def fetch(
    client: aioreq.Client, way: Way, url: str, heads: list[int] | None = None
) -> tuple[int, bytes]:
    """The status and body of a request made `way`; with `client.stream()`, the status of the
    head is noted in `heads` as soon as the head arrived."""
    content = b"posted" if way.method == "POST" else None
    if way.streamed:
        async with client.stream(way.method, url, content=content) as response:
            if heads is not None:
                heads.append(response.status)
            return response.status, b"".join([chunk async for chunk in response.iter_bytes()])
    response = await client.request(way.method, url, content=content)
    return response.status, response.body


@pytest.fixture(scope="module")
def fake_tls(aioreq_tls_server_session: FakeServer) -> ssl.SSLContext:
    """A client context trusting the fake HTTPS server (made once: tens of milliseconds)."""
    return aioreq_tls_server_session.client_ssl_context()


@pytest.mark.parametrize("reused", [False, True], ids=["fresh", "reused"])
@pytest.mark.parametrize("way", WAYS, ids=[way.id for way in WAYS])
@pytest.mark.parametrize("row", RESPONSE_ROWS, ids=[row.id for row in RESPONSE_ROWS])
async def test_response_faults(
    row: Row,
    way: Way,
    reused: bool,
    aioreq_server: FakeServer,
    aioreq_tls_server: FakeServer,
    fake_tls: ssl.SSLContext,
) -> None:
    server = aioreq_tls_server if way.tls else aioreq_server
    row.install(server.expect(way.method, "/x"))
    verify = fake_tls if way.tls else True
    async with make_client(row.timeout or PATIENT, verify) as client:
        warm = None
        if reused:
            assert (await client.get(server.url_for("/status/204"))).status == 204
            warm = server.requests[-1].connection
            check_pool(client, kept=True)

        heads: list[int] = []
        result = await attempt(lambda: fetch(client, way, server.url_for("/x"), heads))

        check_outcome(result, row.outcome, waits=row.waits)
        if way.streamed and row.outcome.errors:
            # A fault in the head fails `client.stream()` itself; one in the body, the reading.
            assert ("body" if heads else "head") == (row.reported or row.phase)
        retried = row.retried and reused and way.method in IDEMPOTENT
        carried = [r.connection for r in server.requests if r.path == "/x"]
        assert len(carried) == (2 if retried else 1)
        if reused:
            assert carried[0] == warm, "the fault did not meet the reused connection"
        if retried:
            assert carried[1] != carried[0], "the retry went out on the failed connection"
        check_pool(client, kept=row.kept)
        # Then a normal request: on the same connection if it was kept, else on a new one.
        assert (await client.get(server.url_for("/status/204"))).status == 204
        after = server.requests[-1].connection
        assert (after == carried[-1]) == row.kept
        check_pool(client, kept=True)
    gc.collect()


# -- the stale-connection retry, on purpose ------------------------------------------------------


async def _body_stream() -> AsyncIterator[bytes]:
    yield b"stre"
    yield b"amed"


BEFORE_HEAD = {
    "close": (faults.close("before-head"), aioreq.RemoteProtocolError),
    "reset": (faults.reset("before-head"), aioreq.ReadError),
    "raw-empty": (faults.raw(b""), aioreq.RemoteProtocolError),
}
#: (id, method, body maker, sent again on a fresh connection after a stale reused one)
REQUESTS: list[tuple[str, str, Callable[[], Any], bool]] = [
    ("GET", "GET", lambda: None, True),
    ("HEAD", "HEAD", lambda: None, True),
    ("DELETE", "DELETE", lambda: None, True),
    ("PUT-bytes", "PUT", lambda: b"replayable", True),
    ("PUT-stream", "PUT", _body_stream, False),  # a consumed stream cannot be sent again
    ("POST", "POST", lambda: b"once", False),
    ("PATCH", "PATCH", lambda: b"once", False),
]


@pytest.mark.parametrize("reused", [False, True], ids=["fresh", "reused"])
@pytest.mark.parametrize(("fault", "error"), BEFORE_HEAD.values(), ids=BEFORE_HEAD.keys())
@pytest.mark.parametrize(
    ("method", "body", "resent"), [r[1:] for r in REQUESTS], ids=[r[0] for r in REQUESTS]
)
async def test_a_reused_connection_that_fails_before_the_response_is_retried_once(
    method: str,
    body: Callable[[], Any],
    resent: bool,
    fault: faults.Fault,
    error: type[aioreq.AioreqError],
    reused: bool,
    aioreq_server: FakeServer,
) -> None:
    """The fault strikes once; the next request for /x is answered. An idempotent request with
    a replayable body that failed on a reused connection before any response byte succeeds,
    sent again on a fresh connection; anything else raises, sent once."""
    aioreq_server.expect(method, "/x").respond(status=200, body=b"second")
    aioreq_server.expect(method, "/x", times=1).respond(body=BODY, fault=fault)
    async with make_client(PATIENT) as client:
        if reused:
            await client.get(aioreq_server.url_for("/status/204"))
        result = await attempt(
            lambda: fetch_with(client, method, aioreq_server.url_for("/x"), body())
        )
        carried = [r.connection for r in aioreq_server.requests if r.path == "/x"]
        if reused:
            assert carried[0] == 1, "the fault did not meet the reused connection"
        if reused and resent:
            check_outcome(result, answers(body=b"" if method == "HEAD" else b"second"), waits=None)
            assert carried == [1, 2]
            check_pool(client, kept=True)
        else:
            check_outcome(result, fails(error), waits=None)
            assert len(carried) == 1
            check_pool(client, kept=False)
            # The request is not sent again behind the caller's back; the caller may.
            again = await client.request(method, aioreq_server.url_for("/x"), content=body())
            assert again.status == 200
    gc.collect()


async def fetch_with(
    client: aioreq.Client, method: str, url: str, content: Any
) -> tuple[int, bytes]:
    response = await client.request(method, url, content=content)
    return response.status, response.body


# -- a streamed body left unread --------------------------------------------------------------


@pytest.mark.parametrize("read", [0, 1], ids=["unread", "partly-read"])
@pytest.mark.parametrize("reused", [False, True], ids=["fresh", "reused"])
async def test_a_streamed_body_not_read_to_the_end_is_never_reused(
    read: int, reused: bool, aioreq_server: FakeServer
) -> None:
    """Leaving `client.stream()` before the end of the body closes the connection: a
    half-read connection would hand the rest of this body to the next request as its head."""
    aioreq_server.expect("GET", "/x").respond(body=BODY * 64)  # 256 KiB: more than one read
    async with make_client(PATIENT) as client:
        if reused:
            await client.get(aioreq_server.url_for("/status/204"))
        async with client.stream("GET", aioreq_server.url_for("/x")) as response:
            chunks = response.iter_raw()
            for _ in range(read):
                assert await chunks.__anext__()
            await chunks.aclose()
        carried = aioreq_server.requests[-1].connection
        check_pool(client, kept=False)
        assert (await client.get(aioreq_server.url_for("/status/204"))).status == 204
        assert aioreq_server.requests[-1].connection != carried
        check_pool(client, kept=True)
    gc.collect()


# -- Scripted: a threaded server for the faults before HTTP, and while the request goes out --------


class Peer:
    """One accepted connection, as a behaviour of `Scripted` sees it (blocking socket calls)."""

    def __init__(self, sock: socket.socket, stop: threading.Event, tls: ssl.SSLContext | None):
        self.sock = sock
        self.stop = stop
        self._tls = tls
        self._buffer = b""

    def start_tls(self) -> None:
        assert self._tls is not None, "Scripted(tls=...) was not given a context"
        self.sock = self._tls.wrap_socket(self.sock, server_side=True)

    def _recv(self) -> bytes:
        if self._buffer:
            data, self._buffer = self._buffer, b""
            return data
        return self.sock.recv(2**20)

    def read_until(self, delimiter: bytes) -> bytes:
        """Everything up to and including `delimiter`; b"" at EOF."""
        data = b""
        while delimiter not in data:
            more = self._recv()
            if not more:
                return b""
            data += more
        head, _, rest = data.partition(delimiter)
        self._buffer = rest + self._buffer
        return head + delimiter

    def read_exactly(self, n: int) -> None:
        """Read and drop `n` bytes."""
        while n > 0:
            data = self._recv()
            if not data:
                raise ConnectionError("EOF inside a request body")
            if len(data) > n:
                self._buffer = data[n:]
            n -= len(data)

    def read_head(self) -> bytes:
        return self.read_until(b"\r\n\r\n")

    def read_request(self) -> bool:
        """Read one request, its body dropped; False at EOF."""
        head = self.read_head()
        if not head:
            return False
        fields = head.lower()
        if b"transfer-encoding: chunked" in fields:
            while True:
                size = int(self.read_until(b"\r\n").strip() or b"0", 16)
                self.read_exactly(size + 2)
                if size == 0:
                    return True
        for line in fields.split(b"\r\n"):
            if line.startswith(b"content-length:"):
                self.read_exactly(int(line.partition(b":")[2]))
        return True

    def drain(self) -> None:
        """Read and drop whatever comes, until EOF."""
        with contextlib.suppress(OSError):
            while self._recv():
                pass

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def answer(self, status: int = 204, *, close: bool = False) -> None:
        reason = {204: b"No Content", 413: b"Content Too Large"}.get(status, b"OK")
        framing = b"" if status == 204 else b"Content-Length: 4\r\n"
        head = b"HTTP/1.1 %d %s\r\n%s%s\r\n" % (
            status,
            reason,
            framing,
            b"Connection: close\r\n" if close else b"",
        )
        self.send(head + (b"" if status == 204 else b"nope"))

    def reset(self) -> None:
        """Close with a TCP reset (SO_LINGER 0)."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    def close(self) -> None:
        """Close (a FIN; a reset when received bytes are left unread, as the kernel does)."""
        self.sock.close()

    def wait(self) -> None:
        """Do nothing until the server stops."""
        self.stop.wait(30)


Behaviour = Callable[[Peer], None]


class Scripted:
    """A TCP server on 127.0.0.1, on threads: its n-th connection runs the n-th behaviour (the
    last one for any connection past the script's end), with blocking socket calls.

    Use it as `with Scripted(b1, b2, tls=context) as server:`; leaving the block stops every
    behaviour still running, closes every socket, and fails the test if a behaviour raised
    something other than a socket error.
    """

    def __init__(self, *behaviours: Behaviour, tls: ssl.SSLContext | None = None) -> None:
        self._behaviours = behaviours
        self._tls = tls
        self._stop = threading.Event()
        self._listener = socket.socket()
        # A small receive buffer (inherited by each accepted socket, and fixed: no
        # autotuning): a server that stops reading stops the client's upload within a few
        # megabytes, at once, whatever the machine's TCP memory settings.
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2**16)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen()
        self._listener.settimeout(0.02)
        self.port: int = self._listener.getsockname()[1]
        self.accepted = 0
        self.errors: list[BaseException] = []
        self._sockets: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._acceptor = threading.Thread(target=self._accept, name="scripted", daemon=True)

    def url(self, path: str = "/", *, tls: bool = False) -> str:
        return f"{'https' if tls else 'http'}://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> Scripted:
        self._acceptor.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._stop.set()
        self._acceptor.join(5)  # then no behaviour starts any more
        for thread in self._threads:
            thread.join(5)
        self._listener.close()
        with self._lock:
            for sock in self._sockets:
                sock.close()
        errors = [e for e in self.errors if not isinstance(e, (OSError, EOFError))]
        assert not errors, f"a behaviour of the scripted server raised: {errors!r}"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            sock.settimeout(10)
            behaviour = self._behaviours[min(self.accepted, len(self._behaviours) - 1)]
            self.accepted += 1
            with self._lock:
                self._sockets.append(sock)
            thread = threading.Thread(target=self._run, args=(behaviour, sock), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _run(self, behaviour: Behaviour, sock: socket.socket) -> None:
        peer = Peer(sock, self._stop, self._tls)
        try:
            behaviour(peer)
        except BaseException as exc:  # reported by close()
            self.errors.append(exc)
        finally:
            with contextlib.suppress(OSError):
                peer.sock.close()


@pytest.fixture(scope="module")
def server_tls(server_cert: trustme.LeafCert) -> ssl.SSLContext:
    """The server side of `Scripted`'s TLS (made once: a context costs tens of milliseconds)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_cert.configure_cert(context)
    return context


@pytest.fixture(scope="module")
def client_tls(ca: trustme.CA) -> ssl.SSLContext:
    """A client context that trusts `server_tls`."""
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


def answering(peer: Peer) -> None:
    """Answer every request with a keep-alive 204 (the body dropped), until EOF."""
    while peer.read_request():
        peer.answer(204)


def secure(behaviour: Behaviour) -> Behaviour:
    """`behaviour` after a TLS handshake (with the server's `tls` context)."""

    def run(peer: Peer) -> None:
        peer.start_tls()
        behaviour(peer)

    return run


def warm_then(behaviour: Behaviour) -> Behaviour:
    """Answer one request with a keep-alive 204, then `behaviour` on the same connection."""

    def run(peer: Peer) -> None:
        assert peer.read_request()
        peer.answer(204)
        behaviour(peer)

    return run


def closing_idle(peer: Peer) -> None:
    """Close the connection (FIN) once it is idle."""
    peer.close()


# -- phase: connect -------------------------------------------------------------------------------


@pytest.mark.parametrize("reused", [False, True], ids=["fresh", "reused"])
async def test_connect_refused(
    reused: bool, unused_tcp_port: int, aioreq_server: FakeServer
) -> None:
    """A refused connection raises ConnectError at once and leaves no slot behind. Reused: the
    server closed the pooled connection and stopped listening; the request finds it stale."""
    async with make_client(PATIENT) as client:
        if reused:
            with Scripted(warm_then(closing_idle)) as scripted:
                url = scripted.url("/x")
                await client.get(url)
                await until_stale(client)
        else:
            url = f"http://127.0.0.1:{unused_tcp_port}/x"
        result = await attempt(lambda: fetch(client, WAYS[0], url))
        check_outcome(result, fails(aioreq.ConnectError), waits=None)
        check_pool(client, kept=False)
        assert (await client.get(aioreq_server.url_for("/status/204"))).status == 204
        check_pool(client, kept=True)
    gc.collect()


@contextlib.contextmanager
def unaccepting_listener() -> Iterator[int]:
    """A port whose listener never accepts, its accept queue full: a new connection's SYN is
    dropped, so connecting neither succeeds nor fails (Linux; the test is skipped where the
    queue cannot be filled so)."""
    listener = socket.socket()
    fillers: list[socket.socket] = []
    try:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        address = listener.getsockname()
        for _ in range(2):
            filler = socket.socket()
            filler.setblocking(False)
            fillers.append(filler)
            with contextlib.suppress(BlockingIOError):
                filler.connect(address)
        with socket.socket() as probe:
            probe.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                probe.connect(address)
            _, connected, _ = select.select([], [probe], [], 0.1)
            if connected:
                pytest.skip("the accept queue of a loopback listener could not be filled here")
        yield address[1]
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


async def test_connect_that_never_completes(aioreq_server: FakeServer) -> None:
    """A connect that neither succeeds nor fails raises ConnectTimeout at the connect timeout.

    Fresh only: a listener that never accepts cannot have served the request a reused
    connection needs first (the stale-then-reconnect path is `test_connect_refused[reused]`).
    """
    with unaccepting_listener() as port:
        async with make_client(aioreq.Timeout(10.0, connect=SHORT)) as client:
            result = await attempt(lambda: fetch(client, WAYS[0], f"http://127.0.0.1:{port}/x"))
            check_outcome(result, fails(aioreq.ConnectTimeout), waits=SHORT)
            check_pool(client, kept=False)
            assert (await client.get(aioreq_server.url_for("/status/204"))).status == 204
            check_pool(client, kept=True)
    gc.collect()


# -- phase: TLS handshake -------------------------------------------------------------------------


def _garbage(peer: Peer) -> None:
    peer.sock.recv(2**16)  # the ClientHello
    peer.send(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
    peer.wait()


def _close_after_hello(peer: Peer) -> None:
    peer.sock.recv(2**16)
    peer.close()


def _reset_after_hello(peer: Peer) -> None:
    peer.sock.recv(2**16)
    peer.reset()


def _half_server_hello(peer: Peer) -> None:
    peer.sock.recv(2**16)
    # The first bytes of a TLS record (handshake, TLS 1.2) that never ends.
    peer.send(b"\x16\x03\x03\x00\x7a\x02\x00")
    peer.wait()


@dataclass(frozen=True)
class HandshakeRow:
    id: str
    behaviour: Behaviour
    outcome: Outcome
    waits: float | None = None


HANDSHAKE_ROWS = [
    HandshakeRow("silent", Peer.wait, fails(aioreq.ConnectTimeout), waits=SHORT),
    HandshakeRow("garbage", _garbage, fails(aioreq.ConnectError)),
    HandshakeRow("close-at-once", Peer.close, fails(aioreq.ConnectError)),
    HandshakeRow("close-after-hello", _close_after_hello, fails(aioreq.ConnectError)),
    HandshakeRow("reset-after-hello", _reset_after_hello, fails(aioreq.ConnectError)),
    HandshakeRow(
        "half-server-hello", _half_server_hello, fails(aioreq.ConnectTimeout), waits=SHORT
    ),
]


@pytest.mark.parametrize("reused", [False, True], ids=["fresh", "reused"])
@pytest.mark.parametrize("row", HANDSHAKE_ROWS, ids=[row.id for row in HANDSHAKE_ROWS])
async def test_tls_handshake_faults(
    row: HandshakeRow,
    reused: bool,
    server_tls: ssl.SSLContext,
    client_tls: ssl.SSLContext,
) -> None:
    """A TLS handshake that goes wrong raises ConnectError, or ConnectTimeout at the connect
    timeout when the server goes quiet; then the next connection (a good one) serves."""
    script = [row.behaviour, secure(answering)]
    if reused:
        script.insert(0, secure(warm_then(closing_idle)))
    with Scripted(*script, tls=server_tls) as scripted:
        async with make_client(aioreq.Timeout(10.0, connect=SHORT), client_tls) as client:
            url = scripted.url("/x", tls=True)
            if reused:
                await client.get(url)
                await until_stale(client)
            result = await attempt(lambda: fetch(client, WAYS[0], url))
            check_outcome(result, row.outcome, waits=row.waits)
            check_pool(client, kept=False)
            assert (await client.get(url)).status == 204
            check_pool(client, kept=True)
            assert scripted.accepted == len(script)
    gc.collect()


# -- phase: request write -------------------------------------------------------------------------

#: The upload: far more than the server's small receive buffer (`Scripted`) and the client's
#: send buffer hold, so the client is still writing when the server gives up on the body.
LARGE = scaled(8, 64) * 2**20
_PIECE = b"y" * 2**20
#: How long a server that answers, then closes, gives the client to read the answer first.
#: Closing at once races the answer against the reset: when the client's next write meets the
#: reset before its event loop read the answer, asyncio stops reading the socket and the answer
#: is lost (WriteError) -- as it is with any client that does not read while it writes.
_GRACE = 0.1


def _closes_after_head(peer: Peer) -> None:
    peer.read_head()
    peer.close()  # the body is left unread: the kernel sends a reset


def _resets_after_head(peer: Peer) -> None:
    peer.read_head()
    peer.reset()


def _stops_reading(peer: Peer) -> None:
    peer.read_head()
    peer.wait()


def _refuses_then_closes(peer: Peer) -> None:
    peer.read_head()
    peer.answer(413, close=True)
    time.sleep(_GRACE)
    peer.close()


def _refuses_then_resets(peer: Peer) -> None:
    peer.read_head()
    peer.answer(413, close=True)
    time.sleep(_GRACE)
    peer.reset()


def _refuses_then_stops_reading(peer: Peer) -> None:
    peer.read_head()
    peer.answer(413, close=True)
    peer.wait()


def _refuses_and_drains(peer: Peer) -> None:
    peer.read_head()
    peer.answer(413, close=True)
    peer.drain()


# Over TLS with a streamed body, a reset that comes between two writes that do not pause is
# seen only when the client reads: the rest of the body went into a transport that had not yet
# heard of the reset (asyncio's TLS transport learns of it from the TCP transport below a turn
# of the event loop later). A bytes body is written in slices with a turn between them
# (aioreq/streams/_stream.py), so there it is a WriteError as over plain TCP.
_TLS_RACE = fails(aioreq.WriteError, aioreq.ReadError)


@dataclass(frozen=True)
class WriteRow:
    """A server that gives up on the request body (see `Row` for the attributes).

    Attributes:
        tls_streamed: the outcome over TLS with a streamed body, where it differs.
    """

    id: str
    behaviour: Behaviour
    outcome: Outcome
    waits: float | None = None
    retried: bool = False
    tls_streamed: Outcome | None = None


_REFUSED = answers(413, b"nope")

WRITE_ROWS = [
    WriteRow("close-after-head", _closes_after_head, fails(aioreq.WriteError), retried=True,
             tls_streamed=_TLS_RACE),
    WriteRow("reset-after-head", _resets_after_head, fails(aioreq.WriteError), retried=True,
             tls_streamed=_TLS_RACE),
    WriteRow("stop-reading", _stops_reading, fails(aioreq.WriteTimeout), waits=SHORT),
    WriteRow("answer-413-then-close", _refuses_then_closes, _REFUSED),
    WriteRow("answer-413-then-reset", _refuses_then_resets, _REFUSED),
    # The answer is read when the write timeout ends the upload.
    WriteRow("answer-413-then-stop-reading", _refuses_then_stops_reading, _REFUSED, waits=SHORT),
    WriteRow("answer-413-and-drain", _refuses_and_drains, _REFUSED),
]  # fmt: skip


async def _large_stream() -> AsyncIterator[bytes]:
    for _ in range(LARGE // len(_PIECE)):
        yield _PIECE


@dataclass(frozen=True)
class Upload:
    id: str
    method: str
    body: Callable[[], Any]
    replayable: bool  # sent again after a stale reused connection (idempotent, bytes)
    whole: bool  # bytes, written in one piece


UPLOADS = [
    Upload("PUT-bytes", "PUT", lambda: b"y" * LARGE, replayable=True, whole=True),
    Upload("POST-bytes", "POST", lambda: b"y" * LARGE, replayable=False, whole=True),
    Upload("PUT-stream", "PUT", _large_stream, replayable=False, whole=False),
]


def _write_cells() -> list[Any]:
    cells = []
    for row in WRITE_ROWS:
        for upload in UPLOADS:
            for reused in (False, True):
                # Over TLS, POST is left out: it differs from PUT only where the client
                # retries, and a PUT of bytes and a streamed PUT cover the TLS transport.
                for tls in (False, True) if upload.method == "PUT" else (False,):
                    outcome = row.outcome
                    if tls and not upload.whole and row.tls_streamed is not None:
                        outcome = row.tls_streamed
                    cell_id = "-".join(
                        (
                            row.id,
                            upload.id,
                            "reused" if reused else "fresh",
                            "https" if tls else "http",
                        )
                    )
                    cells.append(
                        pytest.param(row, upload, reused, tls, outcome, row.waits, id=cell_id)
                    )
    return cells


@pytest.mark.parametrize(("row", "upload", "reused", "tls", "outcome", "waits"), _write_cells())
async def test_request_write_faults(
    row: WriteRow,
    upload: Upload,
    reused: bool,
    tls: bool,
    outcome: Outcome,
    waits: float | None,
    server_tls: ssl.SSLContext,
    client_tls: ssl.SSLContext,
) -> None:
    """The server gives up on a large request body while the client is sending it.

    Without an answer, that is WriteError (WriteTimeout when it only stops reading); on a
    reused connection a PUT of bytes is sent once more on a fresh connection (no response byte
    had arrived), where it fails again. When the server answered first, the answer is the
    outcome (RFC 9112 §9.5), and the connection is not reused.
    """
    wrap = secure if tls else (lambda behaviour: behaviour)
    first = wrap(warm_then(row.behaviour) if reused else row.behaviour)
    retried = row.retried and reused and upload.replayable
    script = [first, *([wrap(row.behaviour)] if retried else []), wrap(answering)]
    # The read timeout is short too: a bug that leaves the client reading fails in 1 s, not 10.
    timeout = aioreq.Timeout(1.0, write=SHORT)
    with Scripted(*script, tls=server_tls) as scripted:
        async with make_client(timeout, client_tls if tls else True) as client:
            url = scripted.url("/x", tls=tls)
            if reused:
                await client.get(url)
            result = await attempt(lambda: fetch_with(client, upload.method, url, upload.body()))
            check_outcome(result, outcome, waits=waits)
            assert scripted.accepted == (2 if retried else 1)
            check_pool(client, kept=False)
            assert (await client.get(url)).status == 204
            assert scripted.accepted == len(script)
            check_pool(client, kept=True)
    gc.collect()


# -- many in a row --------------------------------------------------------------------------------


async def test_faults_in_turn_on_one_client_leave_the_pool_exact(aioreq_server: FakeServer) -> None:
    """Every response fault, one after the other on one client, with good requests between: the
    pool never counts a connection that is not idle, and ends with one idle connection."""
    rounds = scaled(1, 5)
    rows = [row for row in RESPONSE_ROWS if row.waits is None]
    for index, row in enumerate(rows):
        row.install(aioreq_server.expect("GET", f"/x{index}"))
    async with make_client(PATIENT) as client:
        for _ in range(rounds):
            for index, row in enumerate(rows):
                result = await attempt(
                    lambda index=index: fetch(client, WAYS[0], aioreq_server.url_for(f"/x{index}"))
                )
                check_outcome(result, row.outcome, waits=None)
                check_pool(client, kept=row.kept)
                assert (await client.get(aioreq_server.url_for("/status/204"))).status == 204
                check_pool(client, kept=True)
    gc.collect()
