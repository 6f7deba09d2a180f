"""Message body length: RFC 9112 §6.3, items 1 to 7, in the order the RFC lists them.

Each row is one response (or request) and what a user of the parser sees: the status codes of
the heads, the body, whether the connection may be reused, whether it switched protocols and
which bytes were left over for the next protocol.
"""

from __future__ import annotations

import pytest

from aioreq.protocol import EndOfMessage, RequestHead, RequestParser, ResponseHead, ResponseParser

from ._helpers import MODES, body_of, ends, heads, msg, request_events, response_events

OK = b"HTTP/1.1 200 OK"


def row(
    id: str,
    method: bytes,
    data: bytes,
    *,
    statuses: list[int],
    body: bytes = b"",
    eof: bool = False,
    keep_alive: bool = True,
    switched: bool = False,
    trailing: bytes = b"",
) -> object:
    return pytest.param(method, data, eof, statuses, body, keep_alive, switched, trailing, id=id)


RESPONSE_FRAMING = [
    # §6.3 item 1: "Any response to a HEAD request and any response with a 1xx (Informational),
    # 204 (No Content), or 304 (Not Modified) status code is always terminated by the first empty
    # line after the header fields, regardless of the header fields present in the message".
    row("1-head-with-content-length", b"HEAD", msg(OK, b"Content-Length: 5"), statuses=[200]),
    row("1-head-with-chunked", b"HEAD", msg(OK, b"Transfer-Encoding: chunked"), statuses=[200]),
    row("1-head-404-with-length", b"HEAD", msg(b"HTTP/1.1 404 Not Found", b"Content-Length: 9"),
        statuses=[404]),
    row("1-204-with-content-length", b"GET",
        msg(b"HTTP/1.1 204 No Content", b"Content-Length: 5"), statuses=[204]),
    row("1-204-bare", b"DELETE", msg(b"HTTP/1.1 204 No Content"), statuses=[204]),
    row("1-304-with-content-length", b"GET",
        msg(b"HTTP/1.1 304 Not Modified", b"Content-Length: 100"), statuses=[304]),
    row("1-304-with-chunked", b"GET",
        msg(b"HTTP/1.1 304 Not Modified", b"Transfer-Encoding: chunked"), statuses=[304]),
    # RFC 9110 §15.2: "A client MUST be able to parse one or more 1xx responses received prior to
    # a final response, even if the client does not expect one."
    row("1-100-continue-then-final", b"POST",
        msg(b"HTTP/1.1 100 Continue") + msg(OK, b"Content-Length: 2", body=b"ok"),
        statuses=[100, 200], body=b"ok"),
    row("1-103-early-hints-then-final", b"GET",
        msg(b"HTTP/1.1 103 Early Hints", b"Link: </style.css>; rel=preload; as=style")
        + msg(OK, b"Content-Length: 3", body=b"abc"),
        statuses=[103, 200], body=b"abc"),
    row("1-several-1xx", b"GET",
        msg(b"HTTP/1.1 100 Continue") + msg(b"HTTP/1.1 102 Processing")
        + msg(b"HTTP/1.1 103 Early Hints") + msg(b"HTTP/1.1 204 No Content"),
        statuses=[100, 102, 103, 204]),
    row("1-1xx-content-length-ignored", b"GET",
        msg(b"HTTP/1.1 100 Continue", b"Content-Length: 5")
        + msg(OK, b"Content-Length: 1", body=b"x"),
        statuses=[100, 200], body=b"x"),
    # 101 (RFC 9110 §15.2.2): the connection switches protocols right after the empty line; what
    # follows belongs to the new protocol and must be handed over untouched.
    row("1-101-switching", b"GET",
        msg(b"HTTP/1.1 101 Switching Protocols", b"Upgrade: websocket", b"Connection: Upgrade")
        + b"\x81\x05hello",
        statuses=[101], keep_alive=False, switched=True, trailing=b"\x81\x05hello"),
    row("1-101-no-trailing", b"GET",
        msg(b"HTTP/1.1 101 Switching Protocols", b"Upgrade: h2c"),
        statuses=[101], keep_alive=False, switched=True),
    # §6.3 item 2: "Any 2xx (Successful) response to a CONNECT request implies that the
    # connection will become a tunnel immediately after the empty line that concludes the header
    # fields. A client MUST ignore any Content-Length or Transfer-Encoding header fields".
    row("2-connect-200-tunnel", b"CONNECT",
        msg(b"HTTP/1.1 200 Connection established") + b"\x16\x03\x01tls",
        statuses=[200], keep_alive=False, switched=True, trailing=b"\x16\x03\x01tls"),
    row("2-connect-200-length-ignored", b"CONNECT",
        msg(OK, b"Content-Length: 5") + b"0123456789",
        statuses=[200], keep_alive=False, switched=True, trailing=b"0123456789"),
    row("2-connect-200-chunked-ignored", b"CONNECT",
        msg(OK, b"Transfer-Encoding: chunked") + b"zz",
        statuses=[200], keep_alive=False, switched=True, trailing=b"zz"),
    row("2-connect-407-has-a-body", b"CONNECT",
        msg(b"HTTP/1.1 407 Proxy Authentication Required", b"Content-Length: 4", body=b"auth"),
        statuses=[407], body=b"auth"),
    # §6.3 item 4: "If a Transfer-Encoding header field is present and the chunked transfer
    # coding is the final encoding, the message body length is determined by reading and decoding
    # the chunked data until the transfer coding indicates the data is complete."
    row("4-chunked", b"GET",
        msg(OK, b"Transfer-Encoding: chunked", body=b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"),
        statuses=[200], body=b"abcde"),
    row("4-chunked-mixed-case", b"GET",
        msg(OK, b"transfer-encoding: Chunked", body=b"1\r\nx\r\n0\r\n\r\n"),
        statuses=[200], body=b"x"),
    # §6.3 item 6: "If a valid Content-Length header field is present without Transfer-Encoding,
    # its decimal value defines the expected message body length in octets."
    row("6-content-length", b"GET", msg(OK, b"Content-Length: 5", body=b"hello"),
        statuses=[200], body=b"hello"),
    row("6-content-length-zero", b"GET", msg(OK, b"Content-Length: 0"), statuses=[200]),
    row("6-content-length-leading-zeros", b"GET", msg(OK, b"Content-Length: 0003", body=b"abc"),
        statuses=[200], body=b"abc"),
    row("6-content-length-with-ows", b"GET", msg(OK, b"Content-Length: \t 3 ", body=b"abc"),
        statuses=[200], body=b"abc"),
    row("6-content-length-not-200", b"GET",
        msg(b"HTTP/1.1 500 Oops", b"Content-Length: 4", body=b"oops"), statuses=[500],
        body=b"oops"),
    # RFC 9110 §8.6: "a recipient MAY ... replace that invalid field value with a single instance
    # of the decimal value" when repeated fields or a list carry the same number.
    row("6-identical-duplicate-fields", b"GET",
        msg(OK, b"Content-Length: 5", b"Content-Length: 5", body=b"hello"),
        statuses=[200], body=b"hello"),
    row("6-identical-list", b"GET", msg(OK, b"Content-Length: 5, 5", body=b"hello"),
        statuses=[200], body=b"hello"),
    row("6-identical-list-no-space", b"GET", msg(OK, b"Content-Length: 5,5,5", body=b"hello"),
        statuses=[200], body=b"hello"),
    # §6.3 item 8: "Otherwise, this is a response message without a declared message body
    # length, so the message body length is determined by the number of octets received prior to
    # the server closing the connection."
    row("8-close-delimited", b"GET", msg(OK, b"Server: x", body=b"until the end"),
        statuses=[200], body=b"until the end", eof=True, keep_alive=False),
    row("8-close-delimited-empty", b"GET", msg(OK), statuses=[200], eof=True, keep_alive=False),
    row("8-close-delimited-http10", b"GET", msg(b"HTTP/1.0 200 OK", body=b"old"),
        statuses=[200], body=b"old", eof=True, keep_alive=False),
    row("8-http10-keep-alive-but-close-delimited", b"GET",
        msg(b"HTTP/1.0 200 OK", b"Connection: keep-alive", body=b"old"),
        statuses=[200], body=b"old", eof=True, keep_alive=False),
    row("6-http10-with-length", b"GET",
        msg(b"HTTP/1.0 200 OK", b"Connection: keep-alive", b"Content-Length: 2", body=b"ok"),
        statuses=[200], body=b"ok"),
]  # fmt: skip


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("method", "data", "eof", "statuses", "body", "keep_alive", "switched", "trailing"),
    RESPONSE_FRAMING,
)
def test_response_framing_rfc9112_s6_3(
    method: bytes,
    data: bytes,
    eof: bool,
    statuses: list[int],
    body: bytes,
    keep_alive: bool,
    switched: bool,
    trailing: bytes,
    mode: str,
) -> None:
    events, parser = response_events(data, mode, method=method)
    if eof:
        assert not parser.complete, "a close-delimited body ended before the close"
        events += parser.feed_eof()
    assert [h.status_code for h in heads(events)] == statuses
    assert body_of(events) == body
    assert len(ends(events)) == 1
    assert isinstance(events[-1], EndOfMessage)
    assert parser.complete
    assert not parser.in_progress
    assert parser.keep_alive is keep_alive
    assert parser.switched is switched
    assert parser.trailing_data == trailing


def test_switched_connection_keeps_every_later_read() -> None:
    """After 101 the parser is no longer HTTP: later reads are kept for the new protocol."""
    parser = ResponseParser()
    events = parser.feed(msg(b"HTTP/1.1 101 Switching Protocols", b"Upgrade: x") + b"ab")
    assert events == [
        ResponseHead(101, b"Switching Protocols", b"1.1", [(b"Upgrade", b"x")]),
        EndOfMessage(),
    ]
    assert parser.feed(b"HTTP/1.1 200 OK\r\n\r\n") == []
    assert parser.trailing_data == b"abHTTP/1.1 200 OK\r\n\r\n"
    assert parser.feed_eof() == []


def test_response_head_keeps_fields_it_ignored_for_framing() -> None:
    """A 304's Content-Length describes the selected representation; the user still sees it."""
    events, _ = response_events(msg(b"HTTP/1.1 304 Not Modified", b"Content-Length: 100"))
    assert events == [
        ResponseHead(304, b"Not Modified", b"1.1", [(b"Content-Length", b"100")]),
        EndOfMessage(),
    ]


@pytest.mark.parametrize(
    ("role", "data"),
    [
        pytest.param("response", msg(OK, b"Content-Length: 0"), id="response-length-0"),
        pytest.param("response", msg(b"HTTP/1.1 204 No Content"), id="response-204"),
        pytest.param("request", msg(b"POST / HTTP/1.1", b"Host: a", b"Content-Length: 0"),
                     id="request-length-0"),
        pytest.param("request", msg(b"GET / HTTP/1.1", b"Host: a"), id="request-no-body"),
        pytest.param("response", msg(OK, b"Transfer-Encoding: chunked", body=b"0\r\n\r\n"),
                     id="response-empty-chunked"),
    ],
)  # fmt: skip
def test_empty_body_gives_no_body_event(role: str, data: bytes) -> None:
    """An empty body is [head, EndOfMessage]: no b"" piece, which a reader loop would take for
    the end of the stream (RFC 9112 §6.3)."""
    parser = ResponseParser() if role == "response" else RequestParser()
    events = parser.feed(data)
    assert len(events) == 2, events
    assert isinstance(events[0], RequestHead | ResponseHead)
    assert events[1] == EndOfMessage()


# §6.3 item 3 ("both Transfer-Encoding and Content-Length") and item 5 (invalid Content-Length)
# are errors: see test_errors.py.

REQUEST_FRAMING = [
    # §6.3 item 7: "If this is a request message and none of the above are true, then the message
    # body length is zero (no message body is present)."
    pytest.param(msg(b"GET / HTTP/1.1", b"Host: a"), b"", id="7-no-framing-no-body"),
    pytest.param(msg(b"POST / HTTP/1.1", b"Host: a"), b"", id="7-post-without-length"),
    pytest.param(msg(b"POST / HTTP/1.1", b"Host: a", b"Content-Length: 3", body=b"abc"), b"abc",
                 id="6-content-length"),
    pytest.param(msg(b"GET / HTTP/1.1", b"Host: a", b"Content-Length: 2", body=b"hi"), b"hi",
                 id="6-get-with-body"),
    pytest.param(msg(b"PUT / HTTP/1.1", b"Host: a", b"Content-Length: 2, 2", body=b"hi"), b"hi",
                 id="6-identical-list"),
    pytest.param(msg(b"PUT / HTTP/1.1", b"Host: a", b"Content-Length: 2", b"Content-Length: 2",
                     body=b"hi"), b"hi", id="6-identical-duplicates"),
    pytest.param(msg(b"POST / HTTP/1.1", b"Host: a", b"Transfer-Encoding: chunked",
                     body=b"2\r\nhi\r\n0\r\n\r\n"), b"hi", id="4-chunked"),
    pytest.param(msg(b"POST / HTTP/1.0", b"Content-Length: 2", body=b"hi"), b"hi",
                 id="6-http10-with-length"),
]  # fmt: skip


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("data", "body"), REQUEST_FRAMING)
def test_request_framing_rfc9112_s6_3(data: bytes, body: bytes, mode: str) -> None:
    events, parser = request_events(data, mode)
    assert len(heads(events)) == 1
    assert body_of(events) == body
    assert events[-1] == EndOfMessage()
    assert parser.complete
    # A request is never delimited by the close: nothing is left waiting for it.
    assert parser.feed_eof() == []


def test_request_body_ends_at_its_length_not_at_the_next_bytes() -> None:
    """RFC 9112 §6.3: bytes after Content-Length belong to the next request, not this body."""
    data = msg(b"POST / HTTP/1.1", b"Host: a", b"Content-Length: 3", body=b"abcGET")
    events, parser = request_events(data)
    assert body_of(events) == b"abc"
    assert parser.trailing_data == b"GET"
