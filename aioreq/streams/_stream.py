"""`Stream`: a buffered, bidirectional byte stream over one connection."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl as _ssl
import struct
from collections.abc import Callable
from typing import Any, cast

from .._exceptions import (
    ConnectError,
    ConnectTimeout,
    IncompleteReadError,
    LimitOverrunError,
    ReadError,
    ReadTimeout,
    WriteError,
    WriteTimeout,
)
from ._contexts import _client_context
from ._failures import _connect_error, _deadline_passed, _describe
from ._protocol import (
    _LOW_WATER,
    _Closed,
    _Expired,
    _on_timeout,
    _Protocol,
)
from ._resource import AsyncResource

__all__ = ["DEFAULT_LIMIT", "Stream"]


#: The default `limit` of `read_until`, and the default `max_bytes` of `read_some`.
DEFAULT_LIMIT = 2**16

# Over TLS, `write_all` hands data to the transport in slices of this size, with a turn of the
# event loop between them. asyncio's TLS transport (CPython 3.11+, uvloop) encrypts a whole
# write into the TCP transport below it at once and pauses its own protocol only for data it
# still holds, so one large write never pauses; and it learns of a reset from that transport a
# turn or two later. Without slices a peer that stops reading, or resets, is not seen while
# writing, and a large upload holds the event loop for its whole encryption.
_TLS_SLICE = 2**16

# How long `aclose()` lets buffered output (and a TLS close_notify) drain before it aborts.
_CLOSE_TIMEOUT = 5.0


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
