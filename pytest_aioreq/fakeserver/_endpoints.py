"""The built-in endpoints every fake server answers (the table in DESIGN.md), httpbin-style.

They answer any method; a HEAD gets the head alone. Query parameters are optional unless shown
with no default; where one is repeated, the first value counts. A malformed or out-of-range
parameter is answered with 400 and a plain-text explanation, a path no endpoint knows is not
answered here (the server reports it as unmatched and fails the test).

==================================  =========================================================
endpoint                            answer
==================================  =========================================================
``/status/{code}``                  that status with an empty body (no body at all for 204
                                    and 304). 400 for a code that is not a number from 200
                                    to 999: a 1xx is not a final answer (101 included: no
                                    protocol was negotiated to switch to).
                                    ``/status/418`` → ``418``, ``/status/99`` → ``400``.
``/echo``                           JSON of the request: ``method``, ``target`` (as sent),
                                    ``path`` (percent-decoded), ``query`` (name → list of
                                    values), ``headers`` (list of ``[name, value]``, in
                                    order), ``body`` (UTF-8 text, undecodable bytes
                                    replaced), ``http_version`` (``"1.1"``/``"1.0"``).
                                    ``POST /echo?a=1`` with ``x`` →
                                    ``{"method": "POST", "target": "/echo?a=1", "path":
                                    "/echo", "query": {"a": ["1"]}, ..., "body": "x"}``.
``/bytes/{n}``                      ``n`` bytes counting up and wrapping, i.e.
                                    ``bytes(i % 256 for i in range(n))``, with
                                    ``Content-Length`` and ``Content-Type:
                                    application/octet-stream``; n at most 100 MiB.
                                    ``/bytes/3`` → ``b"\\x00\\x01\\x02"``.
``/chunked?chunks=3&size=10``       ``Transfer-Encoding: chunked``: ``chunks`` chunks of
``&trailer=1``                      exactly ``size`` bytes, chunk ``i`` being the letter
                                    ``"abc...z"[i % 26]`` repeated (``chunks`` may be 0;
                                    ``size`` from 1; 100 MiB in all at most). ``trailer``
                                    is 0 or 1: 1 declares ``Trailer: X-Trailer`` and sends
                                    the trailer field ``X-Trailer: done``. To an HTTP/1.0
                                    client the body goes unframed until the close (no
                                    trailer).
                                    ``/chunked?chunks=2&size=3`` sends
                                    ``3\\r\\naaa\\r\\n3\\r\\nbbb\\r\\n0\\r\\n\\r\\n``.
``/gzip``, ``/deflate``,            ``{"encoding": "gzip", "ok": true}`` (the name varies)
``/brotli``, ``/zstd``              encoded so, with ``Content-Encoding`` (gzip, deflate,
                                    br, zstd) and ``Content-Type: application/json``,
                                    whatever the request's ``Accept-Encoding``. deflate is
                                    the zlib format (RFC 9110 §8.4.1.2), gzip has mtime 0.
                                    ``/brotli`` needs the ``brotli`` module, ``/zstd`` the
                                    ``zstandard`` one: without it, 501 saying so.
``/delay/{seconds}``                waits (0 to 60 seconds, decimals allowed), then 200
                                    ``{"delay": seconds}``. ``/delay/0.2``.
``/drip?numbytes=10&duration=2``    200 with ``Content-Length: numbytes`` at once (after
``&delay=0``                        ``delay`` seconds), then ``numbytes`` bytes ``b"*"``
                                    one at a time, evenly spread: the first at once, the
                                    last after ``duration`` seconds (a single byte comes
                                    after ``duration``). numbytes at most 100,000; duration
                                    and delay at most 60.
                                    ``/drip?numbytes=3&duration=0.4``: bytes at 0, 0.2, 0.4.
``/stall``                          reads the request and never answers (the fixtures drop
                                    the connection at teardown, which cancels it).
``/redirect/{n}``                   302 to ``/redirect/{n-1}``; ``/redirect/1`` → 302 to
                                    ``/echo`` (there is no ``/get``). Locations are
                                    relative. ``/redirect/3`` takes 3 redirects to /echo.
``/redirect-to?url=U&status=302``   ``status`` (300 to 399; ``status_code=`` as httpbin
                                    spells it works too) with ``Location: U`` verbatim.
                                    ``/redirect-to?url=/echo&status=307``.
``/cookies``                        ``{"cookies": {name: value}}`` from the ``Cookie``
                                    field(s), values as sent (quotes kept).
``/cookies/set?k=v&k2=v2``          302 to ``/cookies`` with one ``Set-Cookie: k=v;
                                    Path=/`` line per parameter; 400 for a name that is
                                    not a token or a value with characters a cookie cannot
                                    hold (space, ``;``, ``,``, ``"``, ``\\``, controls).
``/basic-auth/{user}/{password}``   200 ``{"authenticated": true, "user": user}`` when
                                    ``Authorization: Basic base64(user:password)`` matches,
                                    else 401 ``{"authenticated": false}`` with
                                    ``WWW-Authenticate: Basic realm="pytest_aioreq"``.
                                    Neither part can contain "/" (even as %2F).
``/digest-auth/{qop}/{user}/``      Digest authentication (RFC 7616), httpbin's shape:
``{password}/{algorithm}/``         ``qop`` is ``auth`` or ``auth-int``; ``algorithm`` (MD5
``{stale_after}``                   by default) is ``MD5``, ``MD5-sess``, ``SHA-256`` or
                                    ``SHA-256-sess``; ``stale_after`` (``never`` by
                                    default) is a number of uses. Valid credentials get 200
                                    ``{"authenticated": true, "user": user}``; others 401
                                    ``{"authenticated": false}`` with ``WWW-Authenticate:
                                    Digest realm="pytest_aioreq", qop="...", nonce="...",
                                    opaque="...", algorithm=...`` (a fresh nonce each
                                    time). Valid means: the response hash, ``uri`` equal to
                                    the request-target, a nonce this endpoint issued with
                                    its opaque, ``nc`` above every nc seen with that nonce.
                                    After ``stale_after`` successful uses of a nonce (or
                                    with a nonce forgotten: 1024 are kept), valid
                                    credentials get 401 with a new nonce and
                                    ``stale=TRUE``. ``username*`` (RFC 7616 §3.4) and
                                    ``userhash=true`` are understood.
                                    ``/digest-auth/auth/ann/s3cret/SHA-256/2``.
``/truncate/{n}``                   a head announcing ``Content-Length: n`` (no
                                    ``Connection: close``: a server dying mid-body), then
                                    the first ``n // 2`` bytes of ``/bytes/{n}``, then the
                                    connection closes (FIN). ``/truncate/0`` is thus
                                    complete; ``/truncate/1`` sends no body byte.
``/close``                          closes the connection (FIN) without answering.
``/headers``                        ``{"headers": [[name, value], ...]}``, in order.
==================================  =========================================================
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import functools
import gzip
import importlib
import json
import re
import secrets
import zlib
from collections.abc import AsyncIterator, Callable, Mapping
from types import MappingProxyType, ModuleType

from aioreq.protocol import encode_response_head
from aioreq.server import RawResponse, Response

from ._digest import digest_auth
from ._expect import Handler, Reply
from ._log import RecordedRequest
from ._params import INTEGER, Invalid, integer, tail

__all__ = ["route"]

_MAX_BYTES = 100 * 2**20
_MAX_SECONDS = 60.0
_MAX_DRIP_BYTES = 100_000
_LETTERS = b"abcdefghijklmnopqrstuvwxyz"
_DECIMAL = re.compile(r"[0-9]{1,9}(?:\.[0-9]{0,9})?|\.[0-9]{1,9}")
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_COOKIE_VALUE = re.compile(r"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_REALM = 'Basic realm="pytest_aioreq"'


def route(request: RecordedRequest) -> Handler | None:
    """The built-in handler for `request`'s path, or None."""
    path = request.path
    handler = _EXACT.get(path)
    if handler is not None:
        return handler
    for prefix, handler in _PREFIXED:
        if path.startswith(prefix):
            return handler
    return None


def _guarded(handler: Handler) -> Handler:
    """`handler`, answering 400 where it finds a parameter malformed."""

    @functools.wraps(handler)
    async def guarded(request: RecordedRequest) -> Reply:
        try:
            reply = handler(request)
            if isinstance(reply, (Response, RawResponse)):
                return reply
            return await reply
        except Invalid as exc:
            return Response(400, text=f"pytest_aioreq: {request.path}: {exc}\n")

    return guarded


# -- parameters -------------------------------------------------------------------------------


def _param(request: RecordedRequest, name: str) -> str | None:
    """The first value of the query parameter `name`, or None."""
    values = request.query.get(name)
    return values[0] if values else None


def _seconds(text: str, what: str) -> float:
    """`text` as a number of seconds from 0 to 60 (decimals allowed).

    Raises:
        Invalid: it is not one.
    """
    if _DECIMAL.fullmatch(text) is None or float(text) > _MAX_SECONDS:
        raise Invalid(f"{what} must be a number of seconds from 0 to 60, not {text!r}")
    return float(text)


def _int_param(request: RecordedRequest, name: str, default: int, low: int, high: int) -> int:
    text = _param(request, name)
    return default if text is None else integer(text, name, low, high)


def _seconds_param(request: RecordedRequest, name: str, default: float) -> float:
    text = _param(request, name)
    return default if text is None else _seconds(text, name)


def _pattern(n: int) -> bytes:
    """`bytes(i % 256 for i in range(n))`, made fast."""
    whole, rest = divmod(n, 256)
    return bytes(range(256)) * whole + bytes(range(rest))


# -- the endpoints ----------------------------------------------------------------------------


def _status(request: RecordedRequest) -> Reply:
    text = tail(request, "/status/")
    if INTEGER.fullmatch(text) is not None and int(text) < 200:
        raise Invalid(
            f"{text} is informational (1xx), not a final answer: /status/ takes 200 to 999"
        )
    return Response(integer(text, "the status code", 200, 999))


def _echo(request: RecordedRequest) -> Reply:
    return Response(
        json={
            "method": request.method,
            "target": request.target,
            "path": request.path,
            "query": request.query,
            "headers": [list(pair) for pair in request.headers],
            "body": request.text,
            "http_version": request.http_version,
        }
    )


def _headers(request: RecordedRequest) -> Reply:
    return Response(json={"headers": [list(pair) for pair in request.headers]})


def _bytes(request: RecordedRequest) -> Reply:
    n = integer(tail(request, "/bytes/"), "n", 0, _MAX_BYTES)
    return Response(headers=[("Content-Type", "application/octet-stream")], body=_pattern(n))


def _chunked(request: RecordedRequest) -> Reply:
    chunks = _int_param(request, "chunks", 3, 0, _MAX_BYTES)
    size = _int_param(request, "size", 10, 1, _MAX_BYTES)
    trailer = _int_param(request, "trailer", 0, 0, 1)
    if chunks * size > _MAX_BYTES:
        raise Invalid(f"chunks * size must be at most {_MAX_BYTES} bytes")
    headers = [("Content-Type", "text/plain; charset=us-ascii")]
    if trailer:
        headers.append(("Trailer", "X-Trailer"))
    trailers = [("X-Trailer", "done")] if trailer else None
    return Response(headers=headers, body=_letters(chunks, size), trailers=trailers)


async def _letters(chunks: int, size: int) -> AsyncIterator[bytes]:
    """`chunks` pieces of `size` bytes: a's, then b's... (each piece is sent as one chunk)."""
    for index in range(chunks):
        yield _LETTERS[index % 26 : index % 26 + 1] * size


_Compress = Callable[[bytes], bytes]


def _encoded(
    name: str, coding: str, module: str | None, find: Callable[[], _Compress | None]
) -> Handler:
    """The handler of /{name}: JSON encoded with `coding` by what `find()` gives (None: the
    `module` it needs is not installed)."""

    def encoded(request: RecordedRequest) -> Reply:
        compress = find()
        if compress is None:
            return Response(
                501,
                text=f"pytest_aioreq: /{name} needs the {module} module, which is not installed"
                f" (pip install {module})\n",
            )
        body = json.dumps({"encoding": name, "ok": True}).encode()
        headers = [("Content-Type", "application/json"), ("Content-Encoding", coding)]
        return Response(headers=headers, body=compress(body))

    encoded.__name__ = encoded.__qualname__ = f"_{name}"
    return encoded


def _gzip() -> _Compress:
    return functools.partial(gzip.compress, mtime=0)


def _deflate() -> _Compress:
    return zlib.compress


def _brotli() -> _Compress | None:
    module = _optional("brotli")
    compress: _Compress | None = None if module is None else module.compress
    return compress


def _zstd() -> _Compress | None:
    module = _optional("zstandard")
    compress: _Compress | None = None if module is None else module.ZstdCompressor().compress
    return compress


def _optional(name: str) -> ModuleType | None:
    """The module `name`, or None when it is not installed."""
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


async def _delay(request: RecordedRequest) -> Reply:
    seconds = _seconds(tail(request, "/delay/"), "the delay")
    await asyncio.sleep(seconds)
    return Response(json={"delay": seconds})


async def _drip(request: RecordedRequest) -> Reply:
    numbytes = _int_param(request, "numbytes", 10, 0, _MAX_DRIP_BYTES)
    duration = _seconds_param(request, "duration", 2.0)
    delay = _seconds_param(request, "delay", 0.0)
    if delay:
        await asyncio.sleep(delay)
    headers = [("Content-Type", "application/octet-stream"), ("Content-Length", str(numbytes))]
    return Response(headers=headers, body=_trickle(numbytes, duration))


async def _trickle(numbytes: int, duration: float) -> AsyncIterator[bytes]:
    """`numbytes` stars, the first at once and the last after `duration` seconds."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    for index in range(numbytes):
        share = index / (numbytes - 1) if numbytes > 1 else 1.0
        await asyncio.sleep(max(0.0, start + duration * share - loop.time()))
        yield b"*"


async def _stall(request: RecordedRequest) -> Reply:
    never: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
    return await never  # nothing resolves it: only a dropped connection ends the wait


def _redirect(request: RecordedRequest) -> Reply:
    n = integer(tail(request, "/redirect/"), "n", 1, 10**9)
    location = "/echo" if n == 1 else f"/redirect/{n - 1}"
    return Response(302, headers=[("Location", location)])


def _redirect_to(request: RecordedRequest) -> Reply:
    url = _param(request, "url")
    if not url:
        raise Invalid("the url= parameter is missing")
    if _CONTROL.search(url):
        raise Invalid("the url must not contain control characters")
    status = _param(request, "status") or _param(request, "status_code") or "302"
    code = integer(status, "the status", 300, 399)
    return Response(code, headers=[("Location", url)])


def _cookies(request: RecordedRequest) -> Reply:
    jar: dict[str, str] = {}
    for name, value in request.headers:
        if name.lower() == "cookie":
            jar.update(_cookie_pairs(value))
    return Response(json={"cookies": jar})


def _cookie_pairs(field: str) -> list[tuple[str, str]]:
    """The name=value pairs of a Cookie field (pairs without "=" skipped)."""
    pairs = []
    for part in field.split(";"):
        name, equals, value = part.strip().partition("=")
        if equals and name:
            pairs.append((name, value))
    return pairs


def _cookies_set(request: RecordedRequest) -> Reply:
    headers = [("Location", "/cookies")]
    for name, values in request.query.items():
        if _TOKEN.fullmatch(name) is None:
            raise Invalid(f"{name!r} cannot be a cookie name")
        for value in values:
            if _COOKIE_VALUE.fullmatch(value) is None:
                raise Invalid(f"{value!r} cannot be a cookie value (RFC 6265 cookie-octet)")
            headers.append(("Set-Cookie", f"{name}={value}; Path=/"))
    return Response(302, headers=headers)


def _basic_auth(request: RecordedRequest) -> Reply:
    parts = tail(request, "/basic-auth/").split("/")
    if len(parts) != 2:
        raise Invalid("the path must be /basic-auth/{user}/{password}")
    user, password = parts
    given = _basic_credentials(request.header("authorization"))
    if given is not None and secrets.compare_digest(given, f"{user}:{password}".encode()):
        return Response(json={"authenticated": True, "user": user})
    return Response(401, headers=[("WWW-Authenticate", _REALM)], json={"authenticated": False})


def _basic_credentials(authorization: str | None) -> bytes | None:
    """The decoded `user:password` of a Basic Authorization field, or None."""
    if authorization is None:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        return base64.b64decode(token.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None


def _truncate(request: RecordedRequest) -> Reply:
    n = integer(tail(request, "/truncate/"), "n", 0, _MAX_BYTES)
    fields = [(b"Content-Type", b"application/octet-stream"), (b"Content-Length", b"%d" % n)]
    return RawResponse(encode_response_head(200, fields) + _pattern(n // 2))


def _close(request: RecordedRequest) -> Reply:
    return RawResponse(b"")


_EXACT: Mapping[str, Handler] = MappingProxyType(
    {
        path: _guarded(handler)
        for path, handler in (
            ("/echo", _echo),
            ("/headers", _headers),
            ("/chunked", _chunked),
            ("/gzip", _encoded("gzip", "gzip", None, _gzip)),
            ("/deflate", _encoded("deflate", "deflate", None, _deflate)),
            ("/brotli", _encoded("brotli", "br", "brotli", _brotli)),
            ("/zstd", _encoded("zstd", "zstd", "zstandard", _zstd)),
            ("/drip", _drip),
            ("/stall", _stall),
            ("/redirect-to", _redirect_to),
            ("/cookies", _cookies),
            ("/cookies/set", _cookies_set),
            ("/close", _close),
        )
    }
)
_PREFIXED: tuple[tuple[str, Handler], ...] = tuple(
    (prefix, _guarded(handler))
    for prefix, handler in (
        ("/status/", _status),
        ("/bytes/", _bytes),
        ("/delay/", _delay),
        ("/redirect/", _redirect),
        ("/basic-auth/", _basic_auth),
        ("/digest-auth/", digest_auth),
        ("/truncate/", _truncate),
    )
)
