"""What an application of `aioreq.server` receives (`Request`) and returns (`Response`).

A `Request` is built for every request on the hot path, so it does as little as it can until
asked: the headers are decoded, the query parsed and the body read only when the application
touches them.
"""

from __future__ import annotations

import json as _json
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

from .._headers import Headers, HeadersLike, _wire
from ..protocol import RequestHead

if TYPE_CHECKING:
    from ._connection import _Connection

__all__ = ["Body", "RawResponse", "Request", "Response", "Trailers"]

#: A response body: bytes, text (sent as UTF-8), or an async iterable of bytes sent as it comes.
Body = bytes | bytearray | memoryview | str | AsyncIterable[bytes]
#: Trailer fields, or a callable that gives them once a streamed body has ended.
Trailers = Iterable[tuple[Any, Any]] | Callable[[], Iterable[tuple[Any, Any]]]

_MISSING: Any = object()


class Request:
    """One request received by the server.

    The server makes these; build one yourself (`Request("POST", "/x", headers=...)`) to call
    an application directly in a unit test.

    Attributes:
        client: the peer's address (host, port, ...), or None.
        server: the server's own address on this connection (host, port, ...), or None.
        connection_id: which connection of the server it came on (1, 2, ... in the order the
            server accepted them; requests on one kept-alive connection share it).
        scheme: "https" over TLS, else "http".
    """

    __slots__ = (
        "_body",
        "_conn",
        "_continued",
        "_done",
        "_head",
        "_headers",
        "_query",
        "_trailers",
        "client",
        "connection_id",
        "scheme",
        "server",
    )

    def __init__(
        self,
        method: str = "GET",
        target: str = "/",
        http_version: str = "1.1",
        headers: HeadersLike | None = None,
        *,
        client: Any = None,
        scheme: str = "http",
        expect_continue: bool = False,
    ) -> None:
        fields = Headers(headers).raw if headers else []
        head = RequestHead(
            method.encode("ascii"),
            target.encode("iso-8859-1"),
            http_version.encode("ascii"),
            fields,
            expect_continue,
        )
        self._setup(head, client, scheme)
        self.server = None
        self.connection_id = 0

    @classmethod
    def _received(
        cls, head: RequestHead, client: Any, scheme: str, server: Any, connection_id: int
    ) -> Request:
        """A request as the server parsed it: its text is decoded only when asked for."""
        request = cls.__new__(cls)  # _setup, written out: this runs for every request
        request.connection_id = connection_id
        request._head = head
        request.client = client
        request.server = server
        request.scheme = scheme
        request._headers = request._query = request._body = request._trailers = None
        request._conn = None
        request._done = True
        request._continued = False
        return request

    def _setup(self, head: RequestHead, client: Any, scheme: str) -> None:
        self._head = head
        self.client = client
        self.scheme = scheme
        self._headers: Headers | None = None
        self._query: dict[str, list[str]] | None = None
        self._body: bytes | None = None
        self._trailers: Headers | None = None
        self._conn: _Connection | None = None
        # True once the body has been received completely (at once for a bodiless request).
        self._done = True
        # True once "100 Continue" was sent (or needs no sending).
        self._continued = False

    @property
    def method(self) -> str:
        """The method, e.g. "GET" (case kept: methods are case-sensitive)."""
        return self._head.method.decode("ascii")

    @property
    def target(self) -> str:
        """The request-target as received, e.g. "/search?q=x"."""
        return self._head.target.decode("iso-8859-1")

    @property
    def http_version(self) -> str:
        """ "1.1" or "1.0"."""
        return "1.1" if self._head.http_version == b"1.1" else "1.0"

    @property
    def expect_continue(self) -> bool:
        """The client sent `Expect: 100-continue` and waits for it before sending the body."""
        return self._head.expect_continue

    @property
    def raw_path(self) -> str:
        """The path as received, still percent-encoded ("/x" also for "http://host/x").

        For a CONNECT request (authority-form) it is the authority, for `OPTIONS *` it is "*".
        """
        target = self.target
        if target[:1] != "/" and "://" in target:
            # RFC 9112 §3.2.2: "a server MUST accept the use of the absolute-form in requests".
            return urlsplit(target).path or "/"
        return target.partition("?")[0]

    @property
    def query_string(self) -> str:
        """What follows "?" in the target, undecoded ("" if none)."""
        target = self.target
        if target[:1] != "/" and "://" in target:
            return urlsplit(target).query
        return target.partition("?")[2]

    @property
    def path(self) -> str:
        """The path of the target, percent-decoded ("/a b" for "/a%20b")."""
        return unquote(self.raw_path)

    @property
    def headers(self) -> Headers:
        """The header fields, case-insensitive and multi-valued."""
        if self._headers is None:
            self._headers = Headers.from_raw(self._head.headers)
        return self._headers

    @property
    def query(self) -> dict[str, list[str]]:
        """The query parameters, each with its list of values (blank values kept)."""
        if self._query is None:
            self._query = parse_qs(self.query_string, keep_blank_values=True)
        return self._query

    @property
    def url(self) -> str:
        """The target URI, reconstructed as RFC 9112 §3.3 says.

        The absolute-form as received; else the scheme, then the Host field (or, without one,
        the server's own address), then the target (nothing for `OPTIONS *`).
        """
        target = self.target
        if target[:1] != "/" and "://" in target:
            return target
        authority = self.headers.get("host", "")
        if not authority:
            authority = _authority(self.server)
        if self.method == "CONNECT":
            return f"{self.scheme}://{target}"
        if target == "*":
            # RFC 9112 §3.3: "If the request-target is in asterisk-form, the target URI's
            # combined path and query component is empty."
            return f"{self.scheme}://{authority}"
        return f"{self.scheme}://{authority}{target}"

    @property
    def trailers(self) -> Headers:
        """The trailer fields of a chunked body (empty until the body has been read)."""
        return self._trailers if self._trailers is not None else Headers()

    async def stream(self) -> AsyncIterator[bytes]:
        """Yield the body as it arrives (a chunked body chunk by chunk).

        Raises:
            RemoteProtocolError: the body is malformed or larger than the server allows.
            ReadError, ReadTimeout: the client went away or stalled.
            RuntimeError: the body was already consumed.
        """
        if self._body is not None:
            if self._body:
                yield self._body
            return
        if self._conn is None or self._done:
            return
        async for data in self._conn.body_chunks(self):
            yield data

    async def body(self) -> bytes:
        """The whole body (read on first call, then kept)."""
        if self._body is None:
            if self._done or self._conn is None:
                self._body = b""
            else:
                self._body = b"".join([data async for data in self._conn.body_chunks(self)])
        return self._body

    async def text(self, encoding: str = "utf-8", errors: str = "replace") -> str:
        """The body decoded as text."""
        return (await self.body()).decode(encoding, errors)

    async def json(self) -> Any:
        """The body parsed as JSON.

        Raises:
            ValueError: the body is not JSON.
        """
        return _json.loads(await self.body())

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.target}>"


class Response:
    """What an application answers with.

    Args:
        status: the status code.
        headers: header fields (mapping or pairs, str or bytes). Content-Length or chunked
            framing is added by the server unless given here.
        body: bytes, str (sent as UTF-8) or an async iterable of bytes (streamed: chunked for
            HTTP/1.1 clients unless a Content-Length is given).
        json: an object to send as JSON (sets Content-Type to application/json).
        text: text to send as UTF-8 (sets Content-Type to text/plain).
        trailers: trailer fields sent after a chunked body, or a callable giving them once the
            body has ended.
        reason: the reason phrase (default: the standard one).
    """

    __slots__ = ("body", "headers", "reason", "status", "trailers")

    def __init__(
        self,
        status: int = 200,
        *,
        headers: Mapping[Any, Any] | Iterable[tuple[Any, Any]] | None = None,
        body: Body = b"",
        json: Any = _MISSING,
        text: str | None = None,
        trailers: Trailers | None = None,
        reason: str | bytes | None = None,
    ) -> None:
        self.status = status
        self.trailers = trailers
        self.reason = _wire(reason) if reason is not None else None
        pairs = _fields(headers) if headers else []
        self.headers = pairs
        if json is not _MISSING:
            body = _json.dumps(json, separators=(",", ":"), ensure_ascii=False).encode()
            _default_type(pairs, b"application/json")
        elif text is not None:
            body = text.encode()
            _default_type(pairs, b"text/plain; charset=utf-8")
        elif type(body) is bytes:
            pass
        elif isinstance(body, str):
            body = body.encode()
            _default_type(pairs, b"text/plain; charset=utf-8")
        elif isinstance(body, (bytearray, memoryview)):
            body = bytes(body)
        self.body: bytes | AsyncIterable[bytes] = body

    def __repr__(self) -> str:
        kind = "streamed" if not isinstance(self.body, bytes) else f"{len(self.body)} bytes"
        return f"<Response {self.status}, {kind}>"


def _fields(headers: Mapping[Any, Any] | Iterable[tuple[Any, Any]]) -> list[tuple[bytes, bytes]]:
    """The header fields as bytes pairs (str is sent as ASCII, or UTF-8 where it must)."""
    if type(headers) is dict:
        source: Iterable[tuple[Any, Any]] = headers.items()
    elif isinstance(headers, Headers):
        return list(headers.raw)
    elif isinstance(headers, Mapping):
        source = headers.items()
    else:
        source = headers
    pairs = []
    encoded = _encoded
    for name, value in source:
        if type(name) is not bytes:
            name = encoded.get(name) or _remember(name)
        if type(value) is not bytes:
            value = encoded.get(value) or _remember(value)
        pairs.append((name, value))
    return pairs


# Header names and values as bytes, by the str they were given as: an application sends the
# same few again and again. Cleared when full, so it stays small.
_encoded: dict[str, bytes] = {}


def _remember(text: str) -> bytes:
    if len(_encoded) >= 1024:
        _encoded.clear()
    data = _encoded[text] = _wire(text)
    return data


def _authority(address: Any) -> str:
    """host:port of a socket address, IPv6 in brackets ("" when unknown)."""
    if not isinstance(address, tuple) or len(address) < 2:
        return ""
    host, port = address[0], address[1]
    return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"


def _default_type(pairs: list[tuple[bytes, bytes]], content_type: bytes) -> None:
    if not any(name.lower() == b"content-type" for name, _ in pairs):
        pairs.append((b"Content-Type", content_type))


class RawResponse:
    """Bytes sent to the client verbatim, with no framing added and no check made.

    For tests of clients against a broken server: a truncated body, a malformed head, a
    response cut off mid-line. After the bytes (an async iterable is sent as it comes, so
    they can trickle), the connection is closed unless `keep_alive` is set: with a FIN, or
    with a TCP reset (RST) when `reset` is set.

    Args:
        data: the bytes, or an async iterable of them.
        keep_alive: keep serving the connection after the bytes (the bytes must then be a
            complete, correctly framed response).
        reset: end the connection with RST instead of FIN, once the bytes are out.
    """

    __slots__ = ("data", "keep_alive", "reset")

    def __init__(
        self,
        data: bytes | AsyncIterable[bytes],
        *,
        keep_alive: bool = False,
        reset: bool = False,
    ) -> None:
        if keep_alive and reset:
            raise ValueError("a connection cannot be both kept and reset")
        self.data = data
        self.keep_alive = keep_alive
        self.reset = reset

    def __repr__(self) -> str:
        kind = f"{len(self.data)} bytes" if isinstance(self.data, bytes) else "streamed"
        return f"<RawResponse {kind}>"
