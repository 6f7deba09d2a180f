"""How the server ends a connection it cannot go on with: a refusal, then a lingering close.

Bad requests get the protocol error's status hint (400, 413, 414, 431, 501) and the connection
is closed with a lingering close (RFC 9112 §9.6): the write side is shut first and what the
client still sends is read and dropped for a moment, so that the error response is not lost to
a TCP reset. A request whose unread body costs the connection ends with the same lingering
close. Apart from the connection's loop (`_connection`), which takes `_Closing` as
a mixin, since none of this is on the path of a request that is served and kept.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from .._exceptions import TransportError
from ..protocol import encode_response_head, reason_phrase
from ..streams import Stream
from ._writing import http_date

__all__: list[str] = []

logger = logging.getLogger("aioreq.server")

_READ_SIZE = 2**20  # whole transport reads, never cut and copied
# Lingering close: how long, and how many bytes, to read and drop before closing for good.
_LINGER_TIMEOUT = 1.0
_LINGER_LIMIT = 2**20


class _Closing:
    """The refusals and closes of `_Connection` (a mixin: the attributes are `_Connection`'s)."""

    __slots__ = ()

    client: Any
    stream: Stream

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
