"""ResponseParser, the client role: status line, header section, events, reuse.

RFC 9112 §2.1 (message format), §4 (status line), RFC 9110 §15 (status codes).
"""

from __future__ import annotations

import pytest

from aioreq import LocalProtocolError
from aioreq.protocol import EndOfMessage, ResponseHead, ResponseParser

from ._helpers import MODES, all_splits, feed_pieces, msg, response_events

# RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ]
#   reason-phrase = 1*( HTAB / SP / VCHAR / obs-text )
# Each row: status line -> (status_code, reason, http_version).
STATUS_LINES = [
    pytest.param(b"HTTP/1.1 200 OK", (200, b"OK", b"1.1"), id="200-ok"),
    pytest.param(b"HTTP/1.0 404 Not Found", (404, b"Not Found", b"1.0"), id="http10-404"),
    pytest.param(b"HTTP/1.1 200 ", (200, b"", b"1.1"), id="empty-reason"),
    # The SP before an absent reason is often missing in the wild; accepting it is unambiguous.
    pytest.param(b"HTTP/1.1 200", (200, b"", b"1.1"), id="no-sp-no-reason"),
    pytest.param(b"HTTP/1.1 200 All\tgood  here", (200, b"All\tgood  here", b"1.1"), id="htab-sp"),
    pytest.param(b"HTTP/1.1 200 Tr\xe8s bien", (200, b"Tr\xe8s bien", b"1.1"), id="obs-text"),
    pytest.param(b"HTTP/1.1 201 a:b/c?d", (201, b"a:b/c?d", b"1.1"), id="vchar-punctuation"),
    pytest.param(b"HTTP/1.1 599 Custom", (599, b"Custom", b"1.1"), id="599"),
    # RFC 9110 §15: a client treats an unrecognised code as the x00 of its class.
    pytest.param(b"HTTP/1.1 299 Odd", (299, b"Odd", b"1.1"), id="unknown-2xx"),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("line", "expected"), STATUS_LINES)
def test_status_line_rfc9112_s4(line: bytes, expected: tuple[int, bytes, bytes], mode: str) -> None:
    events, _ = response_events(msg(line, b"Content-Length: 0"), mode)
    status_code, reason, version = expected
    head = ResponseHead(status_code, reason, version, [(b"Content-Length", b"0")])
    assert events == [head, EndOfMessage()]


def test_head_attributes() -> None:
    events, _ = response_events(msg(b"HTTP/1.1 404 Nope", b"X-A: 1", body=b""), eof=True)
    head = events[0]
    assert isinstance(head, ResponseHead)
    assert (head.status_code, head.reason, head.http_version) == (404, b"Nope", b"1.1")
    assert head.headers == [(b"X-A", b"1")]


# RFC 9112 §2.1: HTTP-message = start-line CRLF *( field-line CRLF ) CRLF [ message-body ]
# Each row: a whole response -> its events with the body joined.
MESSAGES = [
    pytest.param(
        msg(b"HTTP/1.1 200 OK", b"Content-Length: 5", body=b"hello"),
        [ResponseHead(200, b"OK", b"1.1", [(b"Content-Length", b"5")]), b"hello", EndOfMessage()],
        id="content-length",
    ),
    pytest.param(
        msg(b"HTTP/1.1 200 OK", b"Transfer-Encoding: chunked", body=b"5\r\nhello\r\n0\r\n\r\n"),
        [
            ResponseHead(200, b"OK", b"1.1", [(b"Transfer-Encoding", b"chunked")]),
            b"hello",
            EndOfMessage(),
        ],
        id="chunked",
    ),
    pytest.param(
        msg(b"HTTP/1.1 204 No Content", b"Server: x"),
        [ResponseHead(204, b"No Content", b"1.1", [(b"Server", b"x")]), EndOfMessage()],
        id="no-body",
    ),
    pytest.param(
        msg(b"HTTP/1.1 100 Continue") + msg(b"HTTP/1.1 200 OK", b"Content-Length: 2", body=b"ok"),
        [
            ResponseHead(100, b"Continue", b"1.1", []),
            ResponseHead(200, b"OK", b"1.1", [(b"Content-Length", b"2")]),
            b"ok",
            EndOfMessage(),
        ],
        id="interim-then-final",
    ),
]


@pytest.mark.parametrize(("data", "expected"), MESSAGES)
def test_events_do_not_depend_on_how_reads_are_split(data: bytes, expected: list[object]) -> None:
    """RFC 9112 §2.1: the message is a byte stream; where TCP cuts it must not matter."""
    for pieces in all_splits(data):
        parser = ResponseParser()
        assert feed_pieces(parser, pieces) == expected, pieces
        assert parser.complete


def test_close_delimited_split_anywhere() -> None:
    """RFC 9112 §6.3 ¶7: a body without framing ends at the close, however it arrived."""
    data = msg(b"HTTP/1.1 200 OK", b"X: y", body=b"abcdef")
    expected = [ResponseHead(200, b"OK", b"1.1", [(b"X", b"y")]), b"abcdef", EndOfMessage()]
    for pieces in all_splits(data):
        assert feed_pieces(ResponseParser(), pieces, eof=True) == expected, pieces


def test_body_is_handed_over_as_it_arrives() -> None:
    """Body bytes are not held back until the message ends (a streaming client sees them)."""
    parser = ResponseParser()
    head = parser.feed(msg(b"HTTP/1.1 200 OK", b"Content-Length: 10"))
    assert head == [ResponseHead(200, b"OK", b"1.1", [(b"Content-Length", b"10")])]
    assert parser.feed(b"abc") == [b"abc"]
    assert parser.feed(b"defg") == [b"defg"]
    assert parser.feed(b"hij") == [b"hij", EndOfMessage()]


def test_nothing_is_returned_until_the_head_is_complete() -> None:
    parser = ResponseParser()
    data = msg(b"HTTP/1.1 204 No Content", b"X: y")
    assert parser.feed(data[:-1]) == []
    assert parser.in_progress
    assert not parser.complete
    assert parser.feed(data[-1:]) == [
        ResponseHead(204, b"No Content", b"1.1", [(b"X", b"y")]),
        EndOfMessage(),
    ]


def test_progress_flags() -> None:
    parser = ResponseParser()
    assert (parser.in_progress, parser.complete) == (False, False)
    parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nab")
    assert (parser.in_progress, parser.complete) == (True, False)
    parser.feed(b"c")
    assert (parser.in_progress, parser.complete) == (False, True)


def test_two_responses_on_one_connection() -> None:
    """RFC 9112 §9.3: a persistent connection carries one response per request, in order."""
    parser = ResponseParser()
    parser.start_response(b"GET")
    first = parser.feed(msg(b"HTTP/1.1 200 OK", b"Content-Length: 2", body=b"hi"))
    assert first[-2:] == [b"hi", EndOfMessage()]
    assert parser.keep_alive
    parser.start_response(b"HEAD")
    second = parser.feed(msg(b"HTTP/1.1 200 OK", b"Content-Length: 2"))
    assert second == [
        ResponseHead(200, b"OK", b"1.1", [(b"Content-Length", b"2")]),
        EndOfMessage(),
    ]
    assert parser.complete


def test_start_response_before_the_last_one_ended() -> None:
    parser = ResponseParser()
    parser.feed(msg(b"HTTP/1.1 200 OK", b"Content-Length: 5", body=b"he"))
    with pytest.raises(LocalProtocolError, match="not ended"):
        parser.start_response(b"GET")


def test_start_response_with_half_a_head_buffered() -> None:
    parser = ResponseParser()
    parser.feed(b"HTTP/1.1 200")
    with pytest.raises(LocalProtocolError):
        parser.start_response(b"GET")
