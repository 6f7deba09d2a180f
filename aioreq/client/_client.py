"""`Client`: requests over pooled keep-alive connections, with policy -- timeouts, TLS,
redirects, decoding, and the one safe retry.

The one retry (the most common complaint about aiohttp, httpx and urllib3 alike): a server may
close an idle keep-alive connection just as the client reuses it. When a request on a *reused*
connection fails before any byte of the response arrived, and the request is idempotent
(RFC 9110 §9.2.2) with a body that can be sent again, it is sent once more on a fresh
connection. RFC 9112 §9.3.1: "A user agent MAY automatically retry a request with a
non-idempotent method" only when it knows the semantics are idempotent -- so others are not.
"""

from __future__ import annotations

import base64
import functools
import os
import ssl as _ssl
import time
import warnings
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .._config import Limits, Timeout, TimeoutTypes
from .._exceptions import (
    ReadError,
    RemoteProtocolError,
    TooManyRedirects,
    WriteError,
)
from .._headers import Headers, HeadersLike
from .._version import __version__
from ..connection import Connection, Origin
from ..pool import ConnectionPool
from ..protocol import Fields, encode_request_head
from ..streams import create_ssl_context, default_ssl_context, open_tcp_stream
from ._bodies import encode_body
from ._cookies import CookiesLike, cookie_header, make_jar, store_cookies
from ._decoders import ACCEPT_ENCODING, DEFAULT_MAX_DECODED_SIZE, make_decoder
from ._models import Request, Response
from ._urls import URL, parse_url

if TYPE_CHECKING:
    from http.cookiejar import CookieJar

__all__ = ["Client", "InsecureRequestWarning"]

_IDEMPOTENT = frozenset(("GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"))
_EXPECTS_BODY = frozenset((b"POST", b"PUT", b"PATCH"))
_REDIRECTS = frozenset((301, 302, 303, 307, 308))
_USE_CLIENT: Any = object()
_USER_AGENT = f"aioreq/{__version__}".encode()
_now = time.monotonic
#: connect 10 s, read 30 s, write 30 s, pool 10 s, no total.
DEFAULT_TIMEOUT = Timeout()


class InsecureRequestWarning(UserWarning):
    """A client was made with `verify=False`: its HTTPS is not protected from tampering."""


@functools.lru_cache(maxsize=8)
def _verifying_context(cafile: str | None, capath: str | None) -> _ssl.SSLContext:
    """The verifying TLS context for a CA bundle, made once per process and shared by every
    client (loading a CA bundle costs milliseconds; httpx pays it per client)."""
    if cafile is None and capath is None:
        return default_ssl_context()  # certifi's, shared with aioreq.streams
    return create_ssl_context(cafile=cafile, capath=capath)


def _ssl_context(
    verify: bool | str | _ssl.SSLContext, cert: str | tuple[str, str] | None, trust_env: bool
) -> _ssl.SSLContext:
    """The TLS context of a client: shared unless it carries a client certificate."""
    if isinstance(verify, _ssl.SSLContext):
        context = verify
    elif verify is False:
        warnings.warn(
            "verify=False: certificates and host names are not checked, so HTTPS does not "
            "protect this client from tampering",
            InsecureRequestWarning,
            stacklevel=4,
        )
        context = create_ssl_context(verify=False)
    else:
        if isinstance(verify, str):
            cafile, capath = (None, verify) if os.path.isdir(verify) else (verify, None)
        elif trust_env:
            cafile = os.environ.get("SSL_CERT_FILE") or None
            capath = os.environ.get("SSL_CERT_DIR") or None
        else:
            cafile = capath = None
        # A client certificate makes the context this client's own: never load it into a
        # shared one.
        if cert is None:
            context = _verifying_context(cafile, capath)
        else:
            context = create_ssl_context(cafile=cafile, capath=capath)
    if cert is not None:
        certfile, keyfile = (cert, None) if isinstance(cert, str) else cert
        context.load_cert_chain(certfile, keyfile)
    return context


class Client:
    """An HTTP/1.1 client with a pool of keep-alive connections.

    Use it as `async with aioreq.Client() as client:`; one client is meant to serve many
    requests (its pool, TLS context and defaults are shared by them).

    Args:
        base_url: prefix of relative request URLs.
        headers: header fields sent with every request.
        params: query parameters added to every request.
        cookies: cookies sent to every host (a mapping), or a `http.cookiejar.CookieJar` to use
            as the client's jar.
        timeout: a `Timeout`, a number of seconds for every phase, or None for no deadline.
        limits: connection limits and keep-alive expiry.
        verify: True to check certificates against certifi's CA bundle (or `SSL_CERT_FILE` /
            `SSL_CERT_DIR` when `trust_env`); a CA bundle path; an `ssl.SSLContext`; or False
            (with an `InsecureRequestWarning`).
        cert: a client certificate: a PEM path (with the key), or (certificate, key) paths.
        follow_redirects: follow 3xx redirects (up to `max_redirects`).
        max_redirects: the most redirects one request follows.
        trust_env: read `SSL_CERT_FILE` and `SSL_CERT_DIR` from the environment.
        max_body_size: the largest response body accepted (None: no limit).
        max_decoded_size: the largest decoded body (a decompression bomb stops there).
    """

    def __init__(
        self,
        *,
        base_url: str | URL | None = None,
        headers: HeadersLike | None = None,
        params: Any = None,
        cookies: CookiesLike | None = None,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        limits: Limits | None = None,
        verify: bool | str | _ssl.SSLContext = True,
        cert: str | tuple[str, str] | None = None,
        follow_redirects: bool = True,
        max_redirects: int = 20,
        trust_env: bool = True,
        max_body_size: int | None = None,
        max_decoded_size: int | None = DEFAULT_MAX_DECODED_SIZE,
    ) -> None:
        self._urls: dict[str, URL] = {}
        self._plans: dict[tuple[str, str], _Plan] = {}
        self.base_url = base_url  # (the setter parses it)
        self.headers = Headers(
            [
                (b"User-Agent", _USER_AGENT),
                (b"Accept", b"*/*"),
                (b"Accept-Encoding", ACCEPT_ENCODING),
            ]
        )
        if headers:
            for name, value in Headers(headers).multi_items():
                self.headers[name] = value
        self.params = params
        self._jar: CookieJar | None = None if cookies is None else make_jar(cookies)
        self.timeout = Timeout.of(timeout)
        self.follow_redirects = follow_redirects
        self.max_redirects = max_redirects
        self.max_body_size = max_body_size
        self.max_decoded_size = max_decoded_size
        self._verify = verify
        self._cert = cert
        self._trust_env = trust_env
        self._tls: _ssl.SSLContext | None = None
        self._pool = ConnectionPool(self._connect, limits)
        self._closed = False

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

    def _with_cookies(self, request: Request, jar: CookieJar) -> Request:
        """The request with the jar's Cookie field for its URL (unless it has its own)."""
        if "cookie" in request.headers:
            return request
        value = cookie_header(jar, request.url)
        if value is None:
            return request
        headers = request.headers.copy()
        headers["Cookie"] = value
        return Request(request.method, request.url, headers, request.content, length=request.length)

    # -- connections ----------------------------------------------------------------------------

    def _tls_context(self) -> _ssl.SSLContext:
        if self._tls is None:
            self._tls = _ssl_context(self._verify, self._cert, self._trust_env)
        return self._tls

    async def _connect(self, origin: Origin, connect_timeout: float | None) -> Connection:
        scheme, host, port = origin
        tls = self._tls_context() if scheme == "https" else None
        stream = await open_tcp_stream(
            host,
            port,
            ssl=tls,
            server_hostname=host if tls else None,
            connect_timeout=connect_timeout,
        )
        return Connection(stream, origin)

    # -- building requests ----------------------------------------------------------------------

    def build_request(
        self,
        method: str,
        url: str | URL,
        *,
        params: Any = None,
        headers: HeadersLike | None = None,
        content: bytes | str | AsyncIterable[bytes] | Iterable[bytes] | None = None,
        data: Any = None,
        json: Any = None,
        files: Any = None,
    ) -> Request:
        """The `Request` that `request()` would send (to inspect or adjust, then `send()`)."""
        target = self._url(url, params)
        has_body = content is not None or data is not None or json is not None or files is not None
        if not headers and not has_body and target.userinfo is None:
            # The usual GET: the client's own fields, shared, not copied.
            return Request(method.upper(), target, self.headers.raw)
        request_headers = self.headers.copy()
        if headers:
            for name, value in Headers(headers).multi_items():
                request_headers[name] = value
        body: bytes | AsyncIterable[bytes] = b""
        length: int | None = 0
        if has_body:
            encoded = encode_body(content=content, data=data, json=json, files=files)
            for field_name, field_value in encoded.headers:
                key = field_name.decode("latin-1")
                if key not in request_headers:
                    request_headers[key] = field_value.decode("latin-1")
            body, length = encoded.stream, encoded.length
        if target.userinfo is not None and "authorization" not in request_headers:
            user, password = target.userinfo
            token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
            request_headers["Authorization"] = f"Basic {token}"
        return Request(method.upper(), target, request_headers, body, length=length)

    def _plan(self, method: str, url: str) -> _Plan:
        """The plan of a request with no options of its own, made once per client (and again
        when the client's headers change)."""
        request = self.build_request(method, url)
        head = encode_request_head(
            request.method.encode("ascii"), request.url.target, self._wire_fields(request)
        )
        plan = _Plan(request.method, request.url, request.fields, head)
        plans = self._plans
        if len(plans) >= 512:
            plans.clear()
        plans[method, url] = plan
        return plan

    def _url(self, url: str | URL, params: Any) -> URL:
        """The parsed URL; a URL string without parameters is parsed once per client."""
        if params is None and not self.params and isinstance(url, str):
            parsed = self._urls.get(url)
            if parsed is None:
                parsed = parse_url(url, base_url=self.base_url)
                if len(self._urls) >= 512:
                    self._urls.clear()
                self._urls[url] = parsed
            return parsed
        merged = _merge_params(self.params, params) if self.params else params
        return parse_url(url, base_url=self.base_url, params=merged)

    @staticmethod
    def _wire_fields(request: Request) -> list[tuple[bytes, bytes]]:
        """The header fields on the wire: Host first, the request's, then the framing."""
        fields = [(b"Host", request.url.host_header)]
        fields += request.fields
        content = request.content
        if isinstance(content, bytes):
            if content or request.method.encode() in _EXPECTS_BODY:
                fields.append((b"Content-Length", b"%d" % len(content)))
        elif request.length is not None:
            fields.append((b"Content-Length", b"%d" % request.length))
        else:
            fields.append((b"Transfer-Encoding", b"chunked"))
        return fields

    # -- sending --------------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        url: str | URL,
        *,
        params: Any = None,
        headers: HeadersLike | None = None,
        content: bytes | str | AsyncIterable[bytes] | Iterable[bytes] | None = None,
        data: Any = None,
        json: Any = None,
        files: Any = None,
        timeout: TimeoutTypes = _USE_CLIENT,
        follow_redirects: bool = _USE_CLIENT,
    ) -> Response:
        """Send a request and read the whole response.

        Raises:
            InvalidURL: the URL cannot be used.
            LocalProtocolError: the request cannot be sent safely (CR/LF in a field...).
            ConnectError, ConnectTimeout, PoolTimeout: no connection.
            ReadError, ReadTimeout, WriteError, WriteTimeout: the exchange failed.
            RemoteProtocolError: the response was malformed or cut short.
            DecodingError: the body could not be content-decoded.
            TooManyRedirects: more redirects than `max_redirects`.
        """
        if (
            params is None
            and headers is None
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
            phases = self.timeout
            uses_client_settings = timeout is _USE_CLIENT and follow_redirects is _USE_CLIENT
            if (
                uses_client_settings
                and phases.total is None
                and self._jar is None
                and not self._closed
            ):
                # What send() does, for the commonest request of all, one call shorter.
                response = await self._send_once(request, phases, None, False, plan.head)
                if self.follow_redirects and response.status in _REDIRECTS:
                    return await self._follow(request, response, phases, None, False)
                return response
            return await self.send(
                request, timeout=timeout, follow_redirects=follow_redirects, _head=plan.head
            )
        built = self.build_request(
            method,
            url,
            params=params,
            headers=headers,
            content=content,
            data=data,
            json=json,
            files=files,
        )
        return await self.send(built, timeout=timeout, follow_redirects=follow_redirects)

    async def get(self, url: str | URL, **kwargs: Any) -> Response:
        """A GET request (see `request`)."""
        if kwargs:
            return await self.request("GET", url, **kwargs)
        return await self.request("GET", url)

    async def head(self, url: str | URL, **kwargs: Any) -> Response:
        """A HEAD request (see `request`)."""
        return await self.request("HEAD", url, **kwargs)

    async def options(self, url: str | URL, **kwargs: Any) -> Response:
        """An OPTIONS request (see `request`)."""
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

    def stream(self, method: str, url: str | URL, **kwargs: Any) -> _StreamContext:
        """`async with client.stream("GET", url) as response:` -- the body is not read yet.

        Iterate `response.iter_bytes()` (decoded), `iter_raw()`, `iter_text()` or
        `iter_lines()`, or `await response.aread()`. Leaving the block releases the
        connection (closed if the body was not read to the end).
        """
        return _StreamContext(self, method, url, kwargs)

    async def send(
        self,
        request: Request,
        *,
        stream: bool = False,
        timeout: TimeoutTypes = _USE_CLIENT,
        follow_redirects: bool = _USE_CLIENT,
        _head: bytes | None = None,
    ) -> Response:
        """Send a built request (see `build_request`), following redirects if asked."""
        if self._closed:
            raise RuntimeError("the client is closed")
        phases = self.timeout if timeout is _USE_CLIENT else Timeout.of(timeout)
        follow = self.follow_redirects if follow_redirects is _USE_CLIENT else follow_redirects
        # Deadlines are on the monotonic clock (loop.time() is the same clock, and costs more
        # to reach: asyncio.get_running_loop() makes a getpid() system call).
        deadline = None if phases.total is None else _now() + phases.total
        sent = self._cookies_for(request)
        if sent is not request:
            _head = None  # the prepared head has no Cookie field
        response = await self._send_once(sent, phases, deadline, stream, _head)
        if follow and response.status in _REDIRECTS:
            return await self._follow(request, response, phases, deadline, stream)
        return response

    def _cookies_for(self, request: Request) -> Request:
        """The request with the jar's cookies for its URL, if the client has a jar with any."""
        jar = self._jar  # (made by the first response that sets a cookie)
        if jar is None or not len(jar):
            return request
        return self._with_cookies(request, jar)

    async def _follow(
        self,
        request: Request,
        response: Response,
        phases: Timeout,
        deadline: float | None,
        stream: bool,
    ) -> Response:
        """Follow the redirects that `response` (to `request`) begins."""
        history: list[Response] = []
        while True:
            location = response.headers.get("location")
            if location is None:
                break
            if len(history) >= self.max_redirects:
                await response.aclose()
                raise TooManyRedirects(
                    f"more than {self.max_redirects} redirects, the last to {location!r}"
                )
            await response.aread()
            history.append(response)
            request = self._redirect(request, response, location)
            response = await self._send_once(
                self._cookies_for(request), phases, deadline, stream, None
            )
            if response.status not in _REDIRECTS:
                break
        if history:
            response.history = history
        return response

    def _redirect(self, request: Request, response: Response, location: str) -> Request:
        """The request a redirect response asks for (RFC 9110 §15.4)."""
        url = request.url.join(location)
        method = request.method
        status = response.status
        headers = request.headers.copy()
        content: bytes | AsyncIterable[bytes] = request.content
        length = request.length
        # RFC 9110 §15.4.2-4: a user agent may change POST to GET on 301 and 302; 303 asks
        # for a GET (or HEAD) of the other resource.
        if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
            method = "GET"
            content, length = b"", 0
            for name in ("content-length", "content-type", "transfer-encoding"):
                if name in headers:
                    del headers[name]
        elif not request.replayable:
            raise RemoteProtocolError(
                f"{status} redirect to {url} asks to send the body again, but it was a stream"
            )
        if url.origin != request.url.origin:
            # Credentials are for the origin they were given to (RFC 9110 §15.4).
            for name in ("authorization", "cookie", "proxy-authorization"):
                if name in headers:
                    del headers[name]
        return Request(method, url, headers, content, length=length)

    async def _send_once(
        self,
        request: Request,
        phases: Timeout,
        deadline: float | None,
        stream: bool,
        head_bytes: bytes | None,
    ) -> Response:
        pool = self._pool
        url = request.url
        origin = url.origin
        method = request.method.encode("ascii")
        content = request.content
        fields: Fields | None = None
        if head_bytes is None or not isinstance(content, bytes):
            fields = self._wire_fields(request)
            head_bytes = encode_request_head(method, url.target, fields)
        started = _now()
        if deadline is None:
            read_timeout, write_timeout = phases.read, phases.write
        else:
            read_timeout = _within(phases.read, deadline)
            write_timeout = _within(phases.write, deadline)
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
            try:
                head = await connection.send(
                    method,
                    head_bytes,
                    fields,
                    content,
                    read_timeout=read_timeout,
                    write_timeout=write_timeout,
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
            decoder = make_decoder(codings, max_size=None if stream else self.max_decoded_size)
        if set_cookie:
            store_cookies(self.cookies, url, head.headers)
        version = "HTTP/1.1" if head.http_version == b"1.1" else "HTTP/1.0"
        if stream:

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
            response._stream = _body_and_trailers(connection, phases.read, deadline, response)
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
        response._elapsed = _now() - started
        return response

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


async def _body_and_trailers(
    connection: Connection, read_timeout: float | None, deadline: float | None, response: Response
) -> AsyncIterator[bytes]:
    async for chunk in connection.body_chunks(read_timeout, deadline):
        yield chunk
    response._set_trailers(connection.trailers)


class _Plan:
    """A request with no options of its own, prepared: its URL, fields, and head on the wire."""

    __slots__ = ("fields", "head", "method", "url")

    def __init__(self, method: str, url: URL, fields: Fields, head: bytes) -> None:
        self.method = method
        self.url = url
        self.fields = fields
        self.head = head


class _StreamContext:
    """What `Client.stream()` returns: `async with` it to get the response."""

    def __init__(self, client: Client, method: str, url: str | URL, kwargs: dict[str, Any]) -> None:
        self._client = client
        self._method = method
        self._url = url
        self._kwargs = kwargs
        self._response: Response | None = None

    async def __aenter__(self) -> Response:
        timeout = self._kwargs.pop("timeout", _USE_CLIENT)
        follow = self._kwargs.pop("follow_redirects", _USE_CLIENT)
        request = self._client.build_request(self._method, self._url, **self._kwargs)
        self._response = await self._client.send(
            request, stream=True, timeout=timeout, follow_redirects=follow
        )
        return self._response

    async def __aexit__(self, *exc_info: object) -> None:
        if self._response is not None:
            await self._response.aclose()


def _within(phase: float | None, deadline: float | None) -> float | None:
    """The seconds a phase may take: its own timeout, cut to what the total deadline leaves."""
    if deadline is None:
        return phase
    left = max(0.0, deadline - _now())
    return left if phase is None else min(phase, left)


def _merge_params(base: Any, extra: Any) -> Any:
    if not extra:
        return base
    pairs: list[tuple[Any, Any]] = []
    for source in (base, extra):
        if isinstance(source, Mapping):
            pairs += list(source.items())
        elif isinstance(source, str):
            pairs.append((source, None))
        else:
            pairs += list(source)
    return pairs
