"""What the parsers produce: message heads, body bytes and the end of a message.

A parser's `feed()` returns a list of events. Body data is plain `bytes` (no wrapper object:
one allocation less per read on the hot path), so an event is one of `RequestHead`,
`ResponseHead`, `bytes` or `EndOfMessage`.
"""

from __future__ import annotations

__all__ = ["EndOfMessage", "Event", "Fields", "RequestHead", "ResponseHead"]

#: Field lines as received: (name, value) pairs, names in their original case, values without
#: the surrounding whitespace, in the order they arrived.
Fields = list[tuple[bytes, bytes]]


class ResponseHead:
    """The status line and header section of a response (final or 1xx interim).

    Attributes:
        status_code: the three-digit status code as an int.
        reason: the reason phrase, possibly empty.
        http_version: b"1.1" or b"1.0" (the digits after "HTTP/").
        headers: the field lines in order, names in their received case.
    """

    __slots__ = ("headers", "http_version", "reason", "status_code")

    def __init__(
        self, status_code: int, reason: bytes, http_version: bytes, headers: Fields
    ) -> None:
        self.status_code = status_code
        self.reason = reason
        self.http_version = http_version
        self.headers = headers

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ResponseHead):
            return NotImplemented
        return (
            self.status_code == other.status_code
            and self.reason == other.reason
            and self.http_version == other.http_version
            and self.headers == other.headers
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"ResponseHead(status_code={self.status_code}, reason={self.reason!r}, "
            f"http_version={self.http_version!r}, headers={self.headers!r})"
        )


class RequestHead:
    """The request line and header section of a request.

    Attributes:
        method: the method token, case kept (methods are case-sensitive).
        target: the request-target as received (origin, absolute, authority or asterisk form).
        http_version: b"1.1" or b"1.0".
        headers: the field lines in order, names in their received case.
        expect_continue: True when an HTTP/1.1 request carries `Expect: 100-continue`.
    """

    __slots__ = ("expect_continue", "headers", "http_version", "method", "target")

    def __init__(
        self,
        method: bytes,
        target: bytes,
        http_version: bytes,
        headers: Fields,
        expect_continue: bool = False,
    ) -> None:
        self.method = method
        self.target = target
        self.http_version = http_version
        self.headers = headers
        self.expect_continue = expect_continue

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RequestHead):
            return NotImplemented
        return (
            self.method == other.method
            and self.target == other.target
            and self.http_version == other.http_version
            and self.headers == other.headers
            and self.expect_continue == other.expect_continue
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"RequestHead(method={self.method!r}, target={self.target!r}, "
            f"http_version={self.http_version!r}, headers={self.headers!r})"
        )


class EndOfMessage:
    """The message is complete. `trailers` holds the trailer fields of a chunked body.

    The parsers hand out one shared instance for every message without trailers, so its
    `trailers` is an empty tuple: read it, do not append to it.
    """

    __slots__ = ("trailers",)

    def __init__(self, trailers: Fields | tuple[()] = ()) -> None:
        self.trailers = trailers

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, EndOfMessage):
            return NotImplemented
        return list(self.trailers) == list(other.trailers)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"EndOfMessage(trailers={list(self.trailers)!r})"


Event = RequestHead | ResponseHead | bytes | EndOfMessage
