"""Proxies: which requests go through one, and how (RFC 9110 §7.3.2, RFC 9112 §3.2.2).

An http:// request goes to an HTTP proxy as it is, with its target in absolute-form
("GET http://example.org/a HTTP/1.1"); the proxy makes the request for us. An https:// request
goes through a tunnel: "CONNECT example.org:443" asks the proxy for a TCP connection to the
origin, and TLS with the origin (SNI and certificate checks for the origin's name) runs inside
it, so the proxy sees nothing but the host and port. The proxy itself may be reached over TLS
("https://proxy:3128"); then the origin's TLS runs inside the proxy's.

With `trust_env` the environment names the proxies, with the meaning curl and the standard
library give these variables: `http_proxy`, `https_proxy` and `all_proxy` (lowercase first,
then uppercase), and `no_proxy` for the hosts to reach directly. `HTTP_PROXY` in uppercase is
ignored when `REQUEST_METHOD` is set: in a CGI script it comes from the request's `Proxy`
header, which the client of that script controls ("httpoxy", CVE-2016-5385).

`no_proxy` is a comma-separated list of entries; one matches a host when it is
- `*`: every host;
- a name: that name or any name under it ("example.org" and ".example.org" both match
  "example.org" and "a.example.org", not "badexample.org");
- an IP address, or a network in CIDR notation ("10.0.0.0/8", "::1/128");
- any of these followed by ":port": only that port.
"""

from __future__ import annotations

import base64
import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from .._exceptions import (
    ConnectError,
    ConnectTimeout,
    InvalidURL,
    ProxyError,
    ReadTimeout,
    RemoteProtocolError,
)
from .._headers import Headers, HeadersLike
from ..protocol import ResponseHead, ResponseParser, encode_request_head
from ..streams import Stream
from ._auth import check_credentials
from ._urls import URL, parse_url

__all__ = ["Proxy", "ProxyRoutes", "basic_credentials", "open_tunnel"]


def basic_credentials(user: str, password: str) -> bytes:
    """`Basic base64(user:password)` (RFC 7617, UTF-8), as a field value."""
    return b"Basic " + base64.b64encode(f"{user}:{password}".encode())


@dataclass(frozen=True, init=False)
class Proxy:
    """An HTTP proxy: where it is, and what to tell it.

    Args:
        url: "http://host:port" (or "https://" to reach the proxy over TLS); userinfo in it
            ("http://user:password@host:port") is the proxy's Basic credentials.
        auth: (user, password) for the proxy, instead of userinfo in the URL.
        headers: fields for the proxy: sent with CONNECT, and with each forwarded http://
            request (which a proxy may pass on to the origin).
    """

    url: URL
    auth: tuple[str, str] | None = None
    headers: tuple[tuple[bytes, bytes], ...] = field(default=())

    def __init__(
        self,
        url: str | URL,
        *,
        auth: tuple[str, str] | None = None,
        headers: HeadersLike | None = None,
    ) -> None:
        parsed = parse_url(url)
        if parsed.target not in (b"/", b""):
            raise InvalidURL(f"a proxy URL has no path or query: {url!s}")
        if auth is None and parsed.userinfo is not None:
            auth = parsed.userinfo
        if auth is not None:
            check_credentials(*auth)
        object.__setattr__(self, "url", parsed)
        object.__setattr__(self, "auth", auth)
        fields = [] if headers is None else list(Headers(headers).raw)
        if auth is not None:
            fields.append((b"Proxy-Authorization", basic_credentials(*auth)))
        object.__setattr__(self, "headers", tuple(fields))

    @classmethod
    def of(cls, value: str | URL | Proxy) -> Proxy:
        """A `Proxy` from what a user gave."""
        return value if isinstance(value, Proxy) else cls(value)

    def __repr__(self) -> str:
        return f"Proxy({str(self.url)!r})"  # no credentials in a repr


class _NoProxy:
    """The entries of a `no_proxy` variable (see the module's docstring)."""

    def __init__(self, text: str) -> None:
        self.everything = False
        self.names: list[tuple[str, int | None]] = []
        self.networks: list[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, int | None]] = []
        for raw in text.split(","):
            entry = raw.strip().lower()
            if not entry:
                continue
            if entry == "*":
                self.everything = True
                continue
            host, port = _split_port(entry)
            try:
                network = ipaddress.ip_network(host.strip("[]"), strict=False)
            except ValueError:
                self.names.append((host.lstrip("."), port))
            else:
                self.networks.append((network, port))

    def matches(self, host: str, port: int) -> bool:
        if self.everything:
            return True
        try:
            address = ipaddress.ip_address(host.partition("%")[0])
        except ValueError:
            address = None
        if address is not None:
            return any(
                address in network and (only is None or only == port)
                for network, only in self.networks
            )
        return any(
            (host == name or host.endswith("." + name)) and (only is None or only == port)
            for name, only in self.names
        )


def _split_port(entry: str) -> tuple[str, int | None]:
    """("host", port) from "host:port"; an IPv6 address without brackets has no port."""
    if entry.startswith("["):
        address, _, rest = entry[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
        return address, int(port_text) if port_text.isdigit() else None
    if entry.count(":") == 1:
        host, _, port_text = entry.partition(":")
        if port_text.isdigit():
            return host, int(port_text)
    return entry, None


def _environment_proxies(environ: Mapping[str, str]) -> tuple[dict[str, str], str]:
    """{scheme: proxy URL} and the no_proxy text, from environment variables."""
    found: dict[str, str] = {}
    cgi = "REQUEST_METHOD" in environ
    for scheme in ("http", "https", "all"):
        name = f"{scheme}_proxy"
        value = environ.get(name)
        if value is None and not (cgi and scheme == "http"):
            value = environ.get(name.upper())
        if value and value.strip():
            found[scheme] = value.strip()
    no_proxy = environ.get("no_proxy")
    if no_proxy is None:
        no_proxy = environ.get("NO_PROXY", "")
    return found, no_proxy


def _with_scheme(url: str) -> str:
    """A proxy given as "host:port" (as curl allows) is an HTTP proxy."""
    return url if "://" in url else "http://" + url


class ProxyRoutes:
    """Which proxy, if any, serves a URL: the client's own proxy, or the environment's."""

    def __init__(self, by_scheme: Mapping[str, Proxy], no_proxy: str = "") -> None:
        self._by_scheme = dict(by_scheme)
        self._no_proxy = _NoProxy(no_proxy)
        self._cache: dict[tuple[str, str, int], Proxy | None] = {}

    @classmethod
    def make(cls, proxy: str | URL | Proxy | None, *, trust_env: bool) -> ProxyRoutes | None:
        """The routes of a client: `proxy` for every URL when given, else the environment's
        when `trust_env` (None when no request goes through a proxy)."""
        if proxy is not None:
            one = Proxy.of(proxy)
            return cls({"http": one, "https": one})
        if not trust_env:
            return None
        found, no_proxy = _environment_proxies(os.environ)
        if not found:
            return None
        by_scheme: dict[str, Proxy] = {}
        for scheme in ("http", "https"):
            url = found.get(scheme) or found.get("all")
            if url is not None:
                try:
                    by_scheme[scheme] = Proxy(_with_scheme(url))
                except InvalidURL as exc:
                    raise InvalidURL(f"the {scheme}_proxy environment variable: {exc}") from None
        return cls(by_scheme, no_proxy) if by_scheme else None

    def proxy_for(self, url: URL) -> Proxy | None:
        """The proxy for `url`'s origin, or None to connect directly."""
        origin = url.origin
        try:
            return self._cache[origin]
        except KeyError:
            pass
        scheme, host, port = origin
        proxy = self._by_scheme.get(scheme)
        if proxy is not None and self._no_proxy.matches(host, port):
            proxy = None
        if len(self._cache) >= 512:
            self._cache.clear()
        self._cache[origin] = proxy
        return proxy


async def open_tunnel(stream: Stream, url: URL, proxy: Proxy, *, timeout: float | None) -> None:
    """Ask the proxy at the other end of `stream` for a tunnel to `url`'s host and port
    (RFC 9110 §9.3.6: "CONNECT uses a special form of request target, unique to this method,
    consisting of only the host and port number of the tunnel destination").

    Raises:
        ProxyError: the proxy refused (any status but 2xx; `.status` holds it).
        ConnectTimeout: no answer within `timeout`.
        ConnectError: the proxy closed the connection or answered what is not HTTP.
    """
    authority = (
        url.host_header if not url.is_default_port else b"%b:%d" % (url.host_header, url.port)
    )
    fields = [(b"Host", authority), *proxy.headers]
    await stream.write_all(encode_request_head(b"CONNECT", authority, fields), timeout=timeout)
    parser = ResponseParser()
    parser.start_response(b"CONNECT")
    shown = authority.decode("ascii")
    while True:
        try:
            data = await stream.read_some(65536, timeout=timeout)
        except ReadTimeout:
            raise ConnectTimeout(
                f"the proxy {proxy} did not answer CONNECT {shown} within {timeout:g} seconds"
            ) from None
        try:
            events = parser.feed(data) if data else parser.feed_eof()
        except RemoteProtocolError as exc:
            raise ConnectError(f"the proxy {proxy} answered CONNECT {shown} badly: {exc}") from exc
        for event in events:
            if type(event) is ResponseHead and event.status_code >= 200:
                status = event.status_code
                if status < 300:
                    return
                reason = event.reason.decode("latin-1")
                if status == 407:
                    detail = (
                        "it requires authentication"
                        if not proxy.auth
                        else "it refused the credentials"
                    )
                else:
                    detail = "it refused the tunnel"
                raise ProxyError(
                    f"the proxy {proxy} answered CONNECT {shown} with {status} {reason}: {detail}",
                    status=status,
                )
