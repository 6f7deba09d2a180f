"""Broken messages that a strict parser must reject, each with the reason."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

from hypothesis import strategies as st
from hypothesis.strategies import DrawFn, SearchStrategy

from aioreq.protocol import Fields

from ._blocks import (
    _CRLF,
    _DIGITS,
    _FIELD_NAMES,
    _FIELD_VALUES,
    _HEXDIGITS,
    _NONEMPTY_VALUES,
    _RWS,
    _SMALL,
    _TCHAR,
    _TOKENS,
    _TRAILERS,
    _cased,
    _over,
    _place,
    _reason,
    _render,
    _transfer_encoding,
)
from ._valid import _host_value, _path

# -- malformed messages ---------------------------------------------------------------------------


class Malformed(NamedTuple):
    """A message a strict HTTP/1.1 parser must reject, and why.

    Attributes:
        data: the bytes; a response answers a GET. Feeding them and then the end of the stream
            must fail (for a truncated message, only the end of the stream can tell).
        reason: what is wrong, with the rule it breaks.
    """

    data: bytes
    reason: str


class _Wire:
    """A message under construction; the CRLFs that end lines are parts of their own.

    `eols` indexes those CRLFs, and `data_ends` the ones that follow chunk data.
    """

    def __init__(self, prefix: bytes = b"") -> None:
        self.parts: list[bytes] = [prefix]
        self.eols: list[int] = []
        self.data_ends: list[int] = []

    def line(self, text: bytes) -> _Wire:
        self.parts.append(text)
        self.eols.append(len(self.parts))
        self.parts.append(_CRLF)
        return self

    def raw(self, data: bytes) -> _Wire:
        self.parts.append(data)
        return self

    def fields(self, lines: Sequence[bytes]) -> _Wire:
        """Field lines and the empty line that ends the header section."""
        for line in (*lines, b""):
            self.line(line)
        return self

    def chunked(self, chunks: Sequence[bytes], sizes: Sequence[bytes] = ()) -> _Wire:
        """A chunked body; `sizes` overrides the size lines (the last is the last chunk's)."""
        sizes = list(sizes) or [b"%x" % len(chunk) for chunk in chunks] + [b"0"]
        for size, chunk in zip(sizes[:-1], chunks, strict=True):
            self.line(size).raw(chunk)
            self.data_ends.append(len(self.parts))
            self.eols.append(len(self.parts))
            self.parts.append(_CRLF)
        return self.line(sizes[-1]).line(b"")

    def bytes(self) -> bytes:
        return b"".join(self.parts)


# Body bytes of broken messages. None starts with LF, so that a CRLF broken just before them is
# not mended by accident.
_PAYLOAD = st.binary(min_size=1, max_size=12).map(lambda b: b"x" + b[1:] if b[:1] == b"\n" else b)
_CHUNKS = st.lists(_PAYLOAD, min_size=1, max_size=3)
_MAYBE_CHUNKS = st.lists(_PAYLOAD, max_size=3)
_BASE_STATUS = st.integers(200, 599).filter(lambda status: status not in (204, 304))
_BASE_METHODS = st.sampled_from([b"POST", b"PUT", b"PATCH", b"GET", b"DELETE"])


class _Base:
    """Draws the valid parts that a broken message of one role is built around."""

    def __init__(self, draw: DrawFn, role: str) -> None:
        self.draw = draw
        self.role = role

    def start(self, version: bytes = b"1.1") -> _Wire:
        """A wire holding a start line: a request, or a response to a GET whose framing counts.

        One response in four follows a 100 Continue: the fault must be found in the final one.
        """
        draw = self.draw
        if self.role == "request":
            return _Wire().line(b"%b %b HTTP/%b" % (draw(_BASE_METHODS), _path(draw), version))
        prefix = b"HTTP/1.1 100 Continue\r\n\r\n" if version == b"1.1" and not draw(_SMALL) else b""
        status = draw(_BASE_STATUS)
        return _Wire(prefix).line(b"HTTP/%b %d %b" % (version, status, _reason(draw, status)))

    def lines(
        self, fields: Fields, *, host: bool = True, extra: Sequence[bytes] = ()
    ) -> list[bytes]:
        """Rendered field lines: `fields`, random ones, Host for a request, and `extra` lines."""
        draw = self.draw
        more = list(fields)
        if self.role == "request" and host:
            more.append((_cased(draw, b"Host"), _host_value(draw)))
        lines = _render(draw, _place(draw, draw(_TRAILERS), more))
        for line in extra:
            lines.insert(draw(st.integers(0, len(lines))), line)
        return lines

    def framed(self, extra: Sequence[bytes] = ()) -> _Wire:
        """A valid message (Content-Length or chunked) with `extra` among its field lines."""
        draw = self.draw
        if draw(st.booleans()):
            lines = self.lines([_transfer_encoding(draw)], extra=extra)
            return self.start().fields(lines).chunked(draw(_CHUNKS))
        body = draw(_PAYLOAD)
        lines = self.lines([(_cased(draw, b"Content-Length"), b"%d" % len(body))], extra=extra)
        return self.start().fields(lines).raw(body)


def _te_and_cl(base: _Base) -> Malformed:
    draw = base.draw
    body = _Wire().chunked(draw(_CHUNKS)).bytes()
    length = len(body) if draw(st.booleans()) else draw(st.integers(0, 64))
    fields = [_transfer_encoding(draw), (_cased(draw, b"Content-Length"), b"%d" % length)]
    return Malformed(
        base.start().fields(base.lines(fields)).raw(body).bytes(),
        "Transfer-Encoding and Content-Length together (RFC 9112 §6.3 ¶3: 'ought to be handled"
        " as an error'; a lenient recipient lets Transfer-Encoding win)",
    )


def _conflicting_lengths(base: _Base) -> Malformed:
    draw = base.draw
    first, second = draw(st.integers(0, 40)), draw(st.integers(0, 39))
    second += second >= first
    if draw(st.booleans()):
        fields = [
            (_cased(draw, b"Content-Length"), b"%d" % first),
            (_cased(draw, b"Content-Length"), b"%d" % second),
        ]
    else:
        fields = [(_cased(draw, b"Content-Length"), b"%d, %d" % (first, second))]
    body = b"x" * max(first, second)
    return Malformed(
        base.start().fields(base.lines(fields)).raw(body).bytes(),
        "Content-Length values that differ (RFC 9112 §6.3 ¶5: invalid framing is an"
        " unrecoverable error)",
    )


_BAD_LENGTH_VALUES = [
    b"+5", b"-1", b"-0", b"0x10", b"1 2", b"1.0", b"5a", b"a5", b"", b"1e3", b"five", b"5;",
    b"99999999999999999999999", b"18446744073709551616", b"\xd9\xa3", b"\xef\xbc\x95",
]  # fmt: skip
_BAD_LENGTHS = st.one_of(
    st.sampled_from(_BAD_LENGTH_VALUES),
    st.integers(0, 99).map(lambda n: b"+%d" % n),
    st.integers(0, 99).map(lambda n: b"-%d" % n),
    st.integers(0, 255).map(lambda n: b"0x%x" % n),
    # 20 to 40 digits: more than 2**63 - 1, the largest length most parsers can hold.
    _over(_DIGITS, min_size=19, max_size=39, lead=b"9"),
)


def _invalid_length(base: _Base) -> Malformed:
    draw = base.draw
    value = draw(_BAD_LENGTHS)
    fields = [(_cased(draw, b"Content-Length"), value)]
    return Malformed(
        base.start().fields(base.lines(fields)).raw(draw(_PAYLOAD)).bytes(),
        f"Content-Length {value!r} is not 1*DIGIT or too large to hold (RFC 9110 §8.6;"
        " RFC 9112 §6.3 ¶5)",
    )


_BAD_CHUNK_SIZES = st.one_of(
    st.sampled_from([b"0x5", b"-5", b"+5", b"", b"g", b" 5", b"5 5", b"0x0", b"-0", b"+0"]),
    # 17 to 24 significant hex digits: at least 2**64, more than any length can hold.
    _over(_HEXDIGITS, min_size=16, max_size=23, lead=b"f"),
)


def _bad_chunk_size(base: _Base) -> Malformed:
    draw = base.draw
    chunks = draw(_MAYBE_CHUNKS)
    sizes = [b"%x" % len(chunk) for chunk in chunks] + [b"0"]
    at = draw(st.integers(0, len(chunks)))
    sizes[at] = bad = draw(_BAD_CHUNK_SIZES)
    wire = base.start().fields(base.lines([_transfer_encoding(draw)]))
    return Malformed(
        wire.chunked(chunks, sizes).bytes(),
        f"chunk size {bad!r} is not 1*HEXDIG or too large to hold (RFC 9112 §7.1)",
    )


_NOT_CRLF = st.sampled_from([b"", b"\n\r", b"  ", b"XX", b"\r\r", b"\n\n", b"\r"])
_NOT_CR = st.binary(min_size=1, max_size=4).filter(lambda extra: extra[0] != 0x0D)


def _chunk_without_crlf(base: _Base) -> Malformed:
    draw = base.draw
    wire = base.start().fields(base.lines([_transfer_encoding(draw)])).chunked(draw(_CHUNKS))
    at = wire.data_ends[draw(st.integers(0, len(wire.data_ends) - 1))]
    if draw(st.booleans()):
        # More data than the size announced: the byte where CRLF belongs is not CR.
        wire.parts[at - 1] += draw(_NOT_CR)
    else:
        wire.parts[at] = draw(_NOT_CRLF)
    return Malformed(
        wire.bytes(),
        "chunk data not followed by CRLF (RFC 9112 §7.1: chunk = chunk-size [ chunk-ext ] CRLF"
        " chunk-data _CRLF)",
    )


def _bare_line_end(base: _Base) -> Malformed:
    draw = base.draw
    wire = base.framed()
    at = wire.eols[draw(st.integers(0, len(wire.eols) - 1))]
    if draw(st.booleans()):
        wire.parts[at] = b"\n"
        reason = (
            "bare LF where CRLF is required (RFC 9112 §2.2: a recipient MAY accept it in the head;"
            " a strict one does not)"
        )
    else:
        wire.parts[at] = b"\r"
        reason = "bare CR (RFC 9112 §2.2: the element is invalid, or each bare CR is read as SP)"
    return Malformed(wire.bytes(), reason)


# Bytes that are not tchar. ":" is left out (it only moves the end of the name) and so are CR
# and LF (bare line ends have a case of their own).
_NON_TCHAR = bytes(c for c in range(256) if c not in _TCHAR and c not in b":\r\n")
_NON_TCHAR_BYTE = st.sampled_from([bytes([c]) for c in _NON_TCHAR])


def _bad_field_name(base: _Base) -> Malformed:
    draw = base.draw
    if draw(_SMALL) == 0:
        line, bad = b": " + draw(_FIELD_VALUES), b"(nothing)"
    else:
        name = draw(_TOKENS)
        # Not at position 0: a line that starts with SP or HTAB is obs-fold, a case of its own.
        at = draw(st.integers(1, len(name)))
        bad = draw(_NON_TCHAR_BYTE)
        line = name[:at] + bad + name[at:] + b": " + draw(_FIELD_VALUES)
    return Malformed(
        base.framed([line]).bytes(), f"field name with {bad!r}, not a token (RFC 9110 §5.1)"
    )


_NAMES_FOR_COLON = st.one_of(_FIELD_NAMES, st.sampled_from([b"Content-Length", b"Host"]))


def _space_before_colon(base: _Base) -> Malformed:
    draw = base.draw
    line = draw(_NAMES_FOR_COLON) + draw(_RWS) + b": " + draw(_FIELD_VALUES)
    if base.role == "request":
        rule = "RFC 9112 §5.1: a server MUST reject it"
    else:
        rule = "RFC 9112 §5.1: a proxy MUST remove it; a strict client rejects it"
    return Malformed(base.framed([line]).bytes(), f"whitespace before the colon ({rule})")


def _bad_value_byte(base: _Base) -> Malformed:
    draw = base.draw
    value = draw(_NONEMPTY_VALUES)
    at = draw(st.integers(0, len(value)))
    bad = b"\r" if draw(st.booleans()) else b"\x00"
    line = draw(_FIELD_NAMES) + b": " + value[:at] + bad + value[at:]
    return Malformed(
        base.framed([line]).bytes(),
        f"{bad!r} in a field value (RFC 9110 §5.5: reject the message, or replace it with SP)",
    )


_BAD_STATUS_LINES = st.sampled_from(
    [b"HTTP/2.0 200 OK", b"HTTP/2 200 OK", b"HTTP/3.0 200 OK", b"HTTP/0.9 200 OK",
     b"HTTP/1.1 20 OK", b"HTTP/1.1 2000 OK", b"HTTP/1.1 abc OK", b"HTTP/1.1 20a OK",
     b"HTTP/1.1 -20 OK", b"HTTP/1.1 099 Too Low", b"HTTP/1.1 000 Zero", b"ICY 200 OK",
     b"http/1.1 200 OK", b"HTTP/1.10 200 OK", b"HTTP/11 200 OK", b"HTTP/1.1 OK", b"HTTP/1.1",
     b"HTTP/1.1 200OK", b"HTTP 200 OK", b"", b"HTTP/1.1 \xd9\xa2\xd9\xa0\xd9\xa0 OK"]
)  # fmt: skip
_BAD_REQUEST_LINES = st.sampled_from(
    [b"GET / HTTP/2.0", b"GET / HTTP/1", b"GET / http/1.1", b"GET / HTTP/1.1 extra",
     b"GET /a b HTTP/1.1", b"GET /", b"GET", b"GET / HTTP/11", b"GET / HTTP/1.x",
     b"GET / HTTP/0.9", b"GET / ICY/1.1"]
)  # fmt: skip


def _bad_start_line(base: _Base) -> Malformed:
    draw = base.draw
    start = draw(_BAD_REQUEST_LINES if base.role == "request" else _BAD_STATUS_LINES)
    body = draw(_PAYLOAD)
    lines = base.lines([(b"Content-Length", b"%d" % len(body))])
    return Malformed(
        _Wire().line(start).fields(lines).raw(body).bytes(),
        f"invalid {base.role} line {start!r} (RFC 9112 §3, §4; RFC 9110 §15)",
    )


_UNKNOWN_CODINGS = st.sampled_from(
    [b"gzip", b"chunked, gzip", b"gzip, chunked", b"deflate", b"identity", b"x-custom",
     b"chunked, chunked", b"compress, chunked"]
)  # fmt: skip


def _unknown_coding(base: _Base) -> Malformed:
    draw = base.draw
    coding = draw(_UNKNOWN_CODINGS)
    fields = [(_cased(draw, b"Transfer-Encoding"), coding)]
    return Malformed(
        base.start().fields(base.lines(fields)).chunked(draw(_CHUNKS)).bytes(),
        f"Transfer-Encoding {coding!r}: not one final chunked (RFC 9112 §6.1, §6.3; rejected"
        " by a parser that implements no other transfer coding)",
    )


def _te_in_http10(base: _Base) -> Malformed:
    draw = base.draw
    fields = [_transfer_encoding(draw)]
    if draw(st.booleans()):
        fields.append((_cased(draw, b"Connection"), b"keep-alive"))
    return Malformed(
        base.start(b"1.0").fields(base.lines(fields)).chunked(draw(_CHUNKS)).bytes(),
        "Transfer-Encoding in an HTTP/1.0 message (RFC 9112 §6.1: treat the framing as faulty)",
    )


def _truncated(base: _Base) -> Malformed:
    draw = base.draw
    kind = draw(st.integers(0, 2))
    if kind == 0:
        body = draw(_PAYLOAD)
        fields = [(_cased(draw, b"Content-Length"), b"%d" % len(body))]
        data = base.start().fields(base.lines(fields)).bytes()
        data += body[: draw(st.integers(0, len(body) - 1))]
        return Malformed(data, "body shorter than its Content-Length (RFC 9112 §6.3 ¶5, §8)")
    if kind == 1:
        data = base.start().fields(base.lines([_transfer_encoding(draw)])).bytes()
        body = _Wire().chunked(draw(_MAYBE_CHUNKS)).bytes()
        data += body[: draw(st.integers(0, len(body) - 1))]
        return Malformed(data, "chunked body cut short (RFC 9112 §7.1, §8)")
    wire = base.start().fields(base.lines([]))
    head = wire.bytes()
    # Not inside the 100 Continue, and not before the first byte of a request: a server may skip
    # a client's empty lines and wait.
    cut = draw(st.integers(len(wire.parts[0]) + (base.role == "request"), len(head) - 1))
    return Malformed(head[:cut], "header section cut short (RFC 9112 §8)")


def _host_count(base: _Base) -> Malformed:
    draw = base.draw
    hosts = draw(st.sampled_from([0, 2, 2, 3]))
    version = b"1.1" if hosts == 0 or draw(st.booleans()) else b"1.0"
    fields = [(_cased(draw, b"Host"), _host_value(draw)) for _ in range(hosts)]
    return Malformed(
        base.start(version).fields(base.lines(fields, host=False)).bytes(),
        f"{hosts} Host fields in an HTTP/{version.decode()} request (RFC 9112 §3.2: a server"
        " MUST respond 400 to a missing or repeated Host)",
    )


_BAD_HOSTS = st.sampled_from(
    [b"exa mple.org", b"example.org/path", b"user@example.org", b"example.org:80a",
     b"example.org:80:80", b"[::1", b"example.org?q", b"example.org#f", b'ex"ample.org',
     b"exa\\mple.org", b"[::1]x", b"<example.org>"]
)  # fmt: skip


def _bad_host(base: _Base) -> Malformed:
    draw = base.draw
    host = draw(_BAD_HOSTS)
    fields = [(_cased(draw, b"Host"), host)]
    return Malformed(
        base.start().fields(base.lines(fields, host=False)).bytes(),
        f"invalid Host {host!r} (RFC 9112 §3.2: a server MUST respond 400 to an invalid Host)",
    )


def _obs_fold(base: _Base) -> Malformed:
    draw = base.draw
    line = draw(_FIELD_NAMES) + b": " + draw(_NONEMPTY_VALUES)
    line += _CRLF + draw(_RWS) + draw(_NONEMPTY_VALUES)
    return Malformed(
        base.framed([line]).bytes(),
        "obs-fold in a request (RFC 9112 §5.2: a server MUST reject it or replace it with SP)",
    )


_NON_TCHAR_NOT_WS = st.sampled_from([bytes([c]) for c in _NON_TCHAR if c not in b" \t"])


def _bad_method(base: _Base) -> Malformed:
    draw = base.draw
    method = draw(_BASE_METHODS)
    at = draw(st.integers(0, len(method)))
    method = method[:at] + draw(_NON_TCHAR_NOT_WS) + method[at:]
    wire = _Wire().line(method + b" / HTTP/1.1").fields(base.lines([]))
    return Malformed(wire.bytes(), f"method {method!r} is not a token (RFC 9110 §9.1)")


_NOT_AUTHORITY = st.sampled_from([b"/", b"/path", b"http://example.org/", b"*", b"example.org"])
_IN_NO_FORM = st.sampled_from([b"example.org", b"index.html", b"?q=1", b"%2F", b"#top"])


def _misplaced_target(base: _Base) -> Malformed:
    draw = base.draw
    kind = draw(st.integers(0, 2))
    if kind == 0:
        method, target = draw(_BASE_METHODS), b"*"
        rule = "RFC 9112 §3.2.4: asterisk-form is only for OPTIONS"
    elif kind == 1:
        method, target = b"CONNECT", draw(_NOT_AUTHORITY)
        rule = "RFC 9112 §3.2.3: CONNECT takes the authority-form host:port"
    else:
        method, target = draw(_BASE_METHODS), draw(_IN_NO_FORM)
        rule = "RFC 9112 §3.2: not origin-, absolute-, authority- or asterisk-form"
    wire = _Wire().line(method + b" " + target + b" HTTP/1.1").fields(base.lines([]))
    return Malformed(wire.bytes(), f"request-target {target!r} for {method!r} ({rule})")


_Builder = Callable[[_Base], Malformed]
_COMMON_FAULTS: tuple[_Builder, ...] = (
    _te_and_cl,
    _conflicting_lengths,
    _invalid_length,
    _bad_chunk_size,
    _chunk_without_crlf,
    _bare_line_end,
    _bad_field_name,
    _space_before_colon,
    _bad_value_byte,
    _bad_start_line,
    _unknown_coding,
    _te_in_http10,
    _truncated,
)
_REQUEST_FAULTS = (
    *_COMMON_FAULTS,
    _host_count,
    _bad_host,
    _obs_fold,
    _bad_method,
    _misplaced_target,
)


@st.composite
def _malformed(draw: DrawFn, role: str, builders: tuple[_Builder, ...]) -> Malformed:
    return draw(st.sampled_from(builders))(_Base(draw, role))


def malformed_responses() -> SearchStrategy[Malformed]:
    """Draw responses (to a GET) that a strict client-side parser must reject.

    Faults: Transfer-Encoding with Content-Length; differing, signed, hexadecimal, non-digit or
    overflowing Content-Length; bad or overflowing chunk sizes; chunk data not followed by CRLF;
    bare LF or bare CR where CRLF belongs; invalid field-name bytes; whitespace before the colon;
    NUL or CR in a value; invalid status lines and versions; unsupported transfer codings;
    Transfer-Encoding in HTTP/1.0; a body, chunked body or head cut short by the close. Some
    come after a 100 Continue.

    Returns:
        A strategy of `Malformed`.
    """
    return _malformed("response", _COMMON_FAULTS)


def malformed_requests() -> SearchStrategy[Malformed]:
    """Draw requests that a strict server-side parser must reject.

    Faults: those of `malformed_responses` (with request lines instead of status lines), and a
    missing Host in HTTP/1.1, repeated Host fields, an invalid Host, obs-fold, a method that is
    not a token, "*" with a method other than OPTIONS, CONNECT without host:port, and a target
    in none of the four forms.

    Returns:
        A strategy of `Malformed`.
    """
    return _malformed("request", _REQUEST_FAULTS)
