"""`Client`: requests over pooled keep-alive connections, with policy -- timeouts, TLS,
redirects, cookies, auth, proxies, retries, middleware and hooks, decoding, and the one safe
retry.

One request goes through these layers, outermost first (1 to 4 in `_layers`, 5 in `_exchange`,
which `Client` has as mixins):

1. the client's middlewares, `async def mw(request, call_next) -> Response`, in the order given
   (streamed responses too: a middleware gets the response before its body is read);
2. auth: the auth flow of the request (or the client), which may answer a challenge by sending
   the request again (`_auth.authenticate`);
3. redirects: each 3xx with a Location is followed, up to `max_redirects`
   (`_redirects.follow_chain`);
4. each hop: the jar's cookies (`_cookies`), the request hooks, the retries of `Retry`
   (`_retry`), and the response hooks;
5. one exchange on one pooled connection (`_exchange`), with the one retry that is always on,
   of a request on a connection the server closed (a streamed body is read later, by
   `_streaming`).

A request with none of this (no auth, middleware, hooks, retries, proxy, cookies or total
deadline) takes a shorter path to step 5 with its head prepared once per client (`_building`
builds requests and their heads): the speed of the common case is not paid for by the features
it does not use.
"""

from __future__ import annotations

import os
import ssl as _ssl
import time
from collections.abc import AsyncIterable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .._config import Limits, Timeout, TimeoutTypes
from .._headers import Headers, HeadersLike, set_fields
from .._version import __version__
from ..pool import ConnectionPool
from ..protocol import (
    DEFAULT_MAX_HEADER_COUNT,
    DEFAULT_MAX_HEADER_SIZE,
    DEFAULT_MAX_LINE_SIZE,
)
from ._auth import Auth, authenticate, coerce_auth, has_netrc
from ._building import Plan, make_plan, make_request, resolve_url
from ._connector import Connector
from ._cookies import CookiesLike, make_jar
from ._decoders import ACCEPT_ENCODING, DEFAULT_MAX_DECODED_SIZE
from ._exchange import _Call
from ._hooks import Hook, Middleware, Progress, Trace, split_hooks
from ._layers import _REDIRECTS, _USE_CLIENT, _Layers
from ._models import Request, Response
from ._proxies import Proxy, ProxyRoutes
from ._retry import Retry
from ._streaming import StreamContext
from ._urls import URL, parse_url

if TYPE_CHECKING:
    from http.cookiejar import CookieJar

__all__ = ["Client"]

_USER_AGENT = f"aioreq/{__version__}".encode()
_now = time.monotonic
#: connect 10 s, read 30 s, write 30 s, pool 10 s, no total.
DEFAULT_TIMEOUT = Timeout()
#: The largest response body a client reads into memory unless told otherwise: a server cannot
#: make it hold more (`stream()` reads any size, a piece at a time).
DEFAULT_MAX_BODY_SIZE = 256 * 2**20


class Client(_Layers):
    """An HTTP/1.1 client with a pool of keep-alive connections.

    Use it as `async with aioreq.Client() as client:`; one client is meant to serve many
    requests (its pool, TLS context and defaults are shared by them).

    Args:
        base_url: prefix of relative request URLs.
        headers: header fields sent with every request.
        params: query parameters added to every request.
        cookies: cookies sent to every host (a mapping), or a `http.cookiejar.CookieJar` to use
            as the client's jar.
        auth: credentials for every request: an `Auth` (`BasicAuth`, `DigestAuth`,
            `BearerAuth`, or a flow of your own), a (user, password) pair for Basic, or a
            function that takes a `Request` and returns it with credentials.
        timeout: a `Timeout`, a number of seconds for every phase, or None for no deadline.
        limits: connection limits and keep-alive expiry.
        verify: True to check certificates against certifi's CA bundle (or `SSL_CERT_FILE` /
            `SSL_CERT_DIR` when `trust_env`); a CA bundle path; an `ssl.SSLContext`; or False
            (with an `InsecureRequestWarning`).
        cert: a client certificate: a PEM path (with the key), or (certificate, key) paths.
        proxy: a proxy for every request: "http://host:port" (userinfo in it is the proxy's
            credentials) or a `Proxy`.
        follow_redirects: follow 3xx redirects (up to `max_redirects`).
        max_redirects: the most redirects one request follows.
        retries: a `Retry` policy, or a number of retries with its defaults (off by default).
        middleware: `async def mw(request, call_next) -> Response` functions, outermost first.
        event_hooks: {"request": [...], "response": [...]}: functions (or coroutine functions)
            called with each request sent and each response received, redirects included.
        trace: a function called as `trace(event, info)` at each step of an exchange (see
            `TRACE_EVENTS`), for logging and metrics.
        trust_env: read `SSL_CERT_FILE`, `SSL_CERT_DIR`, the proxy variables (`HTTP_PROXY`,
            `HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`) and `.netrc` (or `NETRC`) from the
            environment.
        uds: connect to this Unix domain socket, whatever the URL's host (which is still the
            Host field and, for https, the name TLS checks).
        expect_continue: send bodies of this many bytes or more (and streams of unknown length)
            with `Expect: 100-continue`, so a server can refuse them before they are sent
            (None: never).
        max_body_size: the largest response body read into memory, as it arrives (None: no
            limit); a streamed body (`stream()`) is not limited unless its request says so.
        max_decoded_size: the largest decoded body (a decompression bomb stops there).
        max_line_size: the longest status line of a response.
        max_header_size: the largest header section (and trailer section) of a response.
        max_header_count: the most field lines in a header or trailer section.
    """

    def __init__(
        self,
        *,
        base_url: str | URL | None = None,
        headers: HeadersLike | None = None,
        params: Any = None,
        cookies: CookiesLike | None = None,
        auth: Any = None,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        limits: Limits | None = None,
        verify: bool | str | _ssl.SSLContext = True,
        cert: str | tuple[str, str] | None = None,
        proxy: str | URL | Proxy | None = None,
        follow_redirects: bool = True,
        max_redirects: int = 20,
        retries: Retry | int | None = None,
        middleware: Sequence[Middleware] = (),
        event_hooks: Mapping[str, Sequence[Hook]] | None = None,
        trace: Trace | None = None,
        trust_env: bool = True,
        uds: str | os.PathLike[str] | None = None,
        expect_continue: int | None = None,
        max_body_size: int | None = DEFAULT_MAX_BODY_SIZE,
        max_decoded_size: int | None = DEFAULT_MAX_DECODED_SIZE,
        max_line_size: int = DEFAULT_MAX_LINE_SIZE,
        max_header_size: int = DEFAULT_MAX_HEADER_SIZE,
        max_header_count: int = DEFAULT_MAX_HEADER_COUNT,
    ) -> None:
        self._urls: dict[str, URL] = {}
        self._plans: dict[tuple[str, str], Plan] = {}
        self.base_url = base_url  # (the setter parses it)
        self.headers = Headers(
            [
                (b"User-Agent", _USER_AGENT),
                (b"Accept", b"*/*"),
                (b"Accept-Encoding", ACCEPT_ENCODING),
            ]
        )
        if headers:
            set_fields(self.headers, headers)
        self.params = params
        self._jar: CookieJar | None = None if cookies is None else make_jar(cookies)
        self._auth = coerce_auth(auth)
        self.timeout = Timeout.of(timeout)
        self.follow_redirects = follow_redirects
        self.max_redirects = max_redirects
        self._retry = Retry.coerce(retries)
        self.max_body_size = max_body_size
        self.max_decoded_size = max_decoded_size
        self.expect_continue = expect_continue
        self._middleware = tuple(middleware)
        self._request_hooks, self._response_hooks = split_hooks(event_hooks)
        self._trace = trace
        self._connector = Connector(
            verify=verify,
            cert=cert,
            trust_env=trust_env,
            uds=uds,
            trace=trace,
            head_limits={
                "max_line_size": max_line_size,
                "max_header_size": max_header_size,
                "max_header_count": max_header_count,
            },
        )
        self._proxies = ProxyRoutes.make(proxy, trust_env=trust_env)
        # Credentials from .netrc, by host, when there is one to read (looked up once a host).
        self._netrc: dict[str, Auth | None] | None = {} if trust_env and has_netrc() else None
        self._pool = ConnectionPool(self._connector, limits)
        self._closed = False
        self._settle()

    @property
    def base_url(self) -> URL | None:
        """The prefix of relative request URLs (a string is parsed when set)."""
        return self._base_url

    @base_url.setter
    def base_url(self, base_url: str | URL | None) -> None:
        self._base_url = None if base_url is None else parse_url(base_url)
        # URLs resolved against the old base, and the heads made from them, are stale.
        self._urls.clear()
        self._plans.clear()

    @property
    def auth(self) -> Auth | None:
        """The auth of every request (see the `auth` argument)."""
        return self._auth

    @auth.setter
    def auth(self, auth: Any) -> None:
        self._auth = coerce_auth(auth)
        self._settle()

    @property
    def retries(self) -> Retry | None:
        """The retry policy (see `Retry`), or None."""
        return self._retry

    @retries.setter
    def retries(self, retries: Retry | int | None) -> None:
        self._retry = Retry.coerce(retries)
        self._settle()

    @property
    def cookies(self) -> CookieJar:
        """The client's cookie jar (an `http.cookiejar.CookieJar`): every response's Set-Cookie
        goes in, and each request carries the cookies the jar's rules (RFC 6265: domain, path,
        Secure, expiry) give its URL -- redirects included."""
        if self._jar is None:
            self._jar = make_jar()
        return self._jar

    @cookies.setter
    def cookies(self, cookies: CookiesLike) -> None:
        self._jar = make_jar(cookies)

    def _settle(self) -> None:
        """Note whether any of the client's layers around the exchange is in use (see the
        module's docstring); `_plain` reads it on every request."""
        self._layered = bool(
            self._auth is not None
            or self._retry is not None
            or self._proxies is not None
            or self._netrc is not None
            or self._middleware
            or self._request_hooks
            or self._response_hooks
        )

    @property
    def _plain(self) -> bool:
        """Whether a request of this client needs nothing but the exchange itself."""
        return (
            not self._layered
            and self._jar is None
            and self.timeout.total is None
            and self.expect_continue is None
            and not self._closed
        )

    # -- building requests ----------------------------------------------------------------------

    def build_request(
        self,
        method: str,
        url: str | URL,
        *,
        params: Any = None,
        headers: HeadersLike | None = None,
        cookies: Mapping[str, str] | None = None,
        content: bytes | str | AsyncIterable[bytes] | Iterable[bytes] | None = None,
        data: Any = None,
        json: Any = None,
        files: Any = None,
    ) -> Request:
        """The `Request` that `request()` would send (to inspect or adjust, then `send()`)."""
        target = resolve_url(
            url, params, base_url=self._base_url, base_params=self.params, cache=self._urls
        )
        return make_request(
            method, target, self.headers, self._jar, headers, cookies, content, data, json, files
        )

    def _plan(self, method: str, url: str) -> Plan:
        """The plan of a request with no options of its own, made once per client (and again
        when the client's headers change)."""
        plan = make_plan(self.build_request(method, url))
        plans = self._plans
        if len(plans) >= 512:
            plans.clear()
        plans[method, url] = plan
        return plan

    # -- sending --------------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        url: str | URL,
        *,
        params: Any = None,
        headers: HeadersLike | None = None,
        cookies: Mapping[str, str] | None = None,
        content: bytes | str | AsyncIterable[bytes] | Iterable[bytes] | None = None,
        data: Any = None,
        json: Any = None,
        files: Any = None,
        auth: Any = _USE_CLIENT,
        timeout: TimeoutTypes = _USE_CLIENT,
        follow_redirects: bool = _USE_CLIENT,
        upload_progress: Progress | None = None,
        download_progress: Progress | None = None,
    ) -> Response:
        """Send a request and read the whole response.

        Args:
            method: "GET", "POST"...
            url: absolute, or relative to `base_url` ("*" with a `base_url`: `OPTIONS *`).
            params: query parameters, added to the URL's own.
            headers: fields for this request (they replace the client's of the same name).
            cookies: cookies for this request, with the jar's for its URL (a mapping).
            content: the body: bytes, str (UTF-8), or an (async) iterable of bytes, streamed.
            data: a form (urlencoded; multipart with `files`).
            json: a body as JSON.
            files: multipart files: {name: bytes, file object, path, or (filename, that[,
                content type])}.
            auth: credentials for this request (None: none, not even the client's).
            timeout: a `Timeout` or seconds, for this request.
            follow_redirects: for this request.
            upload_progress: called as `(bytes sent, total or None)` as the body goes out.
            download_progress: called as `(bytes received, total or None)` as the body comes.

        Raises:
            InvalidURL: the URL cannot be used.
            LocalProtocolError: the request cannot be sent safely (CR/LF in a field...).
            ConnectError, ConnectTimeout, PoolTimeout: no connection (`ProxyError`: the proxy
                refused the tunnel).
            ReadError, ReadTimeout, WriteError, WriteTimeout: the exchange failed.
            RemoteProtocolError: the response was malformed or cut short.
            DecodingError: the body could not be content-decoded.
            TooManyRedirects: more redirects than `max_redirects`.
            RequestNotReplayable: a streamed body would have to be sent again.
        """
        if (
            params is None
            and headers is None
            and cookies is None
            and content is None
            and data is None
            and json is None
            and files is None
            and type(url) is str
            and not self.params
        ):
            # The common case, a request with no options of its own: its head is made once.
            plan = self._plans.get((method, url))
            if plan is None or plan.fields is not self.headers.raw:
                plan = self._plan(method, url)
            request = Request(plan.method, plan.url, plan.fields)
            uses_client_settings = timeout is _USE_CLIENT and follow_redirects is _USE_CLIENT
            if (
                uses_client_settings
                and auth is _USE_CLIENT
                and upload_progress is None
                and download_progress is None
                and self._plain
            ):
                # What send() does, for the commonest request of all, one call shorter.
                phases = self.timeout
                response = await self._send_once(request, phases, None, False, plan.head)
                if self.follow_redirects and response.status in _REDIRECTS:
                    call = _Call(phases, None, False, True)
                    return await self._follow(request, response, call)
                return response
            return await self.send(
                request,
                auth=auth,
                timeout=timeout,
                follow_redirects=follow_redirects,
                upload_progress=upload_progress,
                download_progress=download_progress,
                _head=plan.head,
            )
        built = self.build_request(
            method,
            url,
            params=params,
            headers=headers,
            cookies=cookies,
            content=content,
            data=data,
            json=json,
            files=files,
        )
        return await self.send(
            built,
            auth=auth,
            timeout=timeout,
            follow_redirects=follow_redirects,
            upload_progress=upload_progress,
            download_progress=download_progress,
        )

    async def get(self, url: str | URL, **kwargs: Any) -> Response:
        """A GET request (see `request`)."""
        if kwargs:
            return await self.request("GET", url, **kwargs)
        return await self.request("GET", url)

    async def head(self, url: str | URL, **kwargs: Any) -> Response:
        """A HEAD request (see `request`)."""
        return await self.request("HEAD", url, **kwargs)

    async def options(self, url: str | URL, **kwargs: Any) -> Response:
        """An OPTIONS request (see `request`); `options("*")` asks about the server of
        `base_url` as a whole."""
        return await self.request("OPTIONS", url, **kwargs)

    async def post(self, url: str | URL, **kwargs: Any) -> Response:
        """A POST request (see `request`)."""
        return await self.request("POST", url, **kwargs)

    async def put(self, url: str | URL, **kwargs: Any) -> Response:
        """A PUT request (see `request`)."""
        return await self.request("PUT", url, **kwargs)

    async def patch(self, url: str | URL, **kwargs: Any) -> Response:
        """A PATCH request (see `request`)."""
        return await self.request("PATCH", url, **kwargs)

    async def delete(self, url: str | URL, **kwargs: Any) -> Response:
        """A DELETE request (see `request`)."""
        return await self.request("DELETE", url, **kwargs)

    def stream(self, method: str, url: str | URL, **kwargs: Any) -> StreamContext:
        """`async with client.stream("GET", url) as response:` -- the body is not read yet.

        Iterate `response.iter_bytes()` (decoded), `iter_raw()`, `iter_text()` or
        `iter_lines()`, or `await response.aread()`. Leaving the block releases the
        connection (closed if the body was not read to the end). Takes the arguments of
        `request`.
        """
        return StreamContext(self, method, url, kwargs)

    async def send(
        self,
        request: Request,
        *,
        stream: bool = False,
        auth: Any = _USE_CLIENT,
        timeout: TimeoutTypes = _USE_CLIENT,
        follow_redirects: bool = _USE_CLIENT,
        upload_progress: Progress | None = None,
        download_progress: Progress | None = None,
        _head: bytes | None = None,
    ) -> Response:
        """Send a built request (see `build_request`) through the client's middlewares, auth,
        redirects, retries and hooks."""
        if self._closed:
            raise RuntimeError("the client is closed")
        phases = self.timeout if timeout is _USE_CLIENT else Timeout.of(timeout)
        follow = self.follow_redirects if follow_redirects is _USE_CLIENT else follow_redirects
        # Deadlines are on the monotonic clock (loop.time() is the same clock, and costs more
        # to reach: asyncio.get_running_loop() makes a getpid() system call).
        deadline = None if phases.total is None else _now() + phases.total
        call = _Call(phases, deadline, stream, follow, upload_progress, download_progress)
        if self._proxies is not None or self.expect_continue is not None:
            _head = None  # the prepared head has neither the proxy's form nor Expect
        flow = self._auth_for(request, auth)
        if self._middleware:
            return await self._chain(call, flow)(request)
        if flow is None:
            return await self._following(request, call, _head)
        return await authenticate(flow, request, lambda sent: self._following(sent, call, None))

    # -- closing --------------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Close the pool's connections; the client cannot be used afterwards."""
        self._closed = True
        await self._pool.aclose()

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"<aioreq.Client {self._pool!r}>"
