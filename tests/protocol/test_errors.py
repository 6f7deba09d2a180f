"""Malformed input: every row must be refused with RemoteProtocolError, the same way whether it
arrives in one read or one byte per read, with a message that names the fault and the value,
and with the status a server should answer (`status_hint`).

Afterwards the parser is dead: feeding it again raises again (checked by `assert_rejected`).
"""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from aioreq import RemoteProtocolError
from aioreq.protocol import EndOfMessage, RequestParser, ResponseParser

from ._helpers import MODES, assert_rejected, feed_all, msg, rejection

Factory = Callable[[], RequestParser | ResponseParser]

OK = b"HTTP/1.1 200 OK"
CHUNKED = msg(OK, b"Transfer-Encoding: chunked")


def _response_parser() -> ResponseParser:
    return ResponseParser()


def bad(id: str, data: bytes, *fragments: str, hint: int = 400) -> object:
    """A row: the input, the fragments its error message must hold, the status hint."""
    return pytest.param(data, fragments, hint, id=id)


# --- responses (client role) -------------------------------------------------------------------

RESPONSE_ERRORS = [
    # RFC 9112 §6.3 item 3: Transfer-Encoding with Content-Length "ought to be handled as an
    # error" (response splitting, §11.1).
    bad("6.3.3-te-and-cl", msg(OK, b"Transfer-Encoding: chunked", b"Content-Length: 5"),
        "Transfer-Encoding", "Content-Length"),
    bad("6.3.3-cl-and-te", msg(OK, b"Content-Length: 0", b"Transfer-Encoding: chunked"),
        "Transfer-Encoding", "Content-Length"),
    # RFC 9112 §6.3 item 5: "If a message is received without Transfer-Encoding and with an invalid
    # Content-Length header field, then the message framing is invalid and the recipient MUST
    # treat it as an unrecoverable error".
    bad("6.3.5-cl-differing-fields", msg(OK, b"Content-Length: 5", b"Content-Length: 6"),
        "Content-Length", "5", "6"),
    bad("6.3.5-cl-differing-list", msg(OK, b"Content-Length: 5, 6"), "Content-Length", "5", "6"),
    bad("6.3.5-cl-list-with-empty-item", msg(OK, b"Content-Length: 5,"), "Content-Length"),
    bad("6.3.5-cl-plus-sign", msg(OK, b"Content-Length: +5"), "Content-Length", "+5"),
    bad("6.3.5-cl-negative", msg(OK, b"Content-Length: -1"), "Content-Length", "-1"),
    bad("6.3.5-cl-hex", msg(OK, b"Content-Length: 0x10"), "Content-Length", "0x10"),
    bad("6.3.5-cl-letters", msg(OK, b"Content-Length: 12a"), "Content-Length", "12a"),
    bad("6.3.5-cl-decimal-point", msg(OK, b"Content-Length: 1.5"), "Content-Length", "1.5"),
    bad("6.3.5-cl-inner-space", msg(OK, b"Content-Length: 1 2"), "Content-Length", "1 2"),
    bad("6.3.5-cl-empty", msg(OK, b"Content-Length:"), "Content-Length"),
    bad("6.3.5-cl-unicode-digit", msg(OK, b"Content-Length: \xd9\xa3"), "Content-Length"),
    # RFC 9110 §8.6: "a recipient MUST anticipate potentially large decimal numerals and prevent
    # parsing errors due to integer overflow or precision loss".
    bad("6.3.5-cl-overflow-20-digits", msg(OK, b"Content-Length: 99999999999999999999"),
        "Content-Length", "99999999999999999999", hint=413),
    bad("6.3.5-cl-2**63", msg(OK, b"Content-Length: 9223372036854775808"),
        "Content-Length", "9223372036854775808", hint=413),
    # RFC 9112 §6.1: chunked must be the final coding, applied once. Other codings are not
    # implemented; refusing them beats handing over a body still transfer-coded.
    bad("6.1-te-chunked-twice", msg(OK, b"Transfer-Encoding: chunked, chunked"), "chunked"),
    bad("6.1-te-chunked-twice-in-two-fields",
        msg(OK, b"Transfer-Encoding: chunked", b"Transfer-Encoding: chunked"), "chunked"),
    bad("6.1-te-chunked-not-last", msg(OK, b"Transfer-Encoding: chunked, gzip"), "gzip"),
    bad("6.1-te-unknown", msg(OK, b"Transfer-Encoding: x-custom"), "x-custom"),
    bad("6.1-te-empty", msg(OK, b"Transfer-Encoding:"), "Transfer-Encoding"),
    # RFC 9112 §6.1: "A server or client that receives an HTTP/1.0 message containing a
    # Transfer-Encoding header field MUST treat the message as if the framing is faulty".
    bad("6.1-te-in-http10", msg(b"HTTP/1.0 200 OK", b"Transfer-Encoding: chunked"),
        "Transfer-Encoding", "HTTP/1.0"),
    bad("6.1-te-in-http10-with-cl",
        msg(b"HTTP/1.0 200 OK", b"Transfer-Encoding: chunked", b"Content-Length: 3"),
        "Transfer-Encoding", "HTTP/1.0"),
    # RFC 9112 §7.1: chunk-size = 1*HEXDIG; chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
    bad("7.1-chunk-size-0x", CHUNKED + b"0x5\r\nhello\r\n0\r\n\r\n", "chunk size", "0x5"),
    bad("7.1-chunk-size-minus", CHUNKED + b"-5\r\nhello\r\n0\r\n\r\n", "chunk size", "-5"),
    bad("7.1-chunk-size-plus", CHUNKED + b"+5\r\nhello\r\n0\r\n\r\n", "chunk size", "+5"),
    bad("7.1-chunk-size-not-hex", CHUNKED + b"g\r\nhello\r\n0\r\n\r\n", "chunk size", "g"),
    bad("7.1-chunk-size-inner-space", CHUNKED + b"5 5\r\nhello\r\n0\r\n\r\n", "chunk size", "5 5"),
    bad("7.1-chunk-size-leading-space", CHUNKED + b" 5\r\nhello\r\n0\r\n\r\n", "chunk size",
        "' 5'"),
    bad("7.1-chunk-size-missing", CHUNKED + b";x=1\r\nhello\r\n0\r\n\r\n", "size"),
    bad("7.1-chunk-line-empty", CHUNKED + b"\r\nhello\r\n0\r\n\r\n", "size"),
    bad("7.1-chunk-size-overflow-17-digits", CHUNKED + b"10000000000000000\r\n",
        "chunk size", "10000000000000000", hint=413),
    bad("7.1-chunk-size-overflow-40-digits", CHUNKED + b"f" * 40 + b"\r\n", "chunk size", "ffff",
        hint=413),
    bad("7.1-chunk-data-not-followed-by-crlf", CHUNKED + b"5\r\nhello@#\r\n0\r\n\r\n",
        "chunk data", "CRLF", "@"),
    bad("7.1-chunk-data-longer-than-size", CHUNKED + b"3\r\nhello\r\n0\r\n\r\n",
        "chunk data", "CRLF", "lo"),
    bad("7.1-chunk-data-bare-lf", CHUNKED + b"5\r\nhello\n0\r\n\r\n", "chunk data", "CRLF"),
    bad("7.1-chunk-data-bare-cr", CHUNKED + b"5\r\nhello\r0\r\n\r\n", "chunk data", "CRLF"),
    bad("7.1-chunk-line-bare-lf", CHUNKED + b"5\nhello\r\n0\r\n\r\n", "bare LF"),
    bad("7.1-last-chunk-bare-lf", CHUNKED + b"0\n\r\n", "bare LF"),
    bad("7.1-chunk-line-bare-cr", CHUNKED + b"5\rhello\r\n0\r\n\r\n", "bare CR"),
    bad("7.1.1-chunk-ext-without-name", CHUNKED + b"5;\r\nhello\r\n0\r\n\r\n", "extension", "5;"),
    bad("7.1.1-chunk-ext-space-in-name", CHUNKED + b"5;a b\r\nhello\r\n0\r\n\r\n", "extension",
        "a b"),
    bad("7.1.1-chunk-ext-unterminated-quote", CHUNKED + b'5;a="x\r\nhello\r\n0\r\n\r\n',
        "extension", '"x'),
    bad("7.1.1-chunk-ext-ctl-in-value", CHUNKED + b"5;a=\x01\r\nhello\r\n0\r\n\r\n", "extension"),
    bad("7.1.2-trailer-bare-lf", CHUNKED + b"0\r\nT: v\n\r\n", "bare LF"),
    bad("7.1.2-trailer-final-bare-lf", CHUNKED + b"0\r\nT: v\r\n\n", "bare LF"),
    bad("7.1.2-trailer-bad-name", CHUNKED + b"0\r\nBad Name: v\r\n\r\n", "field name", "Bad Name"),
    bad("7.1.2-trailer-nul", CHUNKED + b"0\r\nT: a\x00b\r\n\r\n", "NUL"),
    bad("7.1.2-trailer-no-colon", CHUNKED + b"0\r\nnocolon\r\n\r\n", "colon", "nocolon"),
    # RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ]
    bad("4-status-two-digits", msg(b"HTTP/1.1 20 OK"), "status line", "HTTP/1.1 20 OK"),
    bad("4-status-four-digits", msg(b"HTTP/1.1 2000 OK"), "status line", "2000"),
    bad("4-status-letters", msg(b"HTTP/1.1 abc OK"), "status line", "abc"),
    bad("4-status-no-sp-before-reason", msg(b"HTTP/1.1 200OK"), "status line", "200OK"),
    bad("4-status-double-sp", msg(b"HTTP/1.1  200 OK"), "status line", "HTTP/1.1  200"),
    bad("4-status-leading-sp", msg(b" HTTP/1.1 200 OK"), "status line", " HTTP/1.1"),
    bad("4-status-000", msg(b"HTTP/1.1 000 Zero"), "status code", "000"),
    bad("4-status-099", msg(b"HTTP/1.1 099 Low"), "status code", "099"),
    bad("4-reason-del", msg(b"HTTP/1.1 200 O\x7fK"), "status line", "O\\x7fK"),
    bad("4-reason-nul", msg(b"HTTP/1.1 200 O\x00K"), "status line"),
    bad("4-reason-bare-cr", msg(b"HTTP/1.1 200 O\rK"), "bare CR"),
    bad("4-status-line-bare-lf", b"HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", "bare LF"),
    bad("4-empty-line-first", b"\r\n" + msg(OK, b"Content-Length: 0"), "status line"),
    bad("4-not-http", b"hello world\r\n\r\n", "status line", "hello world"),
    bad("4-icy", msg(b"ICY 200 OK"), "status line", "ICY"),
    # RFC 9112 §2.3: HTTP-version = HTTP-name "/" DIGIT "." DIGIT; HTTP-name is case-sensitive.
    bad("2.3-version-lowercase", msg(b"http/1.1 200 OK"), "status line", "http/1.1"),
    bad("2.3-version-2.0", msg(b"HTTP/2.0 200 OK"), "version", "HTTP/2.0"),
    bad("2.3-version-2", msg(b"HTTP/2 200 OK"), "version", "HTTP/2"),
    bad("2.3-version-0.9", msg(b"HTTP/0.9 200 OK"), "version", "HTTP/0.9"),
    bad("2.3-version-1", msg(b"HTTP/1 200 OK"), "HTTP/1"),
    bad("2.3-version-1.1.1", msg(b"HTTP/1.1.1 200 OK"), "HTTP/1.1.1"),
    bad("2.3-version-1.10", msg(b"HTTP/1.10 200 OK"), "HTTP/1.10"),
    # RFC 9112 §5 / RFC 9110 §5.1: field-name = token
    bad("5-name-with-space", msg(OK, b"Bad Name: x"), "field name", "Bad Name"),
    bad("5-name-with-ctl", msg(OK, b"Bad\x01: x"), "field name", "Bad\\x01"),
    bad("5-name-with-parens", msg(OK, b"(x): y"), "field name", "(x)"),
    bad("5-name-non-ascii", msg(OK, b"\xc3\xa9t\xc3\xa9: x"), "field name", "\\xc3\\xa9t"),
    bad("5-name-with-at", msg(OK, b"a@b: x"), "field name", "a@b"),
    bad("5-name-empty", msg(OK, b": x"), "field name", ": x"),
    bad("5-no-colon", msg(OK, b"NoColon"), "colon", "NoColon"),
    # RFC 9112 §5.1: "No whitespace is allowed between the field name and colon."
    bad("5.1-space-before-colon", msg(OK, b"Content-Length : 5"), "whitespace",
        "Content-Length :"),
    bad("5.1-tab-before-colon", msg(OK, b"X\t: y"), "whitespace", "X\\t:"),
    # RFC 9110 §5.5: "Field values containing CR, LF, or NUL characters are invalid and dangerous"
    bad("5.5-nul-in-value", msg(OK, b"X: a\x00b"), "NUL", "a\\x00b"),
    bad("5.5-bare-cr-in-value", msg(OK, b"X: a\rb"), "bare CR", "a\\rb"),
    bad("5.5-bare-lf-in-value", msg(OK, b"X: a\nb: c"), "bare LF", "a\\n"),
    bad("5.5-ctl-in-value", msg(OK, b"X-Ctl: a\x01b"), "x01", "X-Ctl"),
    bad("5.5-del-in-value", msg(OK, b"X-Del: a\x7fb"), "x7f", "X-Del"),
    bad("5.5-esc-in-value", msg(OK, b"X-Esc: \x1b[31m"), "x1b", "X-Esc"),
    # RFC 9112 §2.2: "A recipient that receives whitespace between the start-line and the first
    # header field MUST either reject the message as invalid or consume each whitespace-preceded
    # line without further processing of it".
    bad("2.2-whitespace-before-first-field", msg(OK, b" X: y", b"Content-Length: 0"), "X: y"),
    bad("2.2-head-ends-with-bare-lf", b"HTTP/1.1 200 OK\r\nX: y\r\n\n", "bare LF"),
    bad("2.2-all-bare-lf", b"HTTP/1.1 200 OK\nX: y\n\n", "bare LF"),
]  # fmt: skip


@pytest.mark.parametrize(("data", "fragments", "hint"), RESPONSE_ERRORS)
def test_malformed_response(data: bytes, fragments: tuple[str, ...], hint: int) -> None:
    assert_rejected(_response_parser, data, fragments, hint)


# --- requests (server role) --------------------------------------------------------------------

GET = b"GET / HTTP/1.1"
POST = b"POST / HTTP/1.1"
H = b"Host: h"

REQUEST_ERRORS = [
    # RFC 9112 §6.3 item 3 / §11.2 (request smuggling).
    bad("6.3.3-te-and-cl", msg(POST, H, b"Transfer-Encoding: chunked", b"Content-Length: 3"),
        "Transfer-Encoding", "Content-Length"),
    bad("6.3.3-te-mixed-case-and-cl", msg(POST, H, b"transfer-ENCODING: chunked",
                                          b"content-length: 3"), "Transfer-Encoding"),
    bad("6.3.5-cl-differing", msg(POST, H, b"Content-Length: 3", b"Content-Length: 4"),
        "Content-Length", "3", "4"),
    bad("6.3.5-cl-differing-list", msg(POST, H, b"Content-Length: 3, 4"), "Content-Length", "4"),
    bad("6.3.5-cl-not-a-number", msg(POST, H, b"Content-Length: 12a"), "Content-Length", "12a"),
    bad("6.3.5-cl-negative", msg(POST, H, b"Content-Length: -1"), "Content-Length", "-1"),
    bad("6.3.5-cl-plus", msg(POST, H, b"Content-Length: +1"), "Content-Length", "+1"),
    bad("6.3.5-cl-overflow", msg(POST, H, b"Content-Length: 18446744073709551616"),
        "Content-Length", "18446744073709551616", hint=413),
    # RFC 9112 §6.3 item 4: "If a Transfer-Encoding header field is present in a request and the
    # chunked transfer coding is not the final encoding, the message body length cannot be
    # determined reliably; the server MUST respond with the 400 (Bad Request) status code".
    bad("6.3.4-te-chunked-not-last", msg(POST, H, b"Transfer-Encoding: chunked, gzip"),
        "chunked", "gzip"),
    bad("6.3.4-te-without-chunked", msg(POST, H, b"Transfer-Encoding: gzip"), "gzip"),
    bad("6.3.4-te-identity", msg(POST, H, b"Transfer-Encoding: identity"), "identity"),
    # RFC 9112 §6.1: "A server that receives a request message with a transfer coding it does not
    # understand SHOULD respond with 501 (Not Implemented)." (chunked final: the length is known)
    bad("6.1-te-unknown-coding-501", msg(POST, H, b"Transfer-Encoding: gzip, chunked"), "gzip",
        hint=501),
    bad("6.1-te-unknown-coding-two-fields-501",
        msg(POST, H, b"Transfer-Encoding: x-zip", b"Transfer-Encoding: chunked"), "x-zip",
        hint=501),
    bad("6.1-te-chunked-twice", msg(POST, H, b"Transfer-Encoding: chunked, chunked"), "chunked"),
    bad("6.1-te-in-http10", msg(b"POST / HTTP/1.0", b"Transfer-Encoding: chunked"),
        "Transfer-Encoding", "HTTP/1.0"),
    bad("6.1-te-in-http10-with-cl",
        msg(b"POST / HTTP/1.0", b"Transfer-Encoding: chunked", b"Content-Length: 5"),
        "Transfer-Encoding", "HTTP/1.0"),
    # RFC 9112 §3.2: "A server MUST respond with a 400 (Bad Request) status code to any HTTP/1.1
    # request message that lacks a Host header field and to any request message that contains
    # more than one Host header field line or a Host header field with an invalid field value."
    bad("3.2-host-missing", msg(GET, b"X: y"), "Host"),
    bad("3.2-host-twice", msg(GET, b"Host: a", b"Host: b"), "Host"),
    bad("3.2-host-twice-identical", msg(GET, b"Host: a", b"Host: a"), "Host"),
    bad("3.2-host-twice-in-http10", msg(b"GET / HTTP/1.0", b"Host: a", b"Host: b"), "Host"),
    bad("3.2-host-with-space", msg(GET, b"Host: exa mple"), "Host", "exa mple"),
    bad("3.2-host-with-path", msg(GET, b"Host: a/b"), "Host", "a/b"),
    bad("3.2-host-with-userinfo", msg(GET, b"Host: u@a"), "Host", "u@a"),
    bad("3.2-host-bad-port", msg(GET, b"Host: a:8o"), "Host", "a:8o"),
    bad("3.2-host-unclosed-ipv6", msg(GET, b"Host: [::1"), "Host", "[::1"),
    bad("3.2-host-invalid-in-http10", msg(b"GET / HTTP/1.0", b"Host: a b"), "Host", "a b"),
    # RFC 9112 §3: request-line = method SP request-target SP HTTP-version
    bad("3-no-version", msg(b"GET /"), "request line", "GET /"),
    bad("3-only-method", msg(b"GET"), "request line", "GET"),
    bad("3-extra-part", msg(b"GET / HTTP/1.1 extra"), "request line", "extra"),
    bad("3-double-sp", msg(b"GET  / HTTP/1.1", H), "request line", "GET  /"),
    bad("3-trailing-sp", msg(b"GET / HTTP/1.1 ", H), "request line", "HTTP/1.1 "),
    bad("3-tab-separator", msg(b"GET\t/ HTTP/1.1", H), "GET\\t/"),
    bad("3-space-in-target", msg(b"GET /a b HTTP/1.1", H), "request line", "/a b"),
    bad("3-del-in-target", msg(b"GET /\x7f HTTP/1.1", H), "/\\x7f"),
    bad("3-non-ascii-target", msg(b"GET /caf\xc3\xa9 HTTP/1.1", H), "/caf\\xc3\\xa9"),
    bad("3-bare-cr-in-line", msg(b"GET /\r HTTP/1.1", H), "bare CR"),
    bad("3-bare-lf-ends-line", b"GET / HTTP/1.1\nHost: h\r\n\r\n", "bare LF"),
    bad("3-all-bare-lf", b"GET / HTTP/1.1\nHost: h\n\n", "bare LF"),
    # A bare LF inside the line is a broken line, not an unknown version (505) or method.
    bad("3-bare-lf-in-version", b"GET / HTTP/1\n.1\r\nHost: h\r\n\r\n", "bare LF"),
    bad("3-bare-lf-in-method", b"G\nET / HTTP/1.1\r\nHost: h\r\n\r\n", "bare LF"),
    bad("3-invalid-method", msg(b"G@T / HTTP/1.1", H), "method", "G@T"),
    bad("3-method-with-ctl", msg(b"GE\x01T / HTTP/1.1", H), "method", "GE\\x01T"),
    bad("3-version-lowercase", msg(b"GET / http/1.1", H), "request line", "http/1.1"),
    bad("3-version-1.10", msg(b"GET / HTTP/1.10", H), "HTTP/1.10"),
    # RFC 9112 §2.3: HTTP-version = HTTP-name "/" DIGIT "." DIGIT. What does not match it is an
    # invalid request-line (400), not a version the server does not support (505).
    bad("3-version-not-digits", msg(b"GET / HTTP/x.y", H), "HTTP/x.y"),
    bad("3-version-no-dot", msg(b"GET / HTTP/1=1", H), "HTTP/1=1"),
    # RFC 9110 §15.6.6: 505 "the server does not support, or refuses to support, the major version
    # of HTTP that was used in the request message".
    bad("2.3-version-2.0-505", msg(b"GET / HTTP/2.0", H), "version", "HTTP/2.0", hint=505),
    bad("2.3-version-3.0-505", msg(b"GET / HTTP/3.0", H), "version", "HTTP/3.0", hint=505),
    bad("2.3-version-0.9-505", msg(b"GET / HTTP/0.9", H), "version", "HTTP/0.9", hint=505),
    # RFC 9112 §3.2.1-§3.2.4: the four forms of request-target.
    bad("3.2.4-asterisk-not-options", msg(b"GET * HTTP/1.1", H), "*", "GET"),
    bad("3.2.4-double-asterisk", msg(b"OPTIONS ** HTTP/1.1", H), "request-target", "**"),
    bad("3.2.3-connect-origin-form", msg(b"CONNECT /path HTTP/1.1", H), "CONNECT", "/path"),
    bad("3.2.3-connect-no-port", msg(b"CONNECT example.org HTTP/1.1", H), "CONNECT",
        "example.org"),
    bad("3.2.3-connect-absolute-form", msg(b"CONNECT http://example.org/ HTTP/1.1", H),
        "CONNECT", "http://example.org/"),
    bad("3.2.3-connect-empty-port", msg(b"CONNECT example.org: HTTP/1.1", H), "CONNECT",
        "example.org:"),
    bad("3.2-relative-target", msg(b"GET example HTTP/1.1", H), "request-target", "example"),
    bad("3.2-query-only-target", msg(b"GET ?q=1 HTTP/1.1", H), "request-target", "?q=1"),
    bad("3.2.2-bad-scheme", msg(b"GET 1http://x/ HTTP/1.1", H), "request-target", "1http://x/"),
    # RFC 9112 §5.1: "A server MUST reject, with a response status code of 400 (Bad Request), any
    # received request message that contains whitespace between a header field name and colon."
    bad("5.1-space-before-colon", msg(GET, H, b"Transfer-Encoding : chunked"), "whitespace",
        "Transfer-Encoding :"),
    bad("5.1-tab-before-colon", msg(GET, H, b"Content-Length\t: 0"), "whitespace"),
    # RFC 9112 §5.2: "A server that receives an obs-fold in a request message that is not within
    # a "message/http" container MUST either reject the message by sending a 400 (Bad Request)".
    bad("5.2-obs-fold-space", msg(GET, H, b"X: a", b" b"), "obs-fold", "b"),
    bad("5.2-obs-fold-tab", msg(GET, H, b"X: a", b"\tb"), "obs-fold"),
    bad("5.2-obs-fold-content-length", msg(POST, H, b"Content-Length:", b" 3"), "obs-fold"),
    bad("2.2-whitespace-before-first-field", msg(GET, b" Host: h"), "Host: h"),
    bad("5-name-with-space", msg(GET, H, b"Bad Name: x"), "field name", "Bad Name"),
    bad("5-name-empty", msg(GET, H, b": x"), "field name"),
    bad("5-no-colon", msg(GET, H, b"NoColon"), "colon", "NoColon"),
    bad("5.5-nul-in-value", msg(GET, H, b"X: a\x00b"), "NUL", "a\\x00b"),
    bad("5.5-bare-cr-in-value", msg(GET, H, b"X: a\rb"), "bare CR", "a\\rb"),
    bad("5.5-bare-lf-in-value", msg(GET, H, b"X: a\nY: b"), "bare LF", "a\\n"),
    bad("5.5-ctl-in-value", msg(GET, H, b"X-Bs: a\x08b"), "x08", "X-Bs"),
    bad("5.5-bare-cr-in-name", msg(GET, H, b"X\r: y"), "bare CR"),
    # RFC 9112 §7.1 in a request body.
    bad("7.1-chunk-size-0x", msg(POST, H, b"Transfer-Encoding: chunked", body=b"0x1\r\na\r\n"),
        "chunk size", "0x1"),
    bad("7.1-chunk-size-overflow", msg(POST, H, b"Transfer-Encoding: chunked",
                                        body=b"1" + b"0" * 16 + b"\r\n"),
        "chunk size", "10000000000000000", hint=413),
    bad("7.1-chunk-data-without-crlf", msg(POST, H, b"Transfer-Encoding: chunked",
                                            body=b"1\r\naXY"), "chunk data", "CRLF"),
    bad("7.1-chunk-line-bare-lf", msg(POST, H, b"Transfer-Encoding: chunked",
                                       body=b"1\na\r\n0\r\n\r\n"), "bare LF"),
    bad("7.1.2-trailer-obs-fold", msg(POST, H, b"Transfer-Encoding: chunked",
                                       body=b"0\r\nT: a\r\n b\r\n\r\n"), "obs-fold"),
]  # fmt: skip


@pytest.mark.parametrize(("data", "fragments", "hint"), REQUEST_ERRORS)
def test_malformed_request(data: bytes, fragments: tuple[str, ...], hint: int) -> None:
    assert_rejected(RequestParser, data, fragments, hint)


# --- truncation: RFC 9112 §8 ------------------------------------------------------------------
# RFC 9112 §8: "A message that uses a valid Content-Length is incomplete if the size of the message
# body received (in octets) is less than the value given by Content-Length. A response that has
# neither chunked transfer coding nor Content-Length is terminated by closure of the connection
# and, if the header fields were received intact, is considered complete". A chunked message is
# incomplete until its last chunk and trailer section have arrived.

TRUNCATABLE = [
    pytest.param(_response_parser, msg(OK, b"Content-Length: 5", b"X: y", body=b"hello"),
                 id="response-content-length"),
    pytest.param(_response_parser, CHUNKED + b"3;e=1\r\nabc\r\n2\r\nde\r\n0\r\nT: v\r\n\r\n",
                 id="response-chunked-trailers"),
    pytest.param(_response_parser, msg(b"HTTP/1.1 103 Early Hints", b"Link: </a>")
                 + msg(OK, b"Content-Length: 2", body=b"ok"), id="response-after-1xx"),
    pytest.param(RequestParser, msg(POST, H, b"Content-Length: 5", body=b"hello"),
                 id="request-content-length"),
    pytest.param(RequestParser, msg(POST, H, b"Transfer-Encoding: chunked",
                                    body=b"3\r\nabc\r\n0\r\nT: v\r\n\r\n"), id="request-chunked"),
    pytest.param(RequestParser, msg(GET, H), id="request-head-only"),
]  # fmt: skip


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("factory", "data"), TRUNCATABLE)
def test_truncated_at_every_point_rfc9112_s8(factory: Factory, data: bytes, mode: str) -> None:
    for cut in range(1, len(data)):
        error = rejection(factory, data[:cut], mode, eof=True)
        assert "closed" in str(error), (cut, str(error))
    # The whole message followed by the close is no error at all.
    parser = factory()
    events = feed_all(parser, data, mode, eof=True)
    assert isinstance(events[-1], EndOfMessage)


def test_close_before_any_response_byte() -> None:
    parser = ResponseParser()
    with pytest.raises(RemoteProtocolError, match="closed"):
        parser.feed_eof()


def test_close_after_an_interim_response_does_not_claim_nothing_arrived() -> None:
    """A 100 Continue did arrive: "before any response byte" would send a user looking for a
    server that never answered, when it answered and then dropped the final response."""
    parser = ResponseParser()
    parser.feed(msg(b"HTTP/1.1 100 Continue"))
    with pytest.raises(RemoteProtocolError, match="closed") as info:
        parser.feed_eof()
    assert "before any response byte" not in str(info.value)


def test_truncated_body_message_says_how_much_is_missing() -> None:
    parser = ResponseParser()
    parser.feed(msg(OK, b"Content-Length: 10", body=b"abc"))
    with pytest.raises(RemoteProtocolError) as info:
        parser.feed_eof()
    assert "7" in str(info.value)
    assert "10" in str(info.value)


# --- a failed parser stays failed ---------------------------------------------------------------

STICKY = [
    pytest.param(_response_parser, msg(b"HTTP/1.1 200 OK", b"Content-Length: x"), id="response-cl"),
    pytest.param(_response_parser, b"HTTP/1.1 200 OK\nX: y\r\n\r\n", id="response-bare-lf-head"),
    pytest.param(_response_parser, CHUNKED + b"zz\r\n", id="response-chunk-size"),
    pytest.param(RequestParser, msg(b"GET / HTTP/2.0", H), id="request-version"),
    pytest.param(RequestParser, b"GET / HTTP/1.1\nHost: h\r\n\r\n", id="request-bare-lf-head"),
    pytest.param(lambda: RequestParser(max_header_size=50), b"GET / HTTP/1.1\r\nX: " + b"a" * 99,
                 id="request-partial-head-too-large"),
]  # fmt: skip


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("factory", "data"), STICKY)
def test_error_is_final(factory: Factory, data: bytes, mode: str) -> None:
    """After an error the parser is dead and says so: a caller that feeds it again (or reports
    the close) gets the same fault again, and the connection is not reusable."""
    parser = factory()
    with pytest.raises(RemoteProtocolError) as first:
        feed_all(parser, data, mode)
    assert parser.keep_alive is False
    assert not parser.complete
    for again in (lambda: parser.feed(b"\r\n\r\n"), parser.feed_eof, lambda: parser.feed(b"")):
        with pytest.raises(RemoteProtocolError) as second:
            again()
        assert str(first.value) in str(second.value)


# --- garbage ---------------------------------------------------------------------------------

GARBAGE = [
    b"\x00" * 64,
    b"\r\n" * 3 + b"\n",
    b"\xff\xfe\xfd" * 30 + b"\r\n\r\n",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(256)),  # a TLS ClientHello
    b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",  # the HTTP/2 preface
    b"GET / HTTP/1.1\r\n\r\n" * 3,
    b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * 300 + b"\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"1\r\n" * 50,
    b":" * 100 + b"\r\n\r\n",
    b" " * 100 + b"\r\n\r\n",
    b"\r\r\r\n\n\n",
    bytes(range(256)) * 4,
]


def _outcome(factory: Factory, pieces: list[bytes]) -> object:
    parser = factory()
    try:
        events: list[object] = []
        for piece in pieces:
            events += parser.feed(piece)
        events += parser.feed_eof()
    except RemoteProtocolError:
        return "rejected"
    return ("accepted", [repr(e) for e in events if not isinstance(e, bytes)],
            b"".join(e for e in events if isinstance(e, bytes)))  # fmt: skip


@pytest.mark.parametrize("factory", [_response_parser, RequestParser], ids=["response", "request"])
@pytest.mark.parametrize("data", GARBAGE, ids=[f"garbage-{i}" for i in range(len(GARBAGE))])
def test_garbage_raises_only_remote_protocol_error(factory: Factory, data: bytes) -> None:
    whole = _outcome(factory, [data])
    assert whole == _outcome(factory, [data[i : i + 1] for i in range(len(data))])


# Seeds for the mutation test: valid messages of every framing.
_MUTATION_SEEDS = [
    (_response_parser, msg(OK, b"Content-Length: 5", body=b"hello")),
    (_response_parser, CHUNKED + b"5;a=b\r\nhello\r\n0\r\nT: v\r\n\r\n"),
    (_response_parser, msg(b"HTTP/1.1 100 Continue") + msg(b"HTTP/1.0 200 OK", b"X: a", b" b",
                                                           body=b"body")),
    (RequestParser, msg(b"POST /a HTTP/1.1", H, b"Content-Length: 3", body=b"abc")),
    (RequestParser, msg(b"PUT /a HTTP/1.1", H, b"Transfer-Encoding: chunked",
                        body=b"3\r\nabc\r\n0\r\n\r\n")),
]  # fmt: skip
_ALPHABET = b'\r\n \t:;0123456789abcdefxX\x00\x7f\x80,"=-/HTP'
_INSERTS = [b"\r\n", b"\n", b"\r", b"\r\n\r\n", b"Content-Length: 1\r\n",
            b"Transfer-Encoding: chunked\r\n", b"Host: x\r\n"]  # fmt: skip


def _mutate(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(len(out))
        op = rng.randrange(4)
        if op == 0:
            out[i] = rng.choice(_ALPHABET)
        elif op == 1:
            out[i:i] = bytes([rng.choice(_ALPHABET)])
        elif op == 2:
            del out[i]
        else:
            out[i:i] = rng.choice(_INSERTS)
    return bytes(out)


@pytest.mark.parametrize("seed", range(8))
def test_mutated_messages_parse_or_raise_remote_protocol_error(seed: int) -> None:
    """Any bytes either parse or raise RemoteProtocolError, and the outcome does not depend on
    how the bytes were split into reads (seeded, so a failure reproduces)."""
    rng = random.Random(seed)
    for _ in range(250):
        factory, valid = rng.choice(_MUTATION_SEEDS)
        data = _mutate(rng, valid)
        whole = _outcome(factory, [data])
        cut = rng.randrange(len(data) + 1)
        assert _outcome(factory, [data[:cut], data[cut:]]) == whole, (data, cut)
        assert _outcome(factory, [data[i : i + 1] for i in range(len(data))]) == whole, data
