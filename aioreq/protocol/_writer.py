"""Serializing HTTP/1.1 messages, refusing anything that could not be sent safely.

A head is built with one `b"".join`. Before it goes out, every method, target, field name and
value is checked: a CR, LF or NUL smuggled into any of them would let whoever controls the value
write a second message onto the wire (RFC 9112 §11.1, response splitting), so the serializer
raises `LocalProtocolError` instead of sending it.

`BodyWriter` frames a body the way the head announced it (Content-Length or chunked) and checks
that the announcement is kept.
"""

from __future__ import annotations

from collections.abc import Iterable

from .._exceptions import LocalProtocolError
from . import _rules
from ._fields import show

__all__ = [
    "BodyWriter",
    "encode_chunk",
    "encode_last_chunk",
    "encode_request",
    "encode_request_head",
    "encode_response_head",
]


# The status lines of HTTP/1.1 with the standard reason phrases, ready to send.
_STATUS_LINES = {
    code: b"HTTP/1.1 %d %b\r\n" % (code, reason) for code, reason in _rules.REASONS.items()
}


def reason_phrase(status_code: int) -> bytes:
    """The standard reason phrase of a status code (RFC 9110 §15), or b"" if it has none."""
    return _rules.REASONS.get(status_code, b"")


def _check_version(http_version: bytes) -> None:
    if http_version not in (b"1.1", b"1.0"):
        raise LocalProtocolError(f"invalid HTTP version {show(http_version)}: 1.1 or 1.0")


# Field lines already found valid. Most messages a program sends repeat the same few fields
# (its own constants, a Date that changes once a second, common lengths), so the checks run
# once per distinct line rather than once per message. Cleared when full, so it stays small.
_valid_lines: dict[tuple[bytes, bytes], None] = {}
_MAX_VALID_LINES = 1024


def _field_lines(headers: Iterable[tuple[bytes, bytes]], parts: list[bytes]) -> None:
    valid = _valid_lines
    for name, value in headers:
        line = (name, value)
        try:
            known = line in valid
        except TypeError:  # a bytearray or memoryview: checked, never remembered
            known = False
            line = None  # type: ignore[assignment]
        if not known:
            _check_field(name, value)
            if line is not None:
                if len(valid) >= _MAX_VALID_LINES:
                    valid.clear()
                valid[line] = None
        parts += (name, b": ", value, b"\r\n")


def _check_field(name: bytes, value: bytes) -> None:
    if _rules.token_re.fullmatch(name) is None:
        raise LocalProtocolError(f"invalid field name {show(name)}")
    if _rules.field_value_re.fullmatch(value) is None:
        # RFC 9110 §5.5: "Field values containing CR, LF, or NUL characters are invalid and
        # dangerous". Leading or trailing whitespace would be stripped by the recipient.
        raise LocalProtocolError(f"invalid field value {show(value)} for {show(name)}")


def encode_request_head(
    method: bytes,
    target: bytes,
    headers: Iterable[tuple[bytes, bytes]],
    *,
    http_version: bytes = b"1.1",
) -> bytes:
    """Serialize a request line and header section.

    The caller chooses the framing by the fields it passes (Content-Length, or
    Transfer-Encoding: chunked) and must include Host for HTTP/1.1.

    Raises:
        LocalProtocolError: the method is not a token, or the target, a name or a value holds
            a byte that may not be sent (CR, LF, NUL, other controls, space in the target).
    """
    _check_version(http_version)
    if _rules.token_re.fullmatch(method) is None:
        raise LocalProtocolError(f"invalid method {show(method)}: a method is a token")
    if _rules.outgoing_target_re.fullmatch(target) is None:
        raise LocalProtocolError(f"invalid request-target {show(target)}")
    parts = [method, b" ", target, b" HTTP/", http_version, b"\r\n"]
    _field_lines(headers, parts)
    parts.append(b"\r\n")
    return b"".join(parts)


def encode_response_head(
    status_code: int,
    headers: Iterable[tuple[bytes, bytes]],
    *,
    reason: bytes | None = None,
    http_version: bytes = b"1.1",
) -> bytes:
    """Serialize a status line and header section.

    Args:
        status_code: 100 to 999.
        headers: the fields, which decide the framing of what follows.
        reason: the reason phrase; the standard one for the code when None.
        http_version: b"1.1" or b"1.0".

    Raises:
        LocalProtocolError: a bad status code, reason phrase, field name or value.
    """
    line = _STATUS_LINES.get(status_code) if reason is None and http_version == b"1.1" else None
    if line is None:
        _check_version(http_version)
        if not 100 <= status_code <= 999:
            raise LocalProtocolError(f"invalid status code {status_code}")
        if reason is None:
            reason = reason_phrase(status_code)
        elif _rules.outgoing_reason_re.fullmatch(reason) is None:
            raise LocalProtocolError(f"invalid reason phrase {show(reason)}")
        line = b"HTTP/%b %d %b\r\n" % (http_version, status_code, reason)
    parts = [line]
    _field_lines(headers, parts)
    parts.append(b"\r\n")
    return b"".join(parts)


def encode_request(
    method: bytes,
    target: bytes,
    headers: Iterable[tuple[bytes, bytes]],
    body: bytes = b"",
) -> bytes:
    """Serialize a whole request with a body held in memory.

    Content-Length is added when the fields do not frame the body themselves (it is left out
    for an empty body of a method that does not expect one, as RFC 9110 §8.6 advises).
    """
    fields = list(headers)
    names = {name.lower() for name, _ in fields}
    if not names & {b"content-length", b"transfer-encoding"} and (
        body or method in (b"POST", b"PUT", b"PATCH")
    ):
        fields.append((b"Content-Length", b"%d" % len(body)))
    # The writer holds the body to what the fields announce: a Content-Length that does not
    # match would make the peer read the next request as part of this one.
    writer = BodyWriter(fields)
    return encode_request_head(method, target, fields) + writer.write(body) + writer.end()


def encode_chunk(data: bytes) -> bytes:
    """One chunk of a chunked body; b"" for empty data (an empty chunk would end the body)."""
    if not data:
        return b""
    return b"%x\r\n%b\r\n" % (len(data), data)


def encode_last_chunk(trailers: Iterable[tuple[bytes, bytes]] = ()) -> bytes:
    """The last chunk of a chunked body and its trailer section (RFC 9112 §7.1)."""
    parts = [b"0\r\n"]
    _field_lines(trailers, parts)
    parts.append(b"\r\n")
    return b"".join(parts)


class BodyWriter:
    """Frame the body of one outgoing message as its head announced.

    Args:
        headers: the fields of the head that was sent.
        until_close: frame a body that has neither Content-Length nor chunked as ending with
            the connection (a response to an HTTP/1.0 client); otherwise such a message has no
            body.

    Raises:
        LocalProtocolError: the fields announce both framings, an invalid Content-Length, or a
            transfer coding other than chunked.
    """

    __slots__ = ("_chunked", "_remaining")

    def __init__(self, headers: Iterable[tuple[bytes, bytes]], *, until_close: bool = False):
        self._chunked = False
        self._remaining: int | None = 0
        length: bytes | None = None
        coding: bytes | None = None
        for name, value in headers:
            lname = name.lower()
            if lname == b"content-length":
                if length is not None and value != length:
                    raise LocalProtocolError(f"two Content-Length values: {length!r}, {value!r}")
                length = value
            elif lname == b"transfer-encoding":
                coding = value.strip().lower()
        if coding is not None:
            if length is not None:
                raise LocalProtocolError("both Transfer-Encoding and Content-Length are set")
            if coding != b"chunked":
                raise LocalProtocolError(f"unsupported transfer coding {show(coding)}")
            self._chunked = True
            self._remaining = None
        elif length is not None:
            if not length.isdigit():
                raise LocalProtocolError(f"Content-Length {show(length)} is not a number")
            self._remaining = int(length)
        elif until_close:
            self._remaining = None

    @property
    def chunked(self) -> bool:
        """Whether the body is sent with the chunked coding (and so can carry trailers)."""
        return self._chunked

    def write(self, data: bytes) -> bytes:
        """The bytes to send for `data`.

        Raises:
            LocalProtocolError: more bytes than Content-Length announced.
        """
        if self._chunked:
            return encode_chunk(data)
        remaining = self._remaining
        if remaining is not None:
            if len(data) > remaining:
                raise LocalProtocolError(
                    f"body is longer than its Content-Length: {len(data)} more bytes with "
                    f"{remaining} left"
                )
            self._remaining = remaining - len(data)
        return data

    def end(self, trailers: Iterable[tuple[bytes, bytes]] = ()) -> bytes:
        """The bytes that end the body: the last chunk and trailers, if chunked.

        Raises:
            LocalProtocolError: fewer bytes than Content-Length announced, or trailers on a body
                that is not chunked.
        """
        if self._chunked:
            return encode_last_chunk(trailers)
        if trailers:
            raise LocalProtocolError("trailers need a chunked body")
        if self._remaining:
            raise LocalProtocolError(
                f"body ended {self._remaining} bytes short of its Content-Length"
            )
        return b""
