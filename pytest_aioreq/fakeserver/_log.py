"""What the fake server records: `RecordedRequest`, one per request that arrived."""

from __future__ import annotations

import json as _json
from dataclasses import dataclass, field
from typing import Any

__all__ = ["RecordedRequest"]


@dataclass(frozen=True)
class RecordedRequest:
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
