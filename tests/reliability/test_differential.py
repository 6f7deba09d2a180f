"""Differential fuzzing over sockets: responses drawn by `pytest_aioreq.strategies`, served byte
for byte over loopback TCP, fetched by `aioreq.Client`, and compared with what the strategy says
a correct client must return or reject.

The property tests in `tests/property/` check the sans-IO parser alone. These check everything a
user meets above it: the connection's reads, the pool's decision to keep or drop a connection,
`request` (the body taken whole) and `stream` + `iter_raw` (the body as it arrives), with the
bytes cut into the writes `strategies.splits` draws. `tests/plugin/test_fuzz_a_client.py` serves
the same kind of cases to `http.client`, one response per connection and only the body compared;
here up to three responses follow each other on one connection whenever the case says it
persists, so that a client reading one byte too many or too few is caught by the next response,
and a connection it keeps that it should have dropped (or the reverse) shows in the server's log.

The server is `_Script`, a small asyncio server of this module, not the fake server: the fake
server parses each request with aioreq's own server, which refuses some requests the cases
answer (a CONNECT to an origin-form target), and it writes each reply in one piece.

Sizes: a share of the hypothesis profile's examples (100 a property by default, 1,000 with
`HYPOTHESIS_PROFILE=ci`), and a fixed many more with `AIOREQ_LONG=1`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ssl
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import pytest
from hypothesis import HealthCheck, example, given, note, settings
from hypothesis import strategies as st

import aioreq
from aioreq.protocol import ResponseHead
from pytest_aioreq import strategies as hs

from ._scale import scaled

_T = TypeVar("_T")


def _examples(share: float, long: int) -> int:
    """A share of the loaded profile's examples, or `long` under AIOREQ_LONG=1."""
    return scaled(max(10, round(settings().max_examples * share)), long)


def _settings(share: float, long: int) -> settings:
    return settings(
        max_examples=_examples(share, long),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )


# -- the server -----------------------------------------------------------------------------------


@dataclass
class _Reply:
    """What the server does with one request: write `reads` one by one, then close the
    connection unless `keep_open`."""

    reads: list[bytes]
    keep_open: bool


async def _pause() -> None:
    # Two turns of the event loop: enough for each write to reach the client as a read of its
    # own (measured: one turn lets about half of one-byte writes coalesce; two, none).
    await asyncio.sleep(0)
    await asyncio.sleep(0)


class _Script:
    """A loopback HTTP/1.1 server that answers each request with the next scripted `_Reply`.

    Attributes:
        url: the URL to request.
        replies: the replies still to give, in order.
        log: (connection number, request line) of each request, connections numbered from 1.
    """

    def __init__(self) -> None:
        self.url = ""
        self.replies: deque[_Reply] = deque()
        self.log: list[tuple[int, bytes]] = []
        self.errors: list[BaseException] = []
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._connections = 0

    async def __aenter__(self) -> _Script:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/differential"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        # Closed, not cancelled: a handler waiting for a request sees the end of the stream
        # and returns (asyncio logs an error for a cancelled connection handler).
        for writer in self._writers:
            writer.close()
        await asyncio.gather(*self._handlers)
        await self._server.wait_closed()
        if exc_info[0] is None:
            assert not self.errors, self.errors

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handler = asyncio.current_task()
        assert handler is not None
        self._handlers.add(handler)
        self._writers.add(writer)
        self._connections += 1
        number = self._connections
        try:
            await self._serve(number, reader, writer)
        except ConnectionError:
            pass  # the client gave up on the response before its end (it may, when broken)
        except Exception as exc:  # asyncio would only log it
            self.errors.append(exc)
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _serve(
        self, number: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
                await reader.readexactly(_content_length(head))
            except asyncio.IncompleteReadError:
                return  # the client closed the connection
            self.log.append((number, head.split(b"\r\n", 1)[0]))
            if not self.replies:
                return  # a request nobody scripted: the test sees it in the log
            reply = self.replies.popleft()
            for index, data in enumerate(reply.reads):
                if index:
                    await _pause()
                if data:
                    writer.write(data)
                    await writer.drain()
            if not reply.keep_open:
                return


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


def _run(main: Callable[[], Awaitable[_T]]) -> _T:
    """Run one example in a loop of its own; 20 seconds is a hang."""

    async def guarded() -> _T:
        return await asyncio.wait_for(main(), 20)

    return asyncio.run(guarded())


def _client(read_timeout: float = 5.0) -> aioreq.Client:
    # No redirects followed (a drawn 3xx is the answer), no proxy or .netrc from the environment.
    timeout = aioreq.Timeout(5.0, read=read_timeout)
    return aioreq.Client(follow_redirects=False, trust_env=False, timeout=timeout)


# -- what the client returned ---------------------------------------------------------------------


@dataclass
class _Got:
    """What a response looks like to a user of the client."""

    status: int
    reason: bytes
    http_version: str
    headers: list[tuple[bytes, bytes]]
    body: bytes
    trailers: list[tuple[bytes, bytes]]


async def _fetch(client: aioreq.Client, api: str, method: str, url: str, **kwargs: Any) -> _Got:
    """Fetch with `request` (api "request") or with `stream` and `iter_raw` (api "stream")."""
    if api == "request":
        response = await client.request(method, url, **kwargs)
        body = response.body
    else:
        async with client.stream(method, url, **kwargs) as response:
            body = b"".join([piece async for piece in response.iter_raw()])
    return _Got(
        response.status,
        response.status_message.encode("latin-1"),
        response.http_version,
        response.headers.raw,
        body,
        response.trailers.raw,
    )


def _expected(case: hs.ResponseCase) -> _Got:
    head = case.head
    return _Got(
        head.status_code,
        head.reason,
        # Response.http_version is "HTTP/1.1" or "HTTP/1.0". RFC 9110 §2.5: a message of a
        # higher minor version is processed "as if it were in the highest minor version within
        # that major version to which the recipient is conformant" -- 1.1.
        "HTTP/1.0" if head.http_version == b"1.0" else "HTTP/1.1",
        list(head.headers),
        case.body,
        list(case.trailers),
    )


def _request_options(case: hs.ResponseCase) -> dict[str, Any]:
    """The request fields that make the case's response a legitimate answer: RFC 9110 §7.8
    lets a server switch only to a protocol the request's Upgrade field offered."""
    if case.head.status_code != 101:
        return {}
    (upgrade,) = [value for name, value in case.head.headers if name.lower() == b"upgrade"]
    return {"headers": {"Upgrade": upgrade.decode("latin-1"), "Connection": "upgrade"}}


# -- valid responses ------------------------------------------------------------------------------

# The client sends methods in upper case (as httpx and requests do), so random tokens are drawn
# that way: the case must answer the method that goes on the wire.
_METHODS = st.one_of(
    st.sampled_from([b"GET", b"GET", b"HEAD", b"POST", b"PUT", b"DELETE", b"OPTIONS", b"CONNECT"]),
    hs.tokens(max_size=8).map(bytes.upper),
)
_APIS = st.sampled_from(["request", "stream"])


@dataclass(frozen=True)
class _Exchange:
    """One drawn response, the writes it goes out in, and the client API that fetches it."""

    case: hs.ResponseCase
    reads: list[bytes]
    api: str


@st.composite
def _exchanges(draw: st.DrawFn) -> _Exchange:
    method = draw(_METHODS)
    case = draw(hs.responses(methods=[method]))
    return _Exchange(case, draw(hs.splits(case.data)), draw(_APIS))


async def _exchange(
    client: aioreq.Client, server: _Script, exchange: _Exchange, **kwargs: Any
) -> None:
    """Fetch the response of `exchange` and compare it, and what the pool kept, with its case."""
    case = exchange.case
    note(f"{exchange.api}, {case.request_method!r}: {case.data!r}")
    server.replies.append(_Reply(exchange.reads, keep_open=case.keep_alive))
    method = case.request_method.decode("ascii")
    options = _request_options(case) | kwargs
    got = await _fetch(client, exchange.api, method, server.url, **options)
    want = _expected(case)
    assert got == want
    # Kept for reuse exactly when the case says the connection persists.
    pool = client._pool
    assert (pool.idle_count, pool.connection_count) == (case.keep_alive,) * 2


def _check_exchanges(exchanges: list[_Exchange]) -> None:
    """Fetch each exchange's response in turn, on one client, and compare."""

    async def main() -> None:
        async with _Script() as server, _client() as client:
            for exchange in exchanges:
                await _exchange(client, server, exchange)
            # One request each, on the connection the previous one left open, if it did.
            connection, expected = 1, []
            for before, exchange in zip([None, *exchanges[:-1]], exchanges, strict=True):
                if before is not None and not before.case.keep_alive:
                    connection += 1
                expected.append((connection, exchange.case.request_method))
            assert [(n, line.split(b" ", 1)[0]) for n, line in server.log] == expected

    _run(main)


def _pinned(
    data: bytes,
    head: ResponseHead,
    *,
    method: bytes = b"GET",
    interim: tuple[ResponseHead, ...] = (),
    body: bytes = b"",
    trailers: tuple[tuple[bytes, bytes], ...] = (),
    needs_eof: bool = False,
    keep_alive: bool = True,
    tunnel_data: bytes = b"",
    api: str = "request",
    bytewise: bool = False,
) -> _Exchange:
    """An exchange written out by hand, for `@example` (one write, or one byte a write)."""
    switched = head.status_code == 101 or (method == b"CONNECT" and head.status_code < 300)
    case = hs.ResponseCase(
        data=data,
        request_method=method,
        interim=list(interim),
        head=head,
        body=body,
        trailers=list(trailers),
        needs_eof=needs_eof,
        keep_alive=keep_alive,
        switched=switched,
        tunnel_data=tunnel_data,
    )
    reads = [data[i : i + 1] for i in range(len(data))] if bytewise else [data]
    return _Exchange(case, reads, api)


# Each framing and rule at least once in every run, whatever hypothesis draws.
_HEAD_WITH_LENGTH = _pinned(
    # RFC 9112 §6.3 ¶1: the answer to HEAD ends with its head, whatever Content-Length says.
    b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n",
    ResponseHead(200, b"OK", b"1.1", [(b"Content-Length", b"1000000")]),
    method=b"HEAD",
)
_CHUNKED = _pinned(
    b"HTTP/1.1 200 OK\r\ntransfer-encoding: Chunked\r\n\r\n"
    b'3 ; a = "b;\\"c" ;d\r\nabc\r\n00A\r\n0123456789\r\n0;e=f\r\nX-T: 1\r\nx-t:2 \r\n\r\n',
    ResponseHead(200, b"OK", b"1.1", [(b"transfer-encoding", b"Chunked")]),
    body=b"abc0123456789",
    trailers=((b"X-T", b"1"), (b"x-t", b"2")),
    api="stream",
    bytewise=True,
)
_HTTP10_KEPT = _pinned(
    b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 002\r\n\r\nok",
    ResponseHead(200, b"OK", b"1.0", [(b"Connection", b"Keep-Alive"), (b"Content-Length", b"002")]),
    body=b"ok",
)
_CLOSE_DELIMITED = _pinned(
    b"HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\nConnection: close\r\n\r\nabc",
    ResponseHead(200, b"OK", b"1.1", [(b"Content-Length", b"3, 3"), (b"Connection", b"close")]),
    body=b"abc",
    keep_alive=False,
)
_UNTIL_THE_CLOSE = _pinned(
    b"HTTP/1.1 200 OK\r\n\r\nuntil the close",
    ResponseHead(200, b"OK", b"1.1", []),
    body=b"until the close",
    needs_eof=True,
    keep_alive=False,
    api="stream",
)
_INTERIM_THEN_304 = _pinned(
    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s>\r\n\r\n"
    b"HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n",
    ResponseHead(304, b"Not Modified", b"1.1", [(b"Transfer-Encoding", b"chunked")]),
    interim=(
        ResponseHead(100, b"Continue", b"1.1", []),
        ResponseHead(103, b"Early Hints", b"1.1", [(b"Link", b"</s>")]),
    ),
    bytewise=True,
)
_TUNNEL = _pinned(
    # RFC 9110 §9.3.6: a 2xx to CONNECT is a tunnel; a client "MUST ignore" Content-Length
    # there, and what follows the head is not a body.
    b"HTTP/1.1 200 Connection Established\r\nContent-Length: 5\r\n\r\n\x16\x03\x01",
    ResponseHead(200, b"Connection Established", b"1.1", [(b"Content-Length", b"5")]),
    method=b"CONNECT",
    keep_alive=False,
    tunnel_data=b"\x16\x03\x01",
)
_UPGRADE = _pinned(
    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n"
    b"\x81\x00",
    ResponseHead(
        101,
        b"Switching Protocols",
        b"1.1",
        [(b"Upgrade", b"websocket"), (b"Connection", b"upgrade")],
    ),
    keep_alive=False,
    tunnel_data=b"\x81\x00",
    api="stream",
)


@_settings(0.4, 5000)
@given(exchanges=st.lists(_exchanges(), min_size=1, max_size=3))
@example(exchanges=[_HEAD_WITH_LENGTH, _CHUNKED, _HTTP10_KEPT, _CLOSE_DELIMITED])
@example(exchanges=[_INTERIM_THEN_304, _UNTIL_THE_CLOSE])
@example(exchanges=[_HTTP10_KEPT, _TUNNEL])
@example(exchanges=[_UPGRADE])
def test_valid_responses_come_out_of_the_client_as_drawn(exchanges: list[_Exchange]) -> None:
    """Invariant: for every valid response -- every framing, 1xx before it, HTTP/1.0 to 1.9,
    any method (HEAD, CONNECT, a random token), a protocol switch -- written in any cutting
    over a real socket, `request` and `stream` + `iter_raw` return the status, reason, version,
    fields (order, case and repeats kept), body and trailers the strategy states; the
    connection is pooled exactly when the case says it persists, and the next request goes on
    it (so the client read exactly the response's bytes, no more, no fewer)."""
    _check_exchanges(exchanges)


def test_a_higher_minor_version_is_reported_as_http_1_1() -> None:
    """Found by the property above (it said "HTTP/1.0"). RFC 9110 §2.5: a recipient "SHOULD
    process the message as if it were in the highest minor version within that major version
    to which the recipient is conformant": aioreq keeps the connection, as for 1.1, and says
    so in `Response.http_version`."""
    data = b"HTTP/1.2 200 OK\r\nContent-Length: 2\r\n\r\nok"

    async def main() -> str:
        async with _Script() as server, _client() as client:
            server.replies.append(_Reply([data], keep_open=True))
            response = await client.get(server.url)
            assert (response.body, client._pool.idle_count) == (b"ok", 1)
            return response.http_version

    assert _run(main) == "HTTP/1.1"


# -- malformed responses --------------------------------------------------------------------------


_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"  # what some broken responses come after


def _must_wait(bad: hs.Malformed) -> bool:
    """Whether `bad.data` is a valid response cut short: on a connection left open, a client
    must wait for the rest (or the close); rejecting it would reject what may yet be valid."""
    return "cut short" in bad.reason or "shorter than" in bad.reason


def _may_wait(bad: hs.Malformed) -> bool:
    """Whether a client may wait for more bytes after `bad.data` on a connection left open,
    though they cannot mend it.

    It may when the bytes end in a CR that the next byte could make a CRLF, and when the final
    header section has not ended (no CRLF CRLF): a client may take the whole section before
    judging its lines, as aioreq and h11 both do, so a bare CR that broke the section's end is
    found at the close, the read timeout or the header size limit.
    """
    return bad.data.endswith(b"\r") or b"\r\n\r\n" not in bad.data.removeprefix(_CONTINUE)


#: The read timeout where waiting is legitimate (it is what must, or may, end the wait); where
#: it is not, 5 seconds, which only a hang reaches.
_WAIT = 0.1


@dataclass(frozen=True)
class _Broken:
    """A broken response and the writes it goes out in."""

    bad: hs.Malformed
    reads: list[bytes]


@st.composite
def _broken(draw: st.DrawFn) -> _Broken:
    bad = draw(hs.malformed_responses())
    return _Broken(bad, draw(hs.splits(bad.data)))


_KEPT = _exchanges().filter(lambda exchange: exchange.case.keep_alive)
_NOTHING = _Broken(hs.Malformed(b"", "header section cut short (RFC 9112 §8)"), [])
_BARE_CR_IN_HEAD = _Broken(
    # Found by the property: the head never ends, so the client may wait for its end.
    hs.Malformed(
        b"HTTP/1.1 200 OK\r\nContent-Length:1\r\r\nx",
        "bare CR (RFC 9112 §2.2: the element is invalid, or each bare CR is read as SP)",
    ),
    [b"HTTP/1.1 200 OK\r\nContent-Length:1\r", b"\r\nx"],
)
_TE_AND_CL = _Broken(
    hs.Malformed(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
        "Transfer-Encoding and Content-Length together (RFC 9112 §6.3 ¶3)",
    ),
    [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n"],
)
_SHORT_BODY = _Broken(
    hs.Malformed(
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc",
        "body shorter than its Content-Length (RFC 9112 §6.3 ¶5, §8)",
    ),
    [b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\na", b"bc"],
)


@_settings(0.4, 5000)
@given(broken=_broken(), api=_APIS, keep_open=st.booleans(), before=st.none() | _KEPT)
# Closed before any byte, on a reused connection: retried once, on a new one.
@example(broken=_NOTHING, api="request", keep_open=False, before=_HTTP10_KEPT)
@example(broken=_NOTHING, api="stream", keep_open=True, before=_HEAD_WITH_LENGTH)
@example(broken=_BARE_CR_IN_HEAD, api="request", keep_open=True, before=None)
@example(broken=_BARE_CR_IN_HEAD, api="stream", keep_open=False, before=None)
@example(broken=_TE_AND_CL, api="stream", keep_open=True, before=_CHUNKED)
@example(broken=_SHORT_BODY, api="stream", keep_open=True, before=None)
@example(broken=_SHORT_BODY, api="request", keep_open=False, before=_HTTP10_KEPT)
def test_malformed_responses_are_rejected(
    broken: _Broken, api: str, keep_open: bool, before: _Exchange | None
) -> None:
    """Invariant: for every broken response, written in any cutting over a real socket and
    then either closed or left open, on a new connection or on one a valid response left open,
    `request` and `stream` + `iter_raw` raise `RemoteProtocolError` -- never a body, never a
    hang -- and the connection is closed, not pooled. On a connection left open, a message cut
    short waits, and the read timeout, nothing else, ends the wait; a message that only more
    bytes could show broken (see `_may_wait`) may wait too."""
    bad, reads = broken.bad, broken.reads
    note(bad.reason)
    if not keep_open:
        wanted: tuple[type[aioreq.AioreqError], ...] = (aioreq.RemoteProtocolError,)
    elif _must_wait(bad):
        wanted = (aioreq.ReadTimeout,)
    elif _may_wait(bad):
        wanted = (aioreq.ReadTimeout, aioreq.RemoteProtocolError)
    else:
        wanted = (aioreq.RemoteProtocolError,)
    connections = [1]
    if before is not None:
        connections.append(1)
        if not bad.data and not keep_open:
            # Closed before any byte of the response, on a reused connection: the one retry
            # aioreq makes of an idempotent request (see aioreq.client._exchange), on a new one.
            connections.append(2)

    async def main() -> None:
        read_timeout = _WAIT if aioreq.ReadTimeout in wanted else 5.0
        async with _Script() as server, _client(read_timeout) as client:
            if before is not None:
                await _exchange(client, server, before, timeout=5.0)
            server.replies.append(_Reply(reads, keep_open=keep_open))
            with pytest.raises(aioreq.AioreqError) as raised:
                await _fetch(client, api, "GET", server.url)
            assert isinstance(raised.value, wanted), repr(raised.value)
            pool = client._pool
            assert (pool.idle_count, pool.connection_count) == (0, 0)
            assert [number for number, _ in server.log] == connections

    _run(main)


# -- a second client on the same bytes ------------------------------------------------------------

# What httpx (over h11) reads as RFC 9112 has it: h11 allows no whitespace before ";" in a chunk
# extension (RFC 9112 §7.1.1 does), and its CONNECT is a tunnel of its own; nothing else is left
# out.
_SHARED_METHODS = st.one_of(
    st.sampled_from([b"GET", b"HEAD", b"POST"]),
    hs.tokens(max_size=8).map(bytes.upper).filter(lambda method: method != b"CONNECT"),
)


@st.composite
def _shared_cases(draw: st.DrawFn) -> hs.ResponseCase:
    method = draw(_SHARED_METHODS)
    return draw(hs.responses(methods=[method], switches=False, chunk_ext_whitespace=False))


def _h11_shape(fields: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """Fields as h11 hands them to httpx: one Content-Length field with one value (RFC 9110
    §8.6 lets a recipient fold repeats), Transfer-Encoding values lowercased."""
    out = []
    seen_length = False
    for name, value in fields:
        lname = name.lower()
        if lname == b"content-length":
            if seen_length:
                continue
            seen_length = True
            value = value.split(b",")[0].strip(b" \t")
        elif lname == b"transfer-encoding":
            value = value.lower()
        out.append((name, value))
    return out


@functools.cache
def _httpx_tls() -> ssl.SSLContext:
    # Made once: an httpx client makes one of its own otherwise, which costs more than the
    # example (no TLS is spoken here).
    return ssl.create_default_context()


@_settings(0.2, 2000)
@given(case=_shared_cases(), data=st.data())
def test_aioreq_and_httpx_read_the_same_bytes_alike(
    case: hs.ResponseCase, data: st.DataObject
) -> None:
    """Invariant: served the same bytes in the same writes, aioreq and httpx return the same
    status, reason, fields (in h11's shape), and body; aioreq's version is httpx's for 1.0 and
    1.1. Where they disagree, the strategy's case says who is right."""
    note(f"{case.request_method!r}: {case.data!r}")
    reads = data.draw(hs.splits(case.data), label="reads")
    method = case.request_method.decode("ascii")

    async def main() -> tuple[_Got, _Got]:
        async with _Script() as server, _client() as ours:
            server.replies.append(_Reply(reads, keep_open=case.keep_alive))
            got = await _fetch(ours, "request", method, server.url)
            async with httpx.AsyncClient(
                verify=_httpx_tls(), trust_env=False, timeout=5.0
            ) as theirs:
                server.replies.append(_Reply(reads, keep_open=case.keep_alive))
                response = await theirs.request(method, server.url)
                their = _Got(
                    response.status_code,
                    response.extensions["reason_phrase"],
                    response.http_version,
                    response.headers.raw,
                    response.content,
                    [],  # httpx hands out no trailers
                )
            return got, their

    got, their = _run(main)
    got.headers = _h11_shape(got.headers)
    got.trailers = []
    if case.head.http_version not in (b"1.0", b"1.1"):
        # httpx reports "HTTP/1.2" as received; aioreq "HTTP/1.1", as it processes it.
        their.http_version = got.http_version
    assert got == their
