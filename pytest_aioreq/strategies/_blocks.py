"""Building blocks: tokens, field names and values, field lists, and the parts of messages."""

from __future__ import annotations

import string
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from hypothesis import strategies as st
from hypothesis.strategies import DrawFn, SearchStrategy

from aioreq.protocol import Fields, reason_phrase

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
    return _field_list(
        min_size,
        max_size,
        _FIELD_NAMES if names is None else names,
        _FIELD_VALUES if values is None else values,
    )


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
