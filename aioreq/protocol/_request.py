"""The server role: `RequestParser`, which reads the requests of one connection, pipelined or not.

See `_parser` for the rules all parsers keep.
"""

from __future__ import annotations

from .._exceptions import LocalProtocolError, RemoteProtocolError
from . import _fields, _rules
from ._events import Event, RequestHead
from ._fields import show
from ._parser import (
    _DONE,
    _END,
    _HEAD,
    _bad_start_line,
    _Parser,
)

__all__ = ["RequestParser"]

_request_line = _rules.request_line_re.fullmatch
_split_fields = _fields.split_fields


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
        if pos == end or data[pos] == 0x0D:  # nothing, or empty lines first (rarely)
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
        match = _request_line(data, pos, eol)
        if match is None:
            raise _bad_request_line(data[pos:eol])
        method, target, version = match.groups()
        fields = _split_fields(data, eol + 2, term)  # _fields.parse_section, inlined
        if fields is None:
            fields = _fields.parse_section_slowly(data[eol + 2 : term], unfold=False, what="header")
        if len(fields) > self.max_header_count:
            self._check_count(len(fields))
        content_length, transfer_encoding, connection, hosts, expect = _fields.request_fields(
            fields
        )
        if target[0] != 0x2F or method == b"CONNECT":  # anything but the usual origin-form
            _check_target(method, target)
        if (len(hosts) != 1 or hosts[0] not in _valid_hosts) and (version != b"1.0" or hosts):
            _check_host(hosts)
        # RFC 9110 §10.1.1: "A server that receives a 100-continue expectation in an HTTP/1.0
        # request MUST ignore that expectation."
        expect_continue = (
            expect is not None
            and version != b"1.0"
            and b"100-continue" in _fields.list_items(expect)
        )
        events.append(RequestHead(method, target, version, fields, expect_continue))
        if connection is None:
            self._keep_alive = version != b"1.0"
        else:
            self._keep_alive = _fields.persistent(connection, version)
        if content_length is None and transfer_encoding is None:
            # RFC 9112 §6.3 ¶7: "If this is a request message and none of the above are true,
            # then the message body length is zero" -- the usual GET, spared the framing call.
            events.append(_END)
            self._state = _DONE  # _finish, inlined
            if term + 4 < end:
                self._buf += data[term + 4 : end]
                self._after_message_bytes()
            return -1
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
    if len(_valid_hosts) >= 256:
        _valid_hosts.clear()
    _valid_hosts[hosts[0]] = None


# Host values already found valid: a server sees the same few again and again.
_valid_hosts: dict[bytes, None] = {}
