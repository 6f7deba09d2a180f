"""URLs of the client: parsing, percent-encoding, query parameters, base URLs and redirects.

`parse_url` turns what a user wrote into a `URL` that the connection can use as it is: the
scheme, an ASCII host to connect to, the port, and the request-target in origin-form as bytes
(RFC 9112 §3.2.1), ready for the serializer. It is built on `urllib.parse`, with these rules on
top of it:

- Only http and https. Anything else, a missing host or a bad port raises `InvalidURL`.
- A C0 control character or DEL anywhere in a URL is refused rather than stripped: `urlsplit`
  silently removes tab, CR and LF, so "http://a/\\r\\nX: y" would otherwise reach the wire
  looking harmless, and a CR/LF that did reach it would split the request (RFC 9112 §11.1).
  In the userinfo one is refused percent-encoded too ("%0D"): it is decoded into credentials,
  which cannot hold one (RFC 7617 §2). Elsewhere an escape stays an escape and is sent so.
  Spaces around the whole URL are stripped, as browsers do; spaces inside the path or query
  are percent-encoded.
- The host is percent-decoded, then IDNA-encoded when it is not ASCII (the standard library's
  `idna` codec, i.e. IDNA 2003 with nameprep: "bücher.example" → "xn--bcher-kva.example"),
  then lowercased, and must consist of the characters RFC 3986 §3.2.2 allows in a reg-name
  (unreserved and sub-delims). A backslash anywhere in the authority is refused: browsers read
  it as "/" and `urllib` does not, and a URL that two parsers read differently is how a request
  reaches a host its author did not check.
- An IPv6 literal is kept without its brackets, normalized by `ipaddress` (so "[0:0::1]" and
  "[::1]" are the same origin; an IPv4-mapped one is written "::ffff:1.2.3.4", RFC 5952 §5). A
  zone id (RFC 6874: "[fe80::1%25eth0]", or a bare "%eth0") is kept as "fe80::1%eth0", which is
  what `getaddrinfo` takes; it is left out of the Host field, because RFC 6874 §4 says a client
  "MUST remove any ZoneID attached to an outgoing URI".
- Characters not allowed in a path or query (space, non-ASCII as UTF-8, `"<>\\^`{|}`) are
  percent-encoded; a valid `%XX` escape is kept as it is (never encoded twice) and a `%` that
  starts no escape becomes `%25`. Reserved characters (`:/?@[]!$&'()*+,;=`) are kept as given,
  since changing them changes what the URL means. The fragment is kept in the URL (a redirect
without one inherits it, RFC 9110 §10.2.2) but never sent: it is not part of the target.

Query parameters (`params=`) are a mapping, a list of pairs or a query string; they are
appended to the query the URL already has. Values are str, int, float, bool (sent as "true" or
"false", like httpx) or None (the pair is left out), or a list or tuple of those (the name is
repeated). A mapping or pairs are form-encoded (`urlencode`: a space becomes "+"); a string is
taken as an already written query and only percent-encoded where it must be.

A relative URL is resolved against `base_url` as httpx does, as a prefix rather than by
RFC 3986: the path of the base, with a "/" added when it has none at the end, followed by the
path of the relative URL without its leading slashes. So "https://api.example.org/v1" and
"https://api.example.org/v1/" joined with "users" or "/users" both give
"https://api.example.org/v1/users". The query of the base is kept and the relative URL's query
appended to it; dot segments are sent as written. A URL with a scheme ignores the base, and a
scheme-relative one ("//host/x") takes only the base's scheme. `URL.join`, used for redirects,
is the RFC 3986 §5 resolution of `urljoin` instead.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from urllib.parse import quote, unquote, urlencode, urljoin, urlsplit

from .._exceptions import InvalidURL

__all__ = [
    "DEFAULT_PORTS",
    "URL",
    "ParamsLike",
    "Primitive",
    "QueryItems",
    "encode_query",
    "parse_url",
    "query_pairs",
]

Primitive = str | int | float | bool | None
"""A value of a query parameter or form field."""

QueryItems = (
    Mapping[str, Primitive | Sequence[Primitive]]
    | Iterable[tuple[str, Primitive | Sequence[Primitive]]]
)
"""Query parameters or form fields: a mapping, or (name, value) pairs."""

ParamsLike = QueryItems | str
"""What `params=` takes: `QueryItems`, or a query string."""

DEFAULT_PORTS = {"http": 80, "https": 443}

_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
# RFC 3986 §3.2.2: reg-name = *( unreserved / pct-encoded / sub-delims ), checked once decoded.
_REG_NAME_RE = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=]+")
_ZONE_RE = re.compile(r"[A-Za-z0-9\-._~]+")
_ESCAPE_SPLIT_RE = re.compile(r"(%[0-9A-Fa-f]{2})")
# Reserved characters stay as written; '?' cannot reach a path (urlsplit ends the path there).
_PATH_SAFE = ":/@[]!$&'()*+,;="
_QUERY_SAFE = _PATH_SAFE + "?"
_PATH_OK_RE = re.compile(r"(?:[A-Za-z0-9\-._~:/@\[\]!$&'()*+,;=]|%[0-9A-Fa-f]{2})*")
_QUERY_OK_RE = re.compile(r"(?:[A-Za-z0-9\-._~:/?@\[\]!$&'()*+,;=]|%[0-9A-Fa-f]{2})*")
_USERINFO_SAFE = "!$&'()*+,;="


def _show(url: str) -> str:
    """The URL for an error message: quoted, and cut short when it is long."""
    return repr(url if len(url) <= 200 else url[:200] + "...")


def _percent_encode(text: str, safe: str, ok: re.Pattern[str]) -> str:
    """Percent-encode what `safe` does not allow, keeping valid escapes as they are."""
    if ok.fullmatch(text) is not None:
        return text
    pieces = _ESCAPE_SPLIT_RE.split(text)
    # re.split with a group: escapes are at the odd indices, text between them at the even.
    for index in range(0, len(pieces), 2):
        pieces[index] = quote(pieces[index], safe=safe)
    return "".join(pieces)


def _check_text(url: str) -> str:
    """The URL without surrounding spaces; InvalidURL when it holds a control character."""
    if not isinstance(url, str):
        raise TypeError(f"a URL is a str or an aioreq URL, not {type(url).__name__}")
    match = _CONTROL_RE.search(url)
    if match is not None:
        raise InvalidURL(
            f"URL {_show(url)} contains the control character {match.group()!r} at position "
            f"{match.start()}: CR, LF and other controls are never valid in a URL"
        )
    return url.strip(" ")


def _primitive(name: str, value: object) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if value is None:
        return None
    raise TypeError(
        f"the value of {name!r} must be str, int, float, bool or None (or a list of them), "
        f"not {type(value).__name__}"
    )


def query_pairs(items: QueryItems) -> list[tuple[str, str]]:
    """Flatten query parameters or form fields into (name, value) text pairs.

    Args:
        items: a mapping or (name, value) pairs; a value may be a list or tuple of values.

    Returns:
        One pair per value, in order; None values left out, bools as "true"/"false".

    Raises:
        TypeError: a name that is not a str, or a value of another type.
    """
    pairs: Iterable[tuple[str, object]] = items.items() if isinstance(items, Mapping) else items
    result: list[tuple[str, str]] = []
    for pair in pairs:
        if not isinstance(pair, tuple) or len(pair) != 2:
            raise TypeError(f"expected (name, value) pairs, got {pair!r}")
        name, value = pair
        if not isinstance(name, str):
            raise TypeError(f"a parameter name must be a str, not {type(name).__name__}")
        values = value if isinstance(value, (list, tuple)) else (value,)
        for each in values:
            text = _primitive(name, each)
            if text is not None:
                result.append((name, text))
    return result


def encode_query(params: ParamsLike) -> str:
    """The query string of `params` (without "?"): form-encoded pairs, or a given string.

    Raises:
        TypeError: a parameter of an unsupported type.
        InvalidURL: a query string that holds a control character.
    """
    if isinstance(params, str):
        text = _check_text(params).removeprefix("?")
        return _percent_encode(text, _QUERY_SAFE, _QUERY_OK_RE)
    return urlencode(query_pairs(params))


@dataclass(frozen=True, slots=True)
class URL:
    """A parsed http or https URL, ready to connect to and to send.

    Build one with `parse_url`; the fields are already normalized.

    Attributes:
        scheme: "http" or "https".
        host: the ASCII host, lowercased: a name (IDNA-encoded), an IPv4 address, or an IPv6
            address without brackets (with "%zone" when it has one).
        port: the explicit port, or 80/443.
        target: the request-target in origin-form: the percent-encoded path ("/" when empty)
            and "?query" when there is one.
        userinfo: (user, password), percent-decoded, when the URL has userinfo; else None.
        fragment: what follows "#", percent-encoded ("" for none); never sent.
    """

    scheme: str
    host: str
    port: int
    target: bytes
    userinfo: tuple[str, str] | None = None
    fragment: str = ""

    @property
    def origin(self) -> tuple[str, str, int]:
        """(scheme, host, port): what one pool of connections serves."""
        return (self.scheme, self.host, self.port)

    @property
    def path(self) -> str:
        """The path, percent-decoded ("/" at least)."""
        return unquote(self.target.partition(b"?")[0].decode("ascii"))

    @property
    def query(self) -> str:
        """The query as written, without its "?" ("" when there is none)."""
        return self.target.partition(b"?")[2].decode("ascii")

    @property
    def is_default_port(self) -> bool:
        """Whether the port is the default one of the scheme."""
        return DEFAULT_PORTS.get(self.scheme) == self.port

    @property
    def host_header(self) -> bytes:
        """The value of the Host field: host, or host:port when the port is not the default.

        An IPv6 address is in brackets, without its zone id (RFC 6874 §4).
        """
        host = self.host
        if ":" in host:
            host = "[" + host.partition("%")[0] + "]"
        if self.is_default_port:
            return host.encode("ascii")
        return f"{host}:{self.port}".encode("ascii")

    def _authority(self, *, userinfo: bool) -> str:
        host = self.host
        if ":" in host:
            address, sep, zone = host.partition("%")
            host = f"[{address}%25{quote(zone)}]" if sep else f"[{address}]"
        if not self.is_default_port:
            host = f"{host}:{self.port}"
        if userinfo and self.userinfo is not None:
            user, password = self.userinfo
            credentials = quote(user, safe=_USERINFO_SAFE)
            if password:
                credentials += ":" + quote(password, safe=_USERINFO_SAFE + ":")
            host = f"{credentials}@{host}"
        return host

    def _unsplit(self, *, userinfo: bool) -> str:
        url = f"{self.scheme}://{self._authority(userinfo=userinfo)}{self.target.decode('latin-1')}"
        return f"{url}#{self.fragment}" if self.fragment else url

    def with_fragment(self, fragment: str) -> URL:
        """This URL with another fragment (percent-encoded as needed)."""
        return replace(self, fragment=_percent_encode(fragment, _QUERY_SAFE, _QUERY_OK_RE))

    def __str__(self) -> str:
        """The URL without userinfo (so no password ends up in a log or a repr)."""
        return self._unsplit(userinfo=False)

    def __repr__(self) -> str:
        return f"URL({str(self)!r})"

    def join(self, relative: str) -> URL:
        """Resolve a reference against this URL (RFC 3986 §5.2, by `urljoin`), for redirects.

        A relative path, "?query" or "//host/path" are resolved; an absolute URL replaces this
        one. The userinfo is kept when the reference has no authority of its own.

        Raises:
            InvalidURL: the reference or the result is not a valid http(s) URL.
        """
        reference = _check_text(relative)
        try:
            joined = urljoin(self._unsplit(userinfo=True), reference)
        except ValueError as exc:
            raise InvalidURL(f"cannot resolve {_show(reference)} against {self}: {exc}") from exc
        return parse_url(joined)

    def _prefix_merge(self, reference: str) -> str:
        """`reference` (relative, no scheme) joined to this base as a prefix (see the module)."""
        if reference.startswith("//"):
            return f"{self.scheme}:{reference}"
        reference, hash_sign, fragment = reference.partition("#")
        path, _, query = reference.partition("?")
        base_path, _, base_query = self.target.decode("latin-1").partition("?")
        if not base_path.endswith("/"):
            base_path += "/"
        merged = base_path + path.lstrip("/")
        query = "&".join(q for q in (base_query, query) if q)
        if query:
            merged += "?" + query
        return f"{self.scheme}://{self._authority(userinfo=True)}{merged}{hash_sign}{fragment}"


def _parse_port(text: str, url: str) -> int:
    if not (text.isascii() and text.isdigit()):
        raise InvalidURL(f"URL {_show(url)} has a port that is not a number: {text!r}")
    port = int(text)
    if port > 65535:
        raise InvalidURL(f"URL {_show(url)} has a port out of range (0 to 65535): {port}")
    return port


def _parse_ipv6(literal: str, url: str) -> str:
    address, sep, zone = literal.partition("%")
    if sep:
        # RFC 6874 §2: ZoneID is written after "%25"; a bare "%zone" is accepted as browsers did.
        if zone.startswith("25"):
            zone = unquote(zone[2:])
        if _ZONE_RE.fullmatch(zone) is None:
            raise InvalidURL(f"URL {_show(url)} has an invalid IPv6 zone id: {zone!r}")
        address = f"{address}%{zone}"
    try:
        parsed = ipaddress.IPv6Address(address)
    except ValueError as exc:
        raise InvalidURL(
            f"URL {_show(url)} has an invalid IPv6 address [{literal}]: {exc}"
        ) from exc
    mapped = parsed.ipv4_mapped
    if mapped is not None and parsed.scope_id is None:
        # RFC 5952 §5: an IPv4-mapped address ends in dotted quad, as Python 3.13 writes it
        # (and 3.12 did not).
        return f"::ffff:{mapped}"
    return str(parsed)


def _parse_host(text: str, url: str) -> str:
    try:
        host = unquote(text, errors="strict")
    except UnicodeDecodeError as exc:
        raise InvalidURL(f"URL {_show(url)} has a host that is not UTF-8: {text!r}") from exc
    if not host:
        raise InvalidURL(f"URL {_show(url)} has no host")
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise InvalidURL(
                f"URL {_show(url)} has a host that is not a valid international domain name: "
                f"{host!r} ({exc})"
            ) from exc
    host = host.lower()
    if _REG_NAME_RE.fullmatch(host) is None:
        bad = next(char for char in host if _REG_NAME_RE.fullmatch(char) is None)
        raise InvalidURL(f"URL {_show(url)} has the character {bad!r} in its host {host!r}")
    return host


def _parse_absolute(url: str) -> URL:
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise InvalidURL(f"invalid URL {_show(url)}: {exc}") from exc
    scheme = parts.scheme.lower()
    if not scheme:
        raise InvalidURL(
            f"URL {_show(url)} has no scheme: write http:// or https:// before the host "
            "(or give the client a base_url for relative URLs)"
        )
    default_port = DEFAULT_PORTS.get(scheme)
    if default_port is None:
        raise InvalidURL(f"URL {_show(url)} has the unsupported scheme {scheme!r}: http or https")
    userinfo_text, at, hostport = parts.netloc.rpartition("@")
    if "\\" in parts.netloc:
        raise InvalidURL(
            f"URL {_show(url)} has a backslash in its authority, which parsers read differently"
        )
    if hostport.startswith("["):
        close = hostport.find("]")
        if close < 0:
            raise InvalidURL(f"URL {_show(url)} has an IPv6 address without its closing ']'")
        host = _parse_ipv6(hostport[1:close], url)
        rest = hostport[close + 1 :]
        if rest and not rest.startswith(":"):
            raise InvalidURL(f"URL {_show(url)} has {rest!r} after its IPv6 address")
        port_text = rest[1:]
    else:
        if hostport.count(":") > 1:
            raise InvalidURL(f"URL {_show(url)}: an IPv6 address in a URL must be in brackets")
        host_text, _, port_text = hostport.partition(":")
        host = _parse_host(host_text, url)
    port = _parse_port(port_text, url) if port_text else default_port
    userinfo: tuple[str, str] | None = None
    if at and userinfo_text:
        user, _, password = userinfo_text.partition(":")
        userinfo = (unquote(user), unquote(password))
        for credential in userinfo:
            # RFC 7617 §2: "The user-id and password MUST NOT contain any control characters"
            # -- what BasicAuth refuses, refused here too once "%0D" and the like are decoded.
            # The URL is not shown: it holds the password.
            match = _CONTROL_RE.search(credential)
            if match is not None:
                raise InvalidURL(
                    f"the userinfo of a URL to {host!r} holds the control character "
                    f"{match.group()!r} once percent-decoded: credentials cannot hold one"
                )
    path = _percent_encode(parts.path, _PATH_SAFE, _PATH_OK_RE) or "/"
    query = _percent_encode(parts.query, _QUERY_SAFE, _QUERY_OK_RE)
    target = f"{path}?{query}" if query else path
    fragment = _percent_encode(parts.fragment, _QUERY_SAFE, _QUERY_OK_RE)
    return URL(scheme, host, port, target.encode("ascii"), userinfo, fragment)


def parse_url(
    url: str | URL,
    *,
    base_url: str | URL | None = None,
    params: ParamsLike | None = None,
) -> URL:
    """Parse a URL, resolve it against a base and append query parameters.

    Args:
        url: an absolute http(s) URL, or a relative one when `base_url` is given.
        base_url: the prefix of relative URLs (see the module's docstring for the rules).
        params: query parameters appended to the URL's own query.

    Returns:
        The `URL`, normalized.

    Raises:
        InvalidURL: no scheme or an unsupported one, no host, a bad port or IPv6 address, a
            control character (CR, LF, ...) anywhere (in the userinfo percent-encoded too), or
            a character not allowed in the host.
        TypeError: `url` is not a str or URL, or a parameter has an unsupported type.
    """
    if isinstance(url, URL):
        parsed = url
    else:
        text = _check_text(url)
        if base_url is not None and _SCHEME_RE.match(text) is None:
            base = base_url if isinstance(base_url, URL) else parse_url(base_url)
            text = base._prefix_merge(text)
        parsed = _parse_absolute(text)
    if params is not None:
        query = encode_query(params)
        if query:
            separator = b"&" if b"?" in parsed.target else b"?"
            parsed = replace(parsed, target=parsed.target + separator + query.encode("ascii"))
    return parsed
