"""Incremental HTTP/1.1 parsers: `ResponseParser` (client role) and `RequestParser` (server role).

How they work, and the rules they keep:

* Bytes go in through `feed(data)`, which returns the events the bytes completed: a head, body
  `bytes`, an `EndOfMessage`. Reads can be split anywhere; the events (joined body aside) do not
  depend on where. `feed_eof()` says the peer closed; it ends a close-delimited body and raises
  for a message cut short.
* A head is parsed only once its empty line has arrived. Until then the bytes wait in one
  bytearray, and the search for the end resumes where the last one stopped, so a head that
  trickles in a byte at a time costs linear, not quadratic, time. Limits are checked on the
  partial head too, so an endless head fails at its limit rather than growing the buffer.
* Body bytes are never buffered: each `feed` hands back slices of what it was given (or the
  object itself when a read is all body). Only framing lines (chunk sizes, trailers) may wait.
* After a message ends the parser stops at DONE and keeps any further bytes. A client that finds
  bytes after a response must not reuse the connection (`keep_alive` turns False); a server
  reads them as the next pipelined request when it calls `next_request()`.
* Every fault raises `RemoteProtocolError` naming the fault and the offending value, with the
  status a server should answer (`status_hint`); the parser is then dead and says so if fed again.

Framing follows RFC 9112 §6.3 and persistence §9.3 (see `_fields`); each check quotes its rule.
"""

from __future__ import annotations

from .._exceptions import LocalProtocolError, RemoteProtocolError
from . import _fields, _rules
from ._events import EndOfMessage, Event, RequestHead, ResponseHead
from ._fields import CHUNKED, LENGTH, NO_BODY, SWITCHED, UNTIL_CLOSE, show

__all__ = [
    "DEFAULT_MAX_CHUNK_LINE_SIZE",
    "DEFAULT_MAX_HEADER_COUNT",
    "DEFAULT_MAX_HEADER_SIZE",
    "DEFAULT_MAX_LINE_SIZE",
    "RequestParser",
    "ResponseParser",
]

#: Longest request line or status line, in bytes (a longer request line gets 414).
DEFAULT_MAX_LINE_SIZE = 8 * 1024
#: Largest header section (start line and fields) or trailer section, in bytes (431).
DEFAULT_MAX_HEADER_SIZE = 64 * 1024
#: Most field lines in one header or trailer section (431).
DEFAULT_MAX_HEADER_COUNT = 256
#: Longest chunk-size line, extensions included, in bytes.
DEFAULT_MAX_CHUNK_LINE_SIZE = 4 * 1024

#: The end of a message without trailers: one shared instance, since it carries nothing.
_END = EndOfMessage(())

_status_line = _rules.status_line_re.fullmatch
_common_status_lines = _rules.common_status_lines
_findall_fields = _fields._findall_fields
_RESPONSE_LENGTHS = _fields._RESPONSE_LENGTHS

# States. Small ints, compared in order of how often they are hit.
_HEAD = 0
_LENGTH = 1
_CHUNK_SIZE = 2
_CHUNK_DATA = 3
_CHUNK_CRLF = 4
_TRAILERS = 5
_UNTIL_CLOSE = 6
_DONE = 7  # the message ended; further bytes are kept
_SWITCHED = 8  # 101 or a 2xx to CONNECT: further bytes belong to another protocol
_ERROR = 9


class _Parser:
    """The body framing shared by both roles; subclasses read the head."""

    __slots__ = (
        "_buf",
        "_error",
        "_keep_alive",
        "_length",
        "_received",
        "_remaining",
        "_scan",
        "_state",
        "max_body_size",
        "max_chunk_line_size",
        "max_header_count",
        "max_header_size",
        "max_line_size",
    )

    _role = "message"

    def __init__(
        self,
        *,
        max_line_size: int = DEFAULT_MAX_LINE_SIZE,
        max_header_size: int = DEFAULT_MAX_HEADER_SIZE,
        max_header_count: int = DEFAULT_MAX_HEADER_COUNT,
        max_chunk_line_size: int = DEFAULT_MAX_CHUNK_LINE_SIZE,
        max_body_size: int | None = None,
    ) -> None:
        self.max_line_size = max_line_size
        self.max_header_size = max_header_size
        self.max_header_count = max_header_count
        self.max_chunk_line_size = max_chunk_line_size
        self.max_body_size = max_body_size
        self._buf = bytearray()
        self._scan = 0
        self._state = _HEAD
        self._remaining = 0
        self._length = 0
        self._received = 0
        self._keep_alive = True
        self._error = ""

    # -- public state ---------------------------------------------------------------------------

    @property
    def keep_alive(self) -> bool:
        """Whether the connection may carry another message after this one.

        Meaningful once the head has been parsed. False when the message said `close` (or was
        HTTP/1.0 without `keep-alive`), was delimited by the close, switched protocols, or was
        followed by bytes nobody asked for (client role).
        """
        return self._keep_alive

    @property
    def in_progress(self) -> bool:
        """True while part of a message has arrived and the rest has not."""
        state = self._state
        if state == _HEAD:
            return bool(self._buf)
        return state < _DONE

    @property
    def complete(self) -> bool:
        """True once the current message has ended (EndOfMessage was returned)."""
        return self._state in (_DONE, _SWITCHED)

    @property
    def switched(self) -> bool:
        """True after a 101 response or a 2xx answer to CONNECT: the rest is not HTTP."""
        return self._state == _SWITCHED

    @property
    def trailing_data(self) -> bytes:
        """Bytes received after the end of the message (pipelined, or of a switched protocol)."""
        if self._state in (_DONE, _SWITCHED):
            return bytes(self._buf)
        return b""

    # -- feeding --------------------------------------------------------------------------------

    def feed(self, data: bytes) -> list[Event]:
        """Parse bytes received from the peer.

        Args:
            data: the bytes of one read, of any size.

        Returns:
            The events these bytes completed, in order: a head, body `bytes`, `EndOfMessage`.

        Raises:
            RemoteProtocolError: the bytes break HTTP/1.1 or a limit; the parser is then dead.
        """
        state = self._state
        buf = self._buf
        if state >= _DONE:
            if state == _ERROR:
                raise RemoteProtocolError(f"the parser already failed: {self._error}")
            if data:
                buf += data
                self._after_message_bytes()
            return []
        events: list[Event] = []
        try:
            if buf:
                buf += data
                # A head or trailer section still waiting for its empty line is searched from
                # where the last search stopped, and only the new bytes are checked: a section
                # that trickles in a byte at a time costs linear time.
                if state in (_HEAD, _TRAILERS) and buf.find(b"\r\n\r\n", self._scan) < 0:
                    self._check_partial_section(state)
                    return events
                self._scan = 0
                data = bytes(buf)
                buf.clear()
                self._run(data, 0, events)
            elif state == _HEAD:
                # The usual read: a whole head, often with its body. One call less than _run.
                pos = self._read_head(data, 0, len(data), events)
                if pos >= 0:
                    self._run(data, pos, events)
            else:
                self._run(data, 0, events)
        except RemoteProtocolError as exc:
            self._fail(exc)
            raise
        return events

    def feed_eof(self) -> list[Event]:
        """Tell the parser that the peer closed its side of the connection.

        Returns:
            `[EndOfMessage]` when the close ends a close-delimited body, else `[]`.

        Raises:
            RemoteProtocolError: the close cut a message short (a truncated head or body).
        """
        state = self._state
        if state == _UNTIL_CLOSE:
            self._state = _DONE
            self._keep_alive = False
            return [_END]
        if state >= _DONE:
            if state == _ERROR:
                raise RemoteProtocolError(f"the parser already failed: {self._error}")
            return []
        self._keep_alive = False
        if state == _HEAD:
            error = self._eof_in_head()
            if error is None:
                return []
        elif state == _LENGTH:
            error = RemoteProtocolError(
                f"connection closed with {self._remaining} of {self._length} body bytes "
                "not received"
            )
        else:
            error = RemoteProtocolError(
                f"connection closed inside a chunked body after {self._received} bytes"
            )
        self._fail(error)
        raise error

    # -- internals ------------------------------------------------------------------------------

    def _fail(self, exc: RemoteProtocolError) -> None:
        self._state = _ERROR
        self._error = str(exc)
        self._keep_alive = False
        self._buf.clear()

    def _after_message_bytes(self) -> None:
        """Bytes arrived after the message ended (role-specific)."""

    def _eof_in_head(self) -> RemoteProtocolError | None:
        raise NotImplementedError

    def _read_head(self, data: bytes, pos: int, end: int, events: list[Event]) -> int:
        raise NotImplementedError

    def _keep_partial_section(self, data: bytes, pos: int, end: int, state: int) -> int:
        """Keep the start of a head or trailer section whose empty line has not arrived."""
        self._buf += data if pos == 0 and end == len(data) else data[pos:end]
        self._scan = 0
        self._check_partial_section(state)
        return -1

    def _check_partial_section(self, state: int) -> None:
        """Check the limits on the part of a section that is buffered.

        The limits are those a whole section gets, so that where the reads split the bytes
        never changes the outcome: a section of `max_header_size` bytes or more that still
        lacks its end will exceed the limit, and a first line is measured without its CRLF.
        `self._scan` is where the next search for the end resumes; the bytes before it were
        checked already.
        """
        buf = self._buf
        size = len(buf)
        if not size:
            return
        if size >= self.max_header_size:
            raise self._section_too_large(state)
        if state == _HEAD:
            line = size - 1 if buf[-1] == 0x0D else size  # a CR here may begin the CRLF
            if line > self.max_line_size and buf.find(b"\r\n") < 0:
                raise self._line_too_long()
        # A section that uses bare LF would never show "\r\n\r\n": name the fault now rather
        # than wait for the size limit. Only the bytes not checked before are counted.
        scan = self._scan
        if buf.count(b"\n", scan) != buf.count(b"\r\n", scan - 1 if scan else 0):
            what = f"{self._role} head" if state == _HEAD else "trailer section"
            raise RemoteProtocolError(f"bare LF in the {what}: {show(bytes(buf))}")
        self._scan = size - 3 if size > 3 else 0

    def _section_too_large(self, state: int) -> RemoteProtocolError:
        what = f"{self._role} head" if state == _HEAD else "trailer section"
        return RemoteProtocolError(
            f"{what} exceeds the limit of {self.max_header_size} bytes", status_hint=431
        )

    def _line_too_long(self) -> RemoteProtocolError:
        return RemoteProtocolError(
            f"{self._role} line exceeds the limit of {self.max_line_size} bytes"
        )

    def _finish(self, data: bytes, pos: int, end: int) -> None:
        self._state = _DONE
        if pos < end:
            self._buf += data[pos:end]
            self._after_message_bytes()

    def _run(self, data: bytes, pos: int, events: list[Event]) -> None:
        end = len(data)
        while True:
            state = self._state
            if state == _HEAD:
                if pos == end:
                    return
                pos = self._read_head(data, pos, end, events)
                if pos < 0:
                    return
            elif state == _LENGTH:
                remaining = self._remaining
                avail = end - pos
                if avail < remaining:
                    if avail:
                        events.append(data if pos == 0 else data[pos:])
                        self._remaining = remaining - avail
                    return
                events.append(data[pos : pos + remaining])
                pos += remaining
                self._remaining = 0
                events.append(_END)
                self._finish(data, pos, end)
                return
            elif state == _CHUNK_DATA:
                remaining = self._remaining
                avail = end - pos
                if avail <= remaining:
                    if avail:
                        events.append(data if pos == 0 else data[pos:])
                    remaining -= avail
                    self._remaining = remaining
                    if remaining:
                        return
                    self._state = _CHUNK_CRLF
                    return
                events.append(data[pos : pos + remaining])
                pos += remaining
                self._remaining = 0
                self._state = _CHUNK_CRLF
            elif state == _CHUNK_SIZE:
                pos = self._read_chunk_size(data, pos, end)
                if pos < 0:
                    return
            elif state == _CHUNK_CRLF:
                if end - pos >= 2:
                    if data[pos : pos + 2] != b"\r\n":
                        # RFC 9112 §7.1: chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
                        raise RemoteProtocolError(
                            f"chunk data not followed by CRLF: {show(data[pos : pos + 8])}"
                        )
                    pos += 2
                    self._state = _CHUNK_SIZE
                else:
                    if pos < end:
                        if data[pos] != 0x0D:
                            raise RemoteProtocolError(
                                f"chunk data not followed by CRLF: {show(data[pos:end])}"
                            )
                        self._buf += data[pos:end]
                    return
            elif state == _TRAILERS:
                pos = self._read_trailers(data, pos, end, events)
                if pos < 0:
                    return
            elif state == _UNTIL_CLOSE:
                if pos < end:
                    self._received += end - pos
                    limit = self.max_body_size
                    if limit is not None and self._received > limit:
                        raise RemoteProtocolError(
                            f"body exceeds the body size limit of {limit} bytes", status_hint=413
                        )
                    events.append(data if pos == 0 else data[pos:])
                return
            else:
                return

    def _begin_body(
        self, kind: int, length: int, data: bytes, pos: int, end: int, events: list[Event]
    ) -> int:
        """Enter the state for a body framed as `kind`; return where parsing goes on, or -1."""
        self._received = 0
        if kind == LENGTH:
            self._state = _LENGTH
            self._remaining = self._length = length
            return pos
        if kind == CHUNKED:
            self._state = _CHUNK_SIZE
            return pos
        if kind == UNTIL_CLOSE:
            self._keep_alive = False
            self._state = _UNTIL_CLOSE
            return pos
        events.append(_END)
        if kind == SWITCHED:
            self._keep_alive = False
            self._state = _SWITCHED
            if pos < end:
                self._buf += data[pos:end]
            return -1
        self._finish(data, pos, end)
        return -1

    def _read_chunk_size(self, data: bytes, pos: int, end: int) -> int:
        eol = data.find(b"\r\n", pos, end)
        if eol < 0:
            if pos == end:
                return -1
            # Measured without its CRLF, as a whole line is: a CR at the end may begin it.
            if end - pos - (data[end - 1] == 0x0D) > self.max_chunk_line_size:
                raise self._chunk_line_too_long()
            if data.find(b"\n", pos, end) >= 0:
                raise RemoteProtocolError(
                    f"chunk-size line ends in a bare LF: {show(data[pos:end])}"
                )
            self._buf += data[pos:end]
            return -1
        if eol - pos > self.max_chunk_line_size:
            raise self._chunk_line_too_long()
        match = _rules.chunk_line_re.fullmatch(data, pos, eol)
        if match is None:
            raise _bad_chunk_line(data[pos:eol])
        digits = match.group(1)
        if len(digits) > 16 and len(digits.lstrip(b"0")) > 16:
            raise RemoteProtocolError(f"chunk size {show(digits)} is too large", status_hint=413)
        size = int(digits, 16)
        if size == 0:
            # The CRLF that ends the last-chunk line stays: the trailer section is read as
            # "\r\n" + fields + "\r\n\r\n", the shape the field parser takes.
            self._state = _TRAILERS
            return eol
        self._received += size
        limit = self.max_body_size
        if limit is not None and self._received > limit:
            raise RemoteProtocolError(
                f"chunked body exceeds the body size limit of {limit} bytes", status_hint=413
            )
        self._remaining = size
        self._state = _CHUNK_DATA
        return eol + 2

    def _chunk_line_too_long(self) -> RemoteProtocolError:
        return RemoteProtocolError(
            f"chunk-size line exceeds the limit of {self.max_chunk_line_size} bytes"
        )

    def _read_trailers(self, data: bytes, pos: int, end: int, events: list[Event]) -> int:
        # RFC 9112 §7.1: chunked-body = *chunk last-chunk trailer-section CRLF
        if data.startswith(b"\r\n\r\n", pos):
            events.append(_END)
            self._finish(data, pos + 4, end)
            return -1
        term = data.find(b"\r\n\r\n", pos, end)
        if term < 0:
            return self._keep_partial_section(data, pos, end, _TRAILERS)
        if term + 4 - pos > self.max_header_size:
            raise self._section_too_large(_TRAILERS)
        trailers = _fields.parse_section(data, pos, term + 2, unfold=self._unfold, what="trailer")
        if len(trailers) > self.max_header_count:
            raise RemoteProtocolError(
                f"{len(trailers)} trailer fields exceed the limit of {self.max_header_count}",
                status_hint=431,
            )
        events.append(EndOfMessage(trailers))
        self._finish(data, term + 4, end)
        return -1

    _unfold = False

    def _check_count(self, count: int) -> None:
        if count > self.max_header_count:
            raise RemoteProtocolError(
                f"{count} header fields exceed the limit of {self.max_header_count}",
                status_hint=431,
            )


def _bad_chunk_line(line: bytes) -> RemoteProtocolError:
    """Name what is wrong with a chunk-size line that did not match the grammar."""
    if b"\n" in line:
        return RemoteProtocolError(f"bare LF in chunk-size line {show(line)}")
    if b"\r" in line:
        return RemoteProtocolError(f"bare CR in chunk-size line {show(line)}")
    size = line.split(b";", 1)[0].rstrip(b" \t")
    if not size:
        return RemoteProtocolError(f"chunk-size line without a size: {show(line)}")
    # RFC 9112 §7.1: chunk-size = 1*HEXDIG. No "0x" prefix, no sign, no whitespace before it.
    if not all(c in b"0123456789abcdefABCDEF" for c in size):
        return RemoteProtocolError(f"chunk size {show(size)} is not a hexadecimal number")
    return RemoteProtocolError(f"invalid chunk extension in {show(line)}")


def _bad_start_line(line: bytes, what: str, expected: str) -> RemoteProtocolError:
    if b"\r" in line:
        return RemoteProtocolError(f"bare CR in the {what}: {show(line)}")
    if b"\n" in line:
        return RemoteProtocolError(f"bare LF in the {what}: {show(line)}")
    return RemoteProtocolError(f"invalid {what} {show(line)}: expected {expected}")


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

    def __init__(
        self,
        *,
        max_line_size: int = DEFAULT_MAX_LINE_SIZE,
        max_header_size: int = DEFAULT_MAX_HEADER_SIZE,
        max_header_count: int = DEFAULT_MAX_HEADER_COUNT,
        max_chunk_line_size: int = DEFAULT_MAX_CHUNK_LINE_SIZE,
        max_body_size: int | None = None,
    ) -> None:
        super().__init__(
            max_line_size=max_line_size,
            max_header_size=max_header_size,
            max_header_count=max_header_count,
            max_chunk_line_size=max_chunk_line_size,
            max_body_size=max_body_size,
        )
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
        # The client's hottest function: written out straight, with the field scan of
        # _fields.response_fields and the common case of _fields.framing inlined.
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
        fields = _findall_fields(data, eol, term + 2)
        if len(fields) != data.count(b"\n", eol, term + 2) - 1:
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
            return self._no_body(status, version, transfer_encoding, data, head_end, end, events)
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

    def _no_body(
        self,
        status: int,
        version: bytes,
        transfer_encoding: bytes | None,
        data: bytes,
        pos: int,
        end: int,
        events: list[Event],
    ) -> int:
        kind = self._no_body_or_tunnel(b"GET", status, version, transfer_encoding)
        return self._begin_body(kind, 0, data, pos, end, events)


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


class RequestParser(_Parser):
    """Parse the requests a server receives on one connection.

    After a request ends the parser waits at DONE; `next_request()` goes on to the next one,
    parsing any pipelined bytes that already arrived.

    Args:
        max_line_size: longest request line (414 beyond it).
        max_header_size: largest header or trailer section (431).
        max_header_count: most field lines in a section (431).
        max_chunk_line_size: longest chunk-size line.
        max_body_size: largest body, or None for no limit (413).
    """

    __slots__ = ()

    _role = "request"

    def next_request(self) -> list[Event]:
        """Start on the next request of a persistent connection.

        Returns:
            The events of pipelined bytes that had already arrived.

        Raises:
            LocalProtocolError: the current request has not ended or the connection is closing.
            RemoteProtocolError: the pipelined bytes are malformed.
        """
        if self._state != _DONE:
            raise LocalProtocolError("cannot start the next request: this one has not ended")
        if not self._keep_alive:
            raise LocalProtocolError("cannot start the next request: the connection is closing")
        self._state = _HEAD
        self._scan = 0
        if not self._buf:
            return []
        data = bytes(self._buf)
        self._buf.clear()
        return self.feed(data)

    def _eof_in_head(self) -> RemoteProtocolError | None:
        received = len(self._buf)
        if not received or self._buf.strip(b"\r\n") == b"":
            return None
        return RemoteProtocolError(
            f"connection closed inside the request head after {received} bytes"
        )

    def _line_too_long(self) -> RemoteProtocolError:
        return RemoteProtocolError(
            f"request line exceeds the limit of {self.max_line_size} bytes", status_hint=414
        )

    def _read_head(self, data: bytes, pos: int, end: int, events: list[Event]) -> int:
        # RFC 9112 §2.2: "a server that is expecting to receive and parse a request-line SHOULD
        # ignore at least one empty line (CRLF) received prior to the request-line."
        while data.startswith(b"\r\n", pos):
            pos += 2
        if pos == end:
            return -1
        term = data.find(b"\r\n\r\n", pos, end)
        if term < 0:
            return self._keep_partial_section(data, pos, end, _HEAD)
        if term + 4 - pos > self.max_header_size:
            raise self._section_too_large(_HEAD)
        eol = data.find(b"\r\n", pos)
        if eol - pos > self.max_line_size:
            raise self._line_too_long()
        match = _rules.request_line_re.fullmatch(data, pos, eol)
        if match is None:
            raise _bad_request_line(data[pos:eol])
        method, target, version = match.groups()
        fields = _fields.parse_section(data, eol, term + 2, unfold=False, what="header")
        if len(fields) > self.max_header_count:
            self._check_count(len(fields))
        content_length, transfer_encoding, connection, hosts, expect = _fields.request_fields(
            fields
        )
        _check_target(method, target)
        if version != b"1.0" or hosts:
            _check_host(hosts)
        # RFC 9110 §10.1.1: "A server that receives a 100-continue expectation in an HTTP/1.0
        # request MUST ignore that expectation."
        expect_continue = (
            expect is not None
            and version != b"1.0"
            and b"100-continue" in _fields.list_items(expect)
        )
        events.append(RequestHead(method, target, version, fields, expect_continue))
        self._keep_alive = _fields.persistent(connection, version)
        kind, length = _fields.framing(
            content_length,
            transfer_encoding,
            version,
            request=True,
            max_body_size=self.max_body_size,
        )
        return self._begin_body(kind, length, data, term + 4, end, events)


def _bad_request_line(line: bytes) -> RemoteProtocolError:
    if b"\r" in line or b"\n" in line:
        return _bad_start_line(line, "request line", "")
    parts = line.split(b" ")
    if len(parts) == 3:
        method, _, version = parts
        if _rules.token_re.fullmatch(method) is None:
            return RemoteProtocolError(f"invalid method {show(method)} in the request line")
        if _rules.other_version_re.fullmatch(version) is not None:
            # RFC 9110 §15.6.6: 505 (HTTP Version Not Supported) is for a major version the
            # server does not support; anything that is not a version at all is a 400.
            return RemoteProtocolError(
                f"unsupported HTTP version {show(version)} in the request line", status_hint=505
            )
        if version.startswith(b"HTTP/") and _rules.version_re.fullmatch(version) is None:
            return RemoteProtocolError(f"invalid HTTP version {show(version)} in the request line")
    return _bad_start_line(line, "request line", "'<method> <target> HTTP/1.1'")


def _check_target(method: bytes, target: bytes) -> None:
    """Check the request-target against its four forms (RFC 9112 §3.2)."""
    if method == b"CONNECT":
        # RFC 9112 §3.2.3: "The authority-form of request-target is only used for CONNECT
        # requests ... authority-form = uri-host ":" port"
        if _rules.authority_form_re.fullmatch(target) is None:
            raise RemoteProtocolError(
                f"CONNECT needs a host:port request-target, not {show(target)}"
            )
    elif target[0] == 0x2F:  # "/": origin-form, the common case
        return
    elif target == b"*":
        # RFC 9112 §3.2.4: "The asterisk-form of request-target is only used for a server-wide
        # OPTIONS request".
        if method != b"OPTIONS":
            raise RemoteProtocolError(f"request-target '*' is only for OPTIONS, not {show(method)}")
    elif _rules.absolute_form_re.fullmatch(target) is None:
        raise RemoteProtocolError(f"invalid request-target {show(target)}")


def _check_host(hosts: list[bytes]) -> None:
    # RFC 9112 §3.2: "A server MUST respond with a 400 (Bad Request) status code to any HTTP/1.1
    # request message that lacks a Host header field and to any request message that contains
    # more than one Host header field line or a Host header field with an invalid field value."
    if not hosts:
        raise RemoteProtocolError("HTTP/1.1 request without a Host field")
    if len(hosts) > 1:
        raise RemoteProtocolError(f"{len(hosts)} Host fields in one request")
    if _rules.host_re.fullmatch(hosts[0]) is None:
        raise RemoteProtocolError(f"invalid Host {show(hosts[0])}")
