"""Streamed responses: what `Client.stream()` returns, and the response whose body is read from
its connection as it is iterated (with its trailers, progress and trace), the connection going
back to the pool when the body ends."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

from .._exceptions import LocalProtocolError
from ..connection import Connection
from ..pool import ConnectionPool
from ..protocol import ResponseHead
from ._decoders import Decoder
from ._hooks import Progress, Trace, call_hook
from ._models import Request, Response
from ._urls import URL

__all__ = ["StreamContext", "streamed_response"]

_now = time.monotonic


class _Agent(Protocol):
    """What a `StreamContext` uses of its `Client`, the user agent (`_client` imports this
    module, so this one cannot import `Client`)."""

    @property
    def build_request(self) -> Callable[..., Request]: ...

    @property
    def send(self) -> Callable[..., Awaitable[Response]]: ...


class StreamContext:
    """What `Client.stream()` returns: `async with` it to get the response."""

    def __init__(self, client: _Agent, method: str, url: str | URL, kwargs: dict[str, Any]) -> None:
        self._client = client
        self._method = method
        self._url = url
        self._kwargs = kwargs
        self._response: Response | None = None

    async def __aenter__(self) -> Response:
        options = {
            name: self._kwargs.pop(name)
            for name in (
                "auth",
                "timeout",
                "follow_redirects",
                "upload_progress",
                "download_progress",
            )
            if name in self._kwargs
        }
        request = self._client.build_request(self._method, self._url, **self._kwargs)
        self._response = await self._client.send(request, stream=True, **options)
        return self._response

    async def __aexit__(self, *exc_info: object) -> None:
        if self._response is not None:
            await self._response.aclose()


def streamed_response(
    head: ResponseHead,
    version: str,
    request: Request,
    decoder: Decoder | None,
    *,
    pool: ConnectionPool,
    connection: Connection,
    read_timeout: float | None,
    deadline: float | None,
    progress: Progress | None,
    trace: Trace | None,
    started: float,
    max_size: int | None = None,
) -> Response:
    """The response to `request` whose head is `head`, its body still on `connection`.

    The connection goes back to `pool` when the body ends: to be used again if it was read to
    the end, else closed. `read_timeout`, `deadline`, `progress`, `trace`, `started` and
    `max_size`: see `_body_and_trailers`.
    """

    def release(completed: bool) -> None:
        pool.release(connection, reusable=completed)

    response = Response(
        head.status_code,
        head.reason,
        version,
        head.headers,
        request,
        release=release,
        decoder=decoder,
    )
    response._stream = _body_and_trailers(
        connection, read_timeout, deadline, response, progress, trace, started, max_size
    )
    return response


async def _body_and_trailers(
    connection: Connection,
    read_timeout: float | None,
    deadline: float | None,
    response: Response,
    progress: Progress | None,
    trace: Trace | None,
    started: float,
    max_size: int | None,
) -> AsyncIterator[bytes]:
    """The body of `response` as it comes from `connection`, then its trailers set on it.

    Args:
        connection: the connection the response's head was read from.
        read_timeout: the longest wait for each piece.
        deadline: the monotonic time the whole exchange must end by, or None.
        response: the response whose body this is.
        progress: called as `(bytes received, total or None)` after each piece.
        trace: called with "response_done" at the end.
        started: the monotonic time the exchange began (for the trace).
        max_size: the most body bytes accepted (the client's `max_body_size` for a response
            read whole), or None.

    Raises:
        LocalProtocolError: the body grew past `max_size` (as `Connection.read_body`).
    """
    received = 0
    total: int | None = None
    if progress is not None:
        length = response.headers.get("content-length")
        total = int(length) if length is not None and length.isdigit() else None
    async for chunk in connection.body_chunks(read_timeout, deadline):
        received += len(chunk)
        if max_size is not None and received > max_size:
            raise LocalProtocolError(f"the response body exceeds the limit of {max_size} bytes")
        yield chunk
        if progress is not None:
            await call_hook(progress, received, total)
    response._set_trailers(connection.trailers)
    if trace is not None:
        trace(
            "response_done",
            {"request": response.request, "bytes": received, "seconds": _now() - started},
        )
