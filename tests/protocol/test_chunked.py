"""The chunked transfer coding: RFC 9112 §7.1 (chunks), §7.1.1 (extensions), §7.1.2 (trailers).

  chunked-body   = *chunk last-chunk trailer-section CRLF
  chunk          = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
  chunk-size     = 1*HEXDIG
  last-chunk     = 1*("0") [ chunk-ext ] CRLF
  chunk-ext      = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )

Malformed chunked bodies are in test_errors.py; the limits in test_limits.py.
"""

from __future__ import annotations

import pytest

from aioreq import RemoteProtocolError
from aioreq.protocol import EndOfMessage, RequestParser, ResponseHead, ResponseParser

from ._helpers import MODES, all_splits, body_of, feed_pieces, msg, request_events, response_events

CHUNKED_HEAD = msg(b"HTTP/1.1 200 OK", b"Transfer-Encoding: chunked")

# Each row: the chunked body on the wire -> (decoded body, trailers).
CHUNKED_BODIES = [
    pytest.param(b"0\r\n\r\n", b"", [], id="only-last-chunk"),
    pytest.param(b"5\r\nhello\r\n0\r\n\r\n", b"hello", [], id="one-chunk"),
    pytest.param(b"1\r\na\r\n2\r\nbc\r\n3\r\ndef\r\n0\r\n\r\n", b"abcdef", [], id="three-chunks"),
    pytest.param(b"A\r\n0123456789\r\n0\r\n\r\n", b"0123456789", [], id="upper-hex"),
    pytest.param(b"a\r\n0123456789\r\n0\r\n\r\n", b"0123456789", [], id="lower-hex"),
    pytest.param(b"10\r\n" + b"x" * 16 + b"\r\n0\r\n\r\n", b"x" * 16, [], id="hex-not-decimal"),
    pytest.param(b"0005\r\nhello\r\n000\r\n\r\n", b"hello", [], id="leading-zeros"),
    # 1*HEXDIG has no upper bound: zero padding past 16 digits is still a small number.
    pytest.param(b"0" * 16 + b"5\r\nhello\r\n0\r\n\r\n", b"hello", [],
                 id="leading-zeros-17-digits"),
    # Chunk data is opaque: CRLF, "0\r\n\r\n" and NUL inside it are data, not framing.
    pytest.param(b"7\r\n0\r\n\r\n\x00x\r\n0\r\n\r\n", b"0\r\n\r\n\x00x", [],
                 id="framing-bytes-as-data"),
    # §7.1.1: "A recipient MUST ignore unrecognized chunk extensions."
    pytest.param(b"5;name\r\nhello\r\n0\r\n\r\n", b"hello", [], id="ext-name"),
    pytest.param(b"5;name=value\r\nhello\r\n0\r\n\r\n", b"hello", [], id="ext-token-value"),
    pytest.param(b'5;name="a \\"q\\" ;b"\r\nhello\r\n0\r\n\r\n', b"hello", [], id="ext-quoted"),
    pytest.param(b"5 ; a = b ;c\r\nhello\r\n0\r\n\r\n", b"hello", [], id="ext-bws"),
    pytest.param(b"5;a=1;b=2;c\r\nhello\r\n0;last=yes\r\n\r\n", b"hello", [],
                 id="ext-on-last-chunk"),
    # §7.1.2: trailer-section = *( field-line CRLF )
    pytest.param(b"0\r\nX-Sum: abc\r\n\r\n", b"", [(b"X-Sum", b"abc")], id="trailer-only"),
    pytest.param(b"2\r\nhi\r\n0\r\nA: 1\r\nb:2\r\nC:  three 3 \r\n\r\n", b"hi",
                 [(b"A", b"1"), (b"b", b"2"), (b"C", b"three 3")], id="several-trailers"),
    pytest.param(b"2\r\nhi\r\n0\r\nA: 1\r\nA: 2\r\n\r\n", b"hi", [(b"A", b"1"), (b"A", b"2")],
                 id="repeated-trailer"),
    pytest.param(b"0\r\nX-Empty:\r\n\r\n", b"", [(b"X-Empty", b"")], id="empty-trailer-value"),
]  # fmt: skip


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("wire", "body", "trailers"), CHUNKED_BODIES)
def test_chunked_response_rfc9112_s7_1(
    wire: bytes, body: bytes, trailers: list[tuple[bytes, bytes]], mode: str
) -> None:
    events, parser = response_events(CHUNKED_HEAD + wire, mode)
    assert body_of(events) == body
    assert events[-1] == EndOfMessage(trailers)
    assert parser.complete
    assert parser.keep_alive
    assert parser.trailing_data == b""


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("wire", "body", "trailers"), CHUNKED_BODIES)
def test_chunked_request_rfc9112_s7_1(
    wire: bytes, body: bytes, trailers: list[tuple[bytes, bytes]], mode: str
) -> None:
    head = msg(b"POST /up HTTP/1.1", b"Host: a", b"Transfer-Encoding: chunked")
    events, parser = request_events(head + wire, mode)
    assert body_of(events) == body
    assert events[-1] == EndOfMessage(trailers)
    assert parser.complete


@pytest.mark.parametrize(
    ("wire", "body", "trailers"),
    [
        pytest.param(b"3\r\nabc\r\n4;x=y\r\ndefg\r\n0\r\nT: v\r\n\r\n", b"abcdefg",
                     [(b"T", b"v")], id="chunks-and-trailer"),
        pytest.param(b"1\r\n\r\r\n1\r\n\n\r\n0\r\n\r\n", b"\r\n", [], id="cr-and-lf-as-data"),
    ],
)  # fmt: skip
def test_chunked_split_anywhere(
    wire: bytes, body: bytes, trailers: list[tuple[bytes, bytes]]
) -> None:
    """The decoded body and trailers are the same wherever the reads cut the framing."""
    head = ResponseHead(200, b"OK", b"1.1", [(b"Transfer-Encoding", b"chunked")])
    expected = [head, body, EndOfMessage(trailers)] if body else [head, EndOfMessage(trailers)]
    for pieces in all_splits(CHUNKED_HEAD + wire):
        assert feed_pieces(ResponseParser(), pieces) == expected, pieces


def test_chunk_data_is_handed_over_before_the_chunk_ends() -> None:
    """A large chunk streams: its bytes come out read by read, not once it is complete."""
    parser = ResponseParser()
    parser.feed(CHUNKED_HEAD + b"100\r\n")
    assert parser.feed(b"a" * 100) == [b"a" * 100]
    assert parser.feed(b"b" * 156 + b"\r\n") == [b"b" * 156]
    assert parser.feed(b"0\r\n\r\n") == [EndOfMessage()]


def test_chunk_size_is_read_as_hexadecimal_up_to_16_digits() -> None:
    """RFC 9112 §7.1: "Recipients MUST anticipate potentially large hexadecimal numerals and
    prevent parsing errors due to integer overflow". 16 digits is a chunk still being received."""
    parser = ResponseParser()
    parser.feed(CHUNKED_HEAD + b"ffffffffffffffff\r\n" + b"x" * 10)
    assert parser.in_progress
    with pytest.raises(RemoteProtocolError, match="closed"):
        parser.feed_eof()


def test_chunked_body_is_followed_by_the_next_pipelined_request() -> None:
    first = msg(b"POST /a HTTP/1.1", b"Host: h", b"Transfer-Encoding: chunked", body=b"0\r\n\r\n")
    second = msg(b"GET /b HTTP/1.1", b"Host: h")
    parser = RequestParser()
    events = parser.feed(first + second)
    assert events[-1] == EndOfMessage()
    assert parser.trailing_data == second
    assert parser.next_request()[0].target == b"/b"
