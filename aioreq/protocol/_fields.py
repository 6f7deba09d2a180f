"""Field sections (headers and trailers), and the framing decisions they carry.

The fast path splits a section into lines and takes each line's (name, value) pair from a memo of
lines already checked, checking a new line once (see `split_fields`). Only when a line is not a
plain valid field line does the slow path walk the lines one by one: it exists to name the fault
precisely, and, for responses, to unfold obs-fold.

Framing follows RFC 9112 §6.3, and persistence RFC 9112 §9.3. The fields that decide either are
picked out in one pass over the split fields, without lowercasing every name.
"""

from __future__ import annotations

from .._exceptions import RemoteProtocolError
from . import _rules
from ._events import Fields

# Framing kinds. An int is compared faster than anything else on the hot path.
NO_BODY = 0  # the message ends with its head
LENGTH = 1  # Content-Length bytes follow
CHUNKED = 2  # the chunked transfer coding
UNTIL_CLOSE = 3  # the body ends when the connection closes (responses only)
SWITCHED = 4  # 101 Switching Protocols or a 2xx answer to CONNECT: the bytes after are not HTTP

# Content-Length values are kept below 2**63 so that every peer's integer type holds them.
MAX_CONTENT_LENGTH = 2**63 - 1


def show(data: bytes, limit: int = 60) -> str:
    """Render bytes for an error message, shortened."""
    if len(data) > limit:
        return repr(data[:limit])[:-1] + "...'"
    return repr(data)


# Field lines already split. A peer repeats the same lines message after message (a server its
# Server, Content-Type, Connection and caching fields; a client its Host, User-Agent and Accept),
# so each distinct line is checked and split once, and its (name, value) pair is shared by the
# messages that carry it: a dictionary look-up per line instead of a regex match and two new
# bytes objects. Only short lines are kept, and the memo is cleared when full, so it stays small
# (at most _MAX_KNOWN_LINES x _MAX_KNOWN_LINE bytes of keys).
_known_lines: dict[bytes, tuple[bytes, bytes]] = {}
_MAX_KNOWN_LINES = 1024
_MAX_KNOWN_LINE = 200
_field_line = _rules.field_line_re.fullmatch


def split_fields(data: bytes, start: int, end: int) -> Fields | None:
    """The field lines of data[start:end] -- lines joined by CRLF, no CRLF before the first or
    after the last -- as (name, value) pairs; or None when a line is anything but a plain valid
    field line (obs-fold, a bare CR or LF, a bad name or value, trailing whitespace), for the
    caller to take the slow path, which handles or names it."""
    if start >= end:
        return []
    known = _known_lines
    fields: Fields = []
    for line in data[start:end].split(b"\r\n"):
        field = known.get(line)
        if field is None:
            match = _field_line(line)
            if match is None:
                return None
            field = (match[1], match[3])
            if len(line) <= _MAX_KNOWN_LINE:
                if len(known) >= _MAX_KNOWN_LINES:
                    known.clear()
                known[line] = field
        fields.append(field)
    return fields


def parse_section(data: bytes, start: int, end: int, *, unfold: bool, what: str) -> Fields:
    """Split the field lines of data[start:end] into (name, value) pairs.

    Args:
        data: the buffer holding the section.
        start: index of the CRLF that ends the line before the first field line.
        end: index just past the CRLF that ends the last field line (so data[end-2:end] is CRLF
            and the empty line follows).
        unfold: replace obs-fold with SP (what a user agent must do with a response, RFC 9112
            §5.2) rather than reject it (what a server may do with a request).
        what: "header" or "trailer", for error messages.

    Returns:
        The field lines in order.

    Raises:
        RemoteProtocolError: a line is not a valid field line.
    """
    fields = split_fields(data, start + 2, end - 2)
    if fields is not None:
        return fields
    return parse_section_slowly(data[start + 2 : end - 2], unfold=unfold, what=what)


def parse_section_slowly(section: bytes, *, unfold: bool, what: str) -> Fields:
    """Parse a section line by line, naming the first fault (see `parse_section`).

    `section` is the field lines without the CRLF before the first and after the last.
    """
    if b"\x00" in section:
        # RFC 9110 §5.5: "Field values containing CR, LF, or NUL characters are invalid and
        # dangerous ... a recipient ... MUST either reject the message or replace each of those
        # characters with SP". We reject: NUL has no business in a field.
        raise RemoteProtocolError(f"NUL byte in the {what} section: {show(section)}")
    _reject_bare_cr_lf(section, f"the {what} section")
    lines = section.split(b"\r\n")
    if unfold:
        lines = _unfold(lines, what)
    fields: Fields = []
    for line in lines:
        if line[:1] in (b" ", b"\t"):
            # RFC 9112 §5.2: "A server that receives an obs-fold in a request message that is not
            # within a "message/http" container MUST either reject the message by sending a 400
            # (Bad Request) ... or replace each received obs-fold with one or more SP octets".
            raise RemoteProtocolError(
                f"obsolete line folding (obs-fold) in the {what} section: {show(line)}"
            )
        name, colon, value = line.partition(b":")
        if not colon:
            raise RemoteProtocolError(f"{what} line without a colon: {show(line)}")
        if not name:
            raise RemoteProtocolError(f"{what} line without a field name: {show(line)}")
        if name[-1:] in (b" ", b"\t"):
            # RFC 9112 §5.1: "No whitespace is allowed between the field name and colon. ... A
            # server MUST reject, with a response status code of 400 (Bad Request), any received
            # request message that contains whitespace between a header field name and colon."
            raise RemoteProtocolError(
                f"whitespace between the field name and the colon: {show(line)}"
            )
        if _rules.token_re.fullmatch(name) is None:
            raise RemoteProtocolError(f"invalid character in the field name {show(name)}")
        value = value.strip(b" \t")
        if _rules.field_value_re.fullmatch(value) is None:
            bad = next(
                b for b in value if (b < 0x20 and b != 0x09) or b == 0x7F
            )  # the only bytes the value rule refuses
            raise RemoteProtocolError(
                f"invalid byte {bytes([bad])!r} in the value of the field {show(name)}"
            )
        fields.append((name, value))
    return fields


def _unfold(lines: list[bytes], what: str) -> list[bytes]:
    # RFC 9112 §5.2: "A user agent that receives an obs-fold in a response message that is not
    # within a "message/http" container MUST replace each received obs-fold with one or more SP
    # octets prior to interpreting the field value."
    unfolded: list[bytes] = []
    for line in lines:
        if line[:1] in (b" ", b"\t"):
            if not unfolded:
                raise RemoteProtocolError(
                    f"the {what} section starts with a continuation line: {show(line)}"
                )
            unfolded[-1] = unfolded[-1].rstrip(b" \t") + b" " + line.strip(b" \t")
        else:
            unfolded.append(line)
    return unfolded


def _reject_bare_cr_lf(data: bytes, where: str) -> None:
    # RFC 9112 §2.2: "A sender MUST NOT generate a bare CR (a CR character not immediately
    # followed by LF) within any protocol elements other than the content. A recipient of such a
    # bare CR MUST consider that element to be invalid". A lone LF as a line terminator is only
    # a MAY-accept; we refuse it, so that no two parsers on a path can disagree on where a line
    # ends (request smuggling, RFC 9112 §11.2).
    cr = data.count(b"\r")
    lf = data.count(b"\n")
    pairs = data.count(b"\r\n")
    if cr != pairs:
        raise RemoteProtocolError(f"bare CR in {where}: {show(data)}")
    if lf != pairs:
        raise RemoteProtocolError(f"bare LF in {where}: {show(data)}")


def request_fields(
    fields: Fields,
) -> tuple[bytes | None, bytes | None, bytes | None, list[bytes], bytes | None]:
    """Pick out, in one pass, the fields that decide a request's framing, persistence, Host
    and Expect.

    Returns:
        (content_length, transfer_encoding, connection, hosts, expect): repeated fields of a
        list-valued field joined with "," as RFC 9110 §5.3 allows; Host values kept apart,
        since more than one is an error (RFC 9112 §3.2).
    """
    content_length = transfer_encoding = connection = expect = None
    hosts: list[bytes] = []
    for name, value in fields:
        if len(name) in _REQUEST_LENGTHS:  # most names are passed over unlowered
            name = name.lower()
            if name == b"content-length":
                content_length = value if content_length is None else content_length + b"," + value
            elif name == b"host":
                hosts.append(value)
            elif name == b"connection":
                connection = value if connection is None else connection + b"," + value
            elif name == b"transfer-encoding":
                transfer_encoding = (
                    value if transfer_encoding is None else transfer_encoding + b"," + value
                )
            elif name == b"expect":
                expect = value if expect is None else expect + b"," + value
    return content_length, transfer_encoding, connection, hosts, expect


_REQUEST_LENGTHS = frozenset(
    len(name)
    for name in (b"content-length", b"host", b"connection", b"transfer-encoding", b"expect")
)


def list_items(value: bytes) -> list[bytes]:
    """The lowercased, non-empty items of a comma-separated field value (RFC 9110 §5.6.1)."""
    return [item for item in (i.strip(b" \t") for i in value.lower().split(b",")) if item]


def content_length(value: bytes, *, max_body_size: int | None) -> int:
    """The body length stated by the (joined) Content-Length values.

    Raises:
        RemoteProtocolError: the values are not one non-negative decimal number, or it is above
            `max_body_size` (status hint 413).
    """
    if value.isdigit() and len(value) < 19:
        length = int(value)
    else:
        # RFC 9110 §8.6: "a recipient MAY either reject the message as invalid or replace that
        # invalid field value with a single instance of the decimal value" when a list or
        # repeated fields hold the same number. RFC 9112 §6.3 ¶5: any other invalid value makes
        # the framing invalid and "the recipient MUST treat it as an unrecoverable error".
        items = {item.strip(b" \t") for item in value.split(b",")}
        if len(items) != 1:
            shown = ", ".join(sorted(show(i) for i in items))
            raise RemoteProtocolError(f"conflicting Content-Length values: {shown}")
        (item,) = items
        # RFC 9110 §8.6: Content-Length = 1*DIGIT. No sign, no hex, no whitespace inside.
        if not item.isdigit():
            raise RemoteProtocolError(f"Content-Length {show(item)} is not a number")
        if len(item.lstrip(b"0")) > 19 or int(item) > MAX_CONTENT_LENGTH:
            raise RemoteProtocolError(f"Content-Length {show(item)} is too large", status_hint=413)
        length = int(item)
    if max_body_size is not None and length > max_body_size:
        raise RemoteProtocolError(
            f"Content-Length {length} exceeds the body size limit of {max_body_size} bytes",
            status_hint=413,
        )
    return length


def transfer_codings(value: bytes, *, request: bool) -> int:
    """The framing a (joined) Transfer-Encoding value implies: CHUNKED, or an error.

    Raises:
        RemoteProtocolError: chunked is missing, repeated or not last (400), or another coding is
            named (501; aioreq implements no transfer coding but chunked).
    """
    if value == b"chunked":  # nearly every message
        return CHUNKED
    codings = list_items(value)
    if codings == [b"chunked"]:
        return CHUNKED
    shown = show(b", ".join(codings))
    if not codings:
        raise RemoteProtocolError("empty Transfer-Encoding field")
    if codings.count(b"chunked") > 1:
        # RFC 9112 §6.1: "A sender MUST NOT apply the chunked transfer coding more than once".
        raise RemoteProtocolError(f"chunked applied more than once in Transfer-Encoding {shown}")
    if codings[-1] != b"chunked" and (request or b"chunked" in codings):
        # RFC 9112 §6.3 ¶4: "If a Transfer-Encoding header field is present in a request and the
        # chunked transfer coding is not the final encoding, the message body length cannot be
        # determined reliably; the server MUST respond with the 400 (Bad Request) status code".
        raise RemoteProtocolError(f"chunked is not the final coding in Transfer-Encoding {shown}")
    unknown = next(c for c in codings if c != b"chunked")
    if request:
        # RFC 9112 §6.1: "A server that receives a request message with a transfer coding it
        # does not understand SHOULD respond with 501 (Not Implemented)."
        raise RemoteProtocolError(
            f"unsupported transfer coding {show(unknown)} in Transfer-Encoding {shown}",
            status_hint=501,
        )
    # A response whose final coding is not chunked would be read until close (RFC 9112 §6.3
    # ¶4), but its content would still carry a coding we cannot undo: refuse it rather than
    # hand over a silently wrong body.
    raise RemoteProtocolError(
        f"unsupported transfer coding {show(unknown)} in Transfer-Encoding {shown}"
    )


def framing(
    content_length_value: bytes | None,
    transfer_encoding: bytes | None,
    http_version: bytes,
    *,
    request: bool,
    max_body_size: int | None,
) -> tuple[int, int]:
    """Decide how the body of a message is delimited (RFC 9112 §6.3, items 3 to 7).

    Returns:
        (kind, length): kind is LENGTH, CHUNKED, UNTIL_CLOSE or NO_BODY; length is the
        Content-Length for LENGTH, else 0.
    """
    if transfer_encoding is not None:
        if http_version == b"1.0":
            # RFC 9112 §6.1: "A server or client that receives an HTTP/1.0 message containing a
            # Transfer-Encoding header field MUST treat the message as if the framing is faulty,
            # even if a Content-Length is present".
            raise RemoteProtocolError("Transfer-Encoding in an HTTP/1.0 message")
        if content_length_value is not None:
            # RFC 9112 §6.3 ¶3: a message with both "might indicate an attempt to perform request
            # smuggling (Section 11.2) or response splitting (Section 11.1) and ought to be
            # handled as an error".
            raise RemoteProtocolError("both Transfer-Encoding and Content-Length are present")
        return transfer_codings(transfer_encoding, request=request), 0
    if content_length_value is not None:
        length = content_length(content_length_value, max_body_size=max_body_size)
        return (LENGTH, length) if length else (NO_BODY, 0)
    # RFC 9112 §6.3 ¶6-7: a request without either has no body; a response reads until close.
    return (NO_BODY, 0) if request else (UNTIL_CLOSE, 0)


def persistent(connection: bytes | None, http_version: bytes) -> bool:
    """Whether the connection persists after this message (RFC 9112 §9.3)."""
    if connection is None:
        return http_version != b"1.0"
    lowered = connection.lower()
    if lowered == b"keep-alive":  # the usual value, spared the list parsing
        return True
    if lowered == b"close":
        return False
    options = list_items(lowered)
    # RFC 9112 §9.3: "If the "close" connection option is present ..., the connection will not
    # persist after the current response; else, If the received protocol is HTTP/1.1 (or later),
    # the connection will persist after the current response; else, If the received protocol is
    # HTTP/1.0, the "keep-alive" connection option is present, either the recipient is not a
    # proxy or the message is a response, and the recipient wishes to honor the HTTP/1.0
    # "keep-alive" mechanism, the connection will persist after the current response".
    if b"close" in options:
        return False
    if http_version == b"1.0":
        return b"keep-alive" in options
    return True
