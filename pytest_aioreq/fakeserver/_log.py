"""What the fakes record: `RecordedRequest`, one per request that reached a fake server, and
`ProxiedRequest`, one per request that reached the fake proxy."""

from __future__ import annotations

import json as _json
from dataclasses import dataclass, field
from typing import Any, overload

__all__ = ["ProxiedRequest", "RecordedRequest"]


class _Fields:
    """`header` and `header_all` over the `headers` list of a recorded request."""

    headers: list[tuple[str, str]]

    @overload
    def header(self, name: str) -> str | None: ...

    @overload
    def header(self, name: str, default: str) -> str: ...

    def header(self, name: str, default: str | None = None) -> str | None:
        """The value of the header `name` (case-insensitive), or `default`.

        Repeated lines are joined with ", " (RFC 9110 §5.3), or "; " for Cookie (RFC 6265
        §5.4); use `header_all` for the lines one by one.
        """
        values = self.header_all(name)
        if not values:
            return default
        return ("; " if name.lower() == "cookie" else ", ").join(values)

    def header_all(self, name: str) -> list[str]:
        """Every line of the header `name` (case-insensitive), in order."""
        key = name.lower()
        return [value for item, value in self.headers if item.lower() == key]


@dataclass(frozen=True)
class RecordedRequest(_Fields):
    """A request as the fake server received it.

    Attributes:
        method: e.g. "GET".
        target: the request-target as sent, e.g. "/search?q=x".
        path: the path, percent-decoded.
        query: the query parameters, each with its list of values.
        headers: the header fields in the order they came, names as sent.
        body: the body, de-chunked.
        http_version: "1.1" or "1.0".
        connection: which connection it came on: 1 for the first connection of the test, 2 for
            the next... Requests on one kept-alive connection share the number.
        trailers: the trailer fields of a chunked body.
    """

    method: str
    target: str
    path: str
    query: dict[str, list[str]]
    headers: list[tuple[str, str]]
    body: bytes
    http_version: str = "1.1"
    connection: int = 0
    trailers: list[tuple[str, str]] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The body decoded as UTF-8 (undecodable bytes replaced)."""
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        """The body parsed as JSON."""
        return _json.loads(self.body)

    def describe(self) -> str:
        """One line for a failure message: method, target, body size, connection."""
        size = f", {len(self.body)} byte body" if self.body else ""
        where = f"HTTP/{self.http_version}{size}, connection {self.connection}"
        return f"{self.method} {self.target} ({where})"


@dataclass(frozen=True)
class ProxiedRequest(_Fields):
    """A request as the fake proxy received it, and the status it answered.

    Attributes:
        method: e.g. "GET", or "CONNECT" for a tunnel.
        target: the request-target as sent: absolute-form ("http://127.0.0.1:8080/echo") for a
            forwarded request, authority-form ("127.0.0.1:8443") for CONNECT.
        headers: the header fields in the order they came, names as sent (Proxy-Authorization
            included: it stops at the proxy).
        tunnel: True for CONNECT.
        status: what the proxy answered: 200 for an established tunnel, the origin's status for
            a forwarded request, or the proxy's own refusal (400, 403, 407, 502, or the status
            of `refuse_connect`).
        connection: which client connection it came on: 1 for the first since `clear()`, 2 for
            the next... Requests on one kept-alive connection share the number.
    """

    method: str
    target: str
    headers: list[tuple[str, str]]
    tunnel: bool
    status: int
    connection: int = 0

    def describe(self) -> str:
        """One line for a failure message: method, target, answer, connection."""
        return f"{self.method} {self.target} -> {self.status} (connection {self.connection})"
