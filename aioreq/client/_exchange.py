"""One exchange of a `Client`: a request sent on one pooled connection and its response read
(the head, and the body unless it is streamed).

The one retry that is always on (the most common complaint about aiohttp, httpx and urllib3
alike): a server may close an idle keep-alive connection just as the client reuses it. When a
request on a *reused* connection fails before any byte of the response arrived, and the request
is idempotent (RFC 9110 §9.2.2) with a body that can be sent again, it is sent once more on a
fresh connection. RFC 9112 §9.3.1: "A user agent MAY automatically retry a request with a
non-idempotent method" only when it knows the semantics are idempotent -- so others are not.

This is step 5 of the layers in `_client`'s docstring, the one every request goes through (the
shorter path of a plain request included), so it stands apart from the policy around it
(`_layers`); `Client` has it from the `_Exchange` mixin.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterable
from typing import TYPE_CHECKING

from .._config import Timeout
from .._exceptions import (
    LocalProtocolError,
    ReadError,
    RemoteProtocolError,
    WriteError,
)
from ..connection import Origin
from ..pool import ConnectionPool
from ..protocol import Fields, encode_request_head
from ._building import expects_continue, wire_fields
from ._cookies import store_cookies
from ._decoders import make_decoder
from ._hooks import Progress, Trace, tracer, uploading
from ._models import Request, Response
from ._proxies import ProxyRoutes
from ._streaming import streamed_response

if TYPE_CHECKING:
    from http.cookiejar import CookieJar

_IDEMPOTENT = frozenset(("GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"))
_now = time.monotonic
#: How long a body with `Expect: 100-continue` waits for the server's 100 before it goes anyway
#: (RFC 9110 §10.1.1 leaves it open; curl waits 1 second).
CONTINUE_WAIT = 1.0


class _Call:
    """What one call of `send()` settled, shared by its redirects, auth rounds and retries."""

    __slots__ = ("deadline", "download", "follow", "phases", "stream", "upload")

    def __init__(
        self,
        phases: Timeout,
        deadline: float | None,
        stream: bool,
        follow: bool,
        upload: Progress | None = None,
        download: Progress | None = None,
    ) -> None:
        self.phases = phases
        self.deadline = deadline
        self.stream = stream
        self.follow = follow
        self.upload = upload
        self.download = download


class _Exchange:
    """The exchange of a `Client` (see the module's docstring), with the client's attributes
    it reads."""

    _pool: ConnectionPool
    _proxies: ProxyRoutes | None
    _trace: Trace | None
    expect_continue: int | None
    max_body_size: int | None
    max_decoded_size: int | None
    cookies: CookieJar

    async def _send_once(
        self,
        request: Request,
        phases: Timeout,
        deadline: float | None,
        stream: bool,
        head_bytes: bytes | None,
        call: _Call | None = None,
    ) -> Response:
        pool = self._pool
        url = request.url
        origin: Origin = url.origin
        try:
            method = request.method.encode("ascii")
        except UnicodeEncodeError:
            raise LocalProtocolError(
                f"{request.method!r} is not a method: a method is a token (RFC 9110 §9.1)"
            ) from None
        content: bytes | AsyncIterable[bytes] = request.content
        fields: Fields | None = None
        expect: float | None = None
        if head_bytes is None or not isinstance(content, bytes):
            target = url.target
            extra: list[tuple[bytes, bytes]] = []
            proxies = self._proxies
            if proxies is not None:
                proxy = proxies.proxy_for(url)
                if proxy is not None:
                    origin = (*origin, proxy)
                    if url.scheme == "http":
                        # RFC 9112 §3.2.2: to a proxy, the target is the absolute URI.
                        target = b"http://" + url.host_header + target
                        extra += proxy.headers
            if content and expects_continue(self.expect_continue, content, request.length):
                extra.append((b"Expect", b"100-continue"))
                expect = CONTINUE_WAIT
            fields = wire_fields(request, extra)
            head_bytes = encode_request_head(method, target, fields)
        upload = None if call is None else call.upload
        started = _now()
        if deadline is None:
            read_timeout, write_timeout = phases.read, phases.write
        else:
            read_timeout = _within(phases.read, deadline)
            write_timeout = _within(phases.write, deadline)
        trace = self._trace
        on_sent = None if trace is None else tracer(trace, "request_sent", request)
        fresh = False
        while True:
            # An idle connection is taken without a coroutine; only a new one or a wait needs it.
            connection = None if fresh else pool.take_idle(origin)
            if connection is None:
                connection = await pool.acquire(
                    origin,
                    timeout=_within(phases.pool, deadline),
                    connect_timeout=_within(phases.connect, deadline),
                    fresh=fresh,
                )
            if trace is not None:
                trace(
                    "connection_acquired",
                    {"origin": origin[:3], "reused": connection.requests > 0, "request": request},
                )
            body = (
                content
                if upload is None or not content
                else uploading(content, request.length, upload)
            )
            try:
                head = await connection.send(
                    method,
                    head_bytes,
                    fields,
                    body,
                    read_timeout=read_timeout,
                    write_timeout=write_timeout,
                    expect_continue=expect,
                    on_sent=on_sent,
                )
            except (ReadError, WriteError, RemoteProtocolError):
                pool.release(connection, reusable=False)
                if (
                    not fresh
                    and connection.requests > 1
                    and not connection.received
                    and request.method in _IDEMPOTENT
                    and request.replayable
                ):
                    fresh = True  # the server closed the idle connection: once more, anew
                    continue
                raise
            except BaseException:
                pool.release(connection, reusable=False)
                raise
            break
        if trace is not None:
            trace(
                "response_headers",
                {"request": request, "status": head.status_code, "seconds": _now() - started},
            )
        decoder = None
        coded = set_cookie = False
        for name, _ in head.headers:
            size = len(name)
            if size == 16:
                coded = coded or name.lower() == b"content-encoding"
            elif size == 10:
                set_cookie = set_cookie or name.lower() == b"set-cookie"
        if coded:
            # RFC 9110 §5.3: repeated lines of a list field are one list. A streamed body is
            # decoded piece by piece, so no cap on the whole is needed there.
            codings = b", ".join(
                v for n, v in head.headers if len(n) == 16 and n.lower() == b"content-encoding"
            )
            try:
                decoder = make_decoder(codings, max_size=None if stream else self.max_decoded_size)
            except BaseException:
                pool.release(connection, reusable=False)
                raise
        if set_cookie:
            store_cookies(self.cookies, url, head.headers)
        version = "HTTP/1.0" if head.http_version == b"1.0" else "HTTP/1.1"
        progress = None if call is None else call.download
        if stream or progress is not None:
            response = streamed_response(
                head,
                version,
                request,
                decoder,
                pool=pool,
                connection=connection,
                read_timeout=phases.read,
                deadline=deadline,
                progress=progress,
                trace=trace,
                started=started,
                max_size=None if stream else self.max_body_size,
            )
            if not stream:
                await response.aread()
        else:
            raw = connection.take_body(self.max_body_size)
            if raw is None:
                try:
                    raw = await connection.read_body(read_timeout, self.max_body_size, deadline)
                except BaseException:
                    pool.release(connection, reusable=False)
                    raise
            trailers = connection.trailers
            pool.release(connection, reusable=True)
            body = raw if decoder is None else decoder.decode(raw) + decoder.flush()
            response = Response(
                head.status_code, head.reason, version, head.headers, request, body=body
            )
            response.num_bytes_downloaded = len(raw)
            if trailers:
                response._set_trailers(trailers)
            if trace is not None:
                trace(
                    "response_done",
                    {"request": request, "bytes": len(raw), "seconds": _now() - started},
                )
        response._elapsed = _now() - started
        return response


def _within(phase: float | None, deadline: float | None) -> float | None:
    """The seconds a phase may take: its own timeout, cut to what the total deadline leaves."""
    if deadline is None:
        return phase
    left = max(0.0, deadline - _now())
    return left if phase is None else min(phase, left)
