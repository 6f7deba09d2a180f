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

A bad request gets the status its error calls for, then a lingering close (`_closing`); what
goes on the wire for a response, its framing, is `_writing`'s. Both are mixins of `_Connection`,
which keeps the loop.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Coroutine, Generator
from typing import TYPE_CHECKING, Any, cast

from .._exceptions import (
    ReadError,
    ReadTimeout,
    RemoteProtocolError,
    TransportError,
    WriteError,
    WriteTimeout,
)
from .._headers import Headers
from ..protocol import EndOfMessage, Event, RequestHead, RequestParser
from ..streams import Stream
from ._closing import _READ_SIZE, _Closing, _deadline
from ._messages import RawResponse, Request, Response
from ._writing import _error_response, _Writing

if TYPE_CHECKING:
    from ._serve import Server

__all__: list[str] = []

logger = logging.getLogger("aioreq.server")

# An unread request body up to this size is read and dropped to keep the connection.
_DRAIN_LIMIT = 2**16
_DRAIN_TIMEOUT = 1.0

_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


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


class _Connection(_Writing, _Closing):
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


def _failed(request: Request) -> Response:
    logger.exception("the application failed on %s %s", request.method, request.target)
    return _error_response(500, "the application failed")
