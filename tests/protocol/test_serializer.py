"""Outgoing messages: what may be sent (RFC 9112 §3, §4, §5, §7.1; RFC 9110 §5.5, §5.6.2), and
serialize -> parse round trips.

RFC 9112 §11.1 (response splitting) and §11.2 (request smuggling): a CR or LF that reaches a start
line or a field lets whoever controls that value write a second message. The serializer refuses
with LocalProtocolError rather than send it.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from aioreq import LocalProtocolError
from aioreq.protocol import (
    BodyWriter,
    EndOfMessage,
    RequestHead,
    RequestParser,
    ResponseHead,
    ResponseParser,
    encode_chunk,
    encode_last_chunk,
    encode_request,
    encode_request_head,
    encode_response_head,
    reason_phrase,
)

from ._helpers import MODES, body_of, feed_all, heads

HOST = [(b"Host", b"example.org")]


def request_head(
    method: bytes = b"GET",
    target: bytes = b"/",
    headers: list[tuple[bytes, bytes]] = HOST,
    **kw: bytes,
) -> Callable[[], bytes]:
    return lambda: encode_request_head(method, target, headers, **kw)


def response_head(
    status_code: int = 200, headers: list[tuple[bytes, bytes]] | None = None, **kw: bytes
) -> Callable[[], bytes]:
    return lambda: encode_response_head(status_code, headers or [], **kw)


# Each row: a call that must refuse, and what the message names.
UNSAFE = [
    # RFC 9110 §9.1 / §5.6.2: method = token
    pytest.param(request_head(method=b"GET\r\nX-Injected: 1"), "method", id="method-crlf"),
    pytest.param(request_head(method=b"GET\n"), "method", id="method-lf"),
    pytest.param(request_head(method=b"GE\x00T"), "method", id="method-nul"),
    pytest.param(request_head(method=b"GE T"), "method", id="method-space"),
    pytest.param(request_head(method=b""), "method", id="method-empty"),
    pytest.param(request_head(method=b"(GET)"), "method", id="method-delimiters"),
    pytest.param(request_head(method=b"G\xc3\x89T"), "method", id="method-non-ascii"),
    # RFC 9112 §3.2: the request-target carries no whitespace or control.
    pytest.param(request_head(target=b"/\r\nX-Injected: 1"), "target", id="target-crlf"),
    pytest.param(request_head(target=b"/a\nb"), "target", id="target-lf"),
    pytest.param(request_head(target=b"/a\x00b"), "target", id="target-nul"),
    pytest.param(request_head(target=b"/a b"), "target", id="target-space"),
    pytest.param(request_head(target=b"/a\tb"), "target", id="target-tab"),
    pytest.param(request_head(target=b"/\x7f"), "target", id="target-del"),
    pytest.param(request_head(target=b""), "target", id="target-empty"),
    # RFC 9110 §5.1: field-name = token
    pytest.param(request_head(headers=[(b"X\r\nY", b"1")]), "field name", id="name-crlf"),
    pytest.param(request_head(headers=[(b"X\n", b"1")]), "field name", id="name-lf"),
    pytest.param(request_head(headers=[(b"X\x00", b"1")]), "field name", id="name-nul"),
    pytest.param(request_head(headers=[(b"X Y", b"1")]), "field name", id="name-space"),
    pytest.param(request_head(headers=[(b"X:Y", b"1")]), "field name", id="name-colon"),
    pytest.param(request_head(headers=[(b"", b"1")]), "field name", id="name-empty"),
    pytest.param(request_head(headers=[(b"X(Y)", b"1")]), "field name", id="name-delimiters"),
    # RFC 9110 §5.5: "Field values containing CR, LF, or NUL characters are invalid and dangerous"
    pytest.param(request_head(headers=[(b"X", b"a\r\nX-Injected: 1")]), "value", id="value-crlf"),
    pytest.param(request_head(headers=[(b"X", b"a\rb")]), "value", id="value-cr"),
    pytest.param(request_head(headers=[(b"X", b"a\nb")]), "value", id="value-lf"),
    pytest.param(request_head(headers=[(b"X", b"a\x00b")]), "value", id="value-nul"),
    pytest.param(request_head(headers=[(b"X", b"a\x01b")]), "value", id="value-ctl"),
    pytest.param(request_head(headers=[(b"X", b"a\x7fb")]), "value", id="value-del"),
    # A recipient strips OWS around a value: what is sent would not be what is received.
    pytest.param(request_head(headers=[(b"X", b" a")]), "value", id="value-leading-space"),
    pytest.param(request_head(headers=[(b"X", b"a\t")]), "value", id="value-trailing-tab"),
    pytest.param(request_head(headers=[(b"X", b"\r\n")]), "value", id="value-only-crlf"),
    # RFC 9112 §2.3: HTTP-version = HTTP-name "/" DIGIT "." DIGIT
    pytest.param(request_head(http_version=b"1.1\r\nX-Injected: 1"), "version",
                 id="request-version-crlf"),
    pytest.param(request_head(http_version=b"2"), "version", id="request-version-not-1.x"),
    # RFC 9112 §4
    pytest.param(response_head(status_code=99), "status", id="status-99"),
    pytest.param(response_head(status_code=1000), "status", id="status-1000"),
    pytest.param(response_head(reason=b"OK\r\nX-Injected: 1"), "reason", id="reason-crlf"),
    pytest.param(response_head(reason=b"O\nK"), "reason", id="reason-lf"),
    pytest.param(response_head(reason=b"O\x00K"), "reason", id="reason-nul"),
    pytest.param(response_head(headers=[(b"Set-Cookie", b"a=1\r\n\r\n<html>")]), "value",
                 id="response-value-splitting"),
    pytest.param(response_head(headers=[(b"Bad Name", b"1")]), "field name",
                 id="response-bad-name"),
    pytest.param(response_head(http_version=b"1.1 200 OK\r\nX-Injected: 1\r\n\r\nHTTP/1.1"),
                 "version", id="response-version-crlf"),
    # RFC 9112 §7.1.2: trailer fields are field lines too.
    pytest.param(lambda: encode_last_chunk([(b"T", b"v\r\nX-Injected: 1")]), "value",
                 id="trailer-value-crlf"),
    pytest.param(lambda: encode_last_chunk([(b"T\r\n", b"v")]), "field name",
                 id="trailer-name-crlf"),
]  # fmt: skip


@pytest.mark.parametrize(("call", "fragment"), UNSAFE)
def test_unsafe_outgoing_message_is_refused(call: Callable[[], bytes], fragment: str) -> None:
    with pytest.raises(LocalProtocolError) as info:
        call()
    assert fragment in str(info.value).lower()


def test_refusal_names_the_value() -> None:
    with pytest.raises(LocalProtocolError) as info:
        encode_request_head(b"GET", b"/", [(b"X-Token", b"abc\r\ndef")])
    assert "X-Token" in str(info.value)
    assert "abc" in str(info.value)


# RFC 9112 §3: request-line = method SP request-target SP HTTP-version
@pytest.mark.parametrize(
    ("method", "target", "headers", "wire"),
    [
        pytest.param(b"GET", b"/", HOST, b"GET / HTTP/1.1\r\nHost: example.org\r\n\r\n", id="get"),
        pytest.param(b"M-SEARCH", b"/x?y=%20", [], b"M-SEARCH /x?y=%20 HTTP/1.1\r\n\r\n",
                     id="extension-method-no-fields"),
        pytest.param(b"OPTIONS", b"*", [(b"A", b""), (b"B", b"x\ty \xff")],
                     b"OPTIONS * HTTP/1.1\r\nA: \r\nB: x\ty \xff\r\n\r\n", id="empty-and-obs-text"),
    ],
)  # fmt: skip
def test_request_head_bytes(
    method: bytes, target: bytes, headers: list[tuple[bytes, bytes]], wire: bytes
) -> None:
    assert encode_request_head(method, target, headers) == wire


@pytest.mark.parametrize(
    ("status", "kwargs", "wire"),
    [
        pytest.param(200, {}, b"HTTP/1.1 200 OK\r\n\r\n", id="standard-reason"),
        pytest.param(404, {"reason": b"Nope"}, b"HTTP/1.1 404 Nope\r\n\r\n", id="own-reason"),
        pytest.param(299, {}, b"HTTP/1.1 299 \r\n\r\n", id="no-standard-reason"),
        pytest.param(200, {"http_version": b"1.0"}, b"HTTP/1.0 200 OK\r\n\r\n", id="http10"),
    ],
)
def test_response_head_bytes(status: int, kwargs: dict[str, bytes], wire: bytes) -> None:
    assert encode_response_head(status, [], **kwargs) == wire


@pytest.mark.parametrize(
    ("code", "phrase"),
    [(100, b"Continue"), (200, b"OK"), (204, b"No Content"), (404, b"Not Found"),
     (413, b"Content Too Large"), (431, b"Request Header Fields Too Large"),
     (505, b"HTTP Version Not Supported"), (599, b"")],
)  # fmt: skip
def test_reason_phrase_rfc9110_s15(code: int, phrase: bytes) -> None:
    assert reason_phrase(code) == phrase


# --- BodyWriter: the body keeps the promise its head made ------------------------------------


def test_content_length_body_too_long() -> None:
    writer = BodyWriter([(b"Content-Length", b"5")])
    assert writer.write(b"abc") == b"abc"
    with pytest.raises(LocalProtocolError, match="Content-Length"):
        writer.write(b"def")


def test_content_length_body_too_short() -> None:
    writer = BodyWriter([(b"content-length", b"5")])
    writer.write(b"abc")
    with pytest.raises(LocalProtocolError, match="short"):
        writer.end()


def test_content_length_body_exact() -> None:
    writer = BodyWriter([(b"Content-Length", b"5")])
    assert writer.write(b"ab") + writer.write(b"") + writer.write(b"cde") + writer.end() == b"abcde"


@pytest.mark.parametrize(
    ("headers", "fragment"),
    [
        pytest.param([(b"Transfer-Encoding", b"chunked"), (b"Content-Length", b"3")],
                     "both", id="te-and-cl"),
        pytest.param([(b"Transfer-Encoding", b"gzip")], "gzip", id="unsupported-coding"),
        pytest.param([(b"Content-Length", b"abc")], "abc", id="cl-not-a-number"),
        pytest.param([(b"Content-Length", b"-1")], "-1", id="cl-negative"),
        pytest.param([(b"Content-Length", b"3"), (b"Content-Length", b"4")], "4",
                     id="cl-differing"),
    ],
)  # fmt: skip
def test_body_writer_refuses_bad_framing(headers: list[tuple[bytes, bytes]], fragment: str) -> None:
    with pytest.raises(LocalProtocolError, match=fragment):
        BodyWriter(headers)


def test_trailers_need_a_chunked_body() -> None:
    writer = BodyWriter([(b"Content-Length", b"0")])
    with pytest.raises(LocalProtocolError, match="chunked"):
        writer.end([(b"T", b"v")])


def test_empty_write_does_not_end_a_chunked_body() -> None:
    """RFC 9112 §7.1: a zero-size chunk is the last chunk; an empty write must not send one."""
    assert encode_chunk(b"") == b""
    writer = BodyWriter([(b"Transfer-Encoding", b"chunked")])
    assert writer.write(b"") == b""


def test_until_close_body_is_sent_as_is() -> None:
    writer = BodyWriter([], until_close=True)
    assert writer.write(b"abc") + writer.write(b"def") + writer.end() == b"abcdef"


def test_no_framing_means_no_body() -> None:
    """Without Content-Length, chunked or until_close, the message has no body to write."""
    writer = BodyWriter([])
    with pytest.raises(LocalProtocolError):
        writer.write(b"x")


# --- encode_request --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "headers", "body"),
    [
        pytest.param(b"POST", [(b"Content-Length", b"10")], b"abc", id="declared-longer"),
        pytest.param(b"POST", [(b"Content-Length", b"1")], b"abc", id="declared-shorter"),
        pytest.param(b"POST", [(b"Content-Length", b"x")], b"abc", id="declared-not-a-number"),
        pytest.param(b"GET", [(b"Content-Length", b"3"), (b"Transfer-Encoding", b"chunked")],
                     b"abc", id="declared-both"),
    ],
)  # fmt: skip
def test_encode_request_refuses_a_body_its_fields_misframe(
    method: bytes, headers: list[tuple[bytes, bytes]], body: bytes
) -> None:
    """RFC 9112 §6.3 / §11.2: a Content-Length that does not match the body makes the peer read
    the next request as part of this one (or this body as the next request)."""
    with pytest.raises(LocalProtocolError, match="Content-Length"):
        encode_request(method, b"/", [*HOST, *headers], body)


@pytest.mark.parametrize(
    ("method", "body", "length"),
    [
        pytest.param(b"GET", b"", None, id="get-no-body-no-length"),
        pytest.param(b"GET", b"q", b"1", id="get-with-body"),
        pytest.param(b"POST", b"", b"0", id="post-empty-says-0"),
        pytest.param(b"PUT", b"data", b"4", id="put"),
        pytest.param(b"PATCH", b"", b"0", id="patch-empty-says-0"),
        pytest.param(b"DELETE", b"", None, id="delete-no-body"),
    ],
)
def test_encode_request_content_length_rfc9110_s8_6(
    method: bytes, body: bytes, length: bytes | None
) -> None:
    """RFC 9110 §8.6: "A user agent SHOULD send Content-Length in a request when the method
    defines a meaning for enclosed content and it is not sent with Transfer-Encoding"."""
    wire = encode_request(method, b"/p", HOST, body)
    events = feed_all(RequestParser(), wire)
    (head,) = heads(events)
    assert isinstance(head, RequestHead)
    lengths = [v for n, v in head.headers if n.lower() == b"content-length"]
    assert lengths == ([] if length is None else [length])
    assert body_of(events) == body
    assert events[-1] == EndOfMessage()


# --- round trips: what we send, our parser reads back unchanged ------------------------------

FIELDS = [(b"Host", b"example.org"), (b"X-Mixed-Case", b"v a l"), (b"X-Obs", b"\xe9t\xe9"),
          (b"X-Empty", b""), (b"X-Dup", b"1"), (b"X-Dup", b"2")]  # fmt: skip


@pytest.mark.parametrize("mode", MODES)
def test_request_round_trip(mode: str) -> None:
    wire = encode_request(b"PUT", b"/a?b=c", FIELDS, b"payload")
    events = feed_all(RequestParser(), wire, mode)
    assert events == [
        RequestHead(b"PUT", b"/a?b=c", b"1.1", [*FIELDS, (b"Content-Length", b"7")]),
        b"payload",
        EndOfMessage(),
    ]


@pytest.mark.parametrize("mode", MODES)
def test_chunked_request_with_trailers_round_trip(mode: str) -> None:
    fields = [*HOST, (b"Transfer-Encoding", b"chunked"), (b"Trailer", b"X-Checksum")]
    writer = BodyWriter(fields)
    wire = encode_request_head(b"POST", b"/upload", fields)
    for piece in (b"first ", b"", b"second ", b"x" * 300):
        wire += writer.write(piece)
    wire += writer.end([(b"X-Checksum", b"abc123"), (b"X-Other", b"")])
    events = feed_all(RequestParser(), wire, mode)
    assert events == [
        RequestHead(b"POST", b"/upload", b"1.1", fields),
        b"first second " + b"x" * 300,
        EndOfMessage([(b"X-Checksum", b"abc123"), (b"X-Other", b"")]),
    ]


@pytest.mark.parametrize("mode", MODES)
def test_chunked_response_with_trailers_round_trip(mode: str) -> None:
    fields = [(b"Transfer-Encoding", b"chunked"), (b"Content-Type", b"text/plain")]
    writer = BodyWriter(fields)
    wire = encode_response_head(200, fields)
    wire += writer.write(b"hello ") + writer.write(b"world") + writer.end([(b"T", b"1")])
    parser = ResponseParser()
    events = feed_all(parser, wire, mode)
    assert events == [
        ResponseHead(200, b"OK", b"1.1", fields),
        b"hello world",
        EndOfMessage([(b"T", b"1")]),
    ]
    assert parser.keep_alive
    assert parser.trailing_data == b""


def test_encode_request_with_transfer_encoding_frames_the_body_chunked() -> None:
    wire = encode_request(b"POST", b"/", [*HOST, (b"Transfer-Encoding", b"chunked")], b"abc")
    events = feed_all(RequestParser(), wire)
    assert body_of(events) == b"abc"
    assert events[-1] == EndOfMessage()


@pytest.mark.parametrize("status", [100, 101, 103, 200, 204, 304, 404, 599, 999])
def test_response_head_round_trip(status: int) -> None:
    wire = encode_response_head(status, [(b"X", b"y")], reason=b"Some reason")
    parser = ResponseParser()
    parser.start_response(b"HEAD")
    events = parser.feed(wire)
    assert events[0] == ResponseHead(status, b"Some reason", b"1.1", [(b"X", b"y")])
