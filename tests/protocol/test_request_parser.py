"""RequestParser, the server role: request line (RFC 9112 §3), request-target forms (§3.2),
Host (§3.2, RFC 9110 §7.2), Expect (RFC 9110 §10.1.1), empty lines before a request (§2.2).

Requests that must be refused are in test_errors.py; pipelining in test_keep_alive.py.
"""

from __future__ import annotations

import pytest

from aioreq.protocol import EndOfMessage, RequestHead, RequestParser

from ._helpers import MODES, all_splits, body_of, feed_pieces, heads, msg, request_events

# RFC 9112 §3: request-line = method SP request-target SP HTTP-version
# Each row: request line -> (method, target, version).
REQUEST_LINES = [
    pytest.param(b"GET / HTTP/1.1", (b"GET", b"/", b"1.1"), id="get"),
    pytest.param(b"POST /submit?x=1&y=%20 HTTP/1.1", (b"POST", b"/submit?x=1&y=%20", b"1.1"),
                 id="query"),
    # RFC 9110 §9.1: "The method token is case-sensitive"; extension methods are any token.
    pytest.param(b"get / HTTP/1.1", (b"get", b"/", b"1.1"), id="method-case-kept"),
    pytest.param(b"M-SEARCH /x HTTP/1.1", (b"M-SEARCH", b"/x", b"1.1"), id="extension-method"),
    pytest.param(b"PROPFIND /dav/ HTTP/1.1", (b"PROPFIND", b"/dav/", b"1.1"), id="webdav"),
    pytest.param(b"GET / HTTP/1.0", (b"GET", b"/", b"1.0"), id="http10"),
]  # fmt: skip


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("line", "expected"), REQUEST_LINES)
def test_request_line_rfc9112_s3(
    line: bytes, expected: tuple[bytes, bytes, bytes], mode: str
) -> None:
    events, _ = request_events(msg(line, b"Host: example.org"), mode)
    (head,) = heads(events)
    assert (head.method, head.target, head.http_version) == expected
    assert head.headers == [(b"Host", b"example.org")]
    assert events[-1] == EndOfMessage()


# RFC 9112 §3.2: request-target = origin-form / absolute-form / authority-form / asterisk-form
TARGET_FORMS = [
    # §3.2.1 origin-form = absolute-path [ "?" query ]
    pytest.param(b"GET", b"/", id="3.2.1-origin-root"),
    pytest.param(b"GET", b"/a/b;p?q=1&r=%2F#", id="3.2.1-origin-path-query"),
    pytest.param(b"GET", b"//double/slash", id="3.2.1-origin-empty-segment"),
    # §3.2.2 absolute-form = absolute-URI ("When making a request to a proxy")
    pytest.param(b"GET", b"http://example.org/a?b", id="3.2.2-absolute-http"),
    pytest.param(b"GET", b"https://user@example.org:8443/", id="3.2.2-absolute-https-port"),
    pytest.param(b"GET", b"http://[::1]:8080/x", id="3.2.2-absolute-ipv6"),
    # §3.2.3 authority-form = uri-host ":" port ("only used for CONNECT requests")
    pytest.param(b"CONNECT", b"example.org:443", id="3.2.3-authority"),
    pytest.param(b"CONNECT", b"127.0.0.1:8080", id="3.2.3-authority-ipv4"),
    pytest.param(b"CONNECT", b"[2001:db8::1]:443", id="3.2.3-authority-ipv6"),
    # §3.2.4 asterisk-form = "*" ("only used for a server-wide OPTIONS request")
    pytest.param(b"OPTIONS", b"*", id="3.2.4-asterisk"),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("method", "target"), TARGET_FORMS)
def test_request_target_forms_rfc9112_s3_2(method: bytes, target: bytes, mode: str) -> None:
    events, _ = request_events(msg(method + b" " + target + b" HTTP/1.1", b"Host: h"), mode)
    (head,) = heads(events)
    assert (head.method, head.target) == (method, target)
    assert events[-1] == EndOfMessage()


def test_connect_request_has_no_content() -> None:
    """RFC 9110 §9.3.6: "A CONNECT request message does not have content." The request is
    complete at its empty line; what follows (tunnel bytes, once a 2xx is sent) is not parsed as
    another request."""
    tunnel = b"\x16\x03\x01\x00\x05hello"
    parser = RequestParser()
    events = parser.feed(msg(b"CONNECT example.org:443 HTTP/1.1", b"Host: h"))
    assert [h.method for h in heads(events)] == [b"CONNECT"]
    assert events[-1] == EndOfMessage()
    assert parser.feed(tunnel) == []
    assert parser.trailing_data == tunnel


# RFC 9112 §3.2: "A client MUST send a Host header field in all HTTP/1.1 request messages."
# RFC 9110 §7.2: Host = uri-host [ ":" port ]
HOSTS = [
    pytest.param(b"1.1", b"example.org", id="name"),
    pytest.param(b"1.1", b"example.org:8080", id="name-port"),
    pytest.param(b"1.1", b"192.0.2.1", id="ipv4"),
    pytest.param(b"1.1", b"[2001:db8::1]:443", id="ipv6-port"),
    pytest.param(b"1.1", b"Example.ORG", id="mixed-case"),
    # RFC 9110 §7.2: "If the authority component is missing or undefined for the target URI, then
    # a client MUST send a Host header field with an empty field value."
    pytest.param(b"1.1", b"", id="empty"),
    pytest.param(b"1.1", b"xn--bcher-kva.example", id="punycode"),
    pytest.param(b"1.0", b"example.org", id="http10-with-host"),
]


@pytest.mark.parametrize(("version", "host"), HOSTS)
def test_host_accepted_rfc9112_s3_2(version: bytes, host: bytes) -> None:
    events, _ = request_events(msg(b"GET / HTTP/" + version, b"host: " + host))
    assert heads(events)[0].headers == [(b"host", host)]
    assert events[-1] == EndOfMessage()


def test_http10_request_without_host() -> None:
    """HTTP/1.0 predates Host (the MUST of RFC 9112 §3.2 is for HTTP/1.1 requests)."""
    events, _ = request_events(msg(b"GET / HTTP/1.0"))
    assert heads(events)[0].headers == []
    assert events[-1] == EndOfMessage()


# RFC 9112 §2.2: "In the interest of robustness, a server that is expecting to receive and parse
# a request-line SHOULD ignore at least one empty line (CRLF) received prior to the request-line."
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("prefix", [b"\r\n", b"\r\n\r\n"], ids=["one-crlf", "two-crlf"])
def test_empty_lines_before_the_request_line_rfc9112_s2_2(prefix: bytes, mode: str) -> None:
    events, _ = request_events(prefix + msg(b"GET /x HTTP/1.1", b"Host: h"), mode)
    assert [h.target for h in heads(events)] == [b"/x"]
    assert events[-1] == EndOfMessage()


def test_empty_line_after_a_body_before_the_next_request() -> None:
    """Old clients send a stray CRLF after a POST body (RFC 9112 §2.2 allows ignoring it)."""
    data = msg(b"POST /a HTTP/1.1", b"Host: h", b"Content-Length: 1", body=b"x")
    parser = RequestParser()
    parser.feed(data + b"\r\n" + msg(b"GET /b HTTP/1.1", b"Host: h"))
    assert [h.target for h in heads(parser.next_request())] == [b"/b"]


# RFC 9110 §10.1.1: "A server that receives a 100-continue expectation in an HTTP/1.0 request
# MUST ignore that expectation." The expectation token is case-insensitive.
EXPECT = [
    pytest.param(b"1.1", [b"Expect: 100-continue"], True, id="http11"),
    pytest.param(b"1.1", [b"Expect: 100-Continue"], True, id="case-insensitive"),
    pytest.param(b"1.1", [b"expect:   100-continue  "], True, id="ows"),
    pytest.param(b"1.1", [], False, id="absent"),
    pytest.param(b"1.1", [b"Expect: something-else"], False, id="other-expectation"),
    pytest.param(b"1.0", [b"Expect: 100-continue"], False, id="http10-ignored"),
]


@pytest.mark.parametrize(("version", "fields", "expected"), EXPECT)
def test_expect_continue_rfc9110_s10_1_1(
    version: bytes, fields: list[bytes], expected: bool
) -> None:
    data = msg(b"POST /up HTTP/" + version, b"Host: h", b"Content-Length: 3", *fields)
    parser = RequestParser()
    events = parser.feed(data)
    (head,) = heads(events)
    assert head.expect_continue is expected
    # The head comes out before the body: a server answers 100 Continue at this point.
    assert parser.in_progress
    assert parser.feed(b"abc") == [b"abc", EndOfMessage()]


@pytest.mark.parametrize(
    ("data", "body"),
    [
        pytest.param(msg(b"POST /p HTTP/1.1", b"Host: h", b"Content-Length: 5", body=b"hello"),
                     b"hello", id="content-length"),
        pytest.param(msg(b"PUT /p HTTP/1.1", b"Host: h", b"Transfer-Encoding: chunked",
                         body=b"3\r\nhel\r\n2;x=1\r\nlo\r\n0\r\nT: 1\r\n\r\n"), b"hello",
                     id="chunked"),
        pytest.param(b"\r\n" + msg(b"GET /p HTTP/1.1", b"Host: h"), b"", id="leading-crlf"),
    ],
)  # fmt: skip
def test_request_split_anywhere(data: bytes, body: bytes) -> None:
    """RFC 9112 §2.1: where the reads cut the request must not change what is parsed."""
    whole = feed_pieces(RequestParser(), [data])
    assert isinstance(whole[0], RequestHead)
    assert body_of(whole) == body
    assert isinstance(whole[-1], EndOfMessage)
    for pieces in all_splits(data):
        assert feed_pieces(RequestParser(), pieces) == whole, pieces


def test_clean_close_between_requests_is_not_an_error() -> None:
    parser = RequestParser()
    assert parser.feed_eof() == []
    parser = RequestParser()
    parser.feed(msg(b"GET / HTTP/1.1", b"Host: h"))
    parser.next_request()
    assert parser.feed_eof() == []


def test_body_remaining_counts_down_a_content_length_body() -> None:
    """`body_remaining` tells a server how much of a body it would have to read and drop."""
    parser = RequestParser()
    assert parser.body_remaining is None  # no head yet
    parser.feed(b"POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n1234")
    assert parser.body_remaining == 6
    parser.feed(b"567890")
    assert parser.body_remaining == 0


def test_body_remaining_is_unknown_for_a_chunked_body() -> None:
    parser = RequestParser()
    parser.feed(b"POST /u HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc")
    assert parser.body_remaining is None
    parser.feed(b"\r\n0\r\n\r\n")
    assert parser.body_remaining == 0
