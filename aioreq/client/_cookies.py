"""Cookies: a client's jar is an `http.cookiejar.CookieJar`, which keeps the rules of RFC 6265
(domain and path matching, Secure, expiry, public-suffix-like domain checks) -- written once,
well, in the standard library. This module only adapts aioreq's requests and responses to the
urllib shapes the jar reads, and gives a request the jar's cookies for its URL.

`http.cookiejar` imports `urllib.request` (tens of milliseconds): it is imported here only when
a client first uses cookies.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Union

from .._exceptions import LocalProtocolError
from ..protocol import Fields
from ._models import Request
from ._urls import URL

if TYPE_CHECKING:
    from http.cookiejar import Cookie, CookieJar
    from urllib.request import Request as UrllibRequest

__all__ = [
    "CookiesLike",
    "check_cookie",
    "cookie_header",
    "make_jar",
    "merge_cookies",
    "store_cookies",
    "with_jar_cookies",
]

#: What `cookies=` takes: a `CookieJar` (used as it is) or a mapping of names to values.
CookiesLike = Union["CookieJar", Mapping[str, str]]

# RFC 6265 §4.1.1: cookie-name is a token; cookie-value is *cookie-octet or the same in DQUOTEs.
_NAME_RE = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_VALUE_RE = re.compile(
    r'[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*|"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*"'
)


def check_cookie(name: str, value: str) -> None:
    """Refuse a cookie that would not be one cookie on the wire.

    RFC 6265 §4.1.1: a name is a token and a value is cookie-octets (no space, DQUOTE, comma,
    semicolon, backslash or control): a ";" in a value would add a cookie of the sender's
    choosing, and a CR or LF would add a header field.

    Raises:
        LocalProtocolError: the name or the value is not allowed.
    """
    if not isinstance(name, str) or _NAME_RE.fullmatch(name) is None:
        raise LocalProtocolError(f"{name!r} cannot be a cookie name (RFC 6265: a token)")
    if not isinstance(value, str) or _VALUE_RE.fullmatch(value) is None:
        raise LocalProtocolError(
            f"{value!r} cannot be the value of cookie {name!r} (RFC 6265 cookie-octets: no "
            "space, quote, comma, semicolon, backslash or control character)"
        )


def merge_cookies(jar_header: str | None, cookies: Mapping[str, str]) -> str:
    """The Cookie field of a request with its own `cookies`, and what the jar has for its URL;
    on a name both have, the request's wins."""
    pairs: dict[str, str] = {}
    if jar_header:
        for item in jar_header.split("; "):
            name, _, value = item.partition("=")
            pairs[name] = value
    for name, value in cookies.items():
        check_cookie(name, value)
        pairs[name] = value
    return "; ".join(f"{name}={value}" for name, value in pairs.items())


def make_jar(cookies: CookiesLike | None = None) -> CookieJar:
    """The jar for `cookies=`: the given jar itself, or a new one holding the given cookies.

    Cookies given by name are sent to every host (as httpx and requests do with theirs).
    """
    from http.cookiejar import CookieJar

    if isinstance(cookies, CookieJar):
        return cookies
    jar = CookieJar()
    for name, value in (cookies or {}).items():
        check_cookie(name, value)
        jar.set_cookie(_any_host_cookie(name, value))
    return jar


def _any_host_cookie(name: str, value: str) -> Cookie:
    from http.cookiejar import Cookie

    return Cookie(
        version=0,
        name=name,
        value=value,
        port=None,
        port_specified=False,
        domain="",
        domain_specified=False,
        domain_initial_dot=False,
        path="/",
        path_specified=True,
        secure=False,
        expires=None,
        discard=True,
        comment=None,
        comment_url=None,
        rest={},
    )


def _urllib_request(url: URL) -> UrllibRequest:
    from urllib.request import Request

    return Request(str(url))  # noqa: S310 -- never opened: the jar only reads its parts


def cookie_header(jar: CookieJar, url: URL) -> str | None:
    """The value of the Cookie field the jar has for `url`, or None."""
    request = _urllib_request(url)
    jar.add_cookie_header(request)
    return request.get_header("Cookie")


class _Response:
    """The two methods of a urllib response that `CookieJar.extract_cookies` calls."""

    __slots__ = ("_fields",)

    def __init__(self, fields: Fields) -> None:
        self._fields = fields

    def info(self) -> _Response:
        return self

    def get_all(self, name: str, default: list[str] | None = None) -> list[str] | None:
        wanted = name.lower().encode("ascii")
        found = [v.decode("latin-1") for n, v in self._fields if n.lower() == wanted]
        return found or default


def store_cookies(jar: CookieJar, url: URL, fields: Fields) -> None:
    """Keep the cookies a response from `url` set, as far as the jar's rules allow."""
    jar.extract_cookies(_Response(fields), _urllib_request(url))  # type: ignore[arg-type]


def with_jar_cookies(jar: CookieJar | None, request: Request) -> Request:
    """The request with its Cookie field for its URL; else the request itself.

    The request's own cookies (`cookies=`) go with the jar's, the request's winning on a name
    both have. Without them, the jar's cookies are sent unless the request has a Cookie field
    of its own (set in `headers=`), which is then sent as it is.
    """
    own = request.cookies
    empty = jar is None or not len(jar)
    if own is None and (empty or "cookie" in request.headers):
        return request
    jar_header = None if jar is None or empty else cookie_header(jar, request.url)
    value = jar_header if own is None else merge_cookies(jar_header, own)
    if not value:
        return request
    headers = request.headers.copy()
    headers["Cookie"] = value
    return request.with_headers(headers)
