"""One HTTP/1.1 connection of the client: send a request, read its response, report reusability.

`Connection` joins a `Stream` to a `ResponseParser`. It never decides policy (retries, redirects,
pooling): it says what happened, precisely enough for the pool and the client to decide -- in
particular whether any byte of the response arrived before a failure (a request that failed on
a reused connection before that may be retried on a fresh one).

The body of a small response usually arrives with its head, in the same read: then
`read_body()` returns without waiting, and a whole exchange costs one write and one read.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterable, AsyncIterator, Callable
from typing import Any

from ._exceptions import LocalProtocolError, ReadTimeout, WriteError, WriteTimeout
from .protocol import (
    BodyWriter,
    EndOfMessage,
    Event,
    Fields,
    ResponseHead,
    ResponseParser,
)
from .streams import Stream

__all__ = ["Connection", "Origin"]

#: What a connection is for: (scheme, host, port), and for a route through a proxy, whatever
#: the client adds after those three to tell routes apart (the pool only compares them).
Origin = tuple[Any, ...]

# Reads are taken whole up to this size: asyncio's transports read up to 256 KiB at a time,
# and a smaller cap would cut (and copy) each of them.
_READ_SIZE = 2**20
_NO_EVENTS: list[Event] = []


class Connection:
    """A client connection to one origin, carrying one exchange at a time.

    Attributes:
        origin: the (scheme, host, port) it is connected to.
        requests: how many requests it has carried (the current one included).
        received: whether any byte of the current response has arrived.
        idle_since: the `time.monotonic()` it was last released, for keep-alive expiry.
        trailers: the trailer fields of the last chunked response.
        withheld: whether the body of the current request was left unsent (the server answered
            an `Expect: 100-continue` with a final status, or answered while the body was
            being sent and stopped reading it): the connection is not reused.
    """

    __slots__ = (
        "events",
        "idle_since",
        "index",
        "origin",
        "parser",
        "received",
        "requests",
        "stream",
        "trailers",
        "withheld",
    )

    def __init__(self, stream: Stream, origin: Origin, **limits: Any) -> None:
        self.stream = stream
        self.origin = origin
        self.withheld = False
        self.parser = ResponseParser(**limits)
        self.requests = 0
        self.received = False
        self.idle_since = 0.0
        self.events: list[Event] = _NO_EVENTS
        self.index = 0
        self.trailers: Fields | tuple[()] = ()

    # -- state ----------------------------------------------------------------------------------

    @property
    def reusable(self) -> bool:
        """True when the last exchange ended cleanly and both sides keep the connection."""
        parser = self.parser
        return (
            parser.complete
            and parser.keep_alive
            and not parser.switched
            and self.stream.clean
            and not self.withheld
        )

    @property
    def stale(self) -> bool:
        """True when an idle connection can no longer be used: the server closed it or sent
        something nobody asked for. Checked before each reuse."""
        return not self.stream.clean

    def close(self) -> None:
        """Drop the connection at once (no graceful close: it is not to be reused)."""
        self.stream.abort()

    async def aclose(self) -> None:
        """Close gracefully (flushing what was written)."""
        await self.stream.aclose()

    # -- one exchange ---------------------------------------------------------------------------

    async def send(
        self,
        method: bytes,
        head: bytes,
        fields: Fields | None,
        body: bytes | AsyncIterable[bytes] | None,
        *,
        read_timeout: float | None,
        write_timeout: float | None,
        expect_continue: float | None = None,
        on_sent: Callable[[], None] | None = None,
    ) -> ResponseHead:
        """Send a request and read the head of its final response (1xx interim ones skipped).

        `head` is the request's head as `encode_request_head` makes it from `fields`, which
        must frame a body: Content-Length, or Transfer-Encoding: chunked for a stream of
        unknown length (the fields are needed only for a stream).

        With `expect_continue` (seconds), the head carries `Expect: 100-continue` and the body
        waits for the server's 100 (Continue), or that many seconds without an answer, before
        it is sent. RFC 9110 §10.1.1: a client that "receives a final status code instead
        [...] SHOULD NOT send the content"; it is then withheld, and the connection closed
        after the response. `on_sent` is called once the whole request is written.

        When writing fails but the server has already answered (a 413 to a body it will not
        read, then a reset), that answer is returned instead of the write error, and the
        connection is not reused (`withheld`).

        Raises:
            LocalProtocolError: the request cannot be sent safely, or its body does not match
                its framing.
            WriteError, WriteTimeout: sending failed.
            ReadError, ReadTimeout, RemoteProtocolError: the response did not come, or came
                malformed (`received` tells whether any byte of it arrived).
        """
        stream = self.stream
        self.parser.start_response(method)
        self.requests += 1
        self.received = False
        self.trailers = ()
        try:
            if expect_continue is not None and body:
                await stream.write_all(head, timeout=write_timeout)
                final = await self._await_continue(expect_continue, read_timeout)
                if final is not None:
                    self.withheld = True
                    return final
                head = b""
            if body is None or isinstance(body, bytes):
                await stream.write_all(head + body if body else head, timeout=write_timeout)
            else:
                if fields is None:
                    raise TypeError("a streamed body needs the fields that frame it")
                await self._send_stream(head, fields, body, write_timeout)
        except (WriteError, WriteTimeout):
            final = await self._early_response()
            if final is None:
                raise
            self.withheld = True
            return final
        if on_sent is not None:
            on_sent()
        # The final head; interim 1xx responses are passed over (RFC 9110 §15.2).
        parser = self.parser
        while True:
            final = self._next_head(False)
            if final is not None:
                return final
            data = await stream.read_some(_READ_SIZE, timeout=read_timeout)
            if data:
                self.received = True
                self.events = parser.feed(data)
            else:
                self.events = parser.feed_eof()  # raises: closed before the (final) head
            self.index = 0

    async def _early_response(self) -> ResponseHead | None:
        """After a write failed: the final head the server sent before it stopped reading, if
        the whole of it has arrived; else None.

        RFC 9112 §9.5: "A client sending a message body SHOULD monitor the network connection
        for an error response while it is transmitting the request." A server that refuses a
        large body (413, 401...) answers at once and closes, often with a reset, since the
        body is left unread: the write then fails, but the answer is already in the buffer,
        and it says more than "connection reset" does. Only what has arrived is read: the
        connection is dead or stalled, so waiting for more would only delay the write error.

        Raises:
            RemoteProtocolError: what arrived is not a valid response.
        """
        stream = self.stream
        parser = self.parser
        while stream.buffered:
            # Returns at once: the bytes are buffered.
            data = await stream.read_some(_READ_SIZE)
            self.received = True
            self.events = parser.feed(data)
            self.index = 0
            final = self._next_head(False)
            if final is not None:
                return final
        return None

    def _next_head(self, continue_too: bool) -> ResponseHead | None:
        """The next head among the parsed events that ends a wait: a final one or a 101, and
        with `continue_too` a 100 (Continue); other interim ones are passed over."""
        events = self.events
        index = self.index
        while index < len(events):
            event = events[index]
            index += 1
            if type(event) is ResponseHead:
                status = event.status_code
                if status >= 200 or status == 101 or (continue_too and status == 100):
                    self.index = index
                    return event
        self.index = index
        return None

    async def _await_continue(self, wait: float, read_timeout: float | None) -> ResponseHead | None:
        """After a head with `Expect: 100-continue`: None once the body may go (a 100 came, or
        nothing within `wait` seconds), or the final head that came instead."""
        stream = self.stream
        parser = self.parser
        give_up = time.monotonic() + wait
        while True:
            head = self._next_head(True)
            if head is not None:
                return None if head.status_code == 100 else head
            left = give_up - time.monotonic()
            if left <= 0:
                return None
            timeout = left if read_timeout is None else min(left, read_timeout)
            try:
                data = await stream.read_some(_READ_SIZE, timeout=timeout)
            except ReadTimeout:
                if time.monotonic() < give_up:
                    raise  # the read timeout, shorter than the wait, passed
                return None
            if data:
                self.received = True
                self.events = parser.feed(data)
            else:
                self.events = parser.feed_eof()  # raises: closed before any answer
            self.index = 0

    async def _send_stream(
        self,
        head: bytes,
        fields: Fields,
        body: AsyncIterable[bytes],
        write_timeout: float | None,
    ) -> None:
        stream = self.stream
        writer = BodyWriter(fields)
        await stream.write_all(head, timeout=write_timeout)
        async for piece in body:
            if piece:
                await stream.write_all(writer.write(bytes(piece)), timeout=write_timeout)
        tail = writer.end()
        if tail:
            await stream.write_all(tail, timeout=write_timeout)

    def take_body(self, max_size: int | None = None) -> bytes | None:
        """The whole body if it has arrived (with the head, for most small responses), taken
        without waiting; else None, and `read_body` reads it."""
        events = self.events
        index = self.index
        left = len(events) - index
        if left == 2:
            body, end = events[index], events[index + 1]
        elif left == 1:
            body, end = b"", events[index]
        else:
            return None
        if (
            type(end) is not EndOfMessage
            or type(body) is not bytes
            or (max_size is not None and len(body) > max_size)
        ):
            return None
        self.trailers = end.trailers
        self.events = _NO_EVENTS
        self.index = 0
        return body

    async def read_body(
        self,
        read_timeout: float | None,
        max_size: int | None = None,
        deadline: float | None = None,
    ) -> bytes:
        """The rest of the body, in one piece.

        `read_timeout` bounds each wait for data; `deadline` (`time.monotonic()`) the whole body.

        Raises:
            ReadError, ReadTimeout, RemoteProtocolError: as for `send`.
            LocalProtocolError: the body grew past `max_size`.
        """
        parts: list[bytes] = []
        size = 0
        stream = self.stream
        parser = self.parser
        while True:
            events = self.events
            index = self.index
            while index < len(events):
                event = events[index]
                index += 1
                if type(event) is bytes:
                    parts.append(event)
                    size += len(event)
                    if max_size is not None and size > max_size:
                        self.index = index
                        raise LocalProtocolError(
                            f"the response body exceeds the limit of {max_size} bytes"
                        )
                else:
                    assert isinstance(event, EndOfMessage)
                    self.trailers = event.trailers
                    self.events = _NO_EVENTS
                    self.index = 0
                    return parts[0] if len(parts) == 1 else b"".join(parts)
            data = await stream.read_some(_READ_SIZE, timeout=_until(read_timeout, deadline))
            self.events = parser.feed(data) if data else parser.feed_eof()
            self.index = 0

    async def body_chunks(
        self, read_timeout: float | None, deadline: float | None = None
    ) -> AsyncIterator[bytes]:
        """The rest of the body, as it arrives (bounds as for `read_body`)."""
        stream = self.stream
        parser = self.parser
        while True:
            events = self.events
            while self.index < len(events):
                event = events[self.index]
                self.index += 1
                if type(event) is bytes:
                    yield event
                else:
                    assert isinstance(event, EndOfMessage)
                    self.trailers = event.trailers
                    self.events = _NO_EVENTS
                    self.index = 0
                    return
            data = await stream.read_some(_READ_SIZE, timeout=_until(read_timeout, deadline))
            self.events = parser.feed(data) if data else parser.feed_eof()
            self.index = 0

    def __repr__(self) -> str:
        scheme, host, port = self.origin[:3]
        state = "reusable" if self.reusable else "busy or closing"
        return f"<Connection {scheme}://{host}:{port} {state}, {self.requests} request(s)>"


def _until(timeout: float | None, deadline: float | None) -> float | None:
    """A read's timeout, cut to what is left before `deadline`."""
    if deadline is None:
        return timeout
    left = max(0.0, deadline - time.monotonic())
    return left if timeout is None else min(timeout, left)
