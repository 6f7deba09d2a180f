"""Incremental HTTP/1.1 parsing: the machinery shared by `ResponseParser` and `RequestParser`.

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

from .._exceptions import RemoteProtocolError
from . import _fields, _rules
from ._events import EndOfMessage, Event
from ._fields import CHUNKED, LENGTH, SWITCHED, UNTIL_CLOSE, show

__all__ = [
    "DEFAULT_MAX_CHUNK_LINE_SIZE",
    "DEFAULT_MAX_HEADER_COUNT",
    "DEFAULT_MAX_HEADER_SIZE",
    "DEFAULT_MAX_LINE_SIZE",
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
    _unfold = False  # obs-fold in fields: rejected, unless a role unfolds it

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
        self._init_role()

    def _init_role(self) -> None:
        """Set the attributes a role adds (a hook, so the limits are declared once)."""

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
    def body_remaining(self) -> int | None:
        """Body bytes still to come under Content-Length; 0 once the body is in; None while
        the rest is of unknown length (chunked, close-delimited) or the head is not in yet."""
        state = self._state
        if state == _LENGTH:
            return self._remaining
        if state >= _DONE:
            return 0
        return None

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
                    if not remaining:
                        self._state = _CHUNK_CRLF
                    return
                events.append(data[pos : pos + remaining])
                pos += remaining
                self._remaining = 0
                self._state = _CHUNK_CRLF
            elif state == _CHUNK_SIZE:
                pos = self._read_chunk_size(data, pos, end, events)
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

    def _read_chunk_size(self, data: bytes, pos: int, end: int, events: list[Event]) -> int:
        # Whole chunks (size line, data and CRLF all in this read) are taken here in a loop,
        # without a turn of the state loop per part.
        while True:
            pos = self._read_one_chunk_size(data, pos, end)
            if pos < 0 or self._state != _CHUNK_DATA:
                return pos
            stop = pos + self._remaining
            if stop + 2 > end or data[stop] != 0x0D or data[stop + 1] != 0x0A:
                return pos  # a part of it is still to come (or it is broken: _CHUNK_CRLF says)
            events.append(data[pos:stop])
            self._remaining = 0
            self._state = _CHUNK_SIZE
            pos = stop + 2

    def _read_one_chunk_size(self, data: bytes, pos: int, end: int) -> int:
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
        digits = data[pos:eol]
        # The usual line is hex digits alone: checked by stripping them (nothing must remain),
        # which costs less than the regex that extensions and whitespace need.
        if not digits or digits.strip(b"0123456789abcdefABCDEF"):
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
            self._check_count(len(trailers), "trailer")
        events.append(EndOfMessage(trailers))
        self._finish(data, term + 4, end)
        return -1

    def _check_count(self, count: int, what: str = "header") -> None:
        if count > self.max_header_count:
            raise RemoteProtocolError(
                f"{count} {what} fields exceed the limit of {self.max_header_count}",
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
