"""Wire faults: a response delivered wrongly, declared on an expectation.

A fault takes the `aioreq.server.Response` that `Expectation.respond()` built and returns the
`aioreq.server.RawResponse` the fake server sends instead: the same response cut short, reset,
slowed down, or subtly malformed. It is how a test checks that a client copes with a broken
server::

    from pytest_aioreq.fakeserver import faults

    aioreq_server.expect("GET", "/x").respond(json={"a": 1}, fault=faults.truncate(10))
    aioreq_server.expect("GET", "/y").respond(body=b"abc" * 100, fault=faults.reset("mid-body"))

The catalogue:

=============================  ===================================================================
`raw(data)`                    these exact bytes, then FIN (as `respond(raw=...)`)
`truncate(n)`                  the first n bytes of the whole response, then FIN
`close(when)`                  FIN before the head, after the head, or halfway through the body
`reset(when)`                  the same with a TCP reset (RST)
`stall()`                      nothing, ever (until the client gives up or the test ends)
`delay(seconds)`               the whole response after a delay; the connection stays usable
`drip(duration)`               the head at once, then the body trickling out over `duration`
`malformed_status_line(line)`  `line` instead of the status line
`malformed_field(line)`        an invalid field line added to the head
`bad_chunk_size(size)`         chunked, with `size` instead of the first chunk-size
`missing_last_chunk()`         chunked, without the final `0\\r\\n\\r\\n`, then FIN
`length_and_chunked()`         both Content-Length and chunked (RFC 9112 §6.1), then FIN
`byte_by_byte()`               the whole response in 1-byte writes, 1 ms apart
`http10()`                     an HTTP/1.0 response, then FIN
`close_after(n, response)`     a handler (for `respond_with`): Connection: close on the n-th
                               response of each connection
=============================  ===================================================================

Faults do not compose (`delay` then `drip`, say): each one renders the response itself with
`render()`; for a combination, build the `RawResponse` from `render()` yourself.

`respond()` applies the fault anew to every request the expectation answers, so each gets its
own stream and a current Date (the timed faults also send an async iterable that starts over
when it is reused).

Only responses with a bytes body can be rendered; a streamed body raises TypeError. A fault
does not see the request: the answer to a HEAD request carries the body all the same.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Literal

from aioreq.protocol import encode_chunk, encode_last_chunk, encode_response_head
from aioreq.server import RawResponse, Response, http_date

from ._log import RecordedRequest

__all__ = [
    "BadChunkSize",
    "ByteByByte",
    "Close",
    "CloseAfter",
    "Delay",
    "Drip",
    "Fault",
    "Http10",
    "LengthAndChunked",
    "MalformedField",
    "MalformedStatusLine",
    "MissingLastChunk",
    "Raw",
    "Reset",
    "Stall",
    "Truncate",
    "When",
    "Wire",
    "bad_chunk_size",
    "byte_by_byte",
    "close",
    "close_after",
    "delay",
    "drip",
    "http10",
    "length_and_chunked",
    "malformed_field",
    "malformed_status_line",
    "missing_last_chunk",
    "raw",
    "render",
    "reset",
    "stall",
    "truncate",
]

#: Where `close()` and `reset()` end the connection.
When = Literal["before-head", "after-head", "mid-body"]
_WHENS = ("before-head", "after-head", "mid-body")

# A chunked rendering splits the body into this many chunks (fewer for a short body).
_CHUNKS = 3
_BODYLESS = frozenset((204, 304))


# -- rendering ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Wire:
    """A response as bytes on the wire, ready to be mangled.

    Attributes:
        head: the status line and the header section, up to and including the empty line.
        body: the framed body (chunks, last chunk and trailers when chunked).
        last_chunk: the end of a chunked body (`0\\r\\n`, trailers, `\\r\\n`), which `body`
            ends with; b"" when not chunked.
    """

    head: bytes
    body: bytes
    last_chunk: bytes = b""

    @property
    def data(self) -> bytes:
        """The whole response: head and body."""
        return self.head + self.body

    @property
    def status_line(self) -> bytes:
        """The status line, without its CRLF."""
        return self.head.partition(b"\r\n")[0]

    def with_status_line(self, line: bytes) -> Wire:
        """This response with `line` (then CRLF) instead of its status line."""
        return dataclasses.replace(self, head=line + b"\r\n" + self.head.partition(b"\r\n")[2])

    def with_field_line(self, line: bytes) -> Wire:
        """This response with `line` (then CRLF) added as the last line of the header section."""
        return dataclasses.replace(self, head=self.head[:-2] + line + b"\r\n\r\n")

    def with_first_chunk_size(self, size: bytes) -> Wire:
        """This chunked response with `size` instead of its first chunk-size line.

        Raises:
            ValueError: the response is not chunked.
        """
        if not self.last_chunk:
            raise ValueError("the response is not chunked: render(response, chunked=True)")
        rest = self.body.partition(b"\r\n")[2]
        return dataclasses.replace(self, body=size + b"\r\n" + rest)

    def without_last_chunk(self) -> Wire:
        """This chunked response without its last chunk and trailers.

        Raises:
            ValueError: the response is not chunked.
        """
        if not self.last_chunk:
            raise ValueError("the response is not chunked: render(response, chunked=True)")
        return Wire(self.head, self.body[: -len(self.last_chunk)])


def render(response: Response, *, chunked: bool = False, http_version: bytes = b"1.1") -> Wire:
    """The bytes a correct server would send for `response`, head and body apart.

    The response's fields are kept as they are, in order; added after them: a Date unless it
    has one, and the framing unless it has its own -- Content-Length, or with `chunked`
    `Transfer-Encoding: chunked` (a Content-Length of the response is then kept, conflicting).
    A chunked body is split into a few chunks, then the last chunk with the trailers. A 1xx,
    204 or 304 response gets neither framing nor body.

    Args:
        response: a response with a bytes body.
        chunked: frame the body with the chunked coding.
        http_version: b"1.1" or b"1.0", for the status line.

    Raises:
        TypeError: the body is streamed (an async iterable): only bytes bodies are rendered.
        ValueError: the response has trailers and `chunked` is False.
        aioreq.LocalProtocolError: the status, reason or a field cannot be sent.
    """
    body = response.body
    if not isinstance(body, bytes):
        raise TypeError(
            f"faults render bytes bodies only, not a streamed body ({type(body).__name__}); "
            "build a RawResponse yourself"
        )
    trailers = _trailers(response)
    if trailers and not chunked:
        raise ValueError("trailers need a chunked body: render(response, chunked=True)")
    fields = list(response.headers)
    names = {name.lower() for name, _ in fields}
    if b"date" not in names:
        fields.append((b"Date", http_date()))
    status = response.status
    if status < 200 or status in _BODYLESS:
        head = encode_response_head(
            status, fields, reason=response.reason, http_version=http_version
        )
        return Wire(head, b"")
    last_chunk = b""
    if chunked:
        if b"transfer-encoding" not in names:
            fields.append((b"Transfer-Encoding", b"chunked"))
        size = max(1, -(-len(body) // _CHUNKS))
        last_chunk = encode_last_chunk(trailers)
        body = b"".join(encode_chunk(body[i : i + size]) for i in range(0, len(body), size))
        body += last_chunk
    elif not names & {b"content-length", b"transfer-encoding"}:
        fields.append((b"Content-Length", b"%d" % len(body)))
    head = encode_response_head(status, fields, reason=response.reason, http_version=http_version)
    return Wire(head, body, last_chunk)


def _trailers(response: Response) -> list[tuple[bytes, bytes]]:
    trailers = response.trailers
    if trailers is None:
        return []
    if callable(trailers):
        trailers = trailers()
    return [
        (name if isinstance(name, bytes) else name.encode("ascii"),
         value if isinstance(value, bytes) else value.encode("utf-8"))
        for name, value in trailers
    ]  # fmt: skip


# -- timed delivery -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Timed:
    """Bytes sent with pauses: an async iterable that starts over on each iteration.

    Attributes:
        steps: (pause, data) pairs: wait `pause` seconds, then send `data`.
        paced: keep the total of the pauses (a late wake-up shortens the next pause) rather
            than each pause at least as long as asked.
        then_stall: after the steps, wait forever (until cancelled).
    """

    steps: tuple[tuple[float, bytes], ...]
    paced: bool = False
    then_stall: bool = False

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._run()

    async def _run(self) -> AsyncIterator[bytes]:
        loop = asyncio.get_running_loop()
        deadline = loop.time()
        for pause, data in self.steps:
            if self.paced:
                deadline += pause
                pause = deadline - loop.time()
            if pause > 0:
                await asyncio.sleep(pause)
            if data:
                yield data
        if self.then_stall:
            await loop.create_future()  # never done: only cancelling ends it


# -- the faults -----------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class Fault:
    """A way to deliver a response wrongly: `fault(response)` gives the `RawResponse` to send.

    Pass one as `Expectation.respond(..., fault=...)`.
    """

    _name = "fault"

    def __call__(self, response: Response) -> RawResponse:
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in dataclasses.fields(self))
        return f"faults.{self._name}({args})"


@dataclass(frozen=True, repr=False)
class Raw(Fault):
    """`data` sent verbatim instead of the response, then FIN."""

    data: bytes
    _name = "raw"

    def __call__(self, response: Response) -> RawResponse:
        return RawResponse(self.data)


@dataclass(frozen=True, repr=False)
class Truncate(Fault):
    """The first `n` bytes of the whole response (head and body), then FIN."""

    n: int
    _name = "truncate"

    def __post_init__(self) -> None:
        if self.n < 0:
            raise ValueError(f"truncate(n) needs n >= 0, not {self.n}")

    def __call__(self, response: Response) -> RawResponse:
        return RawResponse(render(response).data[: self.n])


@dataclass(frozen=True, repr=False)
class _Cut(Fault):
    when: When

    _reset = False

    def __post_init__(self) -> None:
        if self.when not in _WHENS:
            raise ValueError(f"{self._name}(when) takes one of {_WHENS}, not {self.when!r}")

    def __call__(self, response: Response) -> RawResponse:
        wire = render(response)
        if self.when == "before-head":
            data = b""
        elif self.when == "after-head":
            data = wire.head
        else:
            data = wire.head + wire.body[: len(wire.body) // 2]
        return RawResponse(data, reset=self._reset)


@dataclass(frozen=True, repr=False)
class Close(_Cut):
    """FIN before the head, after the head, or after half the body ("mid-body")."""

    _name = "close"


@dataclass(frozen=True, repr=False)
class Reset(_Cut):
    """TCP reset (RST) before the head, after the head, or after half the body ("mid-body").

    What was sent before is flushed to the kernel first, but a client may still see the reset
    before it reads those bytes.
    """

    _name = "reset"
    _reset = True


@dataclass(frozen=True, repr=False)
class Stall(Fault):
    """Nothing is sent, ever: the client waits until its read timeout.

    The handler waits until it is cancelled: the fixtures drop the connection at teardown.
    """

    _name = "stall"

    def __call__(self, response: Response) -> RawResponse:
        return RawResponse(_Timed((), then_stall=True))


@dataclass(frozen=True, repr=False)
class Delay(Fault):
    """The whole response after `seconds`; the connection stays open for the next request."""

    seconds: float
    _name = "delay"

    def __post_init__(self) -> None:
        if self.seconds < 0:
            raise ValueError(f"delay(seconds) needs seconds >= 0, not {self.seconds}")

    def __call__(self, response: Response) -> RawResponse:
        return RawResponse(_Timed(((self.seconds, render(response).data),)), keep_alive=True)


@dataclass(frozen=True, repr=False)
class Drip(Fault):
    """The head at once, then the body in `chunk_size`-byte writes spread evenly over
    `duration` seconds; the connection stays open for the next request."""

    duration: float
    chunk_size: int = 1
    _name = "drip"

    def __post_init__(self) -> None:
        if self.duration < 0 or self.chunk_size < 1:
            raise ValueError(
                f"drip needs duration >= 0 and chunk_size >= 1, not {self.duration}, "
                f"{self.chunk_size}"
            )

    def __call__(self, response: Response) -> RawResponse:
        wire = render(response)
        size = self.chunk_size
        pieces = [wire.body[i : i + size] for i in range(0, len(wire.body), size)]
        pause = self.duration / len(pieces) if pieces else 0.0
        steps = ((0.0, wire.head), *((pause, piece) for piece in pieces))
        return RawResponse(_Timed(steps, paced=True), keep_alive=True)


@dataclass(frozen=True, repr=False)
class MalformedStatusLine(Fault):
    """`line` instead of the status line (the rest of the response intact), then FIN."""

    line: bytes = b"HTTP/1.1 2OO OK"
    _name = "malformed_status_line"

    def __call__(self, response: Response) -> RawResponse:
        return RawResponse(render(response).with_status_line(self.line).data)


@dataclass(frozen=True, repr=False)
class MalformedField(Fault):
    """`line` added as the last field line of the head (the rest intact), then FIN."""

    line: bytes = b"Bad Field: x"
    _name = "malformed_field"

    def __call__(self, response: Response) -> RawResponse:
        return RawResponse(render(response).with_field_line(self.line).data)


@dataclass(frozen=True, repr=False)
class BadChunkSize(Fault):
    """The response chunked, with `size` instead of the first chunk-size, then FIN."""

    size: bytes = b"zz"
    _name = "bad_chunk_size"

    def __call__(self, response: Response) -> RawResponse:
        wire = render(response, chunked=True)
        return RawResponse(wire.with_first_chunk_size(self.size).data)


@dataclass(frozen=True, repr=False)
class MissingLastChunk(Fault):
    """The response chunked, every chunk but without the last chunk, then FIN."""

    _name = "missing_last_chunk"

    def __call__(self, response: Response) -> RawResponse:
        return RawResponse(render(response, chunked=True).without_last_chunk().data)


@dataclass(frozen=True, repr=False)
class LengthAndChunked(Fault):
    """A chunked body whose head also has a Content-Length, then FIN.

    RFC 9112 §6.2: "A sender MUST NOT send a Content-Length header field in any message that
    contains a Transfer-Encoding header field." §6.1: for a message received with both, "the
    Transfer-Encoding overrides the Content-Length. Such a message might indicate an attempt
    to perform request smuggling ... and ought to be handled as an error."

    Attributes:
        content_length: the Content-Length value; None for the length of the unchunked body.
    """

    content_length: int | None = None
    _name = "length_and_chunked"

    def __call__(self, response: Response) -> RawResponse:
        body = response.body
        length = self.content_length
        if length is None:
            length = len(body) if isinstance(body, bytes) else 0
        conflicted = Response(
            response.status,
            headers=[*response.headers, (b"Content-Length", b"%d" % length)],
            body=body,
            trailers=response.trailers,
            reason=response.reason,
        )
        return RawResponse(render(conflicted, chunked=True).data)


@dataclass(frozen=True, repr=False)
class ByteByByte(Fault):
    """The whole response in 1-byte writes, `pause` seconds apart; the connection stays open.

    Each write is its own send() (asyncio sets TCP_NODELAY), so each byte leaves in its own
    segment; but the kernel of either side may still coalesce them, and a client that reads
    late gets several at once. A response of N bytes takes about N milliseconds.
    """

    pause: float = 0.001
    _name = "byte_by_byte"

    def __call__(self, response: Response) -> RawResponse:
        data = render(response).data
        steps = tuple((self.pause if i else 0.0, data[i : i + 1]) for i in range(len(data)))
        return RawResponse(_Timed(steps), keep_alive=True)


@dataclass(frozen=True, repr=False)
class Http10(Fault):
    """The response as HTTP/1.0 (`HTTP/1.0 200 OK`), no keep-alive, then FIN.

    Attributes:
        content_length: send Content-Length; False leaves it out, so the body ends with the
            connection (a close-delimited body).
    """

    content_length: bool = True
    _name = "http10"

    def __call__(self, response: Response) -> RawResponse:
        wire = render(response, http_version=b"1.0")
        if not self.content_length and response.status >= 200:
            lines = wire.head.split(b"\r\n")
            kept = [line for line in lines if not line.lower().startswith(b"content-length:")]
            wire = Wire(b"\r\n".join(kept), wire.body)
        return RawResponse(wire.data)


# -- per connection: a handler, not a fault -------------------------------------------------------


@dataclass(frozen=True, repr=False)
class CloseAfter:
    """A handler answering `response` and closing each connection after its n-th response.

    Not a fault: a fault sees the response only, once, when `respond()` is called, while this
    must count the requests of each connection. It is a handler for `respond_with()`, called
    with every `RecordedRequest`; it counts them by `request.connection` and adds
    `Connection: close` to the n-th response of each connection (and to any later one, should a
    client pipeline past it), so the server closes the connection after sending it.

    The connection numbers start over when the server is cleared (each test): make a new one
    for each test rather than sharing one between tests.
    """

    n: int
    response: Response
    _counts: dict[int, int] = field(default_factory=dict, init=False, compare=False)
    _closing: Response = field(init=False, compare=False)

    def __post_init__(self) -> None:
        if self.n < 1:
            raise ValueError(f"close_after(n) needs n >= 1, not {self.n}")
        body = self.response.body
        if not isinstance(body, bytes):
            raise TypeError("close_after needs a response with a bytes body (sent many times)")
        closing = Response(
            self.response.status,
            headers=[*self.response.headers, (b"Connection", b"close")],
            body=body,
            trailers=self.response.trailers,
            reason=self.response.reason,
        )
        object.__setattr__(self, "_closing", closing)

    def __call__(self, request: RecordedRequest) -> Response:
        count = self._counts.get(request.connection, 0) + 1
        self._counts[request.connection] = count
        return self.response if count < self.n else self._closing

    def __repr__(self) -> str:
        return f"faults.close_after({self.n}, {self.response!r})"


# -- the names to use -----------------------------------------------------------------------------


def raw(data: bytes) -> Raw:
    """Send `data` verbatim instead of the response, then FIN."""
    return Raw(data)


def truncate(n: int) -> Truncate:
    """Send the first `n` bytes of the whole response (head and body), then FIN."""
    return Truncate(n)


def close(when: When) -> Close:
    """FIN "before-head", "after-head", or "mid-body" (after half the body)."""
    return Close(when)


def reset(when: When) -> Reset:
    """TCP reset (RST) "before-head", "after-head", or "mid-body" (after half the body)."""
    return Reset(when)


def stall() -> Stall:
    """Send nothing and never answer (the fixtures cancel it at teardown)."""
    return Stall()


def delay(seconds: float) -> Delay:
    """Send the whole response after `seconds`; the connection stays usable."""
    return Delay(seconds)


def drip(duration: float, *, chunk_size: int = 1) -> Drip:
    """Send the head at once, then the body in `chunk_size` pieces over `duration` seconds."""
    return Drip(duration, chunk_size)


def malformed_status_line(line: bytes = b"HTTP/1.1 2OO OK") -> MalformedStatusLine:
    """Send `line` instead of the status line, then FIN."""
    return MalformedStatusLine(line)


def malformed_field(line: bytes = b"Bad Field: x") -> MalformedField:
    """Add `line` (an invalid field line) to the head, then FIN."""
    return MalformedField(line)


def bad_chunk_size(size: bytes = b"zz") -> BadChunkSize:
    """Send the body chunked, with `size` as the first chunk-size, then FIN."""
    return BadChunkSize(size)


def missing_last_chunk() -> MissingLastChunk:
    """Send the body chunked but without the last chunk (`0\\r\\n\\r\\n`), then FIN."""
    return MissingLastChunk()


def length_and_chunked(content_length: int | None = None) -> LengthAndChunked:
    """Send a chunked body with a Content-Length too (the unchunked length unless given)."""
    return LengthAndChunked(content_length)


def byte_by_byte(pause: float = 0.001) -> ByteByByte:
    """Send the whole response one byte per write, `pause` seconds apart."""
    return ByteByByte(pause)


def http10(*, content_length: bool = True) -> Http10:
    """Answer as HTTP/1.0 and close after the body (without Content-Length if asked)."""
    return Http10(content_length)


def close_after(n: int, response: Response) -> CloseAfter:
    """A handler for `respond_with()`: answer `response`, with `Connection: close` on the n-th
    response of each connection."""
    return CloseAfter(n, response)
