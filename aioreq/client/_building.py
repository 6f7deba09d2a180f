"""Request building: the `Request` that `Client.build_request` makes from its arguments and the
client's defaults (base URL, query parameters, header fields, cookie jar), and the header
fields that go on the wire with it.

The functions take the client's defaults as arguments, so this module knows nothing of
`Client`. Two of them serve the client's fast path: `resolve_url` parses a URL string once per
client (in the cache it is given), and `make_plan` prepares a request with no options of its
own -- its URL, its fields and its head on the wire -- once per client (the client keeps the
`Plan` and makes it again when its header fields change).
"""

from __future__ import annotations

import base64
import re
from collections.abc import AsyncIterable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .._exceptions import LocalProtocolError
from .._headers import Headers, HeadersLike, set_fields
from ..protocol import Fields, encode_request_head
from ._bodies import encode_body
from ._cookies import check_cookie
from ._models import Request
from ._urls import URL, parse_url

if TYPE_CHECKING:
    from http.cookiejar import CookieJar

_TOKEN_RE = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")

__all__ = [
    "Plan",
    "expects_continue",
    "make_plan",
    "make_request",
    "resolve_url",
    "wire_fields",
]

_EXPECTS_BODY = frozenset((b"POST", b"PUT", b"PATCH"))


class Plan:
    """A request with no options of its own, prepared: its URL, fields, and head on the wire."""

    __slots__ = ("fields", "head", "method", "url")

    def __init__(self, method: str, url: URL, fields: Fields, head: bytes) -> None:
        self.method = method
        self.url = url
        self.fields = fields
        self.head = head


def make_plan(request: Request) -> Plan:
    """The plan of `request`, a request with no options of its own."""
    head = encode_request_head(
        request.method.encode("ascii"), request.url.target, wire_fields(request)
    )
    return Plan(request.method, request.url, request.fields, head)


def resolve_url(
    url: str | URL,
    params: Any,
    *,
    base_url: URL | None,
    base_params: Any,
    cache: dict[str, URL],
) -> URL:
    """The parsed URL of a request; a URL string without parameters is parsed once per `cache`.

    Args:
        url: the request's URL, absolute or relative to `base_url` ("*": `OPTIONS *`).
        params: the request's query parameters.
        base_url: the client's base URL.
        base_params: the client's query parameters (before the request's).
        cache: the URLs already parsed, by string (to be cleared when `base_url` changes).
    """
    if params is None and not base_params and isinstance(url, str):
        parsed = cache.get(url)
        if parsed is None:
            parsed = _parse(url, None, base_url)
            if len(cache) >= 512:
                cache.clear()
            cache[url] = parsed
        return parsed
    merged = _merge_params(base_params, params) if base_params else params
    return _parse(url, merged, base_url)


def _parse(url: str | URL, params: Any, base_url: URL | None) -> URL:
    if url == "*" and base_url is not None:
        # RFC 9112 §3.2.4 asterisk-form, for `OPTIONS *`: the server as a whole.
        return URL(base_url.scheme, base_url.host, base_url.port, b"*")
    return parse_url(url, base_url=base_url, params=params)


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


def make_request(
    method: str,
    target: URL,
    defaults: Headers,
    jar: CookieJar | None,
    headers: HeadersLike | None,
    cookies: Mapping[str, str] | None,
    content: bytes | str | AsyncIterable[bytes] | Iterable[bytes] | None,
    data: Any,
    json: Any,
    files: Any,
) -> Request:
    """The request to `target` (resolved by `resolve_url`) with the client's header fields
    (`defaults`) and the jar's cookies for it; the other arguments are `Client.request`'s.

    Raises:
        LocalProtocolError: the method is not a token (RFC 9110 §9.1), or a field cannot be
            sent.
    """
    method = _method(method)
    has_body = content is not None or data is not None or json is not None or files is not None
    if not headers and not has_body and not cookies and target.userinfo is None:
        # The usual GET: the client's own fields, shared, not copied.
        return Request(method, target, defaults.raw)
    request_headers = defaults.copy()
    if headers:
        set_fields(request_headers, headers)
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
    if cookies:
        # Checked now; sent with the jar's for each URL (`with_jar_cookies`), the request's win.
        cookies = dict(cookies)
        for name, value in cookies.items():
            check_cookie(name, value)
    return Request(method, target, request_headers, body, length=length, cookies=cookies or None)


def _method(method: str) -> str:
    """The method, upper-cased, once checked: RFC 9110 §9.1, "method = token"."""
    if not isinstance(method, str) or _TOKEN_RE.fullmatch(method) is None:
        raise LocalProtocolError(f"{method!r} is not a method: a method is a token (RFC 9110 §9.1)")
    return method.upper()


def wire_fields(request: Request, extra: Fields | None = None) -> list[tuple[bytes, bytes]]:
    """The header fields on the wire: Host first, the request's, then the framing."""
    fields = [(b"Host", request.url.host_header)]
    fields += request.fields
    if extra:
        fields += extra
    content = request.content
    if isinstance(content, bytes):
        if content or request.method.encode() in _EXPECTS_BODY:
            fields.append((b"Content-Length", b"%d" % len(content)))
    elif request.length is not None:
        fields.append((b"Content-Length", b"%d" % request.length))
    else:
        fields.append((b"Transfer-Encoding", b"chunked"))
    return fields


def expects_continue(
    threshold: int | None, content: bytes | AsyncIterable[bytes], length: int | None
) -> bool:
    """Whether a body is sent with `Expect: 100-continue` (`threshold`: see `Client`)."""
    if threshold is None:
        return False
    if isinstance(content, bytes):
        return len(content) >= threshold
    return length is None or length >= threshold
