"""The asyncio protocol under a `Stream`: one receive buffer, flow control both ways, and the
wake-ups of the task waiting to read or to write."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from ._stream import Stream

# Reading from the socket pauses while this many bytes wait unread in a stream's buffer, and
# resumes below a quarter of it: a slow consumer never makes the buffer grow without bound.
_HIGH_WATER = 2**18
_LOW_WATER = _HIGH_WATER // 4

# A read's deadline timer that fires this close to the deadline counts as on time (the event
# loop runs timers up to its clock resolution early).
_TIMER_SLACK = 0.001


class _Protocol(asyncio.Protocol):
    """The transport's side of a `Stream`: it only buffers and wakes the stream's waiters."""

    __slots__ = (
        "_buf",
        "_closed",
        "_deadline",
        "_drain_waiters",
        "_eof",
        "_exc",
        "_loop",
        "_read_paused",
        "_reader",
        "_receiver",
        "_stream",
        "_timer",
        "_timer_at",
        "_transport",
        "_write_paused",
        "on_connect",
    )

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._buf = bytearray()
        self._eof = False
        self._exc: BaseException | None = None
        self._reader: asyncio.Future[bytes | None] | None = None
        self._drain_waiters: list[asyncio.Future[None]] = []
        self._read_paused = False
        self._write_paused = False
        self._transport: asyncio.Transport | None = None
        self._closed: asyncio.Future[None] = loop.create_future()
        self._stream: Stream | None = None
        self._receiver: Callable[[bytes], None] | None = None
        # The read timeout is a deadline checked by one lazily re-armed timer (see `_arm`).
        self._deadline: float | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0
        # Set by the server: called once the connection is made (it makes the stream).
        self.on_connect: Callable[[asyncio.Transport, _Protocol], None] | None = None

    # -- called by the transport --------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not derive from asyncio.Transport; they behave as one.
        self._transport = cast(asyncio.Transport, transport)
        if self.on_connect is not None:
            self.on_connect(self._transport, self)

    def data_received(self, data: bytes) -> None:
        receiver = self._receiver
        if receiver is not None:
            receiver(data)
            return
        reader = self._reader
        if reader is not None and not self._buf:
            # A reader waits and nothing is buffered: hand it these bytes as they are.
            self._reader = None
            if not reader.done():
                _hand_over(reader, data, self._loop)
                return
        self._buf += data
        if reader is not None:
            self._reader = None
            if not reader.done():
                reader.set_result(None)
        if len(self._buf) > _HIGH_WATER and not self._read_paused and self._transport is not None:
            self._read_paused = True
            self._transport.pause_reading()

    def eof_received(self) -> bool:
        self._eof = True
        self._wake_reader()
        if self._receiver is not None:
            self._receiver(b"")
        # True keeps the sending side open after the peer's half-close: a client may shut its
        # side once the request is out and still read the response. (TLS cannot half-close;
        # asyncio warns if asked to.) The owner of the stream closes it.
        return self._transport is not None and self._transport.get_extra_info("sslcontext") is None

    def connection_lost(self, exc: Exception | None) -> None:
        already = self._eof
        self._eof = True
        if exc is not None and self._exc is None:
            self._exc = exc
        self._wake_reader()
        if self._receiver is not None and not already:
            self._receiver(b"")
        self._wake_writers()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._closed.done():
            self._closed.set_result(None)

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        self._wake_writers()

    def _wake_writers(self) -> None:
        waiters = self._drain_waiters
        if waiters:
            self._drain_waiters = []
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)

    def _arm(self, timeout: float) -> None:
        """Give the waiting reader `timeout` seconds.

        A timer per read (call_later, then cancel) costs more than the rest of a small read. So
        the deadline is a number, and one timer per connection is armed for it only when none
        is armed for an earlier time; when a timer fires early (its read ended and a later one
        began), it re-arms itself for the current deadline. A run of reads with the same
        timeout creates a timer once per timeout period, not once per read.
        """
        loop = self._loop
        deadline = loop.time() + timeout
        self._deadline = deadline
        timer = self._timer
        if timer is None or self._timer_at > deadline:
            if timer is not None:
                timer.cancel()
            self._timer = loop.call_at(deadline, self._on_deadline)
            self._timer_at = deadline

    def _on_deadline(self) -> None:
        self._timer = None
        deadline = self._deadline
        reader = self._reader
        if deadline is None or reader is None:
            return
        if deadline - self._loop.time() > _TIMER_SLACK:
            self._timer = self._loop.call_at(deadline, self._on_deadline)
            self._timer_at = deadline
        elif not reader.done():
            reader.set_exception(_Expired())

    def _wake_reader(self) -> None:
        reader = self._reader
        if reader is not None:
            self._reader = None
            if not reader.done():
                reader.set_result(None)


_current_task = asyncio.current_task


def _hand_over(reader: asyncio.Future[Any], data: bytes, loop: asyncio.AbstractEventLoop) -> None:
    """Give received bytes to the task waiting for them, and let it run on at once.

    A future wakes its task through `call_soon`: the task runs in the next iteration of the
    event loop, which first polls the selector again, a system call that finds nothing new
    (whatever woke this read was the last event of the poll). A task waiting for one read is
    woken here instead, inside the transport's callback where no task runs -- what the loop
    would have called next, called now: one loop iteration less per read, about 5 µs of a
    sequential request's 70 on the default loop. Anything else (several callbacks, a callback
    that is not a task's wake-up, a task already running) gets `set_result` as usual.
    """
    callbacks = reader._callbacks
    if len(callbacks) == 1 and _current_task(loop) is None:
        wake, context = callbacks[0]
        if isinstance(getattr(wake, "__self__", None), asyncio.Task):
            reader.remove_done_callback(wake)
            reader.set_result(data)
            context.run(wake, reader)
            return
    reader.set_result(data)


def _on_timeout(waiter: asyncio.Future[Any]) -> None:
    if not waiter.done():
        waiter.set_exception(_Expired())


class _Expired(Exception):
    """A wait's deadline passed (turned into the read or write timeout of the caller)."""


class _Closed(Exception):
    """Marks a stream that this side closed (reads then raise ReadError, writes WriteError)."""
