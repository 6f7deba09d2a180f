"""`FakeServer`: an `aioreq.server` on its own thread and event loop, scripted by a test.

The thread and its loop are `_thread._LoopThread`'s, whose docstring says why a thread.

Everything a test touches (expectations, the request log, the error list) is guarded by one
lock; the server thread takes it only for short, non-blocking steps.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import re
import ssl as _ssl
import threading
import traceback
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from aioreq.server import RawResponse, Request, Response, Server, ServerLimits, serve

from . import _endpoints
from ._expect import _MISSING, Expectation, Handler, Reply
from ._log import RecordedRequest
from ._thread import _LoopThread

if TYPE_CHECKING:
    import trustme

__all__ = ["FakeServer"]


class FakeServer(_LoopThread[Server]):
    """An HTTP/1.1 server for tests, with built-in endpoints and scripted expectations.

    Args:
        host: the address to bind ("127.0.0.1", "::1").
        port: the port; 0 picks a free one (safe under pytest-xdist).
        ssl: a server-side TLS context, for HTTPS.
        uds: serve on this Unix socket path instead of host and port.
        limits: `aioreq.server.ServerLimits` for the server.
        endpoints: serve the built-in endpoints (/status/..., /echo, ...) where no expectation
            matches.
        ca: the trustme CA that issued the certificate of `ssl` (for `client_ssl_context()`).
        on_request: called with each request as it arrives, on the server's thread, before it
            is answered (a log, say); an exception it raises is reported as a handler's is.
        record: keep each request for `requests` and the teardown report (False for a
            long-running server whose memory must not grow with every request).

    Attributes:
        strict: when True (the default, reset by `clear()`), `check()` reports unmatched
            requests, unmet expectations and handler errors; the fixtures fail the test then.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        ssl: _ssl.SSLContext | None = None,
        uds: str | None = None,
        limits: ServerLimits | None = None,
        endpoints: bool = True,
        ca: trustme.CA | None = None,
        on_request: Callable[[RecordedRequest], None] | None = None,
        record: bool = True,
    ) -> None:
        super().__init__("server", on_error=self._record_server_error)
        self._host = host
        self._port = port
        self._ssl = ssl
        self._uds = uds
        self._limits = limits
        self._endpoints = endpoints
        self.ca = ca
        self._on_request = on_request
        self._record = record
        #: The client certificate a mutual-TLS server accepts, and its PEM file (key + chain).
        self.client_cert: trustme.LeafCert | None = None
        self.client_cert_file: str | None = None
        self._lock = threading.Lock()
        self._expectations: list[Expectation] = []
        self._ordered: list[Expectation] = []
        self._log: list[RecordedRequest] = []
        self._errors: list[str] = []
        self._connection_ids: dict[Any, int] = {}
        self._raw_paths = 0
        self.strict = True

    # -- life -------------------------------------------------------------------------------------

    def _record_server_error(self, record: logging.LogRecord) -> None:
        with self._lock:
            message = record.getMessage()
            if record.exc_info and record.exc_info[1] is not None:
                message += (
                    ": "
                    + "".join(
                        traceback.format_exception_only(record.exc_info[0], record.exc_info[1])
                    ).strip()
                )
            self._errors.append(f"the server could not answer as told: {message}")

    def start(self) -> FakeServer:
        """Start serving on a new thread; returns once the server accepts connections.

        Raises:
            OSError: the address could not be bound.
        """
        self._start()
        return self

    async def _open(self) -> Server:
        return await serve(
            self._app,
            self._host,
            self._port,
            ssl=self._ssl,
            uds=self._uds,
            limits=self._limits,
            graceful_shutdown=0.0,
        )

    async def _close(self, server: Server) -> None:
        await server.close(graceful_shutdown=0.0)

    def stop(self) -> None:
        """Close every connection, stop the server and its thread."""
        self._stop()

    # -- where it is ------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The base URL, e.g. "http://127.0.0.1:38517" (no trailing slash)."""
        return self._running.url

    @property
    def host(self) -> str:
        """The address it listens on."""
        return self._running.host

    @property
    def port(self) -> int:
        """The port it listens on."""
        return self._running.port

    @property
    def uds(self) -> str | None:
        """The Unix socket path, when it serves on one."""
        return self._uds

    def client_ssl_context(self) -> _ssl.SSLContext:
        """A client-side `ssl.SSLContext` that trusts this server's certificate (and presents
        the client certificate of a mutual-TLS server).

        Raises:
            RuntimeError: the server has no CA (it is not a TLS server made by the fixtures).
        """
        if self.ca is None:
            raise RuntimeError("this fake server has no CA: it does not serve TLS")
        context = _ssl.create_default_context()
        self.ca.configure_trust(context)
        if self.client_cert is not None:
            self.client_cert.configure_cert(context)
        return context

    def url_for(self, path: str) -> str:
        """The absolute URL of `path` on this server ("/x" or "x" alike)."""
        return self.url + (path if path.startswith("/") else "/" + path)

    # -- scripting ------------------------------------------------------------------------------

    def expect(
        self,
        method: str | None = None,
        path: str | re.Pattern[str] | Callable[[str], bool] | None = None,
        *,
        query: Mapping[str, str | list[str]] | None = None,
        headers: Mapping[str, str] | None = None,
        body: bytes | str | None = None,
        json: Any = _MISSING,
        times: int | None = None,
        ordered: bool = False,
    ) -> Expectation:
        """Expect a request, and script its answer with `.respond(...)` on the result.

        Args:
            method: the method ("GET"), or None for any.
            path: the exact path, a compiled regex (full match), a predicate, or None for any.
            query: parameters that must be present with exactly these values.
            headers: fields that must be present with these values (names case-insensitive).
            body: the exact body.
            json: the body, parsed as JSON, must equal this.
            times: answer this many matching requests, and fail the test at teardown if fewer
                arrived (1 makes a one-shot expectation); None answers any number.
            ordered: this expectation must be met in its turn among the ordered ones.

        Expectations are tried newest first; a one-shot one that is used up stops matching.
        """
        expectation = Expectation(
            method,
            path,
            query=query,
            headers=headers,
            body=body,
            json=json,
            times=1 if ordered and times is None else times,
            ordered=ordered,
        )
        with self._lock:
            (self._ordered if ordered else self._expectations).append(expectation)
        return expectation

    def serve_bytes(self, data: bytes, *, keep_alive: bool = False) -> str:
        """Answer requests to a fresh path with exactly these bytes; returns its URL.

        For fuzzing a client over a real socket with messages drawn by
        `pytest_aioreq.strategies`: each call gives a new path, so examples do not meet. The
        connection closes after the bytes unless `keep_alive` is set.
        """
        with self._lock:
            self._raw_paths += 1
            path = f"/_pytest_aioreq/bytes/{self._raw_paths}"
        reply = RawResponse(data, keep_alive=keep_alive)
        self.expect(None, path).respond_with(lambda _request: reply)
        return self.url_for(path)

    def clear(self) -> None:
        """Forget expectations, the request log and errors, and become strict again."""
        with self._lock:
            self._expectations.clear()
            self._ordered.clear()
            self._log.clear()
            self._errors.clear()
            self._connection_ids.clear()
        self.strict = True

    def drop_connections(self) -> int:
        """Close every open connection at once, cancelling handlers still running (a stalled
        or delayed endpoint); the server goes on listening. Returns how many were dropped."""
        return self._call(self._running.drop_connections())

    # -- what happened --------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request that arrived since the last `clear()`, in order."""
        with self._lock:
            return list(self._log)

    @property
    def connection_count(self) -> int:
        """How many connections carried requests since the last `clear()`."""
        with self._lock:
            return len(self._connection_ids)

    def problems(self) -> list[str]:
        """Unmatched requests, unmet expectations and handler errors, one line each."""
        with self._lock:
            problems = list(self._errors)
            problems += [
                f"expected but not (fully) requested: {expectation.describe()}"
                for expectation in self._expectations + self._ordered
                if expectation.unmet
            ]
        return problems

    def assert_no_requests(self) -> None:
        """Raise AssertionError if any request arrived."""
        log = self.requests
        if log:
            listed = "\n".join(f"  {request.describe()}" for request in log)
            raise AssertionError(f"expected no request, {len(log)} arrived:\n{listed}")

    def assert_requested(self, method: str, path: str, *, times: int | None = None) -> None:
        """Raise AssertionError unless `method path` arrived (exactly `times` times if given)."""
        count = sum(1 for r in self.requests if r.method == method and r.path == path)
        if (times is None and count == 0) or (times is not None and count != times):
            wanted = "at least once" if times is None else f"{times} time(s)"
            raise AssertionError(
                f"expected {method} {path} {wanted}, it arrived {count} time(s)\n" + self.report([])
            )

    # -- the application ------------------------------------------------------------------------

    async def _app(self, request: Request) -> Reply:
        body = await request.body()
        with self._lock:
            # Numbered from 1 for each test, in the order the connections first sent a request.
            connection = self._connection_ids.setdefault(
                request.connection_id, len(self._connection_ids) + 1
            )
        recorded = RecordedRequest(
            method=request.method,
            target=request.target,
            path=request.path,
            query=request.query,
            headers=request.headers.multi_items(),
            body=body,
            http_version=request.http_version,
            connection=connection,
            trailers=request.trailers.multi_items(),
        )
        with self._lock:
            if self._record:
                self._log.append(recorded)
            handler = self._route(recorded)
        if self._on_request is not None:
            try:
                self._on_request(recorded)
            except Exception:
                with self._lock:
                    self._errors.append(
                        f"on_request for {recorded.describe()} raised:\n"
                        + traceback.format_exc().rstrip()
                    )
        if handler is None:
            with self._lock:
                self._errors.append(f"no expectation matched: {recorded.describe()}")
            return Response(
                500,
                text=f"pytest_aioreq: no expectation matched {recorded.method} {recorded.target}\n",
            )
        try:
            reply = handler(recorded)
            if inspect.isawaitable(reply):
                reply = await reply
        except asyncio.CancelledError:
            raise
        except Exception:
            with self._lock:
                self._errors.append(
                    f"the handler for {recorded.describe()} raised:\n"
                    + "".join(traceback.format_exc()).rstrip()
                )
            return Response(500, text="pytest_aioreq: the handler raised; see the test's report\n")
        return reply

    def _route(self, request: RecordedRequest) -> Handler | None:
        """The handler for `request` (the lock is held)."""
        pending = [e for e in self._ordered if not e.exhausted]
        for position, expectation in enumerate(pending):
            if expectation.matches(request):
                if position:
                    self._errors.append(
                        f"out of order: {request.describe()} came before "
                        + "; ".join(e.describe() for e in pending[:position])
                    )
                expectation.matched += 1
                return expectation.handler
        for expectation in reversed(self._expectations):
            if not expectation.exhausted and expectation.matches(request):
                expectation.matched += 1
                return expectation.handler
        if self._endpoints:
            return _endpoints.route(request)
        return None

    def __repr__(self) -> str:
        where = self.url if self._server is not None and self._thread is not None else "stopped"
        return f"<FakeServer {where}>"
