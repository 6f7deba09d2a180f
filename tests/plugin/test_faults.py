"""`pytest_aioreq.fakeserver.faults` against clients nobody here wrote.

Each fault meets at least two of http.client, urllib3, requests and httpx (sync), and a raw
socket where the exact bytes matter; the exceptions asserted are the ones these clients raise
(urllib3 with retries=False, so its errors come out unwrapped by MaxRetryError).
"""

from __future__ import annotations

import contextlib
import dataclasses
import http.client
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
import requests
import urllib3

from aioreq.server import RawResponse, Response
from pytest_aioreq.fakeserver import FakeServer, faults

TIMEOUT = 5
BODY = bytes(range(48, 58)) * 30  # 300 bytes: "0123456789" * 30
DATE = "Thu, 01 Jan 2026 00:00:00 GMT"
# The head render() makes for Response(body=BODY, headers={"Date": DATE}).
HEAD = b"HTTP/1.1 200 OK\r\nDate: " + DATE.encode() + b"\r\nContent-Length: 300\r\n\r\n"


def dated(body: bytes = BODY, **kwargs: Any) -> dict[str, Any]:
    """respond() arguments with a fixed Date, so that the rendered bytes are known."""
    return {"body": body, "headers": {"Date": DATE}, **kwargs}


# -- clients --------------------------------------------------------------------------------------


@contextlib.contextmanager
def connection(
    server: FakeServer, timeout: float = TIMEOUT
) -> Iterator[http.client.HTTPConnection]:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=timeout)
    try:
        yield conn
    finally:
        conn.close()


def hc_get(conn: http.client.HTTPConnection, path: str) -> http.client.HTTPResponse:
    conn.request("GET", path)
    return conn.getresponse()


def raw_get(server: FakeServer, path: str) -> tuple[bytes, OSError | None]:
    """Send a GET on a raw socket; everything received until EOF, and the error that ended it."""
    with socket.create_connection((server.host, server.port), timeout=TIMEOUT) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n".encode())
        received = []
        try:
            while data := sock.recv(65536):
                received.append(data)
        except ConnectionResetError as exc:
            return b"".join(received), exc
        return b"".join(received), None


def raw_reads(server: FakeServer, path: str) -> list[tuple[float, bytes]]:
    """Each recv() of a raw GET until EOF, with the time it returned (from the send)."""
    with socket.create_connection((server.host, server.port), timeout=TIMEOUT) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n".encode())
        start = time.perf_counter()
        reads = []
        while data := sock.recv(65536):
            reads.append((time.perf_counter() - start, data))
        return reads


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        yield s


@pytest.fixture
def pool() -> Iterator[urllib3.PoolManager]:
    with urllib3.PoolManager(retries=False, timeout=TIMEOUT) as p:
        yield p


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=TIMEOUT) as c:
        yield c


# -- render and the objects themselves --------------------------------------------------------


def test_render_adds_the_length_and_a_date_after_the_fields() -> None:
    wire = faults.render(Response(body=b"hello", headers={"X-A": "1"}))
    lines = wire.head.split(b"\r\n")
    assert lines[0] == b"HTTP/1.1 200 OK"
    assert lines[1] == b"X-A: 1"
    assert lines[2].startswith(b"Date: ")
    assert lines[3:] == [b"Content-Length: 5", b"", b""]
    assert wire.body == b"hello"
    assert wire.data == wire.head + b"hello"
    assert wire.status_line == b"HTTP/1.1 200 OK"


def test_render_keeps_the_response_own_framing_and_date() -> None:
    response = Response(body=b"hi", headers=[("Content-Length", "9"), ("Date", DATE)])
    assert faults.render(response).head == (
        b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\nDate: " + DATE.encode() + b"\r\n\r\n"
    )


def test_render_chunked_splits_the_body_into_a_few_chunks() -> None:
    wire = faults.render(Response(body=BODY, headers={"Date": DATE}), chunked=True)
    assert wire.head == (
        b"HTTP/1.1 200 OK\r\nDate: " + DATE.encode() + b"\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    chunk = b"64\r\n" + BODY[:100] + b"\r\n"
    assert wire.body == chunk * 3 + b"0\r\n\r\n"
    assert wire.last_chunk == b"0\r\n\r\n"


def test_render_chunked_with_trailers() -> None:
    response = Response(body=b"abcd", trailers=[("X-Sum", "10")], headers={"Date": DATE})
    wire = faults.render(response, chunked=True)
    assert wire.body == b"2\r\nab\r\n2\r\ncd\r\n0\r\nX-Sum: 10\r\n\r\n"
    assert wire.last_chunk == b"0\r\nX-Sum: 10\r\n\r\n"
    with pytest.raises(ValueError, match="trailers need a chunked body"):
        faults.render(response)


def test_render_a_bodyless_status_without_framing() -> None:
    wire = faults.render(Response(204, headers={"Date": DATE}))
    assert wire.head == b"HTTP/1.1 204 No Content\r\nDate: " + DATE.encode() + b"\r\n\r\n"
    assert wire.body == b""


def test_render_refuses_a_streamed_body() -> None:
    async def stream() -> AsyncIterator[bytes]:
        yield b"x"

    with pytest.raises(TypeError, match="bytes bodies only"):
        faults.render(Response(body=stream()))
    with pytest.raises(TypeError, match="bytes bodies only"):
        faults.truncate(3)(Response(body=stream()))


def test_wire_edits_need_a_chunked_body() -> None:
    wire = faults.render(Response(body=b"x"))
    with pytest.raises(ValueError, match="not chunked"):
        wire.without_last_chunk()
    with pytest.raises(ValueError, match="not chunked"):
        wire.with_first_chunk_size(b"zz")


def test_faults_are_frozen_with_readable_reprs() -> None:
    assert repr(faults.truncate(10)) == "faults.truncate(n=10)"
    assert repr(faults.reset("mid-body")) == "faults.reset(when='mid-body')"
    assert repr(faults.close("after-head")) == "faults.close(when='after-head')"
    assert repr(faults.drip(1.5, chunk_size=4)) == "faults.drip(duration=1.5, chunk_size=4)"
    assert repr(faults.stall()) == "faults.stall()"
    assert repr(faults.malformed_status_line()) == (
        "faults.malformed_status_line(line=b'HTTP/1.1 2OO OK')"
    )
    assert repr(faults.close_after(2, Response(text="hi"))) == (
        "faults.close_after(2, <Response 200, 2 bytes>)"
    )
    assert faults.truncate(3) == faults.truncate(3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        faults.truncate(3).n = 4


@pytest.mark.parametrize(
    "make",
    [
        lambda: faults.truncate(-1),
        lambda: faults.close("sometime"),
        lambda: faults.reset("later"),
        lambda: faults.delay(-1),
        lambda: faults.drip(1, chunk_size=0),
        lambda: faults.close_after(0, Response()),
    ],
)
def test_bad_arguments_are_refused(make: Callable[[], object]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 -- each has its own message
        make()


# -- 1. raw ---------------------------------------------------------------------------------------


def test_raw_sends_exact_bytes(aioreq_server: FakeServer, client: httpx.Client) -> None:
    aioreq_server.expect("GET", "/raw").respond(fault=faults.raw(b"NOT HTTP\r\n\r\n"))
    assert raw_get(aioreq_server, "/raw") == (b"NOT HTTP\r\n\r\n", None)
    with connection(aioreq_server) as conn, pytest.raises(http.client.BadStatusLine):
        hc_get(conn, "/raw")
    with pytest.raises(httpx.RemoteProtocolError, match="illegal status line"):
        client.get(aioreq_server.url_for("/raw"))


# -- 2. truncate --------------------------------------------------------------------------------


def test_truncate_sends_the_first_n_bytes_then_fin(aioreq_server: FakeServer) -> None:
    aioreq_server.expect("GET", "/t").respond(**dated(), fault=faults.truncate(100))
    assert raw_get(aioreq_server, "/t") == ((HEAD + BODY)[:100], None)


def test_truncate_in_the_body(
    aioreq_server: FakeServer, session: requests.Session, client: httpx.Client
) -> None:
    aioreq_server.expect("GET", "/t").respond(body=BODY, fault=faults.truncate(100))
    with connection(aioreq_server) as conn:
        response = hc_get(conn, "/t")
        assert response.status == 200
        with pytest.raises(http.client.IncompleteRead) as caught:
            response.read()
    assert caught.value.expected == 300 - len(caught.value.partial)
    with pytest.raises(requests.exceptions.ChunkedEncodingError, match="IncompleteRead"):
        session.get(aioreq_server.url_for("/t"), timeout=TIMEOUT)
    with pytest.raises(httpx.RemoteProtocolError, match="without sending complete message body"):
        client.get(aioreq_server.url_for("/t"))


def test_truncate_in_the_status_line(
    aioreq_server: FakeServer, pool: urllib3.PoolManager, client: httpx.Client
) -> None:
    aioreq_server.expect("GET", "/t").respond(body=BODY, fault=faults.truncate(10))
    with connection(aioreq_server) as conn, pytest.raises(http.client.BadStatusLine):
        hc_get(conn, "/t")
    with pytest.raises(urllib3.exceptions.ProtocolError, match="Connection aborted"):
        pool.request("GET", aioreq_server.url_for("/t"))
    with pytest.raises(httpx.RemoteProtocolError, match="Server disconnected"):
        client.get(aioreq_server.url_for("/t"))


# -- 3. close and reset -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("when", "sent"),
    [("before-head", b""), ("after-head", HEAD), ("mid-body", HEAD + BODY[:150])],
)
def test_close_sends_up_to_the_point_then_fin(
    aioreq_server: FakeServer, when: faults.When, sent: bytes
) -> None:
    aioreq_server.expect("GET", "/c").respond(**dated(), fault=faults.close(when))
    assert raw_get(aioreq_server, "/c") == (sent, None)


def test_close_before_head(
    aioreq_server: FakeServer, session: requests.Session, client: httpx.Client
) -> None:
    aioreq_server.expect("GET", "/c").respond(body=BODY, fault=faults.close("before-head"))
    with connection(aioreq_server) as conn, pytest.raises(http.client.RemoteDisconnected):
        hc_get(conn, "/c")
    with pytest.raises(requests.exceptions.ConnectionError, match="RemoteDisconnected"):
        session.get(aioreq_server.url_for("/c"), timeout=TIMEOUT)
    with pytest.raises(httpx.RemoteProtocolError, match="Server disconnected"):
        client.get(aioreq_server.url_for("/c"))


@pytest.mark.parametrize(("when", "received"), [("after-head", 0), ("mid-body", 150)])
def test_close_in_the_body(
    aioreq_server: FakeServer,
    session: requests.Session,
    client: httpx.Client,
    when: faults.When,
    received: int,
) -> None:
    aioreq_server.expect("GET", "/c").respond(body=BODY, fault=faults.close(when))
    with connection(aioreq_server) as conn:
        response = hc_get(conn, "/c")
        with pytest.raises(http.client.IncompleteRead) as caught:
            response.read()
    assert len(caught.value.partial) == received
    assert caught.value.expected == 300 - received
    with pytest.raises(requests.exceptions.ChunkedEncodingError, match="IncompleteRead"):
        session.get(aioreq_server.url_for("/c"), timeout=TIMEOUT)
    with pytest.raises(httpx.RemoteProtocolError, match=f"received {received} bytes"):
        client.get(aioreq_server.url_for("/c"))


@pytest.mark.parametrize(
    ("when", "sent"),
    [("before-head", b""), ("after-head", HEAD), ("mid-body", HEAD + BODY[:150])],
)
def test_reset_sends_up_to_the_point_then_rst(
    aioreq_server: FakeServer, when: faults.When, sent: bytes
) -> None:
    aioreq_server.expect("GET", "/r").respond(**dated(), fault=faults.reset(when))
    received, error = raw_get(aioreq_server, "/r")
    assert received == sent
    assert isinstance(error, ConnectionResetError)


def test_reset_before_head(
    aioreq_server: FakeServer,
    session: requests.Session,
    pool: urllib3.PoolManager,
    client: httpx.Client,
) -> None:
    aioreq_server.expect("GET", "/r").respond(body=BODY, fault=faults.reset("before-head"))
    with connection(aioreq_server) as conn, pytest.raises(ConnectionResetError):
        hc_get(conn, "/r")
    with pytest.raises(requests.exceptions.ConnectionError, match="Connection aborted") as caught:
        session.get(aioreq_server.url_for("/r"), timeout=TIMEOUT)
    assert not isinstance(caught.value, requests.exceptions.ChunkedEncodingError)
    with pytest.raises(urllib3.exceptions.ProtocolError, match="Connection aborted"):
        pool.request("GET", aioreq_server.url_for("/r"))
    with pytest.raises(httpx.ReadError, match="Connection reset by peer"):
        client.get(aioreq_server.url_for("/r"))


@pytest.mark.parametrize("when", ["after-head", "mid-body"])
def test_reset_in_the_body(
    aioreq_server: FakeServer,
    session: requests.Session,
    pool: urllib3.PoolManager,
    client: httpx.Client,
    when: faults.When,
) -> None:
    aioreq_server.expect("GET", "/r").respond(body=BODY, fault=faults.reset(when))
    with connection(aioreq_server) as conn:
        response = hc_get(conn, "/r")
        assert response.status == 200
        with pytest.raises(ConnectionResetError):
            response.read()
    # requests calls a body cut short by a reset a ChunkedEncodingError, chunked or not.
    with pytest.raises(requests.exceptions.ChunkedEncodingError, match="ConnectionResetError"):
        session.get(aioreq_server.url_for("/r"), timeout=TIMEOUT)
    with pytest.raises(urllib3.exceptions.ProtocolError, match="Connection broken"):
        pool.request("GET", aioreq_server.url_for("/r"))
    with pytest.raises(httpx.ReadError, match="Connection reset by peer"):
        client.get(aioreq_server.url_for("/r"))


# -- 4. stall -------------------------------------------------------------------------------------


def test_stall_makes_clients_time_out(
    aioreq_server: FakeServer, session: requests.Session, pool: urllib3.PoolManager
) -> None:
    aioreq_server.expect("GET", "/s").respond(body=BODY, fault=faults.stall())
    with connection(aioreq_server, timeout=0.2) as conn, pytest.raises(TimeoutError):
        hc_get(conn, "/s")
    with pytest.raises(requests.exceptions.ReadTimeout):
        session.get(aioreq_server.url_for("/s"), timeout=0.2)
    with pytest.raises(urllib3.exceptions.ReadTimeoutError):
        pool.request("GET", aioreq_server.url_for("/s"), timeout=0.2)
    with httpx.Client(timeout=0.2) as short, pytest.raises(httpx.ReadTimeout):
        short.get(aioreq_server.url_for("/s"))
    assert len(aioreq_server.requests) == 4
    # The handlers still wait (the clients gave up, but a stalled handler does not read, so
    # it does not notice); dropping them, as the teardown does, is immediate.
    started = time.perf_counter()
    assert aioreq_server.drop_connections() <= 4
    assert time.perf_counter() - started < 1.0


def test_stall_is_cancelled_by_the_teardown(aioreq_server: FakeServer) -> None:
    """A stalled connection left open: the fixture's teardown must not wait for it."""
    aioreq_server.expect("GET", "/s").respond(fault=faults.stall())
    sock = socket.create_connection((aioreq_server.host, aioreq_server.port), timeout=TIMEOUT)
    with sock:
        sock.sendall(b"GET /s HTTP/1.1\r\nHost: test\r\n\r\n")
        sock.settimeout(0.1)
        with pytest.raises(TimeoutError):
            sock.recv(1)
        started = time.perf_counter()
        aioreq_server.drop_connections()
        sock.settimeout(TIMEOUT)
        assert sock.recv(1) == b""  # dropped: the server closed the connection
    assert time.perf_counter() - started < 1.0


# -- 5. delay -------------------------------------------------------------------------------------


def test_delay_answers_late_on_a_connection_that_stays_usable(aioreq_server: FakeServer) -> None:
    aioreq_server.expect("GET", "/d").respond(body=BODY, fault=faults.delay(0.2))
    with connection(aioreq_server) as conn:
        for _ in range(2):
            started = time.perf_counter()
            response = hc_get(conn, "/d")
            assert response.read() == BODY
            assert time.perf_counter() - started >= 0.2
            assert not response.will_close
    assert [request.connection for request in aioreq_server.requests] == [1, 1]


def test_delay_against_httpx_and_its_timeout(aioreq_server: FakeServer) -> None:
    aioreq_server.expect("GET", "/d").respond(json={"a": 1}, fault=faults.delay(0.2))
    with httpx.Client(timeout=TIMEOUT) as client:
        started = time.perf_counter()
        assert client.get(aioreq_server.url_for("/d")).json() == {"a": 1}
        assert time.perf_counter() - started >= 0.2
    with httpx.Client(timeout=0.05) as short, pytest.raises(httpx.ReadTimeout):
        short.get(aioreq_server.url_for("/d"))


# -- 6. drip --------------------------------------------------------------------------------------


def test_drip_spreads_the_body_over_the_duration(
    aioreq_server: FakeServer, client: httpx.Client
) -> None:
    aioreq_server.expect("GET", "/drip").respond(body=BODY, fault=faults.drip(0.3))
    with connection(aioreq_server) as conn:
        started = time.perf_counter()
        response = hc_get(conn, "/drip")
        head_after = time.perf_counter() - started
        assert response.read() == BODY
        elapsed = time.perf_counter() - started
    assert head_after < 0.15
    assert 0.29 <= elapsed < 1.5
    started = time.perf_counter()
    assert client.get(aioreq_server.url_for("/drip")).content == BODY
    assert 0.29 <= time.perf_counter() - started < 1.5


def test_drip_in_pieces_on_a_raw_socket(aioreq_server: FakeServer) -> None:
    aioreq_server.expect("GET", "/drip").respond(
        **dated(),
        fault=faults.drip(0.3, chunk_size=100),
    )
    reads = raw_reads(aioreq_server, "/drip")
    assert b"".join(data for _, data in reads) == HEAD + BODY
    when, first = reads[0]
    assert first == HEAD  # the head at once, alone
    assert when < 0.09
    # Three pieces of 100 bytes, about 0.1 s apart, the last at about 0.3 s.
    assert [len(data) for _, data in reads[1:]] == [100, 100, 100]
    assert 0.29 <= reads[-1][0] < 1.0


# -- 7. malformed status line and field ---------------------------------------------------------


def test_malformed_status_line(
    aioreq_server: FakeServer, session: requests.Session, client: httpx.Client
) -> None:
    aioreq_server.expect("GET", "/m").respond(**dated(), fault=faults.malformed_status_line())
    assert raw_get(aioreq_server, "/m") == (
        b"HTTP/1.1 2OO OK\r\n" + HEAD.partition(b"\r\n")[2] + BODY,
        None,
    )
    with connection(aioreq_server) as conn, pytest.raises(http.client.BadStatusLine) as caught:
        hc_get(conn, "/m")
    assert caught.value.line == "HTTP/1.1 2OO OK\r\n"
    with pytest.raises(requests.exceptions.ConnectionError, match="BadStatusLine"):
        session.get(aioreq_server.url_for("/m"), timeout=TIMEOUT)
    with pytest.raises(httpx.RemoteProtocolError, match="illegal status line"):
        client.get(aioreq_server.url_for("/m"))


def test_malformed_status_line_of_your_own(aioreq_server: FakeServer) -> None:
    fault = faults.malformed_status_line(b"HTTP/9 200 OK")
    aioreq_server.expect("GET", "/m").respond(body=b"x", fault=fault)
    with connection(aioreq_server) as conn, pytest.raises(http.client.UnknownProtocol):
        hc_get(conn, "/m")
    with httpx.Client(timeout=TIMEOUT) as client, pytest.raises(httpx.RemoteProtocolError):
        client.get(aioreq_server.url_for("/m"))


def test_malformed_field(aioreq_server: FakeServer, client: httpx.Client) -> None:
    aioreq_server.expect("GET", "/f").respond(**dated(), fault=faults.malformed_field())
    assert raw_get(aioreq_server, "/f") == (HEAD[:-2] + b"Bad Field: x\r\n\r\n" + BODY, None)
    with pytest.raises(httpx.RemoteProtocolError, match="illegal header line"):
        client.get(aioreq_server.url_for("/f"))
    # http.client is lenient: the header section ends at the bad line, recorded as a defect.
    with connection(aioreq_server) as conn:
        response = hc_get(conn, "/f")
        assert response.read() == BODY
    assert response.getheader("Content-Length") == "300"
    assert [type(d).__name__ for d in response.headers.defects] == [
        "MissingHeaderBodySeparatorDefect"
    ]


# -- 8. chunked faults ----------------------------------------------------------------------------


def test_bad_chunk_size(
    aioreq_server: FakeServer, session: requests.Session, client: httpx.Client
) -> None:
    aioreq_server.expect("GET", "/b").respond(**dated(), fault=faults.bad_chunk_size())
    received, error = raw_get(aioreq_server, "/b")
    assert error is None
    assert received.partition(b"\r\n\r\n")[2].startswith(b"zz\r\n" + BODY[:100] + b"\r\n64\r\n")
    with connection(aioreq_server) as conn:
        response = hc_get(conn, "/b")
        assert response.status == 200
        # http.client turns the ValueError of int(b"zz", 16) into IncompleteRead.
        with pytest.raises(http.client.IncompleteRead) as caught:
            response.read()
    assert caught.value.partial == b""
    with pytest.raises(requests.exceptions.ChunkedEncodingError, match="InvalidChunkLength"):
        session.get(aioreq_server.url_for("/b"), timeout=TIMEOUT)
    with pytest.raises(httpx.RemoteProtocolError, match="illegal chunk header"):
        client.get(aioreq_server.url_for("/b"))


def test_missing_last_chunk(
    aioreq_server: FakeServer, session: requests.Session, client: httpx.Client
) -> None:
    aioreq_server.expect("GET", "/l").respond(**dated(), fault=faults.missing_last_chunk())
    received, error = raw_get(aioreq_server, "/l")
    assert error is None
    assert received.endswith(BODY[200:] + b"\r\n")
    assert not received.endswith(b"0\r\n\r\n")
    with connection(aioreq_server) as conn:
        response = hc_get(conn, "/l")
        with pytest.raises(http.client.IncompleteRead) as caught:
            response.read()
    assert caught.value.partial == BODY  # every chunk came, only the end is missing
    with pytest.raises(requests.exceptions.ChunkedEncodingError, match="ended prematurely"):
        session.get(aioreq_server.url_for("/l"), timeout=TIMEOUT)
    with pytest.raises(httpx.RemoteProtocolError, match="incomplete chunked read"):
        client.get(aioreq_server.url_for("/l"))


# -- 9. Content-Length and chunked --------------------------------------------------------------


def test_length_and_chunked(
    aioreq_server: FakeServer, pool: urllib3.PoolManager, client: httpx.Client
) -> None:
    aioreq_server.expect("GET", "/lc").respond(**dated(), fault=faults.length_and_chunked())
    received, _ = raw_get(aioreq_server, "/lc")
    head = received.partition(b"\r\n\r\n")[0]
    assert b"\r\nContent-Length: 300" in head
    assert b"\r\nTransfer-Encoding: chunked" in head
    # All of them let chunked override the length (RFC 9112 §6.1) rather than refuse.
    with connection(aioreq_server) as conn:
        assert hc_get(conn, "/lc").read() == BODY
    assert pool.request("GET", aioreq_server.url_for("/lc")).data == BODY
    assert client.get(aioreq_server.url_for("/lc")).content == BODY


def test_length_and_chunked_with_a_length_of_your_own(aioreq_server: FakeServer) -> None:
    fault = faults.length_and_chunked(content_length=5)
    aioreq_server.expect("GET", "/lc").respond(body=BODY, fault=fault)
    received, _ = raw_get(aioreq_server, "/lc")
    assert b"\r\nContent-Length: 5\r\n" in received
    with httpx.Client(timeout=TIMEOUT) as client:
        assert client.get(aioreq_server.url_for("/lc")).content == BODY


# -- 10. byte by byte ---------------------------------------------------------------------------


def test_byte_by_byte(aioreq_server: FakeServer, client: httpx.Client) -> None:
    aioreq_server.expect("GET", "/bb").respond(**dated(b"x" * 50), fault=faults.byte_by_byte())
    reads = raw_reads(aioreq_server, "/bb")
    data = b"".join(piece for _, piece in reads)
    assert data == HEAD.replace(b"300", b"50") + b"x" * 50
    # One write per byte; the kernel may coalesce some, so only ask for many reads.
    assert len(reads) > len(data) // 4
    with connection(aioreq_server) as conn:
        for _ in range(2):  # the connection stays usable
            assert hc_get(conn, "/bb").read() == b"x" * 50
    assert client.get(aioreq_server.url_for("/bb")).content == b"x" * 50


# -- 11. HTTP/1.0 ---------------------------------------------------------------------------------


def test_http10(aioreq_server: FakeServer, session: requests.Session, client: httpx.Client) -> None:
    aioreq_server.expect("GET", "/10").respond(**dated(), fault=faults.http10())
    assert raw_get(aioreq_server, "/10") == (HEAD.replace(b"1.1", b"1.0", 1) + BODY, None)
    with connection(aioreq_server) as conn:
        response = hc_get(conn, "/10")
        assert response.version == 10
        assert response.will_close
        assert response.read() == BODY
    answer = session.get(aioreq_server.url_for("/10"), timeout=TIMEOUT)
    assert answer.raw.version == 10
    assert answer.content == BODY
    answer2 = client.get(aioreq_server.url_for("/10"))
    assert answer2.http_version == "HTTP/1.0"
    assert answer2.content == BODY


def test_http10_without_length_ends_the_body_with_the_connection(
    aioreq_server: FakeServer, client: httpx.Client
) -> None:
    fault = faults.http10(content_length=False)
    aioreq_server.expect("GET", "/10").respond(**dated(), fault=fault)
    received, _ = raw_get(aioreq_server, "/10")
    assert received == b"HTTP/1.0 200 OK\r\nDate: " + DATE.encode() + b"\r\n\r\n" + BODY
    with connection(aioreq_server) as conn:
        response = hc_get(conn, "/10")
        assert response.length is None
        assert response.read() == BODY
    assert client.get(aioreq_server.url_for("/10")).content == BODY


# -- 12. close_after ------------------------------------------------------------------------------


def test_close_after_with_a_requests_session(
    aioreq_server: FakeServer, session: requests.Session
) -> None:
    handler = faults.close_after(2, Response(text="hi"))
    aioreq_server.expect("GET", "/k").respond_with(handler)
    answers = [session.get(aioreq_server.url_for("/k"), timeout=TIMEOUT) for _ in range(3)]
    assert [answer.text for answer in answers] == ["hi"] * 3
    assert [answer.headers.get("Connection") for answer in answers] == [None, "close", None]
    assert [request.connection for request in aioreq_server.requests] == [1, 1, 2]
    assert aioreq_server.connection_count == 2


def test_close_after_with_a_urllib3_pool(
    aioreq_server: FakeServer, pool: urllib3.PoolManager
) -> None:
    aioreq_server.expect("GET", "/k").respond_with(faults.close_after(2, Response(body=b"k")))
    url = aioreq_server.url_for("/k")
    assert [pool.request("GET", url).data for _ in range(5)] == [b"k"] * 5
    assert [request.connection for request in aioreq_server.requests] == [1, 1, 2, 2, 3]
    assert aioreq_server.connection_count == 3
    # urllib3 reconnects the same HTTPConnection object: its pool counts one "connection".
    assert pool.connection_from_url(url).num_connections == 1


def test_close_after_one_on_http_client(aioreq_server: FakeServer) -> None:
    aioreq_server.expect("GET", "/k").respond_with(faults.close_after(1, Response(body=b"k")))
    with connection(aioreq_server) as conn:
        response = hc_get(conn, "/k")
        assert response.will_close
        assert response.read() == b"k"
        # http.client reconnects on its own for the next request.
        assert hc_get(conn, "/k").read() == b"k"
    assert [request.connection for request in aioreq_server.requests] == [1, 2]


def test_close_after_refuses_a_streamed_body() -> None:
    async def stream() -> AsyncIterator[bytes]:
        yield b"x"

    with pytest.raises(TypeError, match="bytes body"):
        faults.close_after(2, Response(body=stream()))


# -- reuse ----------------------------------------------------------------------------------------


def test_a_timed_fault_answers_every_matching_request(aioreq_server: FakeServer) -> None:
    """The RawResponse of a fault is sent once per request: its stream starts over each time."""
    aioreq_server.expect("GET", "/again").respond(body=b"ok", fault=faults.drip(0.01))
    aioreq_server.expect("GET", "/stall").respond(fault=faults.stall())
    for _ in range(3):
        with connection(aioreq_server) as conn:
            assert hc_get(conn, "/again").read() == b"ok"
    for _ in range(2):
        with connection(aioreq_server, timeout=0.05) as conn, pytest.raises(TimeoutError):
            hc_get(conn, "/stall")
    assert aioreq_server.problems() == []


def test_the_fault_type_fits_respond() -> None:
    """A fault is what `respond(fault=...)` takes: Response in, RawResponse out."""
    fault: faults.Fault = faults.truncate(4)
    assert isinstance(fault(Response(body=b"x")), RawResponse)
