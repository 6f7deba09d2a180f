"""The wire side of `FakeProxy`: reading each side's messages, passing fields on, splicing a
tunnel, and the checks on where a request may go.

Nothing here knows about the proxy's settings or its log; `_proxy` decides, this relays.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import collections
import hmac
import ipaddress
from collections.abc import Sequence
from typing import Generic, TypeVar

import aioreq
from aioreq.protocol import (
    BodyWriter,
    EndOfMessage,
    Event,
    Fields,
    RequestParser,
    ResponseParser,
    encode_response_head,
)
from aioreq.streams import Stream, open_tcp_stream

__all__ = [
    "CONNECT_TIMEOUT",
    "Connection",
    "Origin",
    "OriginFailed",
    "Reader",
    "absolute_form",
    "authorized",
    "close_stream",
    "forwarded_fields",
    "has_length",
    "is_chunked",
    "is_loopback",
    "reply",
    "send_body",
    "send_to_origin",
    "skip_body",
    "splice",
]

#: Seconds to connect to an origin. Destinations are on the loopback: a connection that takes
#: longer is not coming.
CONNECT_TIMEOUT = 5.0
_READ_SIZE = 2**16
_VIA = (b"Via", b"1.1 pytest_aioreq")

# RFC 9110 §7.6.1: "intermediaries SHOULD remove or replace fields that are known to require
# removal before forwarding, whether or not they appear as a connection-option ... This
# includes but is not limited to: Proxy-Connection, Keep-Alive, TE, Transfer-Encoding, Upgrade".
# Proxy-Authorization is consumed by the proxy (RFC 9110 §11.7.2), so it does not go on either.
_HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"proxy-connection",
        b"keep-alive",
        b"te",
        b"transfer-encoding",
        b"upgrade",
        b"proxy-authorization",
    }
)
# Fields a Connection option may not remove here: the proxy frames and addresses by them.
_KEPT = frozenset({b"content-length", b"host"})

_P = TypeVar("_P", RequestParser, ResponseParser)


class OriginFailed(Exception):
    """The origin failed before the head of its answer: the client can still get a 502."""


async def send_to_origin(origin: Stream, data: bytes) -> None:
    """Write to the origin; a failure is the origin's (a kept connection it closed, say).

    Raises:
        OriginFailed: the write failed.
    """
    try:
        await origin.write_all(data)
    except aioreq.WriteError as exc:
        raise OriginFailed(str(exc)) from exc


class Reader(Generic[_P]):
    """The events of one side's parser, read from its stream as they are needed."""

    __slots__ = ("events", "parser", "stream")

    def __init__(self, stream: Stream, parser: _P) -> None:
        self.stream = stream
        self.parser: _P = parser
        self.events: collections.deque[Event] = collections.deque()

    async def next(self) -> Event | None:
        """The next event, or None when the peer closed between messages.

        Raises:
            RemoteProtocolError: the peer broke HTTP/1.1 or closed inside a message.
            ReadError: the connection failed.
        """
        events = self.events
        while not events:
            data = await self.stream.read_some(_READ_SIZE)
            if data:
                events.extend(self.parser.feed(data))
            else:
                events.extend(self.parser.feed_eof())
                if not events:
                    return None
        return events.popleft()


class Origin:
    """A connection from the proxy to an origin, kept for the next request to the same one."""

    __slots__ = ("key", "reader", "stream", "stream_reusable")

    def __init__(self, key: tuple[str, int], stream: Stream) -> None:
        self.key = key
        self.stream = stream
        self.reader = Reader(stream, ResponseParser())
        self.stream_reusable = False

    @property
    def reusable(self) -> bool:
        parser = self.reader.parser
        return parser.complete and parser.keep_alive and not self.reader.events


class Connection:
    """One client connection to the proxy, and the origin connection it last used."""

    __slots__ = ("client", "number", "origin", "stream")

    def __init__(self, stream: Stream, number: int) -> None:
        self.stream = stream
        self.number = number
        self.client = Reader(stream, RequestParser())
        self.origin: Origin | None = None

    async def origin_for(self, host: str, port: int, method: bytes) -> Origin:
        """A connection to host:port ready for a response to `method`: the last one if it
        may carry another exchange, else a new one.

        Raises:
            ConnectError, ConnectTimeout: the origin cannot be reached.
        """
        origin = self.origin
        if origin is not None:
            if origin.key == (host, port) and origin.stream_reusable and origin.stream.clean:
                origin.stream_reusable = False
                origin.reader.parser.start_response(method)
                return origin
            await self.close_origin(graceful=True)
        stream = await open_tcp_stream(host, port, connect_timeout=CONNECT_TIMEOUT)
        origin = self.origin = Origin((host, port), stream)
        origin.reader.parser.start_response(method)
        return origin

    async def close_origin(self, *, graceful: bool) -> None:
        origin, self.origin = self.origin, None
        if origin is not None:
            await close_stream(origin.stream, graceful=graceful)


async def skip_body(client: Reader[RequestParser]) -> None:
    """Read the rest of the current request and drop it."""
    while True:
        event = await client.next()
        if event is None or isinstance(event, EndOfMessage):
            return


async def send_body(client: Reader[RequestParser], origin: Stream, writer: BodyWriter) -> None:
    """Pass the client's request body on to the origin, framed for it."""
    try:
        while True:
            event = await client.next()
            if isinstance(event, bytes):
                await origin.write_all(writer.write(event))
            elif isinstance(event, EndOfMessage):
                trailers = event.trailers if writer.chunked else ()
                await origin.write_all(writer.end(trailers))
                return
            else:
                raise aioreq.RemoteProtocolError("the client closed inside its request body")
    except BaseException:
        # The origin waits for the rest, which will not come: unblock the answer's reader.
        origin.abort()
        raise


async def splice(client: Stream, origin: Stream) -> None:
    """Relay bytes both ways until both sides have closed.

    A side's EOF is passed on as a half-close (the other side may still be sending); a failure
    on either side ends both directions at once.
    """

    async def pump(source: Stream, sink: Stream) -> None:
        try:
            while True:
                data = await source.read_some(_READ_SIZE)
                if not data:
                    break
                await sink.write_all(data)
            await sink.send_eof()
        except aioreq.TransportError:
            client.abort()
            origin.abort()

    await asyncio.gather(pump(client, origin), pump(origin, client))


async def close_stream(stream: Stream, *, graceful: bool) -> None:
    """Close a stream: let its output drain, or at once (a failure, a cancellation)."""
    if graceful:
        await stream.aclose()
    else:
        stream.abort()


async def reply(
    stream: Stream,
    status: int,
    text: str,
    *,
    close: bool,
    fields: Sequence[tuple[bytes, bytes]] = (),
) -> None:
    """Answer with a short text/plain body of the proxy's own."""
    body = text.encode()
    head = [
        *fields,
        (b"Content-Type", b"text/plain; charset=utf-8"),
        (b"Content-Length", b"%d" % len(body)),
        _VIA,
    ]
    if close:
        head.append((b"Connection", b"close"))
    await stream.write_all(encode_response_head(status, head) + body)


def forwarded_fields(fields: Fields, *, chunked: bool) -> Fields:
    """The fields of a message to pass on: end-to-end fields only, the proxy's Via added, and
    chunked framing if asked for.

    RFC 9110 §7.6.1: "a proxy or gateway MUST parse a received Connection header field before
    a message is forwarded and, for each connection-option in this field, remove any header or
    trailer field(s) from the message with the same name as the connection-option, and then
    remove the Connection header field itself".
    """
    dropped = set(_HOP_BY_HOP)
    for name, value in fields:
        if name.lower() == b"connection":
            dropped.update(option.strip().lower() for option in value.split(b","))
    dropped -= _KEPT
    if is_chunked(fields):
        # RFC 9112 §6.3: Transfer-Encoding "overrides the Content-Length", which goes.
        dropped.add(b"content-length")
    kept = [(name, value) for name, value in fields if name.lower() not in dropped]
    # RFC 9110 §7.6.3: "A proxy MUST send an appropriate Via header field ... in each message
    # that it forwards."
    kept.append(_VIA)
    if chunked:
        kept.append((b"Transfer-Encoding", b"chunked"))
    return kept


def is_chunked(fields: Fields) -> bool:
    """Whether the message came with a transfer coding (the parsers accept only chunked)."""
    return any(name.lower() == b"transfer-encoding" for name, _ in fields)


def has_length(fields: Fields) -> bool:
    return any(name.lower() == b"content-length" for name, _ in fields)


def absolute_form(target: bytes) -> tuple[str, int, bytes, bytes]:
    """Split an http:// absolute-form target into host, port, authority and origin-form.

    RFC 9112 §3.2.2: "When making a request to a proxy, other than a CONNECT or server-wide
    OPTIONS request ..., a client MUST send the target URI in absolute-form as the
    request-target." The origin-form sent on keeps the path and query bytes as they came.

    Raises:
        ValueError: not an http:// URI with a host (origin-form, https://, a bad port).
    """
    shown = target.decode("latin-1")
    if target[:7].lower() != b"http://":
        if target.startswith(b"/") or target == b"*":
            raise ValueError(f"a proxy needs an absolute-form target (http://...), not {shown!r}")
        raise ValueError(f"only http:// targets are forwarded (CONNECT for https), not {shown!r}")
    rest = target[7:]
    end = len(rest)
    for delimiter in (b"/", b"?", b"#"):
        index = rest.find(delimiter)
        if 0 <= index < end:
            end = index
    authority = rest[:end].rpartition(b"@")[2]  # userinfo is not sent on (RFC 9110 §4.2.4)
    path = rest[end:].partition(b"#")[0]
    if not path.startswith(b"/"):
        path = b"/" + path
    text = authority.decode("latin-1")
    if text.startswith("["):
        host, _, port = text[1:].partition("]")
        port = port[1:] if port.startswith(":") else port
    else:
        host, _, port = text.partition(":")
    if not host:
        raise ValueError(f"no host in {shown!r}")
    if port and not (port.isdigit() and 0 < int(port) < 65536):
        raise ValueError(f"invalid port {port!r} in {shown!r}")
    return host, int(port or 80), authority, path


def is_loopback(host: str) -> bool:
    """Whether `host` is a loopback address or "localhost" (no name is resolved for this)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def authorized(fields: Fields, credentials: bytes) -> bool:
    """Whether `Proxy-Authorization: Basic ...` carries these user:password bytes."""
    for name, value in fields:
        if name.lower() != b"proxy-authorization":
            continue
        scheme, _, token = value.strip().partition(b" ")
        if scheme.lower() != b"basic":
            return False
        try:
            decoded = base64.b64decode(token.strip(), validate=True)
        except binascii.Error:
            return False
        return hmac.compare_digest(decoded, credentials)
    return False
