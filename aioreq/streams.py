"""Buffered byte streams over asyncio transports, TCP/TLS connect, and a TCP server helper.

This is the only module of aioreq that touches asyncio transports, sockets and ssl. Everything
above it (the client's connections, the server) reads and writes through `Stream`.

Why not `asyncio.StreamReader`: its reads go through several layers of coroutines and copies. A
`Stream` keeps one `bytearray` per connection, fed by a plain `asyncio.Protocol`; a reader that is
already waiting when data arrives gets the received `bytes` object itself, without a copy. That is
the common case of a request/response exchange, so it is the one made cheap.

Errors: `OSError`, `ssl.SSLError` and timeouts are translated here, once, into aioreq's tree with
`raise ... from exc`: `ConnectError`/`ConnectTimeout` while connecting (its subclass `TLSError`,
naming the check that failed, for a TLS handshake), `ReadError`/`ReadTimeout` (with
`IncompleteReadError` and `LimitOverrunError`) while reading, `WriteError`/`WriteTimeout` while
writing. Code above this layer never sees a foreign exception from the network.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import socket
import ssl as _ssl
import struct
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, TypeVar, cast

from ._exceptions import (
    ConnectError,
    ConnectTimeout,
    IncompleteReadError,
    LimitOverrunError,
    ReadError,
    ReadTimeout,
    TLSError,
    WriteError,
    WriteTimeout,
)

__all__ = [
    "DEFAULT_LIMIT",
    "AsyncResource",
    "Stream",
    "StreamServer",
    "create_ssl_context",
    "default_ssl_context",
    "open_tcp_stream",
    "open_unix_stream",
    "start_tcp_server",
    "start_unix_server",
]

logger = logging.getLogger("aioreq.streams")

#: The default `limit` of `read_until`, and the default `max_bytes` of `read_some`.
DEFAULT_LIMIT = 2**16

# Reading from the socket pauses while this many bytes wait unread in a stream's buffer, and
# resumes below a quarter of it: a slow consumer never makes the buffer grow without bound.
_HIGH_WATER = 2**18
_LOW_WATER = _HIGH_WATER // 4

# Event loops whose create_connection takes no happy_eyeballs_delay (uvloop).
_NO_HAPPY_EYEBALLS: set[type] = set()

# A read's deadline timer that fires this close to the deadline counts as on time (the event
# loop runs timers up to its clock resolution early).
_TIMER_SLACK = 0.001

# Over TLS, `write_all` hands data to the transport in slices of this size, with a turn of the
# event loop between them. asyncio's TLS transport (CPython 3.11+, uvloop) encrypts a whole
# write into the TCP transport below it at once and pauses its own protocol only for data it
# still holds, so one large write never pauses; and it learns of a reset from that transport a
# turn or two later. Without slices a peer that stops reading, or resets, is not seen while
# writing, and a large upload holds the event loop for its whole encryption.
_TLS_SLICE = 2**16

# How long `aclose()` lets buffered output (and a TLS close_notify) drain before it aborts.
_CLOSE_TIMEOUT = 5.0

Handler = Callable[["Stream"], Awaitable[None]]


@functools.cache
def default_ssl_context() -> _ssl.SSLContext:
    """The verifying TLS context on certifi's CA bundle, made once per process and shared
    (what `ssl=True` means). Shared: make your own with `create_ssl_context()` to change it."""
    return create_ssl_context()


def create_ssl_context(
    *, cafile: str | None = None, capath: str | None = None, verify: bool = True
) -> _ssl.SSLContext:
    """Make a client-side TLS context that speaks HTTP/1.1.

    Args:
        cafile: the CA bundle to trust; with neither it nor `capath`, certifi's (what
            `ssl=True` uses).
        capath: a directory of CA certificates to trust (OpenSSL's hashed layout).
        verify: check the server's certificate and host name. Turning this off makes TLS
            worthless against an active attacker; it exists for tests and private networks.

    Returns:
        A fresh `ssl.SSLContext` with ALPN set to `http/1.1` and TLS 1.2 as the oldest version.
    """
    if cafile is None and capath is None and verify:
        import certifi

        cafile = certifi.where()
    context = _ssl.create_default_context(cafile=cafile, capath=capath)
    context.minimum_version = _ssl.TLSVersion.TLSv1_2
    context.set_alpn_protocols(["http/1.1"])
    if not verify:
        context.check_hostname = False
        context.verify_mode = _ssl.CERT_NONE
    return context


def _client_context(ssl: _ssl.SSLContext | bool | None) -> _ssl.SSLContext | None:
    if ssl is None or ssl is False:
        return None
    if ssl is True:
        return default_ssl_context()
    return ssl


_R = TypeVar("_R", bound="AsyncResource")


class AsyncResource:
    """Something closed with `await x.aclose()`, and so usable as `async with x:`."""

    __slots__ = ()

    async def aclose(self) -> None:
        """Release the resource."""
        raise NotImplementedError

    async def __aenter__(self: _R) -> _R:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


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
        # Set by the server: called with the new stream once the connection is made.
        self.on_connect: Callable[[Stream], None] | None = None

    # -- called by the transport --------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not derive from asyncio.Transport; they behave as one.
        self._transport = cast(asyncio.Transport, transport)
        if self.on_connect is not None:
            self.on_connect(Stream(self._transport, self))

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


class _Slicing:
    """The state of a TLS stream's sliced writes (`Stream._write_sliced`)."""

    __slots__ = ("lock", "queued", "torn")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.queued: list[bytes] = []  # from write_nowait while a sliced write runs
        self.torn = False  # a sliced write stopped midway: the stream cannot carry more


class Stream(AsyncResource):
    """A buffered, bidirectional byte stream over one connection.

    Reads: `read_some` returns what has arrived (b"" once the peer has closed); `read_until`
    and `read_exactly` wait for a delimiter or a byte count. Every read takes an optional
    `timeout` in seconds. Writes: `write_all` waits while the transport's buffer is full.

    Use it as an async context manager, or call `aclose()`.
    """

    __slots__ = ("__weakref__", "_loop", "_protocol", "_slicing", "_transport")

    def __init__(self, transport: asyncio.Transport, protocol: _Protocol) -> None:
        self._transport = transport
        self._protocol = protocol
        self._loop = protocol._loop
        self._slicing: _Slicing | None = None
        protocol._stream = self

    # -- reading --------------------------------------------------------------------------------

    async def read_some(
        self, max_bytes: int = DEFAULT_LIMIT, *, timeout: float | None = None
    ) -> bytes:
        """Return between 1 and `max_bytes` bytes as soon as any have arrived.

        Args:
            max_bytes: the most bytes to return.
            timeout: seconds to wait for data, or None to wait as long as it takes.

        Returns:
            The bytes, or b"" when the peer has closed and everything was read.

        Raises:
            ReadError: the connection failed (reset, TLS error) or this side closed it.
            ReadTimeout: nothing arrived within `timeout`.
        """
        if max_bytes < 1:
            raise ValueError(f"max_bytes must be at least 1, not {max_bytes}")
        protocol = self._protocol
        buf = protocol._buf
        if not buf:
            if protocol._eof:
                return self._at_eof()
            data = await self._wait(timeout)
            if data is not None:
                if len(data) <= max_bytes:
                    return data
                # Bytes that arrived after the hand-over are already buffered: these go first.
                buf[:0] = data[max_bytes:]
                return data[:max_bytes]
            if not buf:
                return self._at_eof()
        if len(buf) <= max_bytes:
            data = bytes(buf)
            buf.clear()
        else:
            data = bytes(buf[:max_bytes])
            del buf[:max_bytes]
        if protocol._read_paused:
            self._maybe_resume()
        return data

    async def read_until(
        self, delimiter: bytes = b"\n", *, limit: int = DEFAULT_LIMIT, timeout: float | None = None
    ) -> bytes:
        """Return the bytes up to and including `delimiter`.

        Args:
            delimiter: the bytes to wait for (non-empty).
            limit: the most bytes to return, delimiter included.
            timeout: seconds for the whole read, or None.

        Raises:
            LimitOverrunError: `limit` bytes arrived without the delimiter (they stay buffered).
            IncompleteReadError: the peer closed first; `.partial` holds what arrived.
            ReadError: the connection failed.
            ReadTimeout: the delimiter did not arrive within `timeout`.
        """
        if not delimiter:
            raise ValueError("the delimiter must not be empty")
        protocol = self._protocol
        buf = protocol._buf
        deadline = None if timeout is None else self._loop.time() + timeout
        start = 0
        while True:
            index = buf.find(delimiter, start)
            if index >= 0:
                end = index + len(delimiter)
                if end > limit:
                    break
                data = bytes(buf[:end])
                del buf[:end]
                if protocol._read_paused:
                    self._maybe_resume()
                return data
            if len(buf) >= limit:
                break
            if protocol._eof:
                self._raise_if_failed()
                partial = bytes(buf)
                buf.clear()
                raise IncompleteReadError(
                    f"the connection closed after {len(partial)} bytes, before {delimiter!r}",
                    partial=partial,
                )
            # Only the tail that could start a split delimiter is searched again.
            start = max(0, len(buf) - len(delimiter) + 1)
            received = await self._wait(
                self._remaining(deadline),
                "" if timeout is None else f"{timeout:g} seconds for {delimiter!r}",
            )
            if received is not None:
                buf[:0] = received  # handed over while buf was empty; later bytes follow it
        raise LimitOverrunError(f"no {delimiter!r} within the limit of {limit} bytes")

    async def read_exactly(self, n: int, *, timeout: float | None = None) -> bytes:
        """Return exactly `n` bytes.

        Raises:
            IncompleteReadError: the peer closed first; `.partial` holds what arrived.
            ReadError: the connection failed.
            ReadTimeout: the bytes did not arrive within `timeout` (seconds, for the whole read).
        """
        if n < 0:
            raise ValueError(f"cannot read {n} bytes")
        protocol = self._protocol
        buf = protocol._buf
        deadline = None if timeout is None else self._loop.time() + timeout
        while len(buf) < n:
            if protocol._eof:
                self._raise_if_failed()
                partial = bytes(buf)
                buf.clear()
                raise IncompleteReadError(
                    f"the connection closed after {len(partial)} of {n} bytes",
                    partial=partial,
                    expected=n,
                )
            received = await self._wait(
                self._remaining(deadline),
                "" if timeout is None else f"{timeout:g} seconds for {n} bytes ({len(buf)} came)",
            )
            if received is not None:
                buf[:0] = received  # handed over while buf was empty; later bytes follow it
        data = bytes(buf[:n])
        del buf[:n]
        if protocol._read_paused:
            self._maybe_resume()
        return data

    def set_receiver(self, receiver: Callable[[bytes], None] | None) -> None:
        """Push mode: call `receiver(data)` for each read as it arrives, instead of buffering.

        Bytes already buffered are delivered at once. `receiver(b"")` signals that the peer
        closed (or the connection was lost). The receiver runs inside the event loop's
        callback, so it must not block or raise. `set_receiver(None)` returns to pull mode,
        where the read methods work again. This is how the server serves a request that
        arrived whole without waking a task.
        """
        protocol = self._protocol
        protocol._receiver = receiver
        if receiver is None:
            return
        if protocol._buf:
            data = bytes(protocol._buf)
            protocol._buf.clear()
            if protocol._read_paused:
                self._maybe_resume()
            receiver(data)
        if protocol._eof and protocol._receiver is receiver:
            receiver(b"")

    @property
    def write_paused(self) -> bool:
        """True while the transport's write buffer is over its high-water mark."""
        return self._protocol._write_paused

    def unread(self, data: bytes) -> None:
        """Put bytes back in front of the buffer: the next read returns them first."""
        self._protocol._buf[:0] = data

    @property
    def peer_closed(self) -> bool:
        """True once the peer closed its side (or the connection was lost), read or not."""
        return self._protocol._eof

    @property
    def buffered(self) -> int:
        """How many received bytes wait unread."""
        return len(self._protocol._buf)

    @property
    def clean(self) -> bool:
        """True while the connection is open both ways and nothing received waits unread: what
        a keep-alive connection must be to carry another exchange."""
        protocol = self._protocol
        return not (
            protocol._eof
            or protocol._buf
            or protocol._closed.done()
            or self._transport.is_closing()
        )

    @property
    def at_eof(self) -> bool:
        """True when the peer has closed and every received byte was read."""
        return self._protocol._eof and not self._protocol._buf

    def _remaining(self, deadline: float | None) -> float | None:
        if deadline is None:
            return None
        return max(0.0, deadline - self._loop.time())

    async def _wait(self, timeout: float | None, what: str = "") -> bytes | None:
        """Wait for the transport: returns received bytes, or None when they went to the buffer."""
        protocol = self._protocol
        if protocol._reader is not None:
            raise RuntimeError("another task is already reading from this stream")
        if protocol._read_paused and not self._transport.is_closing():
            # A reader waits for more than is buffered: it gets it whatever the buffer holds
            # (a read_exactly of more than the high-water mark must not stall).
            protocol._read_paused = False
            self._transport.resume_reading()
        waiter: asyncio.Future[bytes | None] = self._loop.create_future()
        protocol._reader = waiter
        if timeout is None:
            protocol._deadline = None
        else:
            protocol._arm(timeout)
        try:
            return await waiter
        except _Expired:
            raise ReadTimeout(f"no data received within {what or f'{timeout:g} seconds'}") from None
        except asyncio.CancelledError:
            # Bytes may have been handed over just before the cancellation: keep them.
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                data = waiter.result()
                if data:
                    protocol._buf[:0] = data
            raise
        finally:
            if protocol._reader is waiter:
                protocol._reader = None

    def _at_eof(self) -> bytes:
        self._raise_if_failed()
        return b""

    def _raise_if_failed(self) -> None:
        exc = self._protocol._exc
        if exc is None:
            return
        if isinstance(exc, _Closed):
            raise ReadError("the stream was closed by this side")
        raise ReadError(f"the connection failed while reading: {_describe(exc)}") from exc

    def _maybe_resume(self) -> None:
        protocol = self._protocol
        if len(protocol._buf) <= _LOW_WATER and not self._transport.is_closing():
            protocol._read_paused = False
            self._transport.resume_reading()

    # -- writing --------------------------------------------------------------------------------

    async def write_all(self, data: bytes, *, timeout: float | None = None) -> None:
        """Send all of `data`, waiting while the peer does not keep up.

        Each call's bytes go out together, even when several tasks write at once.

        Raises:
            WriteError: the connection is closed or failed.
            WriteTimeout: the peer did not take the data within `timeout` seconds.
        """
        protocol = self._protocol
        if protocol._exc is not None or self._transport.is_closing():
            raise self._write_error()
        if self._slicing is not None or (len(data) > _TLS_SLICE and self.ssl_object is not None):
            await self._write_sliced(data, timeout)
            return
        self._transport.write(data)
        if protocol._write_paused:
            await self._drain(timeout)

    async def _write_sliced(self, data: bytes, timeout: float | None) -> None:
        """`write_all` over TLS: a slice at a time, waiting whenever the transport pauses.

        A lock keeps each call's slices together; `write_nowait` meanwhile queues behind the
        slices. A call that fails or is cancelled midway leaves the stream unable to write.
        """
        if self._slicing is None:
            self._slicing = _Slicing()
        slicing = self._slicing
        async with slicing.lock:
            view = memoryview(data)
            transport = self._transport
            protocol = self._protocol
            end = len(view)
            start = 0
            try:
                while start < end or slicing.queued:
                    if slicing.torn or protocol._exc is not None or transport.is_closing():
                        raise self._write_error()
                    if start < end:
                        transport.write(view[start : start + _TLS_SLICE])
                        start += _TLS_SLICE
                    else:
                        transport.write(slicing.queued.pop(0))
                    if protocol._write_paused:
                        await self._drain(timeout)
                    elif start < end:
                        await asyncio.sleep(0)
            except BaseException:
                if 0 < start < end or slicing.queued:
                    slicing.torn = True
                raise

    def write_nowait(self, data: bytes) -> None:
        """Queue `data` for sending without waiting for the peer (no back-pressure).

        Raises:
            WriteError: the connection is closed or failed.
        """
        if self._protocol._exc is not None or self._transport.is_closing():
            raise self._write_error()
        slicing = self._slicing
        if slicing is not None:
            if slicing.torn:
                raise self._write_error()
            if slicing.lock.locked():
                slicing.queued.append(data)
                return
        self._transport.write(data)

    async def drain(self, *, timeout: float | None = None) -> None:
        """Wait until the transport's write buffer is below its high-water mark."""
        if self._protocol._write_paused:
            await self._drain(timeout)

    async def _drain(self, timeout: float | None) -> None:
        protocol = self._protocol
        while protocol._write_paused:
            if protocol._closed.done():
                raise self._write_error()
            waiter: asyncio.Future[None] = self._loop.create_future()
            protocol._drain_waiters.append(waiter)
            handle = (
                None if timeout is None else self._loop.call_later(timeout, _on_timeout, waiter)
            )
            try:
                await waiter
            except _Expired:
                raise WriteTimeout(
                    f"the peer took no data for {timeout:g} seconds while sending"
                ) from None
            finally:
                if handle is not None:
                    handle.cancel()
                if waiter in protocol._drain_waiters:
                    protocol._drain_waiters.remove(waiter)
        if protocol._closed.done():
            raise self._write_error()

    def _write_error(self) -> WriteError:
        if self._slicing is not None and self._slicing.torn:
            return WriteError("cannot write: an earlier write stopped midway")
        exc = self._protocol._exc
        if exc is None or isinstance(exc, _Closed):
            return WriteError("cannot write: the connection is closed")
        error = WriteError(f"the connection failed while writing: {_describe(exc)}")
        error.__cause__ = exc
        return error

    async def send_eof(self) -> None:
        """Close the sending side (TCP half-close) where the transport allows it."""
        if self._transport.can_write_eof() and not self._transport.is_closing():
            self._transport.write_eof()

    # -- TLS, closing, and facts about the connection ---------------------------------------------

    async def start_tls(
        self,
        ssl: _ssl.SSLContext | bool = True,
        *,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> None:
        """Upgrade this connection to TLS (after a proxy's CONNECT, say) as the client.

        Raises:
            TLSError: the handshake failed; its `reason` says why (certificate, protocol...).
            ConnectError: received bytes were still unread.
            ConnectTimeout: the handshake took longer than `timeout` seconds.
        """
        if self._protocol._buf:
            raise ConnectError("cannot start TLS: received bytes are still unread")
        context = _client_context(ssl)
        assert context is not None
        # The handshake runs as a task of its own, shielded, as a connect does (see `_connect`):
        # a cancel then reaches this task at once, never lost in asyncio.wait_for, and what
        # the handshake brings afterwards is closed.
        handshake = asyncio.ensure_future(
            asyncio.wait_for(
                self._loop.start_tls(
                    self._transport, self._protocol, context, server_hostname=server_hostname
                ),
                timeout,
            )
        )
        try:
            transport = await asyncio.shield(handshake)
        except asyncio.CancelledError:
            _abandon(handshake)
            raise
        except (OSError, _ssl.SSLError, asyncio.TimeoutError) as exc:
            # The old transport now belongs to the failed TLS layer, which does not tell this
            # stream that the connection is gone: close it here, and say so.
            self._transport.abort()
            self._protocol.connection_lost(exc if isinstance(exc, Exception) else None)
            if _deadline_passed(exc, timeout):
                raise ConnectTimeout(
                    f"the TLS handshake took longer than {timeout:g} seconds"
                ) from None
            raise _connect_error(
                exc, server_hostname or "the peer", None, tls=True, server_hostname=server_hostname
            ) from exc
        self._transport = cast(asyncio.Transport, transport)
        self._protocol._transport = self._transport

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """What the transport knows: 'peername', 'sockname', 'socket', 'ssl_object', ..."""
        return self._transport.get_extra_info(name, default)

    @property
    def peername(self) -> Any:
        """The remote address, as the socket module gives it."""
        return self._transport.get_extra_info("peername")

    @property
    def sockname(self) -> Any:
        """The local address, as the socket module gives it."""
        return self._transport.get_extra_info("sockname")

    @property
    def ssl_object(self) -> _ssl.SSLObject | None:
        """The TLS session, or None on a plain connection."""
        obj: _ssl.SSLObject | None = self._transport.get_extra_info("ssl_object")
        return obj

    @property
    def transport(self) -> asyncio.Transport:
        """The asyncio transport underneath (for code that must reach past this interface)."""
        return self._transport

    @property
    def is_closing(self) -> bool:
        """True once either side began to close the connection."""
        return self._transport.is_closing() or self._protocol._closed.done()

    def abort(self) -> None:
        """Close at once, dropping unsent data (a TCP reset)."""
        protocol = self._protocol
        if protocol._exc is None:
            protocol._exc = _Closed()
        self._transport.abort()

    async def flush(self, *, timeout: float = 5.0) -> bool:
        """Wait until every written byte has been handed to the kernel.

        Returns:
            True when the buffer emptied, False when `timeout` seconds passed first or the
            connection closed.
        """
        transport = self._transport
        deadline = self._loop.time() + timeout
        while transport.get_write_buffer_size():
            if transport.is_closing() or self._loop.time() >= deadline:
                return False
            await asyncio.sleep(0.001)
        return True

    def reset(self) -> None:
        """Close at once with a TCP reset (RST) rather than a FIN, dropping unsent data.

        What a peer that crashes looks like; for tests of how clients cope.
        """
        sock = self._transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                # SO_LINGER on with a zero timeout: close() sends RST.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.abort()

    async def aclose(self) -> None:
        """Close, letting buffered output drain for up to a few seconds; never raises."""
        protocol = self._protocol
        if protocol._exc is None:
            protocol._exc = _Closed()
        if not self._transport.is_closing():
            self._transport.close()
        if protocol._closed.done():
            return
        try:
            await asyncio.wait_for(asyncio.shield(protocol._closed), _CLOSE_TIMEOUT)
        except asyncio.TimeoutError:
            self._transport.abort()
        except asyncio.CancelledError:
            self._transport.abort()
            raise

    def __repr__(self) -> str:
        state = "closed" if self.is_closing else "open"
        tls = " TLS" if self.ssl_object is not None else ""
        return f"<Stream{tls} {self.sockname!r} -> {self.peername!r} {state}>"


class _Closed(Exception):
    """Marks a stream that this side closed (reads then raise ReadError, writes WriteError)."""


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def _deadline_passed(exc: BaseException, timeout: float | None) -> bool:
    """Whether `exc` is asyncio.wait_for's timeout, not the OS's ETIMEDOUT (both are a
    TimeoutError since Python 3.11; only the OS's carries an errno)."""
    return (
        timeout is not None
        and isinstance(exc, asyncio.TimeoutError)
        and getattr(exc, "errno", None) is None
    )


def _where(host: str, port: int | None) -> str:
    if port is None:
        return host
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


# A TCP connect fails with ECONNREFUSED, ETIMEDOUT, EHOSTUNREACH...; a reset, a broken pipe or
# an abort can only come once the connection is up -- when TLS was asked for, in its handshake.
# asyncio raises a bare ConnectionResetError when the peer closes during the handshake, and
# ConnectionAbortedError when its own handshake timeout passes.
_MID_HANDSHAKE = (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)

# X509_V_ERR_* codes of OpenSSL (include/openssl/x509_vfy.h). A rejected certificate is
# "expired" for 9 and 10, "hostname" for 62 to 64, and "untrusted" for every other code: 2 and
# 18 to 21 (no trusted issuer, self-signed), 7 (bad signature), 23 (revoked), 24 and 26 to 28
# (not a CA, the wrong purpose, untrusted, rejected), 66 to 68 (a key or digest too weak)...
_EXPIRED_CODES = {9: "is not valid yet", 10: "has expired"}
# Unable to get the issuer (2, 20), self-signed (18, 19), cannot verify the leaf (21).
_UNKNOWN_ISSUER_CODES = frozenset((2, 18, 19, 20, 21))
_HOSTNAME_CODES = frozenset((62, 63, 64))  # host name, email, IP address mismatch

# Reasons OpenSSL gives (ssl.SSLError.reason) when the two sides share no TLS version or
# cipher suite: ours (the peer offered only what we refuse) or the peer's alert saying so.
_PROTOCOL_REASONS = frozenset(
    (
        "UNSUPPORTED_PROTOCOL",
        "WRONG_SSL_VERSION",
        "VERSION_TOO_LOW",
        "NO_PROTOCOLS_AVAILABLE",
        "TLSV1_ALERT_PROTOCOL_VERSION",
        "INAPPROPRIATE_FALLBACK",
        "TLSV1_ALERT_INAPPROPRIATE_FALLBACK",
        "NO_SHARED_CIPHER",
        "NO_CIPHERS_AVAILABLE",
        "NO_SUITABLE_SIGNATURE_ALGORITHM",
        "TLSV1_ALERT_INSUFFICIENT_SECURITY",
        "DH_KEY_TOO_SMALL",
    )
)
# Reasons that mean the peer sent bytes that are not TLS at all.
_NOT_TLS_REASONS = frozenset(
    ("WRONG_VERSION_NUMBER", "HTTP_REQUEST", "PACKET_LENGTH_TOO_LONG", "RECORD_LAYER_FAILURE")
)


def _connect_error(
    exc: BaseException,
    host: str,
    port: int | None,
    *,
    tls: bool = False,
    server_hostname: str | None = None,
) -> ConnectError:
    """The error a failed connect raises: a `TLSError` when the TLS handshake failed.

    Args:
        exc: what the event loop raised.
        host, port: where the connection went (port None for a Unix socket or `start_tls`).
        tls: whether a TLS handshake was part of the connect.
        server_hostname: the name the certificate was checked against.
    """
    where = _where(host, port)
    if isinstance(exc, _ssl.SSLError) or (tls and isinstance(exc, _MID_HANDSHAKE)):
        return _tls_error(exc, where, server_hostname or host)
    if isinstance(exc, socket.gaierror):
        return ConnectError(f"cannot resolve {host!r}: {exc.strerror or exc}")
    errno = getattr(exc, "errno", None)
    reason = os.strerror(errno) if isinstance(errno, int) and errno else _describe(exc)
    return ConnectError(f"cannot connect to {where}: {reason}")


def _tls_error(exc: BaseException, where: str, name: str) -> TLSError:
    """Name the check a failed TLS handshake failed (see `TLSError` for the reasons)."""
    if isinstance(exc, _ssl.SSLCertVerificationError):
        code = exc.verify_code
        detail = exc.verify_message or exc.reason or str(exc)
        prefix = f"the TLS certificate of {where} was rejected"
        if code in _EXPIRED_CODES:
            return TLSError(
                f"{prefix}: it {_EXPIRED_CODES[code]} ({detail}; is the clock right?)",
                reason="expired",
            )
        if code in _HOSTNAME_CODES:
            return TLSError(
                f"{prefix}: hostname mismatch, it is not valid for {name!r} ({detail})",
                reason="hostname",
            )
        if code in _UNKNOWN_ISSUER_CODES:
            return TLSError(
                f"{prefix}: it is not trusted ({detail}): no CA this client trusts issued it",
                reason="untrusted",
            )
        return TLSError(f"{prefix}: it is not trusted ({detail})", reason="untrusted")
    reason = getattr(exc, "reason", None)
    if reason == "SSLV3_ALERT_HANDSHAKE_FAILURE":
        # RFC 8446 §6.2: "the sender was unable to negotiate an acceptable set of security
        # parameters given the options available" -- no suite in common, or (TLS 1.2) no
        # client certificate for a server that requires one.
        return TLSError(
            f"the TLS handshake with {where} failed: the server could not agree on the "
            f"parameters ({reason}: no cipher suite in common, or it wants a client certificate)",
            reason="protocol",
        )
    if isinstance(exc, _ssl.SSLError) and reason in _PROTOCOL_REASONS:
        return TLSError(
            f"the TLS handshake with {where} failed: no TLS version or cipher suite that both "
            f"sides accept ({reason}; aioreq's TLS contexts require TLS 1.2 or later)",
            reason="protocol",
        )
    if isinstance(exc, _ssl.SSLError) and reason in _NOT_TLS_REASONS:
        return TLSError(
            f"the TLS handshake with {where} failed: the peer does not speak TLS ({reason}; "
            "a plain HTTP port?)",
            reason="handshake",
        )
    if isinstance(
        exc, (ConnectionResetError, BrokenPipeError, _ssl.SSLEOFError, _ssl.SSLZeroReturnError)
    ):
        return TLSError(
            f"the TLS handshake with {where} failed: the peer closed the connection before it "
            f"was done ({_describe(exc)})",
            reason="handshake",
        )
    return TLSError(
        f"the TLS handshake with {where} failed: {reason or _describe(exc)}", reason="handshake"
    )


#: How long a connect whose caller was cancelled may go on, to be closed when it is done.
_ABANDON_GRACE = 5.0


def _abandon(attempt: asyncio.Future[Any]) -> None:
    """Leave a connect or a TLS handshake whose caller was cancelled to end by itself (asyncio's
    own would drop what it has just made, unclosed), and close what it brings; one that takes
    longer than a moment is cancelled after all."""
    if attempt.done():
        _close_abandoned(attempt)
    else:
        attempt.add_done_callback(_close_abandoned)
        asyncio.get_running_loop().call_later(_ABANDON_GRACE, attempt.cancel)


def _close_abandoned(attempt: asyncio.Future[Any]) -> None:
    """Close the connection an abandoned connect or handshake brought, if it brought one."""
    if attempt.cancelled() or attempt.exception() is not None:
        return
    result = attempt.result()
    transport = result[0] if isinstance(result, tuple) else result
    cast(asyncio.Transport, transport).abort()


async def _connect(
    opener: Callable[[], Awaitable[tuple[asyncio.BaseTransport, asyncio.BaseProtocol]]],
    where: str,
    host: str,
    port: int | None,
    timeout: float | None,
    *,
    tls: bool = False,
    server_hostname: str | None = None,
) -> Stream:
    attempt = asyncio.ensure_future(asyncio.wait_for(opener(), timeout))
    try:
        transport, protocol = await asyncio.shield(attempt)
    except asyncio.CancelledError:
        # Cancelled, asyncio's own connect (its staggered race of addresses) drops a socket
        # that has just connected, unclosed.
        _abandon(attempt)
        raise
    except (OSError, _ssl.SSLError, asyncio.TimeoutError) as exc:
        if _deadline_passed(exc, timeout):
            raise ConnectTimeout(
                f"connecting to {where} took longer than {timeout:g} seconds"
            ) from None
        raise _connect_error(exc, host, port, tls=tls, server_hostname=server_hostname) from exc
    return Stream(cast(asyncio.Transport, transport), cast(_Protocol, protocol))


async def open_tcp_stream(
    host: str,
    port: int,
    *,
    ssl: _ssl.SSLContext | bool | None = None,
    server_hostname: str | None = None,
    connect_timeout: float | None = None,
    local_address: tuple[str, int] | None = None,
    happy_eyeballs_delay: float | None = 0.25,
) -> Stream:
    """Connect to host:port over TCP, and TLS when `ssl` says so.

    The system resolver gives every address of `host`; IPv6 and IPv4 are raced as RFC 8305
    (happy eyeballs) describes, through the event loop's own implementation.

    Args:
        host: a name, an IPv4 address or an IPv6 address (without brackets).
        port: the TCP port.
        ssl: an `ssl.SSLContext`; True for the default context (certifi's CA bundle, host name
            checked); None or False for plain TCP.
        server_hostname: the name for SNI and certificate checking (default: `host`).
        connect_timeout: seconds for resolving, connecting and the TLS handshake together.
        local_address: a (host, port) to bind the local side to.
        happy_eyeballs_delay: seconds before the next address is tried in parallel; None tries
            the addresses one after another.

    Raises:
        TLSError: the TLS handshake failed (a `ConnectError`); its `reason` says which check:
            "untrusted", "hostname", "expired", "protocol" or "handshake".
        ConnectError: the name did not resolve, the connection was refused or unreachable.
        ConnectTimeout: it took longer than `connect_timeout`.
    """
    loop = asyncio.get_running_loop()
    context = _client_context(ssl)

    options: dict[str, Any] = {
        "ssl": context,
        "server_hostname": (server_hostname or host) if context is not None else None,
        "local_addr": local_address,
    }
    if happy_eyeballs_delay is not None and type(loop) not in _NO_HAPPY_EYEBALLS:
        options["happy_eyeballs_delay"] = happy_eyeballs_delay

    async def opener() -> tuple[asyncio.BaseTransport, asyncio.BaseProtocol]:
        factory = functools.partial(_Protocol, loop)
        try:
            return await loop.create_connection(factory, host, port, **options)
        except TypeError as exc:
            # uvloop's create_connection has no happy_eyeballs_delay: without it, then.
            if "happy_eyeballs_delay" not in str(exc):
                raise
            _NO_HAPPY_EYEBALLS.add(type(loop))
            options.pop("happy_eyeballs_delay", None)
            return await loop.create_connection(factory, host, port, **options)

    where = _where(host, port)
    return await _connect(
        opener,
        where,
        host,
        port,
        connect_timeout,
        tls=context is not None,
        server_hostname=options["server_hostname"],
    )


async def open_unix_stream(
    path: str | os.PathLike[str],
    *,
    ssl: _ssl.SSLContext | bool | None = None,
    server_hostname: str | None = None,
    connect_timeout: float | None = None,
) -> Stream:
    """Connect to a Unix domain socket (TLS over it when `ssl` says so; then give a name).

    Raises:
        TLSError: the TLS handshake failed (a `ConnectError`; see `open_tcp_stream`).
        ConnectError: no such socket, or refused.
        ConnectTimeout: it took longer than `connect_timeout` seconds.
    """
    loop = asyncio.get_running_loop()
    context = _client_context(ssl)
    name = os.fspath(path)

    def opener() -> Awaitable[tuple[asyncio.BaseTransport, asyncio.BaseProtocol]]:
        return loop.create_unix_connection(
            functools.partial(_Protocol, loop),
            name,
            ssl=context,
            server_hostname=server_hostname if context is not None else None,
        )

    return await _connect(
        opener,
        name,
        name,
        None,
        connect_timeout,
        tls=context is not None,
        server_hostname=server_hostname,
    )


class StreamServer(AsyncResource):
    """A listening server that runs a handler for each accepted connection.

    Closing (`aclose()`, or leaving `async with`) stops accepting at once, waits for running
    handlers up to the grace period, then cancels the rest and closes their connections.

    Attributes:
        sockets: the listening sockets.
    """

    def __init__(
        self, handler: Handler, graceful_shutdown: float, loop: asyncio.AbstractEventLoop
    ) -> None:
        self._handler = handler
        self._graceful_shutdown = graceful_shutdown
        self._loop = loop
        self._server: asyncio.Server | None = None
        self._tasks: dict[asyncio.Task[None], Stream] = {}
        self._closing = False
        self._closed = False

    def _protocol(self) -> _Protocol:
        protocol = _Protocol(self._loop)
        protocol.on_connect = self._accept
        return protocol

    def _accept(self, stream: Stream) -> None:
        if self._closing:
            stream.abort()
            return
        task = self._loop.create_task(self._run(stream))
        self._tasks[task] = stream

    async def _run(self, stream: Stream) -> None:
        cancelled = False
        try:
            await self._handler(stream)
        except asyncio.CancelledError:
            cancelled = True
        except (ReadError, WriteError, ConnectionError) as exc:
            # The peer went away mid-exchange: routine for a server.
            logger.debug("connection from %r ended: %s", stream.peername, exc)
        except Exception:
            logger.exception("unhandled error in the connection handler for %r", stream.peername)
        finally:
            try:
                if cancelled or stream.is_closing:
                    stream.abort()
                else:
                    await stream.aclose()
            finally:
                self._tasks.pop(asyncio.current_task(), None)  # type: ignore[arg-type]

    @property
    def sockets(self) -> list[socket.socket]:
        """The listening sockets (empty once closed)."""
        if self._server is None or self._closed:
            return []
        return list(self._server.sockets)

    @property
    def address(self) -> Any:
        """The address of the first listening socket, e.g. ('127.0.0.1', 8080).

        Raises:
            RuntimeError: the server is closed.
        """
        sockets = self.sockets
        if not sockets:
            raise RuntimeError("the server is closed: it has no address")
        return sockets[0].getsockname()

    @property
    def connections(self) -> list[Stream]:
        """The streams of the connections being served now."""
        return list(self._tasks.values())

    @property
    def closing(self) -> bool:
        """True once closing has begun (handlers may check it to finish early)."""
        return self._closing

    async def drop_connections(self) -> int:
        """Cancel every running handler and close its connection at once; keep listening.

        Returns:
            How many connections were dropped.
        """
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)
        return len(tasks)

    async def aclose(self, *, graceful_shutdown: float | None = None) -> None:
        """Stop accepting, let handlers finish for the grace period, then cancel them.

        Args:
            graceful_shutdown: seconds to wait, overriding the server's own setting.
        """
        if self._closed:
            return
        self._closing = True
        grace = self._graceful_shutdown if graceful_shutdown is None else graceful_shutdown
        if self._server is not None:
            self._server.close()
        tasks = list(self._tasks)
        if tasks and grace > 0:
            await asyncio.wait(tasks, timeout=grace)
        for task in self._tasks:
            task.cancel()
        remaining = list(self._tasks)
        if remaining:
            await asyncio.wait(remaining)
        if self._server is not None:
            await self._server.wait_closed()
        self._closed = True

    def __repr__(self) -> str:
        state = "closed" if self._closed else "closing" if self._closing else "serving"
        names = [s.getsockname() for s in self.sockets]
        return f"<StreamServer {names!r} {state}, {len(self._tasks)} connection(s)>"


async def start_tcp_server(
    host: str | None,
    port: int,
    handler: Handler,
    *,
    ssl: _ssl.SSLContext | None = None,
    graceful_shutdown: float = 10.0,
    backlog: int = 1024,
    reuse_port: bool = False,
) -> StreamServer:
    """Listen on host:port and run `await handler(stream)` for each connection.

    The stream is closed when the handler returns. A handler's exception is logged (on the
    "aioreq.streams" logger) and closes only its own connection.

    Args:
        host: the address to bind; None or "" for every interface (IPv4 and IPv6).
        port: the port, or 0 for any free one (see `StreamServer.address`).
        handler: an async callable taking the `Stream`.
        ssl: a server-side `ssl.SSLContext` for TLS.
        graceful_shutdown: seconds closing waits for running handlers before cancelling them.
        backlog: the listen queue length.
        reuse_port: set SO_REUSEPORT (several processes on one port).

    Raises:
        OSError: the address could not be bound (in use, not local). Raised as is: it is the
            caller's configuration, not a network failure.
    """
    loop = asyncio.get_running_loop()
    server = StreamServer(handler, graceful_shutdown, loop)
    server._server = await loop.create_server(
        server._protocol,
        host or None,
        port,
        ssl=ssl,
        backlog=backlog,
        reuse_port=reuse_port or None,
    )
    return server


async def start_unix_server(
    path: str | os.PathLike[str],
    handler: Handler,
    *,
    ssl: _ssl.SSLContext | None = None,
    graceful_shutdown: float = 10.0,
    backlog: int = 1024,
) -> StreamServer:
    """Like `start_tcp_server`, on a Unix domain socket at `path`."""
    loop = asyncio.get_running_loop()
    server = StreamServer(handler, graceful_shutdown, loop)
    server._server = await loop.create_unix_server(
        server._protocol, os.fspath(path), ssl=ssl, backlog=backlog
    )
    return server
