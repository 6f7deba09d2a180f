"""Size limits: knobs with safe defaults, each refusing what is over it with the right status.

RFC 9112 §3: "A server that receives a request-target longer than any URI it wishes to parse
MUST respond with a 414 (URI Too Long) status code"; RFC 6585 §5: 431 (Request Header Fields Too
Large); RFC 9110 §15.5.14: 413 (Content Too Large). RFC 9112 §2.3 and RFC 9110 §5.4 leave the
limits to the implementation; these tests pin what the parser promises about them.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from aioreq import RemoteProtocolError
from aioreq.protocol import (
    DEFAULT_MAX_CHUNK_LINE_SIZE,
    DEFAULT_MAX_HEADER_COUNT,
    DEFAULT_MAX_HEADER_SIZE,
    DEFAULT_MAX_LINE_SIZE,
    EndOfMessage,
    RequestParser,
    ResponseParser,
)

from ._helpers import MODES, assert_rejected, body_of, feed_all, msg, rejection


def request_line(length: int) -> bytes:
    """A request line of exactly `length` bytes (CRLF not counted)."""
    line = b"GET / HTTP/1.1"
    return b"GET /" + b"a" * (length - len(line)) + b" HTTP/1.1"


def fields(count: int, size: int = 10) -> list[bytes]:
    return [b"X-%04d: " % i + b"v" * size for i in range(count)]


def chunk_line(length: int) -> bytes:
    """A chunk-size line for a 1-byte chunk, padded with an extension to `length` bytes."""
    return b"1;x=" + b"e" * (length - 4)


def chunked_request(*lines: bytes, wire: bytes) -> bytes:
    return msg(b"POST / HTTP/1.1", b"Host: h", b"Transfer-Encoding: chunked", *lines, body=wire)


def chunked_response(wire: bytes) -> bytes:
    return msg(b"HTTP/1.1 200 OK", b"Transfer-Encoding: chunked", body=wire)


# Each row: the parser with a custom limit, a message within it, one just over it, what the error
# names, and the status hint a server answers with. (Exactly-at-the-limit lines are checked on
# their own below.)
LIMITS = [
    pytest.param(
        lambda: RequestParser(max_line_size=64),
        msg(request_line(63), b"Host: h"),
        msg(request_line(65), b"Host: h"),
        ("request line", "64"), 414, id="request-line-414",
    ),
    pytest.param(
        lambda: RequestParser(max_line_size=64),
        msg(request_line(63), b"Host: h"),
        request_line(2000),  # the end of the line never arrives: refused at the limit anyway
        ("request line", "64"), 414, id="request-line-endless-414",
    ),
    pytest.param(
        lambda: ResponseParser(max_line_size=40),
        msg(b"HTTP/1.1 200 " + b"R" * 26, b"Content-Length: 0"),
        msg(b"HTTP/1.1 200 " + b"R" * 60, b"Content-Length: 0"),
        ("line", "40"), 400, id="status-line",
    ),
    pytest.param(
        lambda: RequestParser(max_header_size=300),
        msg(b"GET / HTTP/1.1", b"Host: h", *fields(10, 10)),
        msg(b"GET / HTTP/1.1", b"Host: h", *fields(10, 40)),
        ("head", "300"), 431, id="request-header-section-431",
    ),
    pytest.param(
        lambda: RequestParser(max_header_size=300),
        msg(b"GET / HTTP/1.1", b"Host: h", *fields(10, 10)),
        b"GET / HTTP/1.1\r\nHost: h\r\nX: " + b"v" * 1000,  # never ends
        ("head", "300"), 431, id="request-header-section-endless-431",
    ),
    pytest.param(
        lambda: ResponseParser(max_header_size=300),
        msg(b"HTTP/1.1 204 No Content", *fields(10, 10)),
        msg(b"HTTP/1.1 204 No Content", *fields(10, 40)),
        ("head", "300"), 431, id="response-header-section",
    ),
    pytest.param(
        lambda: RequestParser(max_header_count=5),
        msg(b"GET / HTTP/1.1", b"Host: h", *fields(4)),
        msg(b"GET / HTTP/1.1", b"Host: h", *fields(5)),
        ("6", "5"), 431, id="request-header-count-431",
    ),
    pytest.param(
        lambda: ResponseParser(max_header_count=5),
        msg(b"HTTP/1.1 204 No Content", *fields(5)),
        msg(b"HTTP/1.1 204 No Content", *fields(6)),
        ("6", "5"), 431, id="response-header-count",
    ),
    pytest.param(
        lambda: RequestParser(max_header_count=3),
        chunked_request(wire=b"0\r\n" + b"".join(f + b"\r\n" for f in fields(3)) + b"\r\n"),
        chunked_request(wire=b"0\r\n" + b"".join(f + b"\r\n" for f in fields(4)) + b"\r\n"),
        ("trailer", "4", "3"), 431, id="trailer-count-431",
    ),
    pytest.param(
        lambda: RequestParser(max_header_size=200),
        chunked_request(wire=b"0\r\n" + b"".join(f + b"\r\n" for f in fields(5)) + b"\r\n"),
        chunked_request(wire=b"0\r\n" + b"".join(f + b"\r\n" for f in fields(5, 50)) + b"\r\n"),
        ("trailer", "200"), 431, id="trailer-section-431",
    ),
    pytest.param(
        lambda: RequestParser(max_chunk_line_size=32),
        chunked_request(wire=chunk_line(31) + b"\r\na\r\n0\r\n\r\n"),
        chunked_request(wire=chunk_line(33) + b"\r\na\r\n0\r\n\r\n"),
        ("chunk-size line", "32"), 400, id="chunk-line",
    ),
    pytest.param(
        lambda: ResponseParser(max_chunk_line_size=32),
        chunked_response(chunk_line(31) + b"\r\na\r\n0\r\n\r\n"),
        chunked_response(b"1;" + b"e" * 500),  # never ends
        ("chunk-size line", "32"), 400, id="chunk-line-endless",
    ),
    pytest.param(
        lambda: RequestParser(max_body_size=10),
        msg(b"POST / HTTP/1.1", b"Host: h", b"Content-Length: 10", body=b"x" * 10),
        msg(b"POST / HTTP/1.1", b"Host: h", b"Content-Length: 11", body=b"x" * 11),
        ("11", "10"), 413, id="content-length-413",
    ),
    pytest.param(
        lambda: RequestParser(max_body_size=10),
        chunked_request(wire=b"5\r\n12345\r\n5\r\n67890\r\n0\r\n\r\n"),
        chunked_request(wire=b"5\r\n12345\r\n6\r\n678901\r\n0\r\n\r\n"),
        ("chunked", "10"), 413, id="chunked-total-413",
    ),
    pytest.param(
        lambda: RequestParser(max_body_size=10),
        chunked_request(wire=b"a\r\n1234567890\r\n0\r\n\r\n"),
        chunked_request(wire=b"ffffff\r\n"),  # refused on the size line, before any data
        ("chunked", "10"), 413, id="chunked-one-chunk-413",
    ),
    pytest.param(
        lambda: ResponseParser(max_body_size=10),
        msg(b"HTTP/1.1 200 OK", b"Content-Length: 10", body=b"x" * 10),
        msg(b"HTTP/1.1 200 OK", b"Content-Length: 11", body=b"x" * 11),
        ("11", "10"), 413, id="response-content-length",
    ),
    pytest.param(
        lambda: ResponseParser(max_body_size=10),
        chunked_response(b"a\r\n1234567890\r\n0\r\n\r\n"),
        chunked_response(b"a\r\n1234567890\r\n1\r\nx\r\n0\r\n\r\n"),
        ("chunked", "10"), 413, id="response-chunked",
    ),
]  # fmt: skip


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("factory", "within", "over", "fragments", "hint"), LIMITS)
def test_limit_accepts_what_is_within_it(
    factory: Callable[[], RequestParser | ResponseParser],
    within: bytes,
    over: bytes,
    fragments: tuple[str, ...],
    hint: int,
    mode: str,
) -> None:
    parser = factory()
    events = feed_all(parser, within, mode)
    assert isinstance(events[-1], EndOfMessage)
    assert parser.complete


@pytest.mark.parametrize(("factory", "within", "over", "fragments", "hint"), LIMITS)
def test_limit_refuses_what_is_over_it(
    factory: Callable[[], RequestParser | ResponseParser],
    within: bytes,
    over: bytes,
    fragments: tuple[str, ...],
    hint: int,
) -> None:
    assert_rejected(factory, over, fragments, hint)


# The defaults are safe: each refuses a message just over it with no knob set.
DEFAULTS = [
    pytest.param(msg(request_line(DEFAULT_MAX_LINE_SIZE + 1), b"Host: h"), 414,
                 id="request-line"),
    pytest.param(msg(b"GET / HTTP/1.1", b"Host: h", b"X: " + b"v" * DEFAULT_MAX_HEADER_SIZE), 431,
                 id="header-section"),
    pytest.param(msg(b"GET / HTTP/1.1", b"Host: h", *fields(DEFAULT_MAX_HEADER_COUNT)), 431,
                 id="header-count"),
    pytest.param(chunked_request(wire=chunk_line(DEFAULT_MAX_CHUNK_LINE_SIZE + 1) + b"\r\n"), 400,
                 id="chunk-line"),
]  # fmt: skip


@pytest.mark.parametrize(("data", "hint"), DEFAULTS)
def test_default_limits(data: bytes, hint: int) -> None:
    with pytest.raises(RemoteProtocolError) as info:
        RequestParser().feed(data)
    assert info.value.status_hint == hint


def test_default_limits_accept_ordinary_large_messages() -> None:
    data = msg(
        request_line(DEFAULT_MAX_LINE_SIZE),
        b"Host: h",
        *fields(DEFAULT_MAX_HEADER_COUNT - 2, 100),
        b"Content-Length: 1000000",
    )
    events = RequestParser().feed(data + b"x" * 1_000_000)
    assert isinstance(events[-1], EndOfMessage)
    assert len(body_of(events)) == 1_000_000


@pytest.mark.parametrize("mode", MODES)
def test_body_limit_applies_to_a_close_delimited_response(mode: str) -> None:
    """RFC 9112 §6.3 item 8: a body read until the close has no declared length, so the limit is
    the only bound on it; it must hold there as for Content-Length and chunked."""
    data = msg(b"HTTP/1.1 200 OK", body=b"x" * 10)
    events = feed_all(ResponseParser(max_body_size=10), data, mode, eof=True)
    assert body_of(events) == b"x" * 10
    error = rejection(lambda: ResponseParser(max_body_size=10), data + b"x", mode, eof=True)
    assert "10" in str(error)
    assert error.status_hint == 413


def test_no_body_limit_by_default() -> None:
    """max_body_size=None: a large Content-Length is a body to stream, not an error."""
    parser = ResponseParser()
    parser.feed(msg(b"HTTP/1.1 200 OK", b"Content-Length: 9000000000000"))
    assert parser.in_progress


# A limit must not depend on how the bytes were split into reads: the largest message a parser
# accepts in one read it must accept a byte at a time too (the partial head, partial request line
# and partial chunk-size line are checked before their CRLF has arrived).
BOUNDARIES = [
    pytest.param(lambda n: RequestParser(max_line_size=n),
                 lambda n: msg(request_line(n), b"Host: h"), id="request-line"),
    pytest.param(lambda n: ResponseParser(max_line_size=n),
                 lambda n: msg(b"HTTP/1.1 200 " + b"R" * (n - 13), b"Content-Length: 0"),
                 id="status-line"),
    pytest.param(lambda n: RequestParser(max_chunk_line_size=n),
                 lambda n: chunked_request(wire=chunk_line(n) + b"\r\na\r\n0\r\n\r\n"),
                 id="chunk-line"),
]  # fmt: skip


@pytest.mark.parametrize(("factory", "make"), BOUNDARIES)
def test_line_exactly_at_the_limit_is_accepted_however_split(
    factory: Callable[[int], RequestParser | ResponseParser], make: Callable[[int], bytes]
) -> None:
    for mode in MODES:
        parser = factory(64)
        events = feed_all(parser, make(64), mode)
        assert isinstance(events[-1], EndOfMessage), mode


@pytest.mark.parametrize(
    "factory",
    [
        pytest.param(lambda: RequestParser(max_header_size=200), id="request"),
        pytest.param(lambda: ResponseParser(max_header_size=200), id="response"),
    ],
)
def test_largest_head_accepted_whole_is_accepted_bytewise(
    factory: Callable[[], RequestParser | ResponseParser],
) -> None:
    start = b"GET / HTTP/1.1" if isinstance(factory(), RequestParser) else b"HTTP/1.1 204 No"
    largest = None
    for size in range(150, 250):
        data = msg(start, b"Host: h", b"X: " + b"v" * (size - len(start) - 14))
        try:
            factory().feed(data)
        except RemoteProtocolError:
            break
        largest = data
    assert largest is not None
    events = feed_all(factory(), largest, "bytewise")
    assert isinstance(events[-1], EndOfMessage)


def _trickle_seconds(parser: RequestParser, data: bytes) -> float:
    start = time.perf_counter()
    events = feed_all(parser, data, "bytewise")
    elapsed = time.perf_counter() - start
    assert isinstance(events[-1], EndOfMessage)
    return elapsed


def test_trailer_section_trickling_in_costs_linear_time() -> None:
    """A peer may send a section a byte per packet. The header section then costs linear time
    (the search for its end resumes where it stopped); the trailer section, held to the same
    size limit, must not cost quadratic time, or ~32 KiB of trailers cost seconds of CPU."""
    lines = [b"X-%05d: %s" % (i, b"v" * 20) for i in range(1000)]
    head = msg(b"POST / HTTP/1.1", b"Host: h", *lines)
    trailers = chunked_request(wire=b"0\r\n" + b"".join(line + b"\r\n" for line in lines) + b"\r\n")
    head_time = _trickle_seconds(RequestParser(max_header_count=2000), head)
    trailer_time = _trickle_seconds(RequestParser(max_header_count=2000), trailers)
    assert trailer_time < 5 * head_time + 0.1, (trailer_time, head_time)
