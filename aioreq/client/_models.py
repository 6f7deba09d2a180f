"""`Request` and `Response`: what a client sends and what it gets back."""

from __future__ import annotations

import codecs
import datetime
import json as _json
import re
from collections.abc import AsyncIterable, AsyncIterator, Callable, Mapping
from typing import TYPE_CHECKING, Any

from .._exceptions import HTTPStatusError
from .._headers import Headers
from ..protocol import Fields
from ._bodies import replayable
from ._urls import URL

if TYPE_CHECKING:
    from ._decoders import Decoder

__all__ = ["Request", "Response"]

_CHARSET = re.compile(r"""charset\s*=\s*["']?([-\w.:]+)""", re.IGNORECASE)


class Request:
    """A request, as the client sends it.

    Attributes:
        method: e.g. "GET".
        url: the parsed URL (`str(request.url)` gives it back).
        headers: the header fields the client sends (Host and framing fields are added on the
            wire).
        content: the body: bytes, or an async iterable of bytes (a stream, which cannot be
            sent twice).
        cookies: the request's own cookies (`cookies=`), sent with the jar's for each URL of
            its redirects to the same origin; None when it has none.
    """

    __slots__ = ("_fields", "_headers", "content", "cookies", "length", "method", "url")

    def __init__(
        self,
        method: str,
        url: URL,
        fields: Fields | Headers,
        content: bytes | AsyncIterable[bytes] = b"",
        *,
        length: int | None = 0,
        cookies: Mapping[str, str] | None = None,
    ) -> None:
        self.method = method
        self.url = url
        self.content = content
        self.length = length
        self.cookies = cookies
        if isinstance(fields, list):  # not isinstance(fields, Headers): an ABC check is slow
            self._headers: Headers | None = None
            self._fields = fields  # shared with the client: never mutated
        else:
            self._headers = fields
            self._fields = fields.raw

    @property
    def headers(self) -> Headers:
        """The header fields the client sends (changes made here are sent)."""
        if self._headers is None:
            self._headers = Headers.from_raw(list(self._fields))
        return self._headers

    @property
    def fields(self) -> Fields:
        """The header fields as bytes, as they go on the wire (after Host)."""
        return self._headers.raw if self._headers is not None else self._fields

    def with_headers(self, headers: Headers) -> Request:
        """A copy of this request with `headers` for its header fields."""
        return Request(
            self.method, self.url, headers, self.content, length=self.length, cookies=self.cookies
        )

    @property
    def replayable(self) -> bool:
        """Whether the body can be sent again (for a retry or a 307/308 redirect): bytes, a
        path, a file that can seek back, a list; not a generator or an async iterable."""
        return replayable(self.content)

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.url}>"


class Response:
    """A response: status, headers, and the body (read, or to be streamed).

    Attributes:
        status: the status code, e.g. 200.
        http_version: "HTTP/1.1" or "HTTP/1.0".
        url: the URL that answered (after redirects).
        request: the request this answers.
        history: the redirect responses that led here, oldest first.
        elapsed: the time from sending the request to having the head (and the body, once
            read).
        num_bytes_downloaded: the body bytes received on the wire (before decoding).
    """

    __slots__ = (
        "_body",
        "_decoder",
        "_elapsed",
        "_encoding",
        "_fields",
        "_headers",
        "_reason",
        "_release",
        "_stream",
        "_trailers",
        "history",
        "http_version",
        "num_bytes_downloaded",
        "request",
        "status",
        "url",
    )

    def __init__(
        self,
        status: int,
        reason: bytes,
        http_version: str,
        fields: Fields,
        request: Request,
        *,
        body: bytes | None = None,
        stream: AsyncIterator[bytes] | None = None,
        release: Callable[[bool], None] | None = None,
        decoder: Decoder | None = None,
    ) -> None:
        self.status = status
        self._reason = reason
        self.http_version = http_version
        self._fields = fields
        self._headers: Headers | None = None
        self.request = request
        self.url = request.url
        self.history: list[Response] = []
        self._elapsed = 0.0
        self._body = body
        self._stream = stream
        self._release = release
        self._decoder = decoder
        self._trailers: Headers | None = None
        self._encoding: str | None = None
        self.num_bytes_downloaded = len(body) if body is not None else 0

    # -- head -----------------------------------------------------------------------------------

    @property
    def elapsed(self) -> datetime.timedelta:
        """The time from sending the request to having the head (and the body, once read)."""
        return datetime.timedelta(seconds=self._elapsed)

    @property
    def status_message(self) -> str:
        """The reason phrase, e.g. "OK" (as the server sent it; may be empty)."""
        return self._reason.decode("iso-8859-1")

    reason_phrase = status_message

    @property
    def headers(self) -> Headers:
        """The header fields: case-insensitive, repeated fields kept, order kept."""
        if self._headers is None:
            self._headers = Headers.from_raw(self._fields)
        return self._headers

    @property
    def trailers(self) -> Headers:
        """The trailer fields of a chunked body (empty until the body is read)."""
        return self._trailers if self._trailers is not None else Headers()

    @property
    def is_success(self) -> bool:
        """True for a 2xx status."""
        return 200 <= self.status < 300

    @property
    def is_redirect(self) -> bool:
        """True for a redirect status with a Location field."""
        return self.status in (301, 302, 303, 307, 308) and "location" in self.headers

    def raise_for_status(self) -> Response:
        """Raise `aioreq.HTTPStatusError` for a 4xx or 5xx status; return the response otherwise.

        Raises:
            HTTPStatusError: the status is 400 or more (`.response` is this response).
        """
        if self.status >= 400:
            kind = "client error" if self.status < 500 else "server error"
            raise HTTPStatusError(
                f"{self.status} {self.status_message} ({kind}) for {self.request.method} "
                f"{self.url}",
                response=self,
            )
        return self

    # -- body -----------------------------------------------------------------------------------

    @property
    def body(self) -> bytes:
        """The body, content-decoded.

        Raises:
            RuntimeError: a streamed response whose body has not been read (`await aread()`).
        """
        if self._body is None:
            raise RuntimeError(
                "the body of a streamed response has not been read: await response.aread() "
                "or iterate over it"
            )
        return self._body

    content = body

    @property
    def encoding(self) -> str:
        """The charset the text is decoded with: from Content-Type, else UTF-8."""
        if self._encoding is None:
            found = _CHARSET.search(self.headers.get("content-type", ""))
            encoding = found.group(1) if found else "utf-8"
            try:
                codecs.lookup(encoding)
            except LookupError:
                encoding = "utf-8"
            self._encoding = encoding
        return self._encoding

    @property
    def text(self) -> str:
        """The body decoded as text (undecodable bytes replaced)."""
        return self.body.decode(self.encoding, "replace")

    def json(self, **kwargs: Any) -> Any:
        """The body parsed as JSON.

        Raises:
            ValueError: the body is not JSON.
        """
        return _json.loads(self.body, **kwargs)

    async def aread(self) -> bytes:
        """Read the rest of a streamed body (decoded) and release the connection."""
        if self._body is None:
            self._body = b"".join([chunk async for chunk in self.iter_bytes()])
        return self._body

    async def iter_raw(self) -> AsyncIterator[bytes]:
        """The body as it arrives, still content-coded (gzip stays gzip)."""
        if self._body is not None and self._stream is None:
            raise RuntimeError("the body was already read")
        stream = self._stream
        if stream is None:
            return
        self._stream = None
        completed = False
        try:
            async for chunk in stream:
                self.num_bytes_downloaded += len(chunk)
                yield chunk
            completed = True
        finally:
            self._finish(completed)

    async def iter_bytes(self) -> AsyncIterator[bytes]:
        """The body as it arrives, content-decoded."""
        if self._body is not None and self._stream is None:
            if self._body:
                yield self._body
            return
        decoder = self._decoder
        if decoder is None:
            async for chunk in self.iter_raw():
                yield chunk
            return
        async for chunk in self.iter_raw():
            # Piece by piece as the decoder makes them: a few bytes of a coded body may decode
            # to hundreds of megabytes, which must not become one bytes object (urllib3's
            # CVE-2025-66471).
            for piece in decoder.pieces(chunk):
                if piece:
                    yield piece
        tail = decoder.flush()
        if tail:
            yield tail

    async def iter_text(self) -> AsyncIterator[str]:
        """The body as it arrives, decoded as text (multi-byte characters never split)."""
        decoder = codecs.getincrementaldecoder(self.encoding)(errors="replace")
        async for chunk in self.iter_bytes():
            text = decoder.decode(chunk)
            if text:
                yield text
        tail = decoder.decode(b"", final=True)
        if tail:
            yield tail

    async def iter_lines(self) -> AsyncIterator[str]:
        """The body as text, line by line (without the line ending)."""
        pending = ""
        async for text in self.iter_text():
            lines = (pending + text).splitlines(keepends=True)
            pending = lines.pop() if lines and not lines[-1].endswith(("\n", "\r")) else ""
            for line in lines:
                yield line.rstrip("\r\n")
        if pending:
            yield pending

    async def aclose(self) -> None:
        """Release the connection of a streamed response, whether its body was read or not."""
        stream = self._stream
        if stream is not None:
            self._stream = None
            close = getattr(stream, "aclose", None)
            if close is not None:
                await close()
            self._finish(False)

    def _finish(self, completed: bool) -> None:
        release = self._release
        if release is not None:
            self._release = None
            release(completed)

    def _set_trailers(self, trailers: Fields | tuple[()]) -> None:
        if trailers:
            self._trailers = Headers.from_raw(list(trailers))

    async def __aenter__(self) -> Response:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        reason = f" {self.status_message}" if self._reason else ""
        return f"<Response {self.status}{reason}>"
