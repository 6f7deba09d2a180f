"""Hypothesis strategies that draw HTTP/1.1 messages, valid and broken, to fuzz parsers and clients.

Each valid message comes with what a correct parser must make of it, stated with the event types of
`aioreq.protocol`; each broken one comes with the reason a strict parser must reject it.

* Building blocks: `tokens`, `field_names`, `field_values`, `header_lists`.
* Valid messages: `responses` draws a `ResponseCase` (client role: the wire bytes, possibly with
  1xx interim responses first, the method of the request they answer, and the expected heads,
  body, trailers and persistence); `requests` draws a `RequestCase` (server role). Together they
  cover every framing of RFC 9112 §6: Content-Length (also repeated and listed), chunked with
  extensions and trailers, close-delimited, no body (HEAD, 204, 304), and switching protocols.
* Reads: `splits` cuts a byte string into the reads a socket might deliver (empty reads and
  one-byte reads included); `mutations` corrupts a byte string a little.
* Broken messages: `malformed_responses` and `malformed_requests` draw `Malformed` pairs of bytes
  and a reason. Feeding the bytes and then the end of the stream must fail. Where RFC 9110/9112
  let a recipient repair the fault instead of rejecting it (bare LF as a line end, obs-fold in a
  request, whitespace before the colon in a response, Transfer-Encoding with Content-Length), the
  reason says so: a strict parser rejects those too.

Sizes are small by default so that a thousand examples run in about a second.

Example::

    from hypothesis import given, strategies as st
    from pytest_aioreq import strategies as hs

    @given(case=hs.responses(), data=st.data())
    def test_my_parser_reads_every_valid_response(case, data):
        reads = data.draw(hs.splits(case.data))
        response = my_parse_response(reads, method=case.request_method)
        assert response.status == case.head.status_code
        assert response.body == case.body

    @given(bad=hs.malformed_requests(), data=st.data())
    def test_my_server_rejects_broken_requests(bad, data):
        with pytest.raises(MyProtocolError):
            my_parse_request(data.draw(hs.splits(bad.data)))
"""

# How this module draws quickly: strategies are built once, at import, and the helpers that
# assemble a message are plain functions that take `draw`. Building a strategy inside a draw
# makes hypothesis validate it again each time, which costs more than the drawing. Text over a
# restricted alphabet is one `binary` draw mapped through a translation table, not one draw per
# character.

from __future__ import annotations

import itertools
import string
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from hypothesis import strategies as st
from hypothesis.strategies import DrawFn, SearchStrategy

from aioreq.protocol import EndOfMessage, Event, Fields, RequestHead, ResponseHead, reason_phrase

__all__ = [
    "CONTROL_FIELDS",
    "Malformed",
    "RequestCase",
    "ResponseCase",
    "field_names",
    "field_values",
    "header_lists",
    "malformed_requests",
    "malformed_responses",
    "mutations",
    "requests",
    "responses",
    "splits",
    "tokens",
]

#: Field names (lowercase) that `field_names` and `header_lists` leave out by default: they
#: decide framing, persistence, routing or an expectation, so the message strategies add them
#: deliberately and compute what they mean.
CONTROL_FIELDS: frozenset[bytes] = frozenset(
    {
        b"connection",
        b"content-length",
        b"expect",
        b"host",
        b"keep-alive",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)

_CRLF = b"\r\n"

# RFC 9110 §5.6.2: tchar (letters first, so that shrinking goes towards them).
_TCHAR = (string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~").encode()
# RFC 9110 §5.5: field-vchar = VCHAR / obs-text
_FIELD_VCHAR = bytes(range(0x21, 0x7F)) + bytes(range(0x80, 0x100))
# RFC 9110 §5.6.4: qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
_QDTEXT = b"\t !" + bytes(range(0x23, 0x5C)) + bytes(range(0x5D, 0x7F)) + bytes(range(0x80, 0x100))
# RFC 3986 §2.3, §3.2.2, §3.3: unreserved, sub-delims, pchar.
_UNRESERVED = (string.ascii_letters + string.digits + "-._~").encode()
_SUB_DELIMS = b"!$&'()*+,;="
_PCHAR = _UNRESERVED + _SUB_DELIMS + b":@"
_DIGITS = string.digits.encode()
_HEXDIGITS = b"0123456789abcdefABCDEF"


_TCHAR_TABLE = bytes(_TCHAR[i % len(_TCHAR)] for i in range(256))


def _over(
    alphabet: bytes, *, min_size: int = 0, max_size: int, lead: bytes = b""
) -> SearchStrategy[bytes]:
    """Byte strings over `alphabet`, each `lead` + one binary draw mapped through a table."""
    table = bytes(alphabet[i % len(alphabet)] for i in range(256))
    return st.binary(min_size=min_size, max_size=max_size).map(
        lambda raw: lead + raw.translate(table)
    )


def _flip_case(word: bytes, mask: int) -> bytes:
    return bytes(c ^ 0x20 if mask >> i & 1 and chr(c).isalpha() else c for i, c in enumerate(word))


def _cased(draw: DrawFn, word: bytes) -> bytes:
    """`word` as given, lowercase, uppercase or mixed (field names and codings ignore case)."""
    code = draw(st.integers(0, 2 ** (len(word) + 2) - 1))  # one draw: 2 bits of mode, a mask
    mode = code & 3
    if mode == 1:
        return word.lower()
    if mode == 2:
        return word.upper()
    if mode == 3:
        return _flip_case(word, code >> 2)
    return word


@st.composite
def _cased_choice(draw: DrawFn, words: tuple[bytes, ...]) -> bytes:
    return _cased(draw, draw(st.sampled_from(words)))


# OWS and BWS (RFC 9110 §5.6.3): optional spaces and tabs; RWS at least one.
_OWS = st.sampled_from([b"", b" ", b" ", b"\t", b"  ", b" \t"])
_OWS_PAIRS = st.sampled_from(
    [(b"", b""), (b" ", b""), (b" ", b""), (b"\t", b" "), (b"", b"\t"), (b"  ", b" \t")]
)
_RWS = st.sampled_from([b" ", b"\t", b"  ", b" \t", b"\t\t "])
_SMALL = st.integers(0, 3)


# -- building blocks ----------------------------------------------------------------------------


def tokens(*, min_size: int = 1, max_size: int = 12) -> SearchStrategy[bytes]:
    """Draw tokens (RFC 9110 §5.6.2): methods, field names, coding and extension names.

    Args:
        min_size: fewest characters (at least 1 for a valid token).
        max_size: most characters.

    Returns:
        A strategy of bytes made of tchar.
    """
    return _over(_TCHAR, min_size=min_size, max_size=max_size)


_COMMON_NAMES = (
    b"Content-Type",
    b"Date",
    b"Server",
    b"ETag",
    b"Set-Cookie",
    b"Cache-Control",
    b"Accept",
    b"User-Agent",
    b"X-Request-Id",
    b"Link",
)


def field_names(
    *, max_size: int = 16, exclude: Collection[bytes] = CONTROL_FIELDS
) -> SearchStrategy[bytes]:
    """Draw field names: common ones in any letter case, and random tokens.

    Args:
        max_size: most characters of a random name.
        exclude: names (compared case-insensitively) never drawn; by default `CONTROL_FIELDS`.

    Returns:
        A strategy of bytes, each a valid field name.
    """
    excluded = frozenset(name.lower() for name in exclude)
    common = tuple(name for name in _COMMON_NAMES if name.lower() not in excluded)

    def name(raw: bytes) -> bytes:
        # One draw per name: a first byte below 64 picks a common name (the second picks its
        # case as _cased does, the others flip letters), any other starts a random token.
        if raw[0] < 64 and common:
            word = common[raw[0] % len(common)]
            mode = raw[1] & 3 if len(raw) > 1 else 0
            if mode == 3:
                return _flip_case(word, int.from_bytes(raw[2:], "little"))
            return (word, word.lower(), word.upper())[mode]
        token = (raw[1:] or raw).translate(_TCHAR_TABLE)
        return b"X-" + token if token.lower() in excluded else token

    return st.binary(min_size=1, max_size=max_size + 1).map(name)


_COMMON_VALUES = (
    b"text/html; charset=utf-8",
    b"application/json",
    b"0",
    b"gzip, deflate",
    b'W/"abc"',
    b"Sun, 06 Nov 1994 08:49:37 GMT",
    b"max-age=0, no-cache",
    b"</style.css>; rel=preload; as=style",
)


def field_values(*, max_size: int = 24) -> SearchStrategy[bytes]:
    """Draw valid field values (RFC 9110 §5.5), as a parser returns them.

    Values may be empty and may hold obs-text (bytes 0x80-0xFF) and runs of spaces and tabs
    between visible characters; they never start or end with whitespace, which a parser strips.

    Args:
        max_size: most bytes in a random value.

    Returns:
        A strategy of bytes, each a valid field value.
    """
    # About one byte in eight is whitespace, so that inner runs of it are common.
    alphabet = _FIELD_VCHAR + b" \t" * 16
    table = bytes(alphabet[i % len(alphabet)] for i in range(256))

    def value(raw: bytes) -> bytes:
        # One draw per value: a first byte below 32 picks a common value.
        if raw and raw[0] < 32:
            return _COMMON_VALUES[raw[0] % len(_COMMON_VALUES)]
        return raw[1:].translate(table).strip(b" \t")

    return st.binary(max_size=max_size + 1).map(value)


def header_lists(
    *,
    min_size: int = 0,
    max_size: int = 5,
    names: SearchStrategy[bytes] | None = None,
    values: SearchStrategy[bytes] | None = None,
) -> SearchStrategy[Fields]:
    """Draw lists of (name, value) fields, names possibly repeated.

    Args:
        min_size: fewest fields.
        max_size: most fields.
        names: the strategy for names; `field_names()` (no `CONTROL_FIELDS`) when None.
        values: the strategy for values; `field_values()` when None.

    Returns:
        A strategy of field lists, in the shape of `aioreq.protocol.Fields`.
    """
    return _field_list(min_size, max_size, names or _FIELD_NAMES, values or _FIELD_VALUES)


@st.composite
def _field_list(
    draw: DrawFn,
    min_size: int,
    max_size: int,
    names: SearchStrategy[bytes],
    values: SearchStrategy[bytes],
) -> Fields:
    return [(draw(names), draw(values)) for _ in range(draw(st.integers(min_size, max_size)))]


_TOKENS = tokens(max_size=8)
_FIELD_NAMES = field_names()
_FIELD_VALUES = field_values()
_NONEMPTY_VALUES = _FIELD_VALUES.map(lambda value: value or b"v")
_HEADERS = header_lists()
_TRAILERS = header_lists(max_size=3)


def _render(draw: DrawFn, fields: Fields) -> list[bytes]:
    """Field lines (without CRLF) with optional whitespace around each value."""
    lines = []
    for name, value in fields:
        before, after = draw(_OWS_PAIRS)
        lines.append(name + b":" + before + value + after)
    return lines


def _place(draw: DrawFn, fields: Fields, more: Fields) -> Fields:
    """`fields` with each of `more` inserted at a random position."""
    fields = list(fields)
    for field in more:
        fields.insert(draw(st.integers(0, len(fields))), field)
    return fields


def _head(start: bytes, lines: Sequence[bytes]) -> bytes:
    return b"".join([start, _CRLF, *(line + _CRLF for line in lines), _CRLF])


# -- the parts of valid messages ------------------------------------------------------------------

_VERSIONS = st.sampled_from([b"1.1", b"1.1", b"1.1", b"1.1", b"1.0", b"1.0", b"1.2", b"1.9"])
# RFC 9112 §4: reason-phrase = 1*( HTAB / SP / VCHAR / obs-text ), possibly absent.
_RANDOM_REASONS = _over(b"\t" + b" " * 24 + _FIELD_VCHAR, max_size=16)
_BODIES = st.binary(max_size=48)
_CHUNK_DATA = st.binary(min_size=1, max_size=24)
_TUNNEL_DATA = st.binary(max_size=24)


def _reason(draw: DrawFn, status: int) -> bytes:
    kind = draw(_SMALL)
    if kind == 0:
        return reason_phrase(status)
    if kind == 1:
        return b""
    return draw(_RANDOM_REASONS)


def _quote(raw: bytes) -> bytes:
    # quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE; quoted-pair = "\" ( HTAB / SP /
    # VCHAR / obs-text ). The alphabet holds "\" but no DQUOTE: NUL stands for an escaped DQUOTE,
    # and an odd run of "\" at the end gets its pair.
    text = raw.replace(b"\x00", b'\\"')
    run = len(text) - len(text.rstrip(b"\\"))
    return b'"' + text + b"\\" * (run % 2) + b'"'


_QUOTED_STRINGS = _over(_QDTEXT + b"\\\\\x00", max_size=8).map(_quote)


def _chunk_ext(draw: DrawFn, whitespace: bool) -> bytes:
    # RFC 9112 §7.1.1: chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
    #                  chunk-ext-val = token / quoted-string
    count = draw(st.integers(0, 2))
    if not count:
        return b""
    parts = []
    for _ in range(count):
        bws = [draw(_OWS) if whitespace else b"" for _ in range(4)]
        parts += [bws[0], b";", bws[1], draw(_TOKENS)]
        kind = draw(_SMALL)
        if kind:
            value = draw(_QUOTED_STRINGS) if kind == 3 else draw(_TOKENS)
            parts += [bws[2], b"=", bws[3], value]
    return b"".join(parts)


def _chunk_size(draw: DrawFn, size: int) -> bytes:
    # RFC 9112 §7.1: chunk-size = 1*HEXDIG, either case, leading zeros allowed.
    digits = b"%x" % size if draw(st.booleans()) else b"%X" % size
    return b"0" * draw(st.integers(0, 2)) + digits


def _content_length_fields(draw: DrawFn, length: int) -> Fields:
    # RFC 9110 §8.6: a recipient MAY accept repeated fields or a list whose values are all the
    # same decimal number; aioreq and h11 both do, as do most parsers.
    digits = b"0" * draw(st.integers(0, 2)) + b"%d" % length
    name = _cased(draw, b"Content-Length")
    shape = draw(_SMALL)
    if shape == 2:
        return [(name, digits), (_cased(draw, b"Content-Length"), digits)]
    if shape == 3:
        separator = draw(st.sampled_from([b",", b", ", b" ,", b" , ", b",\t"]))
        return [(name, digits + separator + digits)]
    return [(name, digits)]


def _transfer_encoding(draw: DrawFn) -> tuple[bytes, bytes]:
    return _cased(draw, b"Transfer-Encoding"), _cased(draw, b"chunked")


@dataclass(frozen=True)
class _Framed:
    """A body as framed on the wire, with the fields that announce the framing."""

    fields: Fields
    wire: bytes
    body: bytes
    trailers: Fields
    needs_eof: bool


_NO_BODY = _Framed([], b"", b"", [], needs_eof=False)


def _length_framed(draw: DrawFn) -> _Framed:
    body = draw(_BODIES)
    return _Framed(_content_length_fields(draw, len(body)), body, body, [], needs_eof=False)


def _chunked_framed(draw: DrawFn, ext_whitespace: bool) -> _Framed:
    chunks = [draw(_CHUNK_DATA) for _ in range(draw(st.integers(0, 4)))]
    parts = []
    for chunk in chunks:
        size_line = _chunk_size(draw, len(chunk)) + _chunk_ext(draw, ext_whitespace)
        parts += [size_line, _CRLF, chunk, _CRLF]
    parts += [_chunk_size(draw, 0), _chunk_ext(draw, ext_whitespace), _CRLF]
    trailers = draw(_TRAILERS)
    parts += [line + _CRLF for line in _render(draw, trailers)]
    parts.append(_CRLF)
    fields = [_transfer_encoding(draw)]
    return _Framed(fields, b"".join(parts), b"".join(chunks), trailers, needs_eof=False)


def _close_framed(draw: DrawFn) -> _Framed:
    body = draw(_BODIES)
    return _Framed([], body, body, [], needs_eof=True)


def _announced_only(draw: DrawFn, version: bytes, status: int) -> _Framed:
    """Framing fields on a response that has no body whatever they say (to HEAD, or 304).

    RFC 9110 §8.6 and RFC 9112 §6.1: a 204 carries neither Content-Length nor Transfer-Encoding.
    """
    kind = 0 if status == 204 else draw(st.integers(0, 1 if version == b"1.0" else 2))
    if kind == 1:
        fields = _content_length_fields(draw, draw(st.integers(0, 10**6)))
        return _Framed(fields, b"", b"", [], needs_eof=False)
    if kind == 2:
        return _Framed([_transfer_encoding(draw)], b"", b"", [], needs_eof=False)
    return _NO_BODY


_OPTIONS = st.one_of(_cased_choice((b"close", b"keep-alive", b"upgrade")), _TOKENS)
_LIST_SEPARATORS = st.sampled_from([b", ", b", ", b",", b" , ", b",\t", b", , "])


def _connection(draw: DrawFn, required: Sequence[bytes] = ()) -> tuple[Fields, set[bytes]]:
    """Connection fields (RFC 9110 §7.6.1) and the lowercased options they name."""
    options = list(required)
    if required or draw(_SMALL) == 0:
        options += [draw(_OPTIONS) for _ in range(draw(st.integers(0, 3)))]
    if not options:
        return [], set()
    options.insert(0, options.pop(draw(st.integers(0, len(options) - 1))))
    # #element lists: OWS around commas, and (rarely) empty elements that a recipient skips.
    split = draw(st.integers(1, len(options)))
    fields = []
    for group in (options[:split], options[split:]):
        if group:
            value = group[0]
            for option in group[1:]:
                value += draw(_LIST_SEPARATORS) + option
            fields.append((_cased(draw, b"Connection"), value))
    return fields, {option.lower() for option in options}


def _persistent(options: set[bytes], version: bytes) -> bool:
    # RFC 9112 §9.3: close ends the connection; HTTP/1.1 and later persist by default; HTTP/1.0
    # persists only with the keep-alive option.
    if b"close" in options:
        return False
    return version != b"1.0" or b"keep-alive" in options


_METHODS = (b"GET", b"GET", b"POST", b"PUT", b"DELETE", b"PATCH", b"OPTIONS", b"HEAD", b"CONNECT")
_ANY_METHOD = st.one_of(st.sampled_from(_METHODS), tokens())


# -- valid responses ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResponseCase:
    """A valid response on the wire and what a client-side parser must make of it.

    Attributes:
        data: every byte the server sends: interim 1xx responses, the final response, and for a
            switched connection the first bytes of the other protocol.
        request_method: the method of the request this answers (it decides whether a body may
            follow: none for HEAD, a tunnel for a 2xx to CONNECT).
        interim: the 1xx responses before the final one, as parsed.
        head: the final response head, as parsed (field values without surrounding whitespace).
        body: the body, with the transfer coding removed.
        trailers: the trailer fields of a chunked body.
        needs_eof: the body is delimited by the close of the connection, so the parser needs to
            be told of it (`feed_eof`) to finish the message.
        keep_alive: whether the connection may carry another request afterwards.
        switched: the response switched protocols (101, or any 2xx to CONNECT).
        tunnel_data: after a switch, the bytes of the other protocol that followed the head.
    """

    data: bytes
    request_method: bytes
    interim: list[ResponseHead]
    head: ResponseHead
    body: bytes
    trailers: Fields
    needs_eof: bool
    keep_alive: bool
    switched: bool
    tunnel_data: bytes

    @property
    def events(self) -> list[Event]:
        """The events of the whole exchange, with the body as one `bytes` event (if any)."""
        events: list[Event] = [*self.interim, self.head]
        if self.body:
            events.append(self.body)
        events.append(EndOfMessage(self.trailers))
        return events


_COMMON_STATUS = st.sampled_from([200, 201, 204, 206, 301, 302, 304, 400, 404, 500, 503])
_SUCCESS_STATUS = st.one_of(st.sampled_from([200, 204, 206]), st.integers(200, 299))
# 1xx but 101, which is final: it switches protocols.
_INTERIM_STATUS = st.one_of(st.sampled_from([100, 103]), st.integers(102, 199))


def _final_status(draw: DrawFn) -> int:
    kind = draw(st.integers(0, 11))
    if kind == 0:
        return 101
    if kind == 1:
        # RFC 9110 §15: codes are three digits; 600-999 belong to no class but are kept.
        return draw(st.integers(600, 999))
    if kind < 7:
        return draw(_COMMON_STATUS)
    return draw(st.integers(200, 599))


def _interim(draw: DrawFn, version: bytes) -> tuple[bytes, ResponseHead]:
    status = draw(_INTERIM_STATUS)
    reason = _reason(draw, status)
    fields = draw(_TRAILERS)
    wire = _head(b"HTTP/%b %d %b" % (version, status, reason), _render(draw, fields))
    return wire, ResponseHead(status, reason, version, fields)


@st.composite
def _response(draw: DrawFn, ext_whitespace: bool) -> ResponseCase:
    status = _final_status(draw)
    if status == 101:
        # RFC 9110 §7.8: an upgrade answers a request that asked for it, in HTTP/1.1 or later.
        method, version = b"GET", draw(st.sampled_from([b"1.1", b"1.2"]))
    else:
        method, version = draw(_ANY_METHOD), draw(_VERSIONS)
        if method == b"CONNECT" and draw(st.booleans()):
            status = draw(_SUCCESS_STATUS)
    # RFC 9110 §9.3.6: "Any 2xx (Successful) response indicates that the sender (and all
    # inbound proxies) will switch to tunnel mode immediately after the response header section".
    switched = status == 101 or (method == b"CONNECT" and 200 <= status < 300)
    fields = list(draw(_HEADERS))
    tunnel_data = b""
    if status == 101:
        fields.append((_cased(draw, b"Upgrade"), draw(_TOKENS)))
        connection, options = _connection(draw, [_cased(draw, b"upgrade")])
    else:
        connection, options = _connection(draw)
    if switched:
        # RFC 9110 §9.3.6: no Content-Length or Transfer-Encoding in a 2xx to CONNECT.
        framed = _NO_BODY
        tunnel_data = draw(_TUNNEL_DATA)
    elif method == b"HEAD" or status in (204, 304):
        # RFC 9112 §6.3 ¶1: these end with their head, whatever framing fields they carry.
        framed = _announced_only(draw, version, status)
    else:
        # RFC 9112 §6.1: no Transfer-Encoding in HTTP/1.0 (it would be a framing fault).
        kind = draw(st.integers(0, 1 if version == b"1.0" else 2))
        if kind == 2:
            framed = _chunked_framed(draw, ext_whitespace)
        else:
            framed = _length_framed(draw) if kind == 0 else _close_framed(draw)
    fields = _place(draw, fields, connection + framed.fields)
    reason = _reason(draw, status)
    wire = [_head(b"HTTP/%b %d %b" % (version, status, reason), _render(draw, fields))]
    interim: list[ResponseHead] = []
    # RFC 9110 §15.2: no 1xx to an HTTP/1.0 client.
    for _ in range(0 if version == b"1.0" else draw(st.integers(0, 2))):
        interim_wire, interim_head = _interim(draw, version)
        wire.insert(len(interim), interim_wire)
        interim.append(interim_head)
    return ResponseCase(
        data=b"".join([*wire, framed.wire, tunnel_data]),
        request_method=method,
        interim=interim,
        head=ResponseHead(status, reason, version, fields),
        body=framed.body,
        trailers=framed.trailers,
        needs_eof=framed.needs_eof,
        keep_alive=not switched and not framed.needs_eof and _persistent(options, version),
        switched=switched,
        tunnel_data=tunnel_data,
    )


def responses(*, chunk_ext_whitespace: bool = True) -> SearchStrategy[ResponseCase]:
    """Draw valid HTTP/1.x responses together with what a parser must make of them.

    Covered: HTTP/1.0, 1.1 and higher 1.x minor versions; status codes 100-999 with empty,
    standard or random reason phrases; 1xx interim responses before the final one; framing by
    Content-Length (also repeated fields and "n, n" lists, leading zeros), chunked (extensions with
    token and quoted-string values, trailers, hex digits in either case), the close of the
    connection, and none (HEAD, 204, 304 ignore their framing fields); 101 and 2xx-to-CONNECT
    switches; Connection options in any case; random field-name case and whitespace around values.

    Args:
        chunk_ext_whitespace: allow BWS around ";" and "=" in chunk extensions. RFC 9112 §7.1.1
            allows it; some parsers (h11 among them) reject whitespace before ";".

    Returns:
        A strategy of `ResponseCase`.
    """
    return _response(chunk_ext_whitespace)


# -- valid requests -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestCase:
    """A valid request on the wire and what a server-side parser must make of it.

    Attributes:
        data: every byte the client sends: the request and, after CONNECT, the first bytes of the
            tunnel.
        head: the request head, as parsed (field values without surrounding whitespace).
        body: the body, with the transfer coding removed.
        trailers: the trailer fields of a chunked body.
        keep_alive: whether the request lets the connection persist (RFC 9112 §9.3). For CONNECT
            that holds only if the server refuses the tunnel.
        tunnel_data: the bytes after a CONNECT request. They belong to the tunnel if the server
            answers 2xx (RFC 9110 §9.3.6), so a parser must leave them unparsed until the server
            decides (as `trailing_data`, in aioreq).
    """

    data: bytes
    head: RequestHead
    body: bytes
    trailers: Fields
    keep_alive: bool
    tunnel_data: bytes

    @property
    def events(self) -> list[Event]:
        """The events of the request, with the body as one `bytes` event (if any)."""
        events: list[Event] = [self.head]
        if self.body:
            events.append(self.body)
        events.append(EndOfMessage(self.trailers))
        return events


_PCT_ENCODED = st.integers(0, 255).map(lambda octet: b"%%%02X" % octet)
_SEGMENT = st.one_of(_over(_PCHAR, max_size=8), _PCT_ENCODED)
_QUERY = _over(_PCHAR + b"/?", max_size=12)
_PORT = st.integers(0, 65535).map(lambda port: b"%d" % port)
_REG_NAME = st.one_of(
    st.sampled_from([b"example.org", b"localhost", b"xn--bcher-kva.example"]),
    _over(_UNRESERVED + _SUB_DELIMS, min_size=1, max_size=12),
    _over(_UNRESERVED, max_size=6, lead=b"%41"),
)
_IPV4 = st.tuples(*[st.integers(0, 255)] * 4).map(lambda octets: b"%d.%d.%d.%d" % octets)
_IP_LITERAL = st.sampled_from([b"[::1]", b"[2001:db8::7]", b"[fe80::1:2]", b"[::ffff:10.0.0.1]"])
_URI_HOST = st.one_of(_REG_NAME, _IPV4, _IP_LITERAL)
_SCHEMES = st.sampled_from([b"http", b"https", b"HTTP", b"x-my+s.c"])


def _path(draw: DrawFn) -> bytes:
    path = b"/" + b"/".join(draw(_SEGMENT) for _ in range(draw(_SMALL)))
    if draw(st.booleans()):
        path += b"?" + draw(_QUERY)
    return path


def _host_value(draw: DrawFn) -> bytes:
    # RFC 9110 §7.2: Host = uri-host [ ":" port ], port = *DIGIT; RFC 9112 §3.2: empty when the
    # target URI has no authority.
    kind = draw(st.integers(0, 5))
    if kind == 5:
        return b""
    host = draw(_URI_HOST)
    if kind == 3:
        return host + b":" + draw(_PORT)
    if kind == 4:
        return host + b":"
    return host


def _target(draw: DrawFn, method: bytes) -> bytes:
    # RFC 9112 §3.2: origin-form, absolute-form, authority-form (CONNECT), asterisk-form (OPTIONS).
    if method == b"CONNECT":
        return draw(_URI_HOST) + b":" + draw(_PORT)
    kind = draw(_SMALL)
    if kind == 3 and method == b"OPTIONS":
        return b"*"
    if kind == 2:
        authority = draw(_URI_HOST)
        if draw(st.booleans()):
            authority += b":" + draw(_PORT)
        return draw(_SCHEMES) + b"://" + authority + _path(draw)
    return _path(draw)


@st.composite
def _request(draw: DrawFn, ext_whitespace: bool) -> RequestCase:
    version = draw(_VERSIONS)
    method = draw(_ANY_METHOD)
    target = _target(draw, method)
    controls = []
    if version != b"1.0" or draw(st.booleans()):
        # RFC 9112 §3.2: "A client MUST send a Host header field in all HTTP/1.1 request
        # messages", and exactly one.
        controls.append((_cased(draw, b"Host"), _host_value(draw)))
    expect_continue = False
    if draw(_SMALL) == 0:
        controls.append((_cased(draw, b"Expect"), _cased(draw, b"100-continue")))
        # RFC 9110 §10.1.1: a server MUST ignore a 100-continue expectation from HTTP/1.0.
        expect_continue = version != b"1.0"
    connection, options = _connection(draw)
    tunnel_data = b""
    if method == b"CONNECT":
        framed = _NO_BODY
        tunnel_data = draw(_TUNNEL_DATA)
    else:
        kind = draw(st.integers(0, 1 if version == b"1.0" else 2))
        if kind == 2:
            framed = _chunked_framed(draw, ext_whitespace)
        else:
            framed = _length_framed(draw) if kind == 1 else _NO_BODY
    fields = _place(draw, draw(_HEADERS), controls + connection + framed.fields)
    start = b"%b %b HTTP/%b" % (method, target, version)
    return RequestCase(
        data=_head(start, _render(draw, fields)) + framed.wire + tunnel_data,
        head=RequestHead(method, target, version, fields, expect_continue),
        body=framed.body,
        trailers=framed.trailers,
        keep_alive=_persistent(options, version),
        tunnel_data=tunnel_data,
    )


def requests(*, chunk_ext_whitespace: bool = True) -> SearchStrategy[RequestCase]:
    """Draw valid HTTP/1.x requests together with what a parser must make of them.

    Covered: HTTP/1.0, 1.1 and higher 1.x minor versions; common and random method tokens;
    origin-form, absolute-form, asterisk-form (OPTIONS) and authority-form (CONNECT) targets; one
    Host field for HTTP/1.1 (reg-name, IPv4, IP-literal, with or without port, or empty); no body,
    Content-Length (also repeated and listed) or chunked bodies with extensions and trailers;
    `Expect: 100-continue`; Connection options; CONNECT, sometimes with tunnel bytes after it.

    Args:
        chunk_ext_whitespace: allow BWS around ";" and "=" in chunk extensions (see `responses`).

    Returns:
        A strategy of `RequestCase`.
    """
    return _request(chunk_ext_whitespace)


# -- reads and corruption -------------------------------------------------------------------------


def _cut(data: bytes, points: list[int]) -> list[bytes]:
    bounds = [0, *sorted(points), len(data)]
    return [data[start:end] for start, end in itertools.pairwise(bounds)]


def splits(data: bytes, *, max_cuts: int = 8) -> SearchStrategy[list[bytes]]:
    """Draw ways to deliver `data` as a sequence of reads.

    The reads joined give `data` back. Some draws are one read, some one byte per read, some cut
    at random points; cutting twice at one point gives an empty read.

    Args:
        data: the bytes to split.
        max_cuts: most random cut points.

    Returns:
        A strategy of lists of bytes.
    """
    points = st.lists(st.integers(0, len(data)), max_size=max_cuts)
    return st.one_of(
        st.just([data]),
        points.map(lambda cuts: _cut(data, cuts)),
        st.just([data[i : i + 1] for i in range(len(data))]),
    )


_INTERESTING = [
    b"\r", b"\n", b"\r\n", b"\r\n\r\n", b" ", b"\t", b":", b";", b",", b"=", b'"', b"\\", b"\x00",
    b"\x7f", b"\x80", b"\xff", b"0", b"9", b"f", b"-", b"+", b"x", b"HTTP/1.1 ", b"\r\n0\r\n\r\n",
    b"\r\nTransfer-Encoding: chunked", b"\r\nContent-Length: 1", b"\r\nHost: a", b" \r\n",
]  # fmt: skip
_INSERTIONS = st.one_of(st.sampled_from(_INTERESTING), st.binary(min_size=1, max_size=8))
_REPLACEMENTS = st.one_of(st.sampled_from(_INTERESTING), st.binary(min_size=1, max_size=1))


@st.composite
def _mutate(draw: DrawFn, data: bytes, max_edits: int) -> bytes:
    buf = bytearray(data)
    for _ in range(draw(st.integers(1, max_edits))):
        edit = draw(st.integers(0, 2))
        if edit == 0 or not buf:
            at = draw(st.integers(0, len(buf)))
            buf[at:at] = draw(_INSERTIONS)
        elif edit == 1:
            at = draw(st.integers(0, len(buf) - 1))
            buf[at : at + 1] = draw(_REPLACEMENTS)
        else:
            at = draw(st.integers(0, len(buf) - 1))
            del buf[at : at + draw(st.integers(1, 8))]
    return bytes(buf)


def mutations(data: bytes, *, max_edits: int = 3) -> SearchStrategy[bytes]:
    """Draw `data` corrupted by a few replaced, inserted or deleted bytes.

    Edits favour the bytes HTTP/1.1 framing turns on (CR, LF, colon, digits, whitespace, NUL).

    Args:
        data: the bytes to corrupt, usually a valid message.
        max_edits: most edits applied (at least one is).

    Returns:
        A strategy of bytes (which may by chance still be a valid message).
    """
    return _mutate(data, max_edits)


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
