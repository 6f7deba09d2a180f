"""The server under attack (issue 7): hostile clients against `aioreq.server`, over loopback.

Every attack is a row of a table: the bytes a client sends and how (in one write, or trickled in
small pieces; then nothing, a FIN or a RST), and what the server must do about it (RFC 9112):
the status it answers with, and whether it then closes the connection. Whatever the row, three
things hold, and every test checks them:

* Nothing sent after a refused request is served. Each refused row is followed by a valid
  request for "/smuggled", which must never reach the application: serving it is what a request
  smuggling attack (RFC 9112 §11.2) wants a server to do.
* The server stays up and the other clients do not notice. A well-behaved keep-alive connection
  (the bystander) is opened before the attack; after it (and during it, for the slow attacks) it
  is still the same connection and still answered correctly.
* The server lets go. Its connection count comes back to the bystander's one, and nothing is
  logged at WARNING or above: an attack is routine for a server, not an error of its own.

Where the RFC lets a server choose, aioreq takes the strict side, and the rows pin its choice
down: Content-Length with Transfer-Encoding is refused with 400 (RFC 9112 §6.1 allows refusing,
or reading by Transfer-Encoding alone); obs-fold is refused with 400 (§5.2 allows 400 or
replacing it with SP); a bare LF as a line end is refused (§2.2 only MAY accept it); repeated
identical Content-Length values are read as one (RFC 9110 §8.6 allows either).

The timeouts are short (`LIMITS`), so the whole file runs in seconds; the floods and the number
of slow clients grow with `AIOREQ_LONG=1`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import socket
import struct
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field, replace

import pytest
import pytest_asyncio

from aioreq.protocol import EndOfMessage, ResponseHead, ResponseParser
from aioreq.server import Request, Response, Server, ServerLimits

from ._scale import scaled

pytestmark = pytest.mark.asyncio

StartServer = Callable[..., Awaitable[Server]]

HEADER_TIMEOUT = 0.4
BODY_TIMEOUT = 0.4
LIMITS = ServerLimits(
    max_line_size=1024,
    max_header_size=4096,
    max_header_count=32,
    max_body_size=64 * 1024,
    header_timeout=HEADER_TIMEOUT,
    body_timeout=BODY_TIMEOUT,
    # Long, so that the bystander keeps its connection across every attack.
    keep_alive_timeout=60.0,
)
#: Seconds any single wait of a test may take: a bug shows as a failure, never as a hang.
TIMEOUT = 5.0
#: What a loaded machine may add to a server timeout before the test calls it late.
SLACK = 1.0
#: How long the server reads and drops an unread request body before it gives up on the
#: connection (its private `_DRAIN_TIMEOUT`), and how long its lingering close lasts at most.
DRAIN = 1.0

#: The request that follows every refused one, and must never be served.
SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
#: The request that follows every accepted one, and must be served as a request of its own.
AFTER = b"GET /after HTTP/1.1\r\nHost: x\r\n\r\n"
#: The size of one piece of a streamed response, and of a /big response (its target, padded).
PIECE = 64 * 1024
BIG = 16 * 1024


# -- the clients ----------------------------------------------------------------------------------


@dataclass
class Reply:
    """One response as a client read it (parsed strictly: a framing error fails the test)."""

    status: int
    fields: list[tuple[bytes, bytes]]
    body: bytes
    interim: list[int]

    def header(self, name: bytes) -> bytes | None:
        return next((value for key, value in self.fields if key.lower() == name), None)


class Peer:
    """One client socket driven through the running loop: it sends exactly the bytes it is given,
    however broken, and reads what the server answers."""

    def __init__(self, sock: socket.socket) -> None:
        sock.setblocking(False)
        self.sock = sock
        self._loop = asyncio.get_running_loop()
        self._buf = bytearray()
        #: The loop's time when the connection was made.
        self.connected_at = self._loop.time()

    @classmethod
    async def connect(cls, server: Server, *, rcvbuf: int | None = None) -> Peer:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            if rcvbuf is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            sock.setblocking(False)
            loop = asyncio.get_running_loop()
            await asyncio.wait_for(loop.sock_connect(sock, (server.host, server.port)), TIMEOUT)
        except BaseException:
            sock.close()
            raise
        return cls(sock)

    async def send(self, data: bytes) -> None:
        await asyncio.wait_for(self._loop.sock_sendall(self.sock, data), TIMEOUT)

    async def deliver(self, data: bytes, how: str) -> None:
        """Send `data` in one write ("whole") or in about 24 small writes ("trickled").

        A server that has refused the request may stop reading and close while the rest is on
        its way: that ends the sending, and the test judges by what the server answered.
        """
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            if how == "whole":
                await self.send(data)
                return
            size = max(1, -(-len(data) // 24))
            for start in range(0, len(data), size):
                await self.send(data[start : start + size])
                await asyncio.sleep(0.002)

    async def _recv(self, timeout: float) -> bytes:
        return await asyncio.wait_for(self._loop.sock_recv(self.sock, 2**20), timeout)

    async def response(self, method: bytes = b"GET", *, timeout: float = TIMEOUT) -> Reply:
        """Read one response, with the interim (1xx) ones before it."""
        parser = ResponseParser()
        parser.start_response(method)
        head: ResponseHead | None = None
        interim: list[int] = []
        body = bytearray()
        pending = bytes(self._buf)
        self._buf.clear()
        while True:
            if pending:
                events = parser.feed(pending)
                pending = b""
            else:
                data = await self._recv(timeout)
                if not data and not parser.in_progress:
                    raise AssertionError("the server closed before a response arrived")
                events = parser.feed(data) if data else parser.feed_eof()
            for event in events:
                if isinstance(event, ResponseHead):
                    if event.status_code < 200:
                        interim.append(event.status_code)
                    else:
                        head = event
                elif isinstance(event, EndOfMessage):
                    assert head is not None
                    self._buf += parser.trailing_data
                    return Reply(head.status_code, list(head.headers), bytes(body), interim)
                else:
                    body += event

    async def receive_some(self) -> None:
        """Wait for some bytes to arrive; they stay for `response()` to parse."""
        data = await self._recv(TIMEOUT)
        assert data, "the server closed"
        self._buf += data

    async def rest(self, *, timeout: float = TIMEOUT) -> tuple[bytes, str]:
        """Everything until the server ends the connection, and how it ended it: "FIN" or
        "RST"."""
        data = bytearray(self._buf)
        self._buf.clear()
        while True:
            try:
                chunk = await self._recv(timeout)
            except ConnectionResetError:
                return bytes(data), "RST"
            if not chunk:
                return bytes(data), "FIN"
            data += chunk

    def half_close(self) -> None:
        """Shut the sending side (FIN), still reading."""
        self.sock.shutdown(socket.SHUT_WR)

    def reset(self) -> None:
        """Close with a TCP reset (RST) rather than a FIN."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    def close(self) -> None:
        self.sock.close()


@contextlib.asynccontextmanager
async def trickling(peer: Peer, pieces: Iterable[bytes], gap: float) -> AsyncIterator[None]:
    """Send `pieces` one after the other, `gap` seconds apart, while the block runs (and stop
    early, quietly, when the server closes)."""
    stop = asyncio.Event()

    async def trickle() -> None:
        with contextlib.suppress(OSError):
            for piece in pieces:
                # Checked as well as cancelled: Python 3.11's wait_for may swallow a
                # cancellation that comes as the send completes.
                if stop.is_set():
                    return
                await peer.send(piece)
                await asyncio.sleep(gap)

    sender = asyncio.ensure_future(trickle())
    try:
        yield
    finally:
        stop.set()
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender


async def eventually(condition: Callable[[], bool], what: str, *, within: float = TIMEOUT) -> float:
    """Wait until `condition()` holds, failing after `within` seconds; return how long it took."""
    loop = asyncio.get_running_loop()
    began = loop.time()
    while not condition():
        assert loop.time() - began < within, f"not within {within:g} seconds: {what}"
        await asyncio.sleep(0.002)
    return loop.time() - began


def request(method: str, target: str, *fields: str, body: bytes = b"") -> bytes:
    """A request head with Host first and `fields` after it as given, then `body` verbatim."""
    lines = [f"{method} {target} HTTP/1.1", "Host: x", *fields]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def post(*fields: str, body: bytes = b"") -> bytes:
    """A POST to /echo, which answers with the body it reads."""
    return request("POST", "/echo", *fields, body=body)


# -- the server under attack ----------------------------------------------------------------------


@dataclass
class Arena:
    """A server under attack, the targets its application was called with, and the bystander."""

    server: Server
    bystander: Peer
    caplog: pytest.LogCaptureFixture
    seen: list[str]
    #: What the streamed responses did ("stream closed" once a generator was closed).
    log: list[str]
    peers: list[Peer] = field(default_factory=list)
    rounds: int = 0

    async def attacker(self, *, rcvbuf: int | None = None) -> Peer:
        peer = await Peer.connect(self.server, rcvbuf=rcvbuf)
        self.peers.append(peer)
        return peer

    async def check_bystander(self) -> None:
        """The bystander's connection (the server's first) is still open and answered right."""
        self.rounds += 1
        target = f"/bystander/{self.rounds}"
        await self.bystander.send(request("GET", target))
        reply = await self.bystander.response()
        assert (reply.status, reply.body) == (200, f"{target} #1".encode())

    async def settled(self) -> None:
        """Back to the bystander's connection alone, the bystander unaffected, nothing logged."""
        server = self.server
        await eventually(lambda: server.connection_count == 1, "back to one connection")
        await self.check_bystander()
        noisy = [r for r in self.caplog.records if r.levelno >= logging.WARNING]
        assert noisy == [], [r.getMessage() for r in noisy]


async def _pieces(log: list[str], count: int) -> AsyncIterator[bytes]:
    try:
        for index in range(count):
            yield bytes([index % 251]) * PIECE
    finally:
        log.append("stream closed")


@pytest.fixture
def limits() -> ServerLimits:
    """The server's limits; a test parametrizes "limits" to use others."""
    return LIMITS


@pytest_asyncio.fixture
async def arena(
    start: StartServer, limits: ServerLimits, caplog: pytest.LogCaptureFixture
) -> AsyncIterator[Arena]:
    seen: list[str] = []
    log: list[str] = []

    async def app(request: Request) -> Response:
        seen.append(request.target)
        path = request.path
        if path == "/echo":
            return Response(body=await request.body())
        if path == "/sleep":
            await asyncio.sleep(float(request.query.get("s", ["0.05"])[0]))
        elif path.startswith("/yield/"):
            await asyncio.sleep(0)
        elif path.startswith("/big"):
            return Response(body=request.target.encode().ljust(BIG, b"."))
        elif path == "/huge":
            if request.query.get("await"):
                await asyncio.sleep(0.01)
            return Response(body=b"h" * 16 * 2**20)
        elif path == "/stream":
            return Response(body=_pieces(log, int(request.query["n"][0])))
        return Response(text=f"{request.target} #{request.connection_id}")

    server = await start(app, limits=limits)
    bystander = await Peer.connect(server)
    arena = Arena(server, bystander, caplog, seen, log)
    try:
        await arena.check_bystander()
        yield arena
    finally:
        bystander.close()
        for peer in arena.peers:
            peer.close()


# -- malformed requests: refused, and nothing after them served ---------------------------------

_CHUNKED = "Transfer-Encoding: chunked"

REFUSED = [
    # Too large (RFC 9112 §3: 414 for a request line; RFC 6585 §5: 431 for the fields; RFC 9110
    # §15.5.14: 413 for the content). The limit is checked on what has arrived so far, so a line
    # or head that never ends is refused as soon as it is past the limit.
    pytest.param(request("GET", "/" + "a" * 2000), 414, id="request-line-over-the-limit"),
    pytest.param(b"GET /" + b"a" * 2000, 414, id="request-line-that-never-ends"),
    pytest.param(request("GET", "/", "X-Pad: " + "p" * 5000), 431, id="head-over-the-limit"),
    pytest.param(b"GET / HTTP/1.1\r\nX-Pad: " + b"p" * 5000, 431, id="head-that-never-ends"),
    pytest.param(request("GET", "/", *(f"X-{i}: v" for i in range(40))), 431, id="40-fields"),
    pytest.param(
        post(_CHUNKED, body=b"0\r\nX-Pad: " + b"p" * 5000 + b"\r\n\r\n"),
        431,
        id="trailers-over-the-limit",
    ),
    pytest.param(
        post(_CHUNKED, body=b"0\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(40)) + b"\r\n"),
        431,
        id="40-trailers",
    ),
    pytest.param(post("Content-Length: 65537"), 413, id="content-length-over-max-body"),
    pytest.param(
        post("Content-Length: 99999999999999999999999"), 413, id="content-length-overflow"
    ),
    pytest.param(
        post(_CHUNKED, body=b"ffff\r\n" + b"x" * 0xFFFF + b"\r\n2\r\nxx\r\n0\r\n\r\n"),
        413,
        id="chunks-adding-up-over-max-body",
    ),
    pytest.param(post(_CHUNKED, body=b"fffffffffffffffff\r\n"), 413, id="chunk-size-overflow"),
    pytest.param(post(_CHUNKED, body=b"10000000000000000\r\n"), 413, id="chunk-size-2-to-the-64"),
    pytest.param(
        post(_CHUNKED, body=b"5" + b";a=b" * 1100 + b"\r\nhello\r\n0\r\n\r\n"),
        400,
        id="chunk-extensions-over-the-limit",
    ),
    # Framing that two parsers could read two ways: the classic smuggling vectors (RFC 9112
    # §6.1, §6.3, §11.2). Both framings present, or a length that is not one number, is a 400.
    pytest.param(
        post("Content-Length: 5", _CHUNKED, body=b"0\r\n\r\n"), 400, id="content-length-and-chunked"
    ),
    pytest.param(
        post(_CHUNKED, "Content-Length: 5", body=b"0\r\n\r\n"), 400, id="chunked-and-content-length"
    ),
    pytest.param(
        post("Content-Length: 0", _CHUNKED, body=b"5\r\nhello\r\n0\r\n\r\n"),
        400,
        id="content-length-0-and-chunked",
    ),
    pytest.param(
        post("Content-Length: 5", "Content-Length: 6", body=b"hello!"),
        400,
        id="two-different-content-lengths",
    ),
    pytest.param(
        post("Content-Length: 5, 6", body=b"hello!"), 400, id="content-length-list-of-two-values"
    ),
    pytest.param(post("Content-Length: +5", body=b"hello"), 400, id="content-length-with-sign"),
    pytest.param(post("Content-Length: 0x5", body=b"hello"), 400, id="content-length-in-hex"),
    pytest.param(post("Content-Length: 5 5", body=b"hello"), 400, id="content-length-5-space-5"),
    pytest.param(post("Content-Length:", body=b"hello"), 400, id="content-length-empty"),
    pytest.param(
        post("Content-Length : 5", body=b"hello"), 400, id="space-before-the-colon"
    ),  # RFC 9112 §5.1: "MUST reject, with a response status code of 400"
    pytest.param(
        post("Transfer-Encoding: chunked, gzip", body=b"0\r\n\r\n"), 400, id="chunked-not-last"
    ),
    pytest.param(
        post("Transfer-Encoding: gzip", body=b"hello"), 400, id="only-an-unknown-coding"
    ),  # RFC 9112 §6.3 ¶4: chunked is not the final coding: "MUST respond with ... 400"
    pytest.param(
        post("Transfer-Encoding: gzip, chunked", body=b"0\r\n\r\n"), 501, id="unknown-coding"
    ),  # RFC 9112 §6.1: a coding the server does not understand: "SHOULD respond with 501"
    pytest.param(
        post("Transfer-Encoding: chunked, chunked", body=b"0\r\n\r\n"), 400, id="chunked-twice"
    ),
    pytest.param(
        post(_CHUNKED, "Transfer-Encoding: gzip", body=b"0\r\n\r\n"),
        400,
        id="codings-split-over-two-fields",
    ),
    pytest.param(post("Transfer-Encoding:", body=b"0\r\n\r\n"), 400, id="empty-coding"),
    pytest.param(post("Transfer-Encoding: xchunked", body=b"0\r\n\r\n"), 400, id="coding-xchunked"),
    pytest.param(
        b"POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\nhello",
        400,
        id="chunked-in-http-1.0",
    ),  # RFC 9112 §6.1: "MUST treat the message as if the framing is faulty"
    pytest.param(
        request("GET", "/", "Host: y"), 400, id="two-hosts"
    ),  # RFC 9112 §3.2: "MUST respond with a 400"
    # Line structure: obs-fold (RFC 9112 §5.2), whitespace before the first field (§2.2), bare
    # CR (§2.2: "MUST consider that element to be invalid"), bare LF, NUL (RFC 9110 §5.5).
    pytest.param(request("GET", "/", "X-A: 1", " folded"), 400, id="obs-fold"),
    pytest.param(
        post("Transfer-Encoding:", " chunked", body=b"0\r\n\r\n"), 400, id="obs-fold-in-coding"
    ),
    pytest.param(
        b"POST /echo HTTP/1.1\r\n Transfer-Encoding: chunked\r\nHost: x\r\n\r\n0\r\n\r\n",
        400,
        id="whitespace-before-the-first-field",
    ),
    pytest.param(
        b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
        400,
        id="coding-with-space-before-the-colon",
    ),
    pytest.param(b"GET / HTTP/1.1\nHost: x\n\n", 400, id="bare-lf-line-ends"),
    pytest.param(b"GET / HTTP/1.1\r\nHost: x\r\n\n", 400, id="bare-lf-ending-the-head"),
    pytest.param(request("GET", "/", "X-A: a\rb"), 400, id="bare-cr-in-a-value"),
    pytest.param(
        b"GET / HTTP/1.1\r\nHost: x\rTransfer-Encoding: chunked\r\n\r\n",
        400,
        id="bare-cr-as-a-line-end",
    ),
    pytest.param(request("GET", "/", "X-A: a\x00b"), 400, id="nul-in-a-value"),
    pytest.param(request("GET", "/", "X\x00A: b"), 400, id="nul-in-a-name"),
    pytest.param(request("GET", "/a\x00b"), 400, id="nul-in-the-target"),
    pytest.param(b"GET\t/ HTTP/1.1\r\nHost: x\r\n\r\n", 400, id="tab-in-the-request-line"),
    pytest.param(b"GET / http/1.1\r\nHost: x\r\n\r\n", 400, id="lowercase-version"),
    # Versions (RFC 9110 §15.6.6: 505 for a major version the server does not support).
    pytest.param(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505, id="http2-preface"),
    pytest.param(b"GET / HTTP/3.0\r\nHost: x\r\n\r\n", 505, id="http-3.0"),
    # Chunked framing (RFC 9112 §7.1: chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF).
    pytest.param(post(_CHUNKED, body=b"zz\r\n"), 400, id="chunk-size-not-hex"),
    pytest.param(post(_CHUNKED, body=b"0x5\r\nhello\r\n0\r\n\r\n"), 400, id="chunk-size-0x"),
    pytest.param(post(_CHUNKED, body=b"-5\r\nhello\r\n0\r\n\r\n"), 400, id="chunk-size-negative"),
    pytest.param(post(_CHUNKED, body=b" 5\r\nhello\r\n0\r\n\r\n"), 400, id="space-before-size"),
    pytest.param(
        post(_CHUNKED, body=b"3\r\nabcdef\r\n0\r\n\r\n"), 400, id="chunk-longer-than-its-size"
    ),
    pytest.param(post(_CHUNKED, body=b"3\r\nabc0\r\n\r\n"), 400, id="chunk-without-its-crlf"),
    pytest.param(post(_CHUNKED, body=b"3\nabc\r\n0\r\n\r\n"), 400, id="chunk-size-bare-lf"),
    pytest.param(post(_CHUNKED, body=b"5;a\r=b\r\nhello\r\n"), 400, id="chunk-ext-bare-cr"),
    pytest.param(
        post(_CHUNKED, body=b"0\r\n"), 400, id="last-chunk-then-a-request"
    ),  # the smuggled request lands in the trailer section, where it is no field line
    pytest.param(
        post(_CHUNKED, body=b"0\r\nX-T: 1\r\n folded\r\n\r\n"), 400, id="obs-fold-in-trailers"
    ),
]


@pytest.mark.parametrize("how", ["whole", "trickled"])
@pytest.mark.parametrize(("data", "status"), REFUSED)
async def test_malformed_request_is_refused_and_what_follows_is_never_served(
    arena: Arena, data: bytes, status: int, how: str
) -> None:
    """A malformed or oversized request gets its status and `Connection: close`, then a
    lingering close (RFC 9112 §9.6: the FIN comes after the response, which no RST destroys);
    the request after it is never served, wherever the reads split the bytes (in one write the
    parser refuses before the application runs; trickled, the head may reach the application,
    and the body it reads fails with the same status)."""
    attacker = await arena.attacker()
    await attacker.deliver(data + SMUGGLED, how)
    reply = await attacker.response()
    assert reply.status == status
    assert reply.header(b"connection") == b"close"
    assert reply.body.startswith(b"%d " % status)
    assert await attacker.rest() == (b"", "FIN")
    assert "/smuggled" not in arena.seen
    attacker.close()
    await arena.settled()


# -- framing the RFC lets a server accept: read exactly, so nothing is smuggled ------------------

ACCEPTED = [
    pytest.param(
        post("Content-Length: 5", "Content-Length: 5", body=b"hello"),
        b"hello",
        id="two-equal-content-lengths",
    ),  # RFC 9110 §8.6: MAY "replace that invalid field value with a single instance"
    pytest.param(post("Content-Length: 5, 5", body=b"hello"), b"hello", id="content-length-5-5"),
    pytest.param(post("Content-Length: 005", body=b"hello"), b"hello", id="content-length-005"),
    pytest.param(
        post("Content-Length: \t 5 \t", body=b"hello"), b"hello", id="content-length-with-ows"
    ),
    pytest.param(
        post("Transfer-Encoding: CHUNKED", body=b"5\r\nhello\r\n0\r\n\r\n"),
        b"hello",
        id="chunked-in-capitals",
    ),  # RFC 9112 §7: "All transfer-coding names are case-insensitive"
    pytest.param(
        post(_CHUNKED, body=b"00000000000000000005\r\nhello\r\n0\r\n\r\n"),
        b"hello",
        id="chunk-size-with-20-digits-of-leading-zeros",
    ),
    pytest.param(
        post(_CHUNKED, body=b"A\r\n0123456789\r\n0\r\n\r\n"), b"0123456789", id="chunk-size-A"
    ),
    pytest.param(
        post(_CHUNKED, body=b'5;name=value;q="a b"\r\nhello\r\n0;last\r\n\r\n'),
        b"hello",
        id="chunk-extensions",
    ),  # RFC 9112 §7.1.1: "A recipient MUST ignore unrecognized chunk extensions"
    pytest.param(
        post(_CHUNKED, body=b"5\r\nhello\r\n0\r\nX-T: 1\r\nX-U: 2\r\n\r\n"),
        b"hello",
        id="trailers",
    ),
    pytest.param(
        b"\r\n\r\n" + post("Content-Length: 5", body=b"hello"),
        b"hello",
        id="empty-lines-before-the-request-line",
    ),  # RFC 9112 §2.2: "SHOULD ignore at least one empty line (CRLF) received prior"
    pytest.param(
        post("X-Text: caf\xe9", "Content-Length: 5", body=b"hello"),
        b"hello",
        id="obs-text-in-a-value",
    ),
]


@pytest.mark.parametrize("how", ["whole", "trickled"])
@pytest.mark.parametrize(("data", "body"), ACCEPTED)
async def test_odd_but_valid_framing_is_read_exactly(
    arena: Arena, data: bytes, body: bytes, how: str
) -> None:
    """Framing the RFC lets a server accept is read to the byte: the application gets exactly
    the body, and the request pipelined after it is served as a request of its own (one byte
    too many or too few would show in it)."""
    attacker = await arena.attacker()
    await attacker.deliver(data + AFTER, how)
    reply = await attacker.response()
    assert (reply.status, reply.body) == (200, body)
    after = await attacker.response()
    assert after.status == 200
    assert after.body.startswith(b"/after #")
    assert arena.seen[1:] == ["/echo", "/after"]
    attacker.close()
    await arena.settled()


# -- a malformed body the application never read --------------------------------------------------

UNREAD = [
    pytest.param(b"zz\r\n", id="chunk-size-not-hex"),
    pytest.param(b"3\r\nabcdef\r\n", id="chunk-longer-than-its-size"),
    pytest.param(b"fffffffffffffffff\r\n", id="chunk-size-overflow"),
    pytest.param(b"ffff\r\n" + b"x" * 0xFFFF + b"\r\nffff\r\n", id="chunks-over-max-body"),
    pytest.param(b"", id="fin-inside-the-body"),
]


@pytest.mark.parametrize("rest", UNREAD)
async def test_malformed_body_the_app_never_read_costs_only_the_connection(
    arena: Arena, rest: bytes
) -> None:
    """The application answered without reading the body; the server then drains it to keep
    the connection, and finds it malformed. The answer already sent stands alone: a second
    response (a 400) to the same request would be taken by the client for the answer to its
    next one (RFC 9112 §9.3.2). The connection is closed, and what follows is not served."""
    attacker = await arena.attacker()
    await attacker.send(request("POST", "/", _CHUNKED) + b"5\r\nhello\r\n")
    reply = await attacker.response()
    assert (reply.status, reply.body) == (200, b"/ #%d" % arena.server.accepted)
    if rest:
        await attacker.deliver(rest + SMUGGLED, "whole")
    else:
        attacker.half_close()
    assert await attacker.rest() == (b"", "FIN")
    assert "/smuggled" not in arena.seen
    attacker.close()
    await arena.settled()


# -- slowloris ------------------------------------------------------------------------------------

_SLOW_HEAD = b"GET /slow HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"p" * 2000  # never ends


async def _slow_head(attacker: Peer, kind: str) -> tuple[int | None, float]:
    """Run one slowloris client; return the status it got (None: closed without an answer) and
    the seconds from its first byte (from its connection, if it sent no request) to that
    answer."""
    loop = asyncio.get_running_loop()
    if kind == "after-a-request":
        await attacker.send(request("GET", "/first"))
        assert (await attacker.response()).status == 200
    gap = {"silent": 0.0, "sparse": HEADER_TIMEOUT * 1.5}.get(kind, 0.05)
    if kind == "empty-lines":
        pieces: Iterable[bytes] = itertools.repeat(b"\r\n")
    else:
        pieces = (_SLOW_HEAD[index : index + 1] for index in range(len(_SLOW_HEAD)))
    if kind == "silent":
        assert await attacker.rest() == (b"", "FIN")
        return None, loop.time() - attacker.connected_at
    began = loop.time()
    async with trickling(attacker, pieces, gap):
        if kind == "empty-lines":
            # A quiet close, not a lingering one (there is no response to protect): the empty
            # lines still arriving may turn its FIN into a RST.
            rest, _ = await attacker.rest()
            assert rest == b""
            return None, loop.time() - attacker.connected_at
        reply = await attacker.response()
        seconds = loop.time() - began
    assert reply.header(b"connection") == b"close"
    # The end of the head, and a request after it, come too late: neither is served.
    with contextlib.suppress(OSError):
        await attacker.send(b"\r\n\r\n" + SMUGGLED)
    assert await attacker.rest() == (b"", "FIN")
    return reply.status, seconds


SLOW_HEADS = [
    pytest.param("silent", None, id="silent"),  # connects and sends nothing
    pytest.param("trickled", 408, id="a-byte-every-50ms"),
    pytest.param("sparse", 408, id="a-byte-slower-than-the-timeout"),
    # RFC 9112 §2.2 lets a server ignore empty lines before a request; they are no request,
    # so they do not keep the connection: it closes at the header timeout, unanswered.
    pytest.param("empty-lines", None, id="empty-lines-every-50ms"),
    # After a response the keep-alive timeout (a minute here) runs; a head that begins gets
    # the header timeout from its first byte all the same.
    pytest.param("after-a-request", 408, id="a-byte-every-50ms-after-a-request"),
]


@pytest.mark.parametrize(("kind", "status"), SLOW_HEADS)
async def test_slowloris_heads_are_cut_off_at_the_header_timeout(
    arena: Arena, kind: str, status: int | None
) -> None:
    """Many clients that never finish a head (slowloris) each hold a connection for the header
    timeout at most, counted from the first byte however the bytes keep coming: then 408 (RFC
    9110 §15.5.9) and a close, or a quiet close for a client that sent no request at all. While
    they hold their connections, the bystander is served as usual."""
    count = scaled(8, 200)
    attackers = [await arena.attacker() for _ in range(count)]
    attacks = [asyncio.ensure_future(_slow_head(attacker, kind)) for attacker in attackers]
    try:
        await asyncio.sleep(0.05)
        # During the attack: every attacker still holds its connection.
        assert arena.server.connection_count == count + 1
        await arena.check_bystander()
        assert arena.server.connection_count == count + 1
        outcomes = await asyncio.wait_for(asyncio.gather(*attacks), TIMEOUT)
    finally:
        for attack in attacks:
            attack.cancel()
    for got, seconds in outcomes:
        assert got == status
        assert HEADER_TIMEOUT - 0.1 <= seconds <= HEADER_TIMEOUT + SLACK
    for attacker in attackers:
        attacker.close()
    assert "/slow" not in arena.seen
    assert "/smuggled" not in arena.seen
    await arena.settled()


async def _slow_body(attacker: Peer, kind: str) -> tuple[Reply, float, bytes, str]:
    """Run one slow-body client; return the response, the seconds from its last byte (its
    first, for a trickle) to the end of the connection, and how the connection ended."""
    loop = asyncio.get_running_loop()
    # What would complete the request, sent after the 408 with a request after it.
    late = b""
    pieces: Iterable[bytes] = ()
    if kind == "stalled-body":
        await attacker.send(post("Content-Length: 100", body=b"x" * 10))
        late = b"x" * 90
    elif kind == "stalled-chunk-size":
        await attacker.send(post(_CHUNKED, body=b"5\r\nhello\r\n1"))
        late = b"\r\nx\r\n0\r\n\r\n"
    elif kind == "expect-100-then-nothing":
        await attacker.send(post("Content-Length: 10", "Expect: 100-continue"))
        late = b"x" * 10
    else:  # "unread-body-trickled": the application does not read it
        await attacker.send(request("POST", "/", "Content-Length: 1000"))
        pieces = itertools.repeat(b"x")
    began = loop.time()
    async with trickling(attacker, pieces, 0.05):
        reply = await attacker.response()
        if late:
            with contextlib.suppress(OSError):
                await attacker.send(late + SMUGGLED)
        rest, end = await attacker.rest()
    return reply, loop.time() - began, rest, end


SLOW_BODIES = [
    pytest.param("stalled-body", 408, BODY_TIMEOUT, id="stalled-body"),
    pytest.param("stalled-chunk-size", 408, BODY_TIMEOUT, id="stalled-inside-a-chunk-size"),
    # RFC 9110 §10.1.1: the 100 goes out when the application reads; the body never comes.
    pytest.param("expect-100-then-nothing", 408, BODY_TIMEOUT, id="expect-100-then-nothing"),
    # The answer goes out at once; the server then reads and drops the body to keep the
    # connection, for DRAIN seconds in all however the bytes keep coming, then closes.
    pytest.param("unread-body-trickled", 200, DRAIN, id="unread-body-trickled"),
]


@pytest.mark.parametrize(("kind", "status", "bound"), SLOW_BODIES)
async def test_slowloris_bodies_are_cut_off(
    arena: Arena, kind: str, status: int, bound: float
) -> None:
    """Clients whose body stalls get 408 after the body timeout and a close; a body the
    application never asked for is read and dropped for a bounded time only, however slowly
    it trickles. The bystander is served while they hold their connections.

    (The body timeout bounds each wait for the body, not the whole body: a client that sends a
    byte just faster than the timeout keeps its connection, as `ServerLimits` documents; its
    cost is bounded by `max_body_size`.)"""
    count = scaled(4, 100)
    attackers = [await arena.attacker() for _ in range(count)]
    attacks = [asyncio.ensure_future(_slow_body(attacker, kind)) for attacker in attackers]
    try:
        await asyncio.sleep(0.05)
        assert arena.server.connection_count == count + 1
        await arena.check_bystander()
        outcomes = await asyncio.wait_for(asyncio.gather(*attacks), TIMEOUT)
    finally:
        for attack in attacks:
            attack.cancel()
    for reply, seconds, rest, end in outcomes:
        assert reply.status == status
        if status == 408:
            assert reply.header(b"connection") == b"close"
        assert reply.interim == ([100] if kind == "expect-100-then-nothing" else [])
        assert (rest, end) == (b"", "FIN")
        assert bound - 0.1 <= seconds <= bound + SLACK
    for attacker in attackers:
        attacker.close()
    assert "/smuggled" not in arena.seen
    await arena.settled()


# -- floods and slow readers ----------------------------------------------------------------------


def _flood(kind: str, count: int) -> tuple[bytes, list[bytes]]:
    """`count` pipelined requests in one buffer, and the bodies of their responses, in order."""
    requests: list[bytes] = []
    bodies: list[bytes] = []
    for index in range(count):
        if kind == "bodies":
            data = b"%d" % index
            if index % 2:
                requests.append(post(_CHUNKED, body=b"%x\r\n%b\r\n0\r\n\r\n" % (len(data), data)))
            else:
                requests.append(post(f"Content-Length: {len(data)}", body=data))
            bodies.append(data)
        else:
            target = f"/yield/{index}" if kind == "awaiting" else f"/f/{index}"
            requests.append(request("GET", target))
            bodies.append(f"{target} #2".encode())
    return b"".join(requests), bodies


@pytest.mark.parametrize("kind", ["at-once", "awaiting", "bodies"])
async def test_pipelining_flood_is_answered_completely_and_in_order(
    arena: Arena, kind: str
) -> None:
    """Thousands of pipelined requests in one write are all answered, whole and in order (RFC
    9112 §9.3.2), whether the application answers at once, awaits, or reads bodies (framed by
    Content-Length and chunked in turn); the connection is still in step after them."""
    count = scaled(2000, 50000)
    data, bodies = _flood(kind, count)
    flooder = await arena.attacker()
    sending = asyncio.ensure_future(flooder.send(data))
    try:
        for index, body in enumerate(bodies):
            reply = await flooder.response()
            assert (reply.status, reply.body) == (200, body), index
    finally:
        await asyncio.wait_for(sending, TIMEOUT)
    await flooder.send(request("GET", "/last"))
    assert (await flooder.response()).body == b"/last #2"
    await arena.check_bystander()
    flooder.close()
    await arena.settled()


@pytest.mark.parametrize("limits", [replace(LIMITS, body_timeout=30.0)], ids=["patient"])
async def test_pipelining_flood_from_a_client_that_does_not_read_is_held_back(
    arena: Arena,
) -> None:
    """A client that pipelines thousands of requests and does not read their responses gets
    only as many served as the socket buffers hold: the server stops serving, and so stops
    reading, until the client reads (memory bounded by the buffers, not by the flood). Once the
    client reads, every response arrives, in order."""
    count = scaled(2000, 20000)
    flooder = await arena.attacker(rcvbuf=64 * 1024)
    targets = [f"/big/{index}" for index in range(count)]
    sending = asyncio.ensure_future(
        flooder.send(b"".join(request("GET", target) for target in targets))
    )
    try:
        await asyncio.sleep(0.3)
        served = len(arena.seen)
        await asyncio.sleep(0.3)
        assert len(arena.seen) == served, "the server went on serving a client that reads nothing"
        assert served < count // 2
        await arena.check_bystander()
        for target in targets:
            reply = await flooder.response()
            assert reply.body == target.encode().ljust(BIG, b".")
    finally:
        await asyncio.wait_for(sending, TIMEOUT)
    assert [target for target in arena.seen if target.startswith("/big/")] == targets
    flooder.close()
    await arena.settled()


@pytest.mark.parametrize(
    "target",
    [
        pytest.param("/huge", id="in-memory"),
        pytest.param("/huge?await=1", id="after-an-await"),
        pytest.param("/stream?n=256", id="streamed"),
    ],
)
async def test_client_that_stops_reading_is_dropped_after_the_body_timeout(
    arena: Arena, target: str
) -> None:
    """A slow-read attack: the client asks for 16 MiB and reads none of it. Once the socket
    buffers are full the server waits for the client to take data for the body timeout at
    most, then drops the connection (a reset: what is still queued is of no use), and closes a
    streamed body's generator. It never holds the connection for as long as the client likes."""
    reader = await arena.attacker(rcvbuf=64 * 1024)
    await reader.send(request("GET", target))
    await eventually(lambda: arena.seen[-1] == target, "the request reached the application")
    held = await eventually(
        lambda: arena.server.connection_count == 1,
        "the slow reader is dropped",
        within=BODY_TIMEOUT + SLACK + 1.0,
    )
    assert held >= BODY_TIMEOUT - 0.1
    if target.startswith("/stream"):
        assert arena.log == ["stream closed"]
    data, end = await reader.rest()
    assert end == "RST"
    assert len(data) < 16 * 2**20
    reader.close()
    await arena.settled()


# -- abrupt ends: FIN and RST at every stage -----------------------------------------------------

ABRUPT = [
    pytest.param((), "FIN", [], id="fin-before-a-byte"),
    # A head or body cut short gets its 400 (the client can still read after its FIN); after a
    # RST there is no one to answer.
    pytest.param((b"GET /x HTTP/1.1\r\nHo",), "FIN", [400], id="fin-inside-the-head"),
    pytest.param((b"GET /x HTTP/1.1\r\nHo",), "RST", None, id="rst-inside-the-head"),
    pytest.param(
        (post("Content-Length: 10", body=b"abc"),), "FIN", [400], id="fin-inside-the-body"
    ),
    pytest.param((post("Content-Length: 10", body=b"abc"),), "RST", None, id="rst-inside-the-body"),
    pytest.param((post(_CHUNKED, body=b"5\r\nab"),), "FIN", [400], id="fin-inside-a-chunk"),
    pytest.param((request("GET", "/sleep"),), "RST", None, id="rst-while-the-app-works"),
    pytest.param(
        (b"".join(request("GET", f"/big/{index}") for index in range(200)),),
        "RST",
        None,
        id="rst-after-a-flood-it-never-read",
    ),
    # Half-closed after complete requests: a FIN says the client sends no more, not that it
    # reads no more, so every request that came before it is answered, then the close.
    pytest.param((request("GET", "/"),), "FIN", [200], id="fin-after-a-request"),
    pytest.param(
        (post("Content-Length: 5", body=b"hello"),), "FIN", [200], id="fin-after-a-request-and-body"
    ),
    pytest.param(
        (request("GET", "/sleep") * 3,),
        "FIN",
        [200, 200, 200],
        id="fin-after-3-pipelined-requests-in-one-write",
    ),
    # The second request and the FIN arrive while the application works on the first: both wait
    # in the stream's buffer when the server comes back for more.
    pytest.param(
        (request("GET", "/sleep?s=0.2"), request("GET", "/sleep")),
        "FIN",
        [200, 200],
        id="fin-while-the-first-of-2-pipelined-requests-is-served",
    ),
    pytest.param(
        (request("GET", "/sleep"),) * 3,
        "FIN",
        [200, 200, 200],
        id="fin-after-3-pipelined-requests-in-three-writes",
    ),
]


@pytest.mark.parametrize(("writes", "ending", "statuses"), ABRUPT)
async def test_client_that_ends_abruptly(
    arena: Arena, writes: tuple[bytes, ...], ending: str, statuses: list[int] | None
) -> None:
    """A client that sends a FIN or a RST at any point of a request: after a FIN it gets the
    answers its complete requests earned (and a 400 for a request cut short), then a close;
    after a RST the server lets the connection go. Nothing is logged as an error."""
    attacker = await arena.attacker()
    for data in writes:
        await attacker.send(data)
        await asyncio.sleep(0.02)  # the server has the bytes before the next ones, or the end
    if ending == "RST":
        attacker.reset()
        arena.peers.remove(attacker)
        await arena.settled()
        return
    assert statuses is not None
    attacker.half_close()
    for status in statuses:
        assert (await attacker.response()).status == status
    assert await attacker.rest() == (b"", "FIN")
    attacker.close()
    await arena.settled()


@pytest.mark.parametrize("ending", ["FIN", "RST"])
async def test_client_that_ends_in_the_middle_of_a_streamed_response(
    arena: Arena, ending: str
) -> None:
    """A client that half-closes while a 4 MiB streamed response is on its way still gets all
    of it, correctly framed, then the close; one that resets in the middle of it has the
    server stop the stream (its generator closed) and let the connection go."""
    pieces = 64
    attacker = await arena.attacker()
    await attacker.send(request("GET", f"/stream?n={pieces}"))
    await attacker.receive_some()
    if ending == "RST":
        attacker.reset()
        arena.peers.remove(attacker)
        await arena.settled()
        assert arena.log == ["stream closed"]
        return
    attacker.half_close()
    reply = await attacker.response()
    assert reply.body == b"".join(bytes([index % 251]) * PIECE for index in range(pieces))
    assert await attacker.rest() == (b"", "FIN")
    assert arena.log == ["stream closed"]
    attacker.close()
    await arena.settled()
