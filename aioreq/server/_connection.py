"""One connection of the server: read requests, run the application, write the responses.

The loop, per connection (one task each, so a slow application never blocks another client):

1. Wait for a request head. Before its first byte the idle keep-alive timeout runs (the header
   timeout for a new connection); from the first byte the whole head must arrive within the
   header timeout, or the client gets 408 -- a slowloris client holds a task for that long at
   most.
2. Run the application. The body is read only if the application asks for it, and
   `Expect: 100-continue` is answered then, not before (RFC 9110 §10.1.1: the client waits for
   the 100 before it sends the body, and a server that does not want the body never sends it).
3. Write the response with the framing the client understands: Content-Length for bytes, chunked
   for a stream to an HTTP/1.1 client, close-delimited for a stream to an HTTP/1.0 client. A
   client that takes no data for the body timeout loses the connection (a slow reader, or a
   slow-read attack, never holds it).
4. Keep the connection if both sides want to and the request body was read; a small unread
   body is read and dropped, a large one (or a malformed one: its response is already out, so
   no second one may follow) costs the connection.

Bad requests get the protocol error's status hint (400, 413, 414, 431, 501) and the connection
is closed with a lingering close (RFC 9112 §9.6): the write side is shut first and what the
client still sends is read and dropped for a moment, so that the error response is not lost to
a TCP reset.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Coroutine, Generator
from email.utils import formatdate
from typing import TYPE_CHECKING, Any, cast

from .._exceptions import (
    LocalProtocolError,
    ReadError,
    ReadTimeout,
    RemoteProtocolError,
    TransportError,
    WriteError,
    WriteTimeout,
)
from .._headers import Headers
from ..protocol import (
    BodyWriter,
    EndOfMessage,
    Event,
    RequestHead,
    RequestParser,
    encode_response_head,
    reason_phrase,
)
from ..streams import Stream
from ._messages import RawResponse, Request, Response, _fields

if TYPE_CHECKING:
    from ._serve import Server

__all__: list[str] = []

logger = logging.getLogger("aioreq.server")

_READ_SIZE = 2**20  # whole transport reads, never cut and copied
# An unread request body up to this size is read and dropped to keep the connection.
_DRAIN_LIMIT = 2**16
_DRAIN_TIMEOUT = 1.0
# Lingering close: how long, and how many bytes, to read and drop before closing for good.
_LINGER_TIMEOUT = 1.0
_LINGER_LIMIT = 2**20

_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_BODYLESS = frozenset((204, 304))
# The lengths of the response field names the server looks at (framing, Date, Connection):
# a name of another length is passed over without being lowercased.
_FIELD_LENGTHS = frozenset(
    len(name) for name in (b"content-length", b"transfer-encoding", b"connection", b"date")
)

_date = [0, b""]


def http_date() -> bytes:
    """The Date field value for now (RFC 9110 §6.6.1), recomputed once a second."""
    now = int(time.time())
    if now != _date[0]:
        _date[0] = now
        _date[1] = formatdate(now, usegmt=True).encode("ascii")
    return _date[1]  # type: ignore[return-value]


class _HeadTimeout(Exception):
    """The request head (or body) did not arrive in time: answered with 408."""


class _Gone(Exception):
    """The client went away mid-exchange: nothing more to send."""


class _Resume:
    """Await a coroutine that already ran to its first suspension, from where it stopped.

    The fast path starts the application's coroutine inside the data callback; when it
    suspends, the rest runs in a task. The first `yield` is handed on as the coroutine made it
    (a future with `_asyncio_future_blocking` set, or None for a bare yield), so the task
    waits on it exactly as if it had run the coroutine from the start.
    """

    __slots__ = ("_coro", "_yielded")

    def __init__(self, coro: Any, yielded: Any) -> None:
        self._coro = coro
        self._yielded = yielded

    def __await__(self) -> Generator[Any, Any, Any]:
        coro = self._coro
        yielded = self._yielded
        while True:
            try:
                sent = yield yielded
            except BaseException as exc:  # noqa: PERF203 -- thrown in: hand it on
                try:
                    yielded = coro.throw(exc)
                except StopIteration as stop:
                    return stop.value
            else:
                try:
                    yielded = coro.send(sent)
                except StopIteration as stop:
                    return stop.value


async def _resumed(coro: Any, yielded: Any) -> Any:
    return await _Resume(coro, yielded)


class _Connection:
    """Serves the requests of one connection, one after the other (pipelined ones too).

    Two modes. In push mode (the usual one) the stream hands each read to `_on_data`, inside
    the event loop's callback: a request that arrived whole is parsed, answered by an
    application that does not suspend, and written, all in that callback -- no task wakes.
    Anything else (a head or body still arriving, an application that awaits, a streamed
    response, an error to answer) is handed to the connection's task, which does it in pull
    mode with the stream's read methods and their timeouts, then goes back to push mode.
    """

    __slots__ = (
        "app",
        "base_context",
        "client",
        "events",
        "idle",
        "index",
        "last_active",
        "local",
        "loop",
        "number",
        "parser",
        "scheme",
        "served",
        "server",
        "stream",
        "timer",
        "waiter",
    )

    def __init__(self, server: Server, stream: Stream) -> None:
        self.server = server
        self.app = server.app
        self.stream = stream
        limits = server.limits
        self.parser = RequestParser(
            max_line_size=limits.max_line_size,
            max_header_size=limits.max_header_size,
            max_header_count=limits.max_header_count,
            max_body_size=limits.max_body_size,
        )
        self.events: list[Event] = []
        self.index = 0
        self.idle = True
        self.client = stream.peername
        self.local = stream.sockname
        server.accepted += 1
        self.number = server.accepted
        self.scheme = "https" if stream.ssl_object is not None else "http"
        self.loop = asyncio.get_running_loop()
        self.base_context = contextvars.copy_context()
        self.waiter: asyncio.Future[Coroutine[Any, Any, bool] | None] | None = None
        self.served = 0
        self.last_active = self.loop.time()
        self.timer: asyncio.TimerHandle | None = None

    async def run(self) -> None:
        """Serve requests until either side ends the connection."""
        stream = self.stream
        loop = self.loop
        self.timer = loop.call_at(self.last_active + self.server.limits.header_timeout, self._tick)
        try:
            while True:
                waiter = self.waiter = loop.create_future()
                stream.set_receiver(self._on_data)
                if not waiter.done() and self.parser.complete:
                    self._next_request()
                action = await waiter
                if action is None:
                    return
                if not await self._guard(action) or self.server.closing:
                    return
        finally:
            self.waiter = None
            stream.set_receiver(None)
            if self.timer is not None:
                self.timer.cancel()

    async def _guard(self, action: Coroutine[Any, Any, bool]) -> bool:
        """Run a handed-over action; answer the errors it ends with. True to go on."""
        try:
            return await action
        except RemoteProtocolError as exc:
            await self._refuse(exc.status_hint, str(exc))
        except _HeadTimeout as exc:
            await self._refuse(408, str(exc))
        except WriteTimeout:
            # The client took nothing for body_timeout seconds (a slow-read attack, or a dead
            # peer). What is still queued for it, in the transport and in the kernel, would
            # only keep the connection alive after the close: reset it, which frees both.
            self.stream.reset()
        except (_Gone, TransportError):
            pass
        return False

    # -- push mode ----------------------------------------------------------------------------

    def _handoff(self, action: Coroutine[Any, Any, bool] | None) -> None:
        """Leave push mode: the connection's task runs `action` (None closes)."""
        self.stream.set_receiver(None)
        waiter = self.waiter
        self.waiter = None
        if waiter is not None and not waiter.done():
            waiter.set_result(action)
        elif action is not None:
            action.close()

    def _tick(self) -> None:
        """The connection's one timer: close it when idle past its timeout."""
        limits = self.server.limits
        timeout = limits.keep_alive_timeout if self.served else limits.header_timeout
        deadline = self.last_active + timeout
        now = self.loop.time()
        if self.waiter is not None and now >= deadline:
            self._handoff(None)  # idle in push mode for too long: close quietly
            self.timer = None
            return
        # Busy in the task, which keeps its own deadlines, or not idle long enough yet.
        self.timer = self.loop.call_at(max(deadline, now + 0.05), self._tick)

    def _served_one(self) -> None:
        """A request was answered: the connection is idle again from now."""
        self.served += 1
        self.idle = True
        deadline = self.last_active = self.loop.time()
        deadline += self.server.limits.keep_alive_timeout
        timer = self.timer
        if timer is not None and timer.when() > deadline:
            # The header timeout of a new connection may be longer than the keep-alive one.
            timer.cancel()
            self.timer = self.loop.call_at(deadline, self._tick)

    def _on_data(self, data: bytes) -> None:
        if not data:
            # The client closed its side. Requests that arrived whole before its FIN are still
            # answered -- a FIN says the client sends no more, not that it reads no more -- so
            # while pipelined bytes wait, run() goes on to them and `_process` closes after.
            parser = self.parser
            if not (parser.complete and parser.trailing_data):
                self._handoff(None)
            return
        try:
            events = self.parser.feed(data)
        except RemoteProtocolError as exc:
            self._handoff(self._refuse_action(exc))
            return
        self._process(events)

    def _next_request(self) -> None:
        """Go on to the next request, serving what of it has already arrived (pipelined)."""
        try:
            events = self.parser.next_request()
        except RemoteProtocolError as exc:
            self._handoff(self._refuse_action(exc))
            return
        self._process(events)

    def _process(self, events: list[Event]) -> None:
        """Serve the requests these events complete, as far as can be done without waiting."""
        while True:
            if not events:
                if self.parser.in_progress:
                    self.idle = False
                    self._handoff(self._rest_of_head(self.loop.time()))
                elif self.stream.peer_closed and not self.parser.complete:
                    self._handoff(None)  # the requests that came before the FIN are served
                return
            head = events[0]
            assert isinstance(head, RequestHead)
            end = events[-1]
            if type(end) is not EndOfMessage:
                self.events = events
                self.index = 1
                self._handoff(self._exchange(head))
                return
            self.idle = False
            request = Request._received(head, self.client, self.scheme, self.local, self.number)
            if len(events) > 2:
                request._body = b"".join(events[1:-1])  # type: ignore[arg-type]
                if end.trailers:
                    request._trailers = Headers.from_raw(list(end.trailers))
            context = self.base_context.copy()
            coro = self.app(request)
            try:
                yielded = context.run(coro.send, None)  # type: ignore[attr-defined]
            except StopIteration as stop:
                response = stop.value
            except Exception:
                response = _failed(request)
            else:
                self._handoff(self._finish(request, coro, yielded, context))
                return
            keep_alive = self._respond_now(request, response)
            if keep_alive is None:
                self._handoff(self._complete(request, response))
                return
            self._served_one()
            if not keep_alive or self.server.closing:
                self._handoff(None)
                return
            if self.stream.write_paused:
                # The client does not read as fast as it sends: wait before serving more.
                self._handoff(self._drained())
                return
            try:
                events = self.parser.next_request()
            except RemoteProtocolError as exc:
                self._handoff(self._refuse_action(exc))
                return

    def _respond_now(self, request: Request, response: object) -> bool | None:
        """Write a response held in memory at once; None when that needs the task."""
        stream = self.stream
        if stream.write_paused:
            return None
        keep_alive = self.parser.keep_alive and not self.server.closing
        payload: bytes
        if type(response) is Response:
            if not isinstance(response.body, bytes):
                return None
            payload, keep_alive = self._payload(request, response, keep_alive)
        elif type(response) is RawResponse:
            # Bytes in memory, then FIN or the next request: as _send_raw, without the task.
            if not isinstance(response.data, bytes) or response.reset:
                return None
            payload = response.data
            keep_alive = keep_alive and response.keep_alive
        else:
            return None
        try:
            if payload:
                stream.write_nowait(payload)
        except WriteError:
            return False  # the client is gone: close
        return keep_alive

    async def _drained(self) -> bool:
        await self.stream.drain(timeout=self.server.limits.body_timeout)
        return True

    def _refuse_action(self, exc: RemoteProtocolError) -> Coroutine[Any, Any, bool]:
        async def refuse() -> bool:
            await self._refuse(exc.status_hint, str(exc))
            return False

        return refuse()

    # -- pull mode ------------------------------------------------------------------------------

    async def _rest_of_head(self, started: float) -> bool:
        """Read the rest of a head that began to arrive at `started`, then serve it."""
        limits = self.server.limits
        deadline = started + limits.header_timeout
        stream = self.stream
        parser = self.parser
        while True:
            timeout = max(0.0, deadline - self.loop.time())
            try:
                data = await stream.read_some(_READ_SIZE, timeout=timeout)
            except ReadTimeout:
                raise _HeadTimeout(
                    f"the request head did not arrive within {limits.header_timeout:g} seconds"
                ) from None
            if not data:
                parser.feed_eof()  # raises: the head was cut short
                return False
            events = parser.feed(data)
            if events:
                head = events[0]
                assert isinstance(head, RequestHead)
                self.events = events
                self.index = 1
                return await self._exchange(head)

    def _request(self, head: RequestHead) -> Request:
        self.idle = False
        return Request._received(head, self.client, self.scheme, self.local, self.number)

    async def _exchange(self, head: RequestHead) -> bool:
        """Serve one request whose body may still be arriving; True to keep the connection."""
        request = self._request(head)
        events = self.events
        index = self.index
        if index < len(events) and type(events[index]) is EndOfMessage:
            self.index = index + 1
        else:
            request._done = False
            request._conn = self
        response = await self._call(request, self.app(request))
        return await self._complete(request, response)

    async def _finish(
        self, request: Request, coro: Any, yielded: Any, context: contextvars.Context
    ) -> bool:
        """Finish an application that suspended on the fast path, then respond."""
        if sys.version_info >= (3, 11):
            task = self.loop.create_task(_resumed(coro, yielded), context=context)
        else:  # pragma: no cover -- Python 3.10 tasks take no context
            task = self.loop.create_task(_resumed(coro, yielded))
        response = await self._call(request, task)
        return await self._complete(request, response)

    async def _call(self, request: Request, awaitable: Awaitable[Any]) -> object:
        """Await the application's answer; its failures become a logged 500."""
        try:
            return cast(object, await awaitable)
        except RemoteProtocolError:
            raise  # a malformed body: answered with its status hint
        except ReadTimeout:
            raise _HeadTimeout("the request body stalled") from None
        except (ReadError, WriteError) as exc:
            raise _Gone from exc
        except Exception:
            return _failed(request)

    async def body_chunks(self, request: Request) -> AsyncIterator[bytes]:
        """The body of the request being served, as it arrives (used by `Request`)."""
        if request._done:
            return
        stream = self.stream
        timeout = self.server.limits.body_timeout
        if request.expect_continue and not request._continued:
            request._continued = True
            await stream.write_all(_CONTINUE, timeout=timeout)
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
                    request._done = True
                    if event.trailers:
                        request._trailers = Headers.from_raw(list(event.trailers))
                    return
            data = await stream.read_some(_READ_SIZE, timeout=timeout)
            self.events = parser.feed(data) if data else parser.feed_eof()
            self.index = 0

    async def _drain(self, request: Request) -> bool:
        """Read and drop what is left of the request body; False if too much, too slow or
        malformed."""
        if request.expect_continue and not request._continued:
            return False  # the client holds the body back: there is nothing to read
        dropped = 0
        try:
            async with _deadline(_DRAIN_TIMEOUT):
                async for data in self.body_chunks(request):
                    dropped += len(data)
                    if dropped > _DRAIN_LIMIT:
                        return False
        except (asyncio.TimeoutError, ReadTimeout):
            return False
        except RemoteProtocolError as exc:
            # The response to this request is already out: a 400 now would be a second
            # response to one request, which the client would take for the answer to its next
            # one (RFC 9112 §9.3.2: responses go in the order of the requests). Only the
            # connection can go, since what follows the broken body cannot be framed.
            logger.debug("the unread body of a request from %r is malformed: %s", self.client, exc)
            return False
        return True

    async def _complete(self, request: Request, response: object) -> bool:
        """Send the application's response and settle the request body; True to go on."""
        if not isinstance(response, (Response, RawResponse)):
            logger.error(
                "the application returned %r for %s %s, not a Response",
                response,
                request.method,
                request.target,
            )
            response = _error_response(500, "the application returned no Response")
        keep_alive = self.parser.keep_alive and not self.server.closing
        if not request._done:
            remaining = self.parser.body_remaining
            if (request.expect_continue and not request._continued) or (
                remaining is not None and remaining > _DRAIN_LIMIT
            ):
                # The body will not be read: say so now (RFC 9110 §10.1.1 / RFC 9112 §9.6).
                keep_alive = False
        if isinstance(response, RawResponse):
            await self._send_raw(response)
            keep_alive = keep_alive and response.keep_alive
        else:
            keep_alive = await self._send(request, response, keep_alive)
        if not request._done:
            if keep_alive:
                keep_alive = await self._drain(request)
            if not keep_alive:
                await self._linger()
        self._served_one()
        return keep_alive

    # -- writing --------------------------------------------------------------------------------

    def _head(
        self, request: Request, response: Response, keep_alive: bool
    ) -> tuple[bytes, BodyWriter | None, bool, bool]:
        """The head to send, the body's writer (None: send the bytes as they are), whether
        the connection is kept, and whether a body may follow at all.

        Raises:
            LocalProtocolError: the application's status, reason or fields cannot be sent.
        """
        status = response.status
        fields = response.headers
        body = response.body
        has_length = has_coding = has_date = has_close = False
        for name, value in fields:
            if len(name) in _FIELD_LENGTHS:
                lname = name.lower()
                if lname == b"content-length":
                    has_length = True
                elif lname == b"transfer-encoding":
                    has_coding = True
                elif lname == b"date":
                    has_date = True
                elif lname == b"connection" and b"close" in value.lower():
                    keep_alive = False
                    has_close = True
        http10 = request._head.http_version == b"1.0"
        no_body = status < 200 or status in _BODYLESS
        # RFC 9110 §6.6.1: "An origin server with a clock ... MUST generate a Date header
        # field" -- unless the application already did (Date is a singleton field).
        extra: list[tuple[bytes, bytes]] = [] if has_date else [(b"Date", http_date())]
        streamed = not isinstance(body, bytes)
        framed = has_length or has_coding
        if no_body:
            # RFC 9110 §8.6: "A server MUST NOT send a Content-Length header field in any
            # response with a status code of 1xx (Informational) or 204 (No Content)."
            pass
        elif not framed and (streamed or (response.trailers is not None and not http10)):
            if http10:
                # An HTTP/1.0 client knows no chunked coding: the body ends with the connection.
                keep_alive = False
            else:
                # A stream of unknown length, or trailers (which only chunked can carry).
                extra.append((b"Transfer-Encoding", b"chunked"))
                has_coding = framed = True
        elif not framed:
            extra.append((b"Content-Length", b"%d" % len(body)))  # type: ignore[arg-type]
        if not keep_alive:
            if not has_close:
                extra.append((b"Connection", b"close"))
        elif http10:
            extra.append((b"Connection", b"keep-alive"))
        all_fields = fields + extra if fields else extra
        head = encode_response_head(status, all_fields, reason=response.reason)
        writer = BodyWriter(all_fields, until_close=not keep_alive) if framed or streamed else None
        return head, writer, keep_alive, not no_body and request._head.method != b"HEAD"

    def _payload(
        self, request: Request, response: Response, keep_alive: bool
    ) -> tuple[bytes, bool]:
        """The whole response to a body held in memory, and whether the connection is kept.

        A response that cannot be sent as the application made it (CR or LF in a field, a
        Content-Length that does not match) is logged and replaced by a 500.
        """
        body = response.body
        assert isinstance(body, bytes)
        status = response.status
        fields = response.headers
        try:
            if (
                keep_alive
                and status >= 200
                and status not in _BODYLESS
                and response.reason is None
                and response.trailers is None
                and request._head.http_version == b"1.1"
                and request._head.method != b"HEAD"
            ):
                # The usual case, spared the general path below: nothing about the framing,
                # the date or the connection comes from the application.
                for name, _ in fields:
                    if len(name) in _FIELD_LENGTHS:
                        break
                else:
                    extra = [(b"Date", http_date()), (b"Content-Length", b"%d" % len(body))]
                    head = encode_response_head(status, fields + extra if fields else extra)
                    return head + body, True
            head, writer, keep_alive, with_body = self._head(request, response, keep_alive)
            if not with_body:
                return head, keep_alive
            if writer is None:
                return head + body, keep_alive
            return head + writer.write(body) + writer.end(_trailers(response)), keep_alive
        except LocalProtocolError as exc:
            return self._payload(request, _unsendable(request, exc), keep_alive)

    async def _send(self, request: Request, response: Response, keep_alive: bool) -> bool:
        """Write the response; returns whether the connection may be kept.

        Raises:
            TransportError: the client went away, or took no data for `body_timeout` seconds
                (WriteTimeout).
        """
        stream = self.stream
        timeout = self.server.limits.body_timeout
        body = response.body
        if isinstance(body, bytes):
            payload, keep_alive = self._payload(request, response, keep_alive)
            await stream.write_all(payload, timeout=timeout)
            return keep_alive
        try:
            head, writer, keep_alive, with_body = self._head(request, response, keep_alive)
        except LocalProtocolError as exc:
            await _close_iterable(body)
            return await self._send(request, _unsendable(request, exc), keep_alive)
        if not with_body or writer is None:
            await _close_iterable(body)
            await stream.write_all(head, timeout=timeout)
            return keep_alive
        try:
            await stream.write_all(head, timeout=timeout)
            async for data in body:
                if data:
                    await stream.write_all(writer.write(data), timeout=timeout)
            # Trailers travel only in the chunked coding; an HTTP/1.0 client gets none.
            end = writer.end(_trailers(response) if writer.chunked else ())
            await stream.write_all(end, timeout=timeout)
        except TransportError:
            await _close_iterable(body)
            raise
        except Exception:
            # The head is out, so no error response can follow: abort, and the client sees
            # a body cut short rather than a wrong one.
            logger.exception(
                "the response body to %s %s failed after the head was sent",
                request.method,
                request.target,
            )
            await _close_iterable(body)
            stream.abort()
            return False
        return keep_alive

    async def _send_raw(self, response: RawResponse) -> None:
        data = response.data
        stream = self.stream
        timeout = self.server.limits.body_timeout
        if isinstance(data, bytes):
            if data:
                await stream.write_all(data, timeout=timeout)
        else:
            try:
                async for piece in data:
                    await stream.write_all(piece, timeout=timeout)
            except TransportError:
                await _close_iterable(data)
                raise
            except Exception:
                logger.exception("the raw response failed while it was being sent")
                await _close_iterable(data)
                stream.abort()
                return
        if response.reset:
            # Let what was written reach the kernel first: a reset drops unsent bytes.
            await stream.flush()
            stream.reset()

    # -- refusing and closing ---------------------------------------------------------------------

    async def _refuse(self, status: int, message: str) -> None:
        """Answer a request that cannot be served with `status`, then close."""
        if self.stream.is_closing:
            return
        logger.debug("refusing a request from %r with %d: %s", self.client, status, message)
        body = b"%d %b: %b\n" % (status, reason_phrase(status), message.encode("utf-8", "replace"))
        head = encode_response_head(
            status,
            [
                (b"Content-Type", b"text/plain; charset=utf-8"),
                (b"Content-Length", b"%d" % len(body)),
                (b"Connection", b"close"),
                (b"Date", http_date()),
            ],
        )
        try:
            await self.stream.write_all(head + body, timeout=_LINGER_TIMEOUT)
        except TransportError:
            return
        await self._linger()

    async def _linger(self) -> None:
        """Shut the write side, then read and drop for a moment (RFC 9112 §9.6)."""
        stream = self.stream
        if stream.is_closing:
            return
        try:
            await stream.send_eof()
            dropped = 0
            async with _deadline(_LINGER_TIMEOUT):
                while dropped < _LINGER_LIMIT:
                    data = await stream.read_some(_READ_SIZE)
                    if not data:
                        break
                    dropped += len(data)
        except (asyncio.TimeoutError, TransportError, OSError):
            pass


def _unsendable(request: Request, exc: LocalProtocolError) -> Response:
    logger.error("cannot send the response to %s %s: %s", request.method, request.target, exc)
    return _error_response(500, "the application's response could not be sent")


def _failed(request: Request) -> Response:
    logger.exception("the application failed on %s %s", request.method, request.target)
    return _error_response(500, "the application failed")


def _error_response(status: int, message: str) -> Response:
    return Response(status, text=f"{status} {reason_phrase(status).decode()}: {message}\n")


def _trailers(response: Response) -> list[tuple[bytes, bytes]]:
    trailers = response.trailers
    if trailers is None:
        return []
    return _fields(trailers() if callable(trailers) else trailers)


async def _close_iterable(body: Any) -> None:
    close = getattr(body, "aclose", None)
    if close is not None:
        await close()


class _deadline:  # noqa: N801 -- used like asyncio.timeout, which Python 3.10 lacks
    """Cancel the enclosed block after `seconds`, raising asyncio.TimeoutError instead."""

    __slots__ = ("_expired", "_handle", "_seconds", "_task")

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._expired = False
        self._handle: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[Any] | None = None

    async def __aenter__(self) -> None:
        self._task = asyncio.current_task()
        self._handle = asyncio.get_running_loop().call_later(self._seconds, self._expire)

    def _expire(self) -> None:
        self._expired = True
        assert self._task is not None
        self._task.cancel()

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        assert self._handle is not None
        self._handle.cancel()
        if self._expired and exc_type is asyncio.CancelledError:
            task = self._task
            assert task is not None
            if hasattr(task, "uncancel"):
                task.uncancel()
            raise asyncio.TimeoutError from None
        return False
