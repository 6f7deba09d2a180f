"""Expectations: which requests the fake server should see, and how it answers them."""

from __future__ import annotations

import json as _json
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aioreq.server import RawResponse, Response

from ._log import RecordedRequest

__all__ = ["Expectation", "Handler", "Reply"]

#: What a handler may answer with (or an awaitable of it).
Reply = Response | RawResponse
#: A handler: called with the recorded request, returns a `Reply` (sync or async).
Handler = Callable[[RecordedRequest], Reply | Awaitable[Reply]]

_MISSING: Any = object()


class Expectation:
    """A request the test expects, and the answer to give it.

    Made by `FakeServer.expect()`; finish it with `respond()`, `respond_with()` or a fault.

    Attributes:
        times: how many matching requests it answers (None: any number).
        ordered: it must come in its turn among the ordered expectations.
        matched: how many requests it has answered so far.
    """

    def __init__(
        self,
        method: str | None,
        path: str | re.Pattern[str] | Callable[[str], bool] | None,
        *,
        query: Mapping[str, str | list[str]] | None = None,
        headers: Mapping[str, str] | None = None,
        body: bytes | str | None = None,
        json: Any = _MISSING,
        times: int | None = None,
        ordered: bool = False,
    ) -> None:
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body.encode() if isinstance(body, str) else body
        self.json = json
        self.times = times
        self.ordered = ordered
        self.matched = 0
        self.handler: Handler = _not_configured

    # -- the answer -----------------------------------------------------------------------------

    def respond(
        self,
        status: int = 200,
        *,
        headers: Mapping[str, str] | list[tuple[str, str]] | None = None,
        body: bytes | str = b"",
        json: Any = _MISSING,
        text: str | None = None,
        raw: bytes | None = None,
        fault: Callable[[Response], Reply] | None = None,
    ) -> Expectation:
        """Answer with this response.

        Args:
            status: the status code.
            headers: header fields (Content-Length, Date are added).
            body: the body (str is sent as UTF-8).
            json: an object to send as JSON instead of `body` (Content-Type application/json).
            text: text to send as UTF-8 instead of `body` (Content-Type text/plain).
            raw: bytes sent verbatim instead of a response; the connection closes after them.
            fault: a fault from `pytest_aioreq.fakeserver.faults` that mangles the delivery
                of the response (truncate, reset, drip...).
        """
        if raw is not None:
            if fault is not None:
                raise ValueError("raw= bytes are sent as they are: a fault cannot apply to them")
            raw_reply = RawResponse(raw)
            self.handler = lambda _request: raw_reply
            return self
        kwargs: dict[str, Any] = {"headers": headers}
        if json is not _MISSING:
            kwargs["json"] = json
        elif text is not None:
            kwargs["text"] = text
        else:
            kwargs["body"] = body
        response = Response(status, **kwargs)
        if fault is None:
            self.handler = lambda _request: response
        else:
            # Applied per request: a fault may answer with a one-shot stream, or a fresh date.
            self.handler = lambda _request: fault(response)
        return self

    def respond_with(self, handler: Handler) -> Expectation:
        """Answer with what `handler(recorded_request)` returns (sync or async)."""
        self.handler = handler
        return self

    # -- matching -------------------------------------------------------------------------------

    @property
    def exhausted(self) -> bool:
        """True when it has answered as many requests as it will."""
        return self.times is not None and self.matched >= self.times

    @property
    def unmet(self) -> bool:
        """True when it expected more requests than it answered."""
        return self.times is not None and self.matched < self.times

    def matches(self, request: RecordedRequest) -> bool:
        """Whether `request` is one this expectation describes."""
        if self.method is not None and request.method != self.method.upper():
            return False
        path = self.path
        if path is not None:
            if isinstance(path, str):
                if request.path != path:
                    return False
            elif isinstance(path, re.Pattern):
                if path.fullmatch(request.path) is None:
                    return False
            elif not path(request.path):
                return False
        if self.query is not None:
            for name, wanted in self.query.items():
                values = request.query.get(name)
                expected = wanted if isinstance(wanted, list) else [wanted]
                if values != expected:
                    return False
        if self.headers is not None:
            for name, value in self.headers.items():
                if request.header(name) != value:
                    return False
        if self.body is not None and request.body != self.body:
            return False
        if self.json is not _MISSING:
            try:
                if _json.loads(request.body) != self.json:
                    return False
            except ValueError:
                return False
        return True

    def describe(self) -> str:
        """One line for a failure message."""
        what = f"{self.method or '*'} {_describe_path(self.path)}"
        for label, value in (("query", self.query), ("headers", self.headers)):
            if value is not None:
                what += f" {label}={dict(value)!r}"
        if self.body is not None:
            what += f" body={self.body[:40]!r}"
        if self.json is not _MISSING:
            what += f" json={self.json!r}"
        if self.times is not None:
            what += f" ({self.matched} of {self.times} time(s))"
        if self.ordered:
            what += " [ordered]"
        return what

    def __repr__(self) -> str:
        return f"<Expectation {self.describe()}>"


def _describe_path(path: object) -> str:
    if path is None:
        return "*"
    if isinstance(path, re.Pattern):
        return f"re({path.pattern!r})"
    if callable(path):
        return getattr(path, "__name__", "<predicate>")
    return str(path)


def _not_configured(request: RecordedRequest) -> Reply:
    return Response(
        500, text=f"pytest_aioreq: the expectation for {request.target} has no response set\n"
    )
