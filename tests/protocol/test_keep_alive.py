"""Connection persistence: RFC 9112 §9.3, from the protocol version and the Connection field.

RFC 9112 §9.3: "If the "close" connection option is present (Section 9.6), the connection will
not persist after the current response; else, If the received protocol is HTTP/1.1 (or later),
the connection will persist after the current response; else, If the received protocol is
HTTP/1.0, the "keep-alive" connection option is present, ... the connection will persist after
the current response; otherwise, The connection will close after the current response."
"""

from __future__ import annotations

import pytest

from aioreq import LocalProtocolError, RemoteProtocolError
from aioreq.protocol import EndOfMessage, RequestParser, ResponseHead, ResponseParser

from ._helpers import MODES, body_of, feed_all, heads, msg, request_events, response_events

# Each row: HTTP version, Connection field lines, whether the connection persists.
PERSISTENCE = [
    pytest.param(b"1.1", [], True, id="http11-default-persists"),
    pytest.param(b"1.1", [b"Connection: close"], False, id="http11-close"),
    pytest.param(b"1.1", [b"Connection: CLOSE"], False, id="http11-close-case-insensitive"),
    pytest.param(b"1.1", [b"Connection: keep-alive"], True, id="http11-keep-alive"),
    pytest.param(b"1.1", [b"Connection: Upgrade, close"], False, id="http11-close-in-list"),
    pytest.param(b"1.1", [b"Connection: x-a ,  close  ,x-b"], False, id="http11-close-ows"),
    pytest.param(b"1.1", [b"Connection: x-a", b"Connection: close"], False,
                 id="http11-close-in-second-field"),
    pytest.param(b"1.1", [b"Connection: closed"], True, id="http11-closed-is-not-close"),
    pytest.param(b"1.1", [b"Connection: x-close"], True, id="http11-x-close-is-not-close"),
    pytest.param(b"1.1", [b"X-Connection: close"], True, id="http11-other-field"),
    pytest.param(b"1.0", [], False, id="http10-default-closes"),
    pytest.param(b"1.0", [b"Connection: keep-alive"], True, id="http10-keep-alive"),
    pytest.param(b"1.0", [b"Connection: Keep-Alive"], True, id="http10-keep-alive-case"),
    pytest.param(b"1.0", [b"Connection: x-a, keep-alive"], True, id="http10-keep-alive-in-list"),
    pytest.param(b"1.0", [b"Connection: keep-alive, close"], False,
                 id="http10-close-wins-over-keep-alive"),
    pytest.param(b"1.0", [b"Connection: x-a"], False, id="http10-other-option"),
    pytest.param(b"1.0", [b"Keep-Alive: timeout=5"], False, id="http10-keep-alive-field-only"),
]  # fmt: skip


@pytest.mark.parametrize(("version", "fields", "persists"), PERSISTENCE)
def test_response_persistence_rfc9112_s9_3(
    version: bytes, fields: list[bytes], persists: bool
) -> None:
    data = msg(b"HTTP/" + version + b" 200 OK", *fields, b"Content-Length: 2", body=b"ok")
    events, parser = response_events(data)
    assert body_of(events) == b"ok"
    assert parser.keep_alive is persists
    if persists:
        parser.start_response(b"GET")
    else:
        with pytest.raises(LocalProtocolError, match="closing"):
            parser.start_response(b"GET")


@pytest.mark.parametrize(("version", "fields", "persists"), PERSISTENCE)
def test_request_persistence_rfc9112_s9_3(
    version: bytes, fields: list[bytes], persists: bool
) -> None:
    data = msg(b"GET / HTTP/" + version, b"Host: a", *fields)
    events, parser = request_events(data)
    assert events[-1] == EndOfMessage()
    assert parser.keep_alive is persists
    if persists:
        assert parser.next_request() == []
    else:
        with pytest.raises(LocalProtocolError, match="closing"):
            parser.next_request()


@pytest.mark.parametrize("version", [b"1.1", b"1.0"])
def test_close_delimited_response_is_not_reusable(version: bytes) -> None:
    """RFC 9112 §6.3 item 8 / §9.3: the close is the end of the body, so nothing follows it."""
    data = msg(b"HTTP/" + version + b" 200 OK", b"Connection: keep-alive", body=b"abc")
    events, parser = response_events(data, eof=True)
    assert body_of(events) == b"abc"
    assert parser.keep_alive is False
    with pytest.raises(LocalProtocolError):
        parser.start_response(b"GET")


def test_http10_message_with_transfer_encoding_closes_the_connection() -> None:
    """RFC 9112 §6.1: "A server or client that receives an HTTP/1.0 message containing a
    Transfer-Encoding header field MUST treat the message as if the framing is faulty, even if a
    Content-Length is present, and close the connection after processing the message." A HEAD
    response has no body to frame, but the connection still must not be reused."""
    data = msg(b"HTTP/1.0 200 OK", b"Connection: keep-alive", b"Transfer-Encoding: chunked")
    events, parser = response_events(data, method=b"HEAD")
    assert events[-1] == EndOfMessage()
    assert parser.keep_alive is False


def test_keep_alive_is_false_while_a_close_delimited_body_is_read() -> None:
    _, parser = response_events(msg(b"HTTP/1.1 200 OK", body=b"abc"))
    assert not parser.complete
    assert parser.keep_alive is False


# RFC 9112 §6.3 (last paragraph): "If the final response to the last request on a connection has
# been completely received and there remains additional data to read, a user agent MAY discard
# the remaining data or attempt to determine if that data belongs as part of the prior message
# body". Bytes nobody asked for mean the framing cannot be trusted: the complete response is
# kept, the connection is not reused.
LEFTOVERS = [
    pytest.param(b"GET", msg(b"HTTP/1.1 200 OK", b"Content-Length: 2", body=b"okEXTRA"),
                 b"ok", b"EXTRA", id="bytes-after-content-length"),
    pytest.param(b"GET", msg(b"HTTP/1.1 200 OK", b"Transfer-Encoding: chunked",
                             body=b"2\r\nok\r\n0\r\n\r\nX"), b"ok", b"X", id="bytes-after-chunked"),
    pytest.param(b"HEAD", msg(b"HTTP/1.1 200 OK", b"Content-Length: 5", body=b"hello"),
                 b"", b"hello", id="body-sent-to-head"),
    pytest.param(b"GET", msg(b"HTTP/1.1 204 No Content", body=b"stray"), b"", b"stray",
                 id="body-sent-with-204"),
    pytest.param(b"GET", msg(b"HTTP/1.1 200 OK", b"Content-Length: 1", body=b"a")
                 + msg(b"HTTP/1.1 200 OK", b"Content-Length: 1", body=b"b"),
                 b"a", msg(b"HTTP/1.1 200 OK", b"Content-Length: 1", body=b"b"),
                 id="unrequested-second-response"),
]  # fmt: skip


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("method", "data", "body", "leftover"), LEFTOVERS)
def test_bytes_after_a_complete_response(
    method: bytes, data: bytes, body: bytes, leftover: bytes, mode: str
) -> None:
    events, parser = response_events(data, mode, method=method)
    assert len(heads(events)) == 1
    assert body_of(events) == body
    assert events[-1] == EndOfMessage()
    assert parser.complete
    assert parser.keep_alive is False
    assert parser.trailing_data == leftover
    with pytest.raises(LocalProtocolError, match="unrequested bytes"):
        parser.start_response(b"GET")


def test_bytes_arriving_in_a_later_read_also_forbid_reuse() -> None:
    parser = ResponseParser()
    events = parser.feed(msg(b"HTTP/1.1 200 OK", b"Content-Length: 2", body=b"ok"))
    assert events[-1] == EndOfMessage()
    assert parser.keep_alive
    assert parser.feed(b"junk") == []
    assert parser.keep_alive is False
    with pytest.raises(LocalProtocolError):
        parser.start_response(b"GET")


def test_reused_connection_parses_the_next_response_after_start_response() -> None:
    parser = ResponseParser()
    feed_all(parser, msg(b"HTTP/1.1 200 OK", b"Content-Length: 1", body=b"a"))
    parser.start_response(b"GET")
    events = feed_all(parser, msg(b"HTTP/1.1 201 Created", b"Content-Length: 1", body=b"b"))
    assert events == [
        ResponseHead(201, b"Created", b"1.1", [(b"Content-Length", b"1")]),
        b"b",
        EndOfMessage(),
    ]
    assert parser.keep_alive


# RFC 9112 §9.3.2: "A server MAY process a sequence of pipelined requests in parallel if they all
# have safe methods ..., but it MUST send the corresponding responses in the same order that the
# requests were received." The parser hands them over one at a time, in order.
PIPELINE = (
    msg(b"GET /1 HTTP/1.1", b"Host: a")
    + msg(b"POST /2 HTTP/1.1", b"Host: a", b"Content-Length: 3", body=b"two")
    + msg(
        b"PUT /3 HTTP/1.1", b"Host: a", b"Transfer-Encoding: chunked", body=b"1\r\n3\r\n0\r\n\r\n"
    )
    + msg(b"GET /4 HTTP/1.1", b"Host: a", b"Connection: close")
)


@pytest.mark.parametrize("mode", MODES)
def test_pipelined_requests_come_out_one_at_a_time(mode: str) -> None:
    events, parser = request_events(PIPELINE, mode)
    seen = [(heads(events)[0].target, body_of(events))]
    while parser.keep_alive:
        events = parser.next_request()
        seen.append((heads(events)[0].target, body_of(events)))
        assert events[-1] == EndOfMessage()
    assert seen == [(b"/1", b""), (b"/2", b"two"), (b"/3", b"3"), (b"/4", b"")]
    with pytest.raises(LocalProtocolError, match="closing"):
        parser.next_request()


def test_next_request_before_the_body_ended() -> None:
    parser = RequestParser()
    parser.feed(msg(b"POST / HTTP/1.1", b"Host: a", b"Content-Length: 5", body=b"ab"))
    with pytest.raises(LocalProtocolError, match="not ended"):
        parser.next_request()


def test_next_request_then_more_reads() -> None:
    """A pipelined request cut between reads is finished by the next feed."""
    first = msg(b"GET /a HTTP/1.1", b"Host: h")
    second = msg(b"GET /b HTTP/1.1", b"Host: h")
    parser = RequestParser()
    parser.feed(first + second[:10])
    assert parser.next_request() == []
    assert parser.in_progress
    events = parser.feed(second[10:])
    assert [h.target for h in heads(events)] == [b"/b"]
    assert events[-1] == EndOfMessage()


def test_malformed_pipelined_request_fails_on_next_request() -> None:
    """The first request is served; the broken one behind it is refused when its turn comes."""
    parser = RequestParser()
    events = parser.feed(msg(b"GET /ok HTTP/1.1", b"Host: h") + msg(b"GET /bad HTTP/1.1"))
    assert [h.target for h in heads(events)] == [b"/ok"]
    with pytest.raises(RemoteProtocolError, match="Host"):
        parser.next_request()
    assert parser.keep_alive is False
