"""The client's extension points: middlewares, event hooks, trace events, progress callbacks.

- A middleware is `async def mw(request, call_next) -> Response`: it may change the request,
  call `await call_next(request)` (or not), and change or replace the response. A client's
  middlewares are its own (the original aioreq kept them in a module-level list, so one
  client's settings leaked into every other), and they run for streamed responses too, which
  they get before the body is read.
- Event hooks are called with each request as it is sent and each response as it arrives,
  redirects and auth rounds included; they may be plain functions or coroutine functions.
- `trace(event, info)` is called at each step of an exchange (`TRACE_EVENTS`): cheap enough
  to leave on for metrics, since nothing is computed for it when there is no trace function.
- Progress callbacks get `(bytes so far, total or None)`.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any

from ..connection import Origin
from ..streams import Stream
from ._models import Request, Response

__all__ = [
    "TRACE_EVENTS",
    "Handler",
    "Hook",
    "Middleware",
    "Progress",
    "Trace",
    "call_hook",
    "connection_info",
    "link",
    "split_hooks",
    "tls_info",
    "tracer",
    "uploading",
]

Handler = Callable[[Request], Awaitable[Response]]
Middleware = Callable[[Request, Handler], Awaitable[Response]]
Hook = Callable[[Any], Any]
Progress = Callable[[int, "int | None"], Any]
Trace = Callable[[str, dict[str, Any]], None]

_now = time.monotonic
#: Pieces an upload is cut into for its progress callback.
_PROGRESS_PIECE = 64 * 1024

#: The events a `trace` function is called with, and what each one's info holds (seconds
#: are `time.monotonic()` differences).
TRACE_EVENTS = {
    "connection_created": "origin, seconds (connecting), local and remote address, proxy",
    "tls_done": "origin, seconds (the TLS handshake), version, cipher",
    "connection_acquired": "origin, reused (an idle keep-alive connection), request",
    "request_sent": "request, seconds: the head and body are written",
    "response_headers": "request, status, seconds: the head of the final response arrived",
    "response_done": "request, bytes (received, before decoding), seconds: the body arrived",
}


def split_hooks(
    event_hooks: Mapping[str, Sequence[Hook]] | None,
) -> tuple[tuple[Hook, ...], tuple[Hook, ...]]:
    """(request hooks, response hooks) from `event_hooks=`."""
    if not event_hooks:
        return (), ()
    unknown = set(event_hooks) - {"request", "response"}
    if unknown:
        raise ValueError(f"event_hooks takes 'request' and 'response', not {sorted(unknown)}")
    return tuple(event_hooks.get("request", ())), tuple(event_hooks.get("response", ()))


async def call_hook(hook: Callable[..., Any], *arguments: Any) -> None:
    """Call a hook that may be a plain function or a coroutine function."""
    result = hook(*arguments)
    if inspect.isawaitable(result):
        await result


def link(middleware: Middleware, call_next: Handler) -> Handler:
    """`middleware` bound to the next handler of the chain."""

    async def handler(request: Request) -> Response:
        return await middleware(request, call_next)

    return handler


def connection_info(origin: Origin, stream: Stream, started: float) -> dict[str, Any]:
    """The info of a "connection_created" event."""
    return {
        "origin": origin[:3],
        "seconds": _now() - started,
        "local": stream.sockname,
        "remote": stream.peername,
        "proxy": origin[3] if len(origin) > 3 else None,
    }


def tls_info(origin: Origin, stream: Stream, started: float) -> dict[str, Any]:
    """The info of a "tls_done" event."""
    tls = stream.ssl_object
    return {
        "origin": origin[:3],
        "seconds": _now() - started,
        "version": None if tls is None else tls.version(),
        "cipher": None if tls is None else tls.cipher(),
    }


def tracer(trace: Trace, event: str, request: Request) -> Callable[[], None]:
    """A function that emits `event` for `request`, with the seconds since it was made."""
    started = _now()

    def emit() -> None:
        trace(event, {"request": request, "seconds": _now() - started})

    return emit


async def uploading(
    content: bytes | AsyncIterable[bytes], total: int | None, progress: Progress
) -> AsyncIterator[bytes]:
    """The body in pieces, with `progress(sent, total)` called after each is written."""
    sent = 0
    if isinstance(content, bytes):
        total = len(content)
        view = memoryview(content)
        for start in range(0, len(content), _PROGRESS_PIECE):
            piece = bytes(view[start : start + _PROGRESS_PIECE])
            yield piece
            sent += len(piece)
            await call_hook(progress, sent, total)
        return
    async for piece in content:
        yield piece
        sent += len(piece)
        await call_hook(progress, sent, total)
