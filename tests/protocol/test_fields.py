"""Field lines: RFC 9112 §5 (field syntax), §5.2 (obs-fold), RFC 9110 §5 (fields).

  field-line   = field-name ":" OWS field-value OWS
  field-name   = token
  field-value  = *field-content
  field-content = field-vchar [ 1*( SP / HTAB / field-vchar ) field-vchar ]

Invalid field lines are in test_errors.py.
"""

from __future__ import annotations

import re

import pytest

from aioreq.protocol import EndOfMessage, ResponseHead

from ._helpers import MODES, body_of, heads, msg, request_events, response_events

# Each row: field lines as sent -> (name, value) pairs as a user reads them.
FIELD_LINES = [
    pytest.param([b"Name: value"], [(b"Name", b"value")], id="plain"),
    pytest.param([b"Name:value"], [(b"Name", b"value")], id="no-ows"),
    # RFC 9112 §5.1: "A field line value might be preceded and/or followed by optional whitespace
    # (OWS) ... a parser MUST exclude such whitespace prior to evaluating the field value."
    pytest.param([b"Name: \t value \t "], [(b"Name", b"value")], id="ows-stripped"),
    pytest.param([b"Name:"], [(b"Name", b"")], id="empty-value"),
    pytest.param([b"Name:  \t "], [(b"Name", b"")], id="whitespace-only-value"),
    pytest.param([b"Name: a  b\tc"], [(b"Name", b"a  b\tc")], id="inner-whitespace-kept"),
    pytest.param([b"Name: caf\xe9 \xff"], [(b"Name", b"caf\xe9 \xff")], id="obs-text-value"),
    pytest.param([b"Name: a: b, \"c;d\""], [(b"Name", b"a: b, \"c;d\"")], id="colon-and-quotes"),
    # RFC 9110 §5.1: field names are case-insensitive; the received case is what the user sees.
    pytest.param([b"X-MiXeD-case: 1"], [(b"X-MiXeD-case", b"1")], id="case-kept"),
    pytest.param([b"!#$%&'*+-.^_`|~09AZaz: t"], [(b"!#$%&'*+-.^_`|~09AZaz", b"t")],
                 id="every-tchar-in-name"),
    # RFC 9110 §5.3: order of field lines with the same name is significant; keep them all.
    pytest.param([b"A: 1", b"B: 2", b"a: 3", b"A: 4"],
                 [(b"A", b"1"), (b"B", b"2"), (b"a", b"3"), (b"A", b"4")], id="order-and-repeats"),
    pytest.param([b"Set-Cookie: a=1; Path=/", b"Set-Cookie: b=2"],
                 [(b"Set-Cookie", b"a=1; Path=/"), (b"Set-Cookie", b"b=2")], id="set-cookie-twice"),
]  # fmt: skip


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("lines", "expected"), FIELD_LINES)
def test_response_fields_rfc9112_s5(
    lines: list[bytes], expected: list[tuple[bytes, bytes]], mode: str
) -> None:
    events, _ = response_events(msg(b"HTTP/1.1 204 No Content", *lines), mode)
    assert heads(events)[0].headers == expected


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("lines", "expected"), FIELD_LINES)
def test_request_fields_rfc9112_s5(
    lines: list[bytes], expected: list[tuple[bytes, bytes]], mode: str
) -> None:
    events, _ = request_events(msg(b"GET / HTTP/1.1", b"Host: h", *lines), mode)
    assert heads(events)[0].headers == [(b"Host", b"h"), *expected]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("lines", "expected"), FIELD_LINES)
def test_trailer_fields_rfc9112_s7_1_2(
    lines: list[bytes], expected: list[tuple[bytes, bytes]], mode: str
) -> None:
    """The trailer section has the field-line syntax of the header section."""
    wire = b"0\r\n" + b"".join(line + b"\r\n" for line in lines) + b"\r\n"
    data = msg(b"HTTP/1.1 200 OK", b"Transfer-Encoding: chunked", body=wire)
    events, _ = response_events(data, mode)
    assert events[-1] == EndOfMessage(expected)


# RFC 9112 §5.2: "A user agent that receives an obs-fold in a response message that is not within
# a "message/http" container MUST replace each received obs-fold with one or more SP octets prior
# to interpreting the field value."  obs-fold = OWS CRLF RWS
# Each row: the folded field lines -> (name, pattern the unfolded value must match).
OBS_FOLDS = [
    pytest.param([b"X: a", b" b"], (b"X", rb"a +b"), id="space-fold"),
    pytest.param([b"X: a", b"\tb"], (b"X", rb"a +b"), id="tab-fold"),
    pytest.param([b"X: a  ", b"   b"], (b"X", rb"a +b"), id="ows-around-fold"),
    pytest.param([b"X: a", b" b", b"  c"], (b"X", rb"a +b +c"), id="two-folds"),
    pytest.param([b"X:", b" b"], (b"X", rb"b"), id="value-starts-on-next-line"),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("lines", "expected"), OBS_FOLDS)
def test_response_obs_fold_is_unfolded_rfc9112_s5_2(
    lines: list[bytes], expected: tuple[bytes, bytes], mode: str
) -> None:
    events, _ = response_events(
        msg(b"HTTP/1.1 204 No Content", b"Before: 1", *lines, b"After: 2"), mode
    )
    fields = heads(events)[0].headers
    assert [name for name, _ in fields] == [b"Before", expected[0], b"After"]
    assert fields[0] == (b"Before", b"1")
    assert fields[2] == (b"After", b"2")
    assert re.fullmatch(expected[1], fields[1][1]), fields[1]


@pytest.mark.parametrize("mode", MODES)
def test_unfolded_content_length_decides_the_framing(mode: str) -> None:
    """RFC 9112 §5.2: the value is interpreted after unfolding, framing fields included."""
    data = msg(b"HTTP/1.1 200 OK", b"Content-Length:", b" 3", body=b"abcdef")
    events, parser = response_events(data, mode)
    assert heads(events)[0].headers == [(b"Content-Length", b"3")]
    assert body_of(events) == b"abc"
    assert parser.trailing_data == b"def"


@pytest.mark.parametrize("mode", MODES)
def test_response_trailer_obs_fold_is_unfolded(mode: str) -> None:
    data = msg(b"HTTP/1.1 200 OK", b"Transfer-Encoding: chunked", body=b"0\r\nT: a\r\n b\r\n\r\n")
    events, _ = response_events(data, mode)
    trailers = events[-1].trailers
    assert len(trailers) == 1
    assert trailers[0][0] == b"T"
    assert re.fullmatch(rb"a +b", trailers[0][1])


def test_field_values_are_bytes_exactly_as_received() -> None:
    """No decoding: obs-text bytes reach the user unchanged (RFC 9110 §5.5)."""
    events, _ = response_events(msg(b"HTTP/1.1 204 No Content", b"X: \x80\xfe\xff"))
    assert events == [
        ResponseHead(204, b"No Content", b"1.1", [(b"X", b"\x80\xfe\xff")]),
        EndOfMessage(),
    ]


# -- the memo of field lines already split (aioreq.protocol._fields.split_fields) -------------


@pytest.fixture
def empty_memo(monkeypatch: pytest.MonkeyPatch) -> dict[bytes, tuple[bytes, bytes]]:
    from aioreq.protocol import _fields

    memo: dict[bytes, tuple[bytes, bytes]] = {}
    monkeypatch.setattr(_fields, "_known_lines", memo)
    return memo


def test_a_repeated_line_is_split_once_and_gives_the_same_fields(
    empty_memo: dict[bytes, tuple[bytes, bytes]],
) -> None:
    data = msg(b"HTTP/1.1 200 OK", b"Server: x", b"Content-Length: 0")
    first = response_events(data)[0][0]
    second = response_events(data)[0][0]
    assert isinstance(first, ResponseHead)
    assert isinstance(second, ResponseHead)
    assert first.headers == second.headers == [(b"Server", b"x"), (b"Content-Length", b"0")]
    assert first.headers is not second.headers  # each message has its own list
    assert set(empty_memo) == {b"Server: x", b"Content-Length: 0"}


def test_the_memo_keeps_short_lines_only_and_stays_bounded(
    monkeypatch: pytest.MonkeyPatch, empty_memo: dict[bytes, tuple[bytes, bytes]]
) -> None:
    from aioreq.protocol import _fields

    monkeypatch.setattr(_fields, "_MAX_KNOWN_LINES", 4)
    long_value = b"v" * (_fields._MAX_KNOWN_LINE + 1)
    for i in range(10):
        response_events(msg(b"HTTP/1.1 204 No Content", b"X-N: %d" % i, b"X-Long: " + long_value))
        assert len(empty_memo) <= 4
    assert all(len(line) <= _fields._MAX_KNOWN_LINE for line in empty_memo)


@pytest.mark.parametrize(
    "section",
    [
        b"A: 1\r\n folded",  # obs-fold
        b"A: 1\nB: 2",  # bare LF
        b"A: 1\rB: 2",  # bare CR
        b"A: 1 ",  # trailing whitespace (stripped on the slow path)
        b"Bad Name: 1",
    ],
)
def test_lines_that_are_not_plain_go_to_the_slow_path(
    section: bytes, empty_memo: dict[bytes, tuple[bytes, bytes]]
) -> None:
    from aioreq.protocol._fields import split_fields

    assert split_fields(section, 0, len(section)) is None
