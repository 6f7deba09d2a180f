"""The client role: `ResponseParser`, which reads the responses to the requests a client sent.

The head path here is the hottest code of the client; see `_parser` for the rules all parsers keep.
"""

from __future__ import annotations

from .._exceptions import LocalProtocolError, RemoteProtocolError
from . import _fields, _rules
from ._events import Event, ResponseHead
from ._fields import LENGTH, NO_BODY, SWITCHED, show
from ._parser import (
    _DONE,
    _END,
    _HEAD,
    _bad_start_line,
    _Parser,
)

__all__ = ["ResponseParser"]

_status_line = _rules.status_line_re.fullmatch
_common_status_lines = _rules.common_status_lines
_split_fields = _fields.split_fields
_RESPONSE_LENGTHS = frozenset(
    len(name) for name in (b"content-length", b"connection", b"transfer-encoding")
)


class ResponseParser(_Parser):
    """Parse the responses a client receives, one per request.

    Tell the parser which request each response answers with `start_response(method)` (a HEAD
    response has no body, a 2xx to CONNECT opens a tunnel); a new parser expects the response to
    a GET. Interim 1xx responses come out as `ResponseHead` events before the final one.

    Args:
        max_line_size: longest status line.
        max_header_size: largest header or trailer section.
        max_header_count: most field lines in a section.
        max_chunk_line_size: longest chunk-size line.
        max_body_size: largest body, or None for no limit.
    """

    __slots__ = ("_interim", "_method")

    _role = "response"
    _unfold = True

    def _init_role(self) -> None:
        self._method = b"GET"
        self._interim = 0

    def start_response(self, method: bytes = b"GET") -> None:
        """Expect the response to a request made with `method`.

        Raises:
            LocalProtocolError: the previous response has not ended, or bytes followed it (the
                connection must not be reused).
        """
        if self._state != _DONE or self._buf or not self._keep_alive:
            self._check_reusable()
        self._method = method
        self._state = _HEAD
        self._scan = 0
        self._interim = 0

    def _check_reusable(self) -> None:
        """Raise unless this parser may read another response (a new parser may)."""
        if self._state == _HEAD and not self._buf and self._keep_alive:
            return
        if self._state != _DONE:
            raise LocalProtocolError("cannot expect a new response: the last one has not ended")
        if self._buf:
            raise LocalProtocolError(
                "cannot expect a new response: unrequested bytes followed the last one"
            )
        raise LocalProtocolError("cannot expect a new response: the connection is closing")

    def _after_message_bytes(self) -> None:
        # Nothing was asked for: a server that sends more is broken or hostile, so the
        # connection is not reused (the response that did arrive complete is kept).
        if self._state == _DONE:
            self._keep_alive = False

    def _eof_in_head(self) -> RemoteProtocolError:
        received = len(self._buf)
        if received:
            return RemoteProtocolError(
                f"connection closed inside the response head after {received} bytes"
            )
        if self._interim:
            return RemoteProtocolError(
                f"connection closed after {self._interim} interim (1xx) response(s), "
                "before the final response"
            )
        return RemoteProtocolError("connection closed before any response byte arrived")

    def _read_head(self, data: bytes, pos: int, end: int, events: list[Event]) -> int:
        # The client's hottest function: written out straight, with _fields.parse_section, a
        # response's share of _fields.request_fields and the common case of _fields.framing
        # inlined (each call saved is measurable here).
        term = data.find(b"\r\n\r\n", pos)
        if term < 0:
            return self._keep_partial_section(data, pos, end, _HEAD)
        head_end = term + 4
        if head_end - pos > self.max_header_size:
            raise self._section_too_large(_HEAD)
        eol = data.find(b"\r\n", pos)
        known = _common_status_lines.get(data[pos:eol])
        if known is not None and eol - pos <= self.max_line_size:
            version, status, reason = known
        else:
            version, status, reason = self._status_line(data, pos, eol)
        fields = _split_fields(data, eol + 2, term)  # _fields.parse_section, inlined
        if fields is None:
            fields = _fields.parse_section_slowly(data[eol + 2 : term], unfold=True, what="header")
        if len(fields) > self.max_header_count:
            self._check_count(len(fields))
        events.append(ResponseHead(status, reason, version, fields))
        if status < 200:
            if status == 101:
                return self._begin_body(SWITCHED, 0, data, head_end, end, events)
            # RFC 9110 §15.2: "A client MUST be able to parse one or more 1xx responses received
            # prior to a final response, even if the client does not expect one."
            self._interim += 1
            return head_end
        content_length = transfer_encoding = connection = None
        for name, value in fields:
            if len(name) in _RESPONSE_LENGTHS:  # most names are passed over unlowered
                name = name.lower()
                if name == b"content-length":
                    content_length = (
                        value if content_length is None else content_length + b"," + value
                    )
                elif name == b"connection":
                    connection = value if connection is None else connection + b"," + value
                elif name == b"transfer-encoding":
                    transfer_encoding = (
                        value if transfer_encoding is None else transfer_encoding + b"," + value
                    )
        if connection is None or connection == b"keep-alive":
            self._keep_alive = version != b"1.0" or connection is not None
        else:
            self._keep_alive = _fields.persistent(connection, version)
        method = self._method
        if method != b"GET":
            special = self._no_body_or_tunnel(method, status, version, transfer_encoding)
            if special >= 0:
                return self._begin_body(special, 0, data, head_end, end, events)
        elif status == 204 or status == 304:
            kind = self._no_body_or_tunnel(method, status, version, transfer_encoding)
            return self._begin_body(kind, 0, data, head_end, end, events)
        if (
            transfer_encoding is None
            and content_length is not None
            and content_length.isdigit()
            and len(content_length) < 19
            and self.max_body_size is None
        ):
            # The whole body is often here already: finish without a turn of the state loop.
            length = int(content_length)
            body_end = head_end + length
            if length and body_end <= end:
                events.append(data[head_end:body_end])
                events.append(_END)
                self._state = _DONE
                if body_end < end:
                    self._buf += data[body_end:]
                    self._keep_alive = False
                return -1
            return self._begin_body(
                LENGTH if length else NO_BODY, length, data, head_end, end, events
            )
        kind, length = _fields.framing(
            content_length,
            transfer_encoding,
            version,
            request=False,
            max_body_size=self.max_body_size,
        )
        return self._begin_body(kind, length, data, head_end, end, events)

    def _status_line(self, data: bytes, pos: int, eol: int) -> tuple[bytes, int, bytes]:
        """Parse a status line that is not one of the common ones."""
        match = _status_line(data, pos, eol)
        if match is None or eol - pos > self.max_line_size:
            raise _bad_status_line(data[pos:eol], self.max_line_size)
        version, code, reason = match.groups()
        status = int(code)
        if status < 100:
            # RFC 9110 §15: "Values outside the range 100..599 are invalid." 600..999 are kept
            # for the client to treat as 5xx, as the same section allows.
            raise RemoteProtocolError(f"invalid status code {status:03d} in the status line")
        return version, status, reason or b""

    def _no_body_or_tunnel(
        self, method: bytes, status: int, version: bytes, transfer_encoding: bytes | None
    ) -> int:
        """SWITCHED or NO_BODY where the request method or status decides, else -1."""
        # RFC 9110 §9.3.6: "Any 2xx (Successful) response indicates that the sender (and all
        # inbound proxies) will switch to tunnel mode immediately after the response header
        # section" -- a 204 to CONNECT included, so this goes first.
        if method == b"CONNECT" and status < 300:
            return SWITCHED
        # RFC 9112 §6.3 ¶1: a response to HEAD, any 1xx, 204 or 304 ends after its header
        # section, whatever its fields say.
        if method == b"HEAD" or status == 204 or status == 304:
            if transfer_encoding is not None and version == b"1.0":
                # RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding is treated "as if
                # the framing is faulty ... and close the connection after processing".
                self._keep_alive = False
            return NO_BODY
        return -1


def _bad_status_line(line: bytes, max_line_size: int) -> RemoteProtocolError:
    if len(line) > max_line_size:
        return RemoteProtocolError(f"status line exceeds the limit of {max_line_size} bytes")
    if b"\r" in line or b"\n" in line:
        return _bad_start_line(line, "status line", "")
    version = line.split(b" ", 1)[0]
    if version.startswith(b"HTTP/") and _rules.version_re.fullmatch(version) is None:
        return RemoteProtocolError(f"invalid HTTP version {show(version)} in the status line")
    if version.startswith(b"HTTP/") and not version.startswith(b"HTTP/1."):
        return RemoteProtocolError(f"unsupported HTTP version {show(version)} in the status line")
    return _bad_start_line(line, "status line", "'HTTP/1.1 <3-digit code> <reason>'")
