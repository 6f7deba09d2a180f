"""Shared helpers of the server tests: a raw-socket HTTP client and a strict response reader.

The client is a plain non-blocking socket driven through the running event loop (the server runs
on the same loop), so every byte crosses the kernel's loopback. Responses are parsed with
aioreq's own `ResponseParser`, which rejects any framing error, so a test that reads a response
also checks that the server framed it correctly.
"""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field

from aioreq._headers import Headers
from aioreq.protocol import EndOfMessage, ResponseHead, ResponseParser

#: Seconds any single wait of a test client may take before the test fails (a bug shows as a
#: failure, never as a hang).
TIMEOUT = 5.0

#: RFC 9110 §5.6.7: IMF-fixdate = day-name "," SP date1 SP time-of-day SP GMT
IMF_FIXDATE = re.compile(
    r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} "
    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT"
)


def http_request(
    method: str = "GET",
    target: str = "/",
    *,
    headers: Iterable[tuple[str, str]] = (),
    body: bytes = b"",
    version: str = "1.1",
    host: str | None = "test",
) -> bytes:
    """Serialize a request; Content-Length is added for a body unless the headers frame it."""
    lines = [f"{method} {target} HTTP/{version}"]
    if host is not None:
        lines.append(f"Host: {host}")
    names = set()
    for name, value in headers:
        lines.append(f"{name}: {value}")
        names.add(name.lower())
    if body and not names & {"content-length", "transfer-encoding"}:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def chunked(*pieces: bytes, trailers: Iterable[tuple[str, str]] = ()) -> bytes:
    """A chunked body (RFC 9112 §7.1) with one chunk per piece, then the trailer section."""
    out = bytearray()
    for piece in pieces:
        out += b"%x\r\n%b\r\n" % (len(piece), piece)
    out += b"0\r\n"
    for name, value in trailers:
        out += f"{name}: {value}\r\n".encode("latin-1")
    out += b"\r\n"
    return bytes(out)


@dataclass
class Reply:
    """One response as the client read it."""

    status: int
    reason: bytes
    http_version: bytes
    headers: Headers
    body: bytes
    trailers: Headers
    #: Whether the response lets the connection be reused (RFC 9112 §9.3).
    keep_alive: bool
    #: The status codes of the interim (1xx) responses that came before this one.
    interim: list[int] = field(default_factory=list)

    def text(self) -> str:
        return self.body.decode()


class RawClient:
    """A client socket that sends what a test writes and parses what the server answers."""

    def __init__(self, sock: socket.socket) -> None:
        sock.setblocking(False)
        self.sock = sock
        self._loop = asyncio.get_running_loop()
        self._buf = bytearray()

    @property
    def port(self) -> int:
        """The client's own port (what the server sees as `request.client[1]`)."""
        return int(self.sock.getsockname()[1])

    async def send(self, data: bytes) -> None:
        await asyncio.wait_for(self._loop.sock_sendall(self.sock, data), TIMEOUT)

    async def send_in_pieces(self, *pieces: bytes, pause: float = 0.02) -> None:
        """Send each piece on its own, pausing in between (a slow writer)."""
        for piece in pieces:
            await self.send(piece)
            await asyncio.sleep(pause)

    async def recv(self, max_bytes: int = 65536, *, timeout: float = TIMEOUT) -> bytes:
        """What has arrived (buffered bytes first); b"" once the server has closed."""
        if self._buf:
            data = bytes(self._buf[:max_bytes])
            del self._buf[:max_bytes]
            return data
        return await asyncio.wait_for(self._loop.sock_recv(self.sock, max_bytes), timeout)

    async def read_until(self, delimiter: bytes, *, timeout: float = TIMEOUT) -> bytes:
        """The bytes up to and including `delimiter`; what follows stays buffered."""
        while True:
            index = self._buf.find(delimiter)
            if index >= 0:
                end = index + len(delimiter)
                data = bytes(self._buf[:end])
                del self._buf[:end]
                return data
            data = await asyncio.wait_for(self._loop.sock_recv(self.sock, 65536), timeout)
            if not data:
                raise AssertionError(
                    f"the server closed before {delimiter!r}; received {bytes(self._buf)!r}"
                )
            self._buf += data

    async def read_to_eof(self, *, timeout: float = TIMEOUT) -> bytes:
        """Everything until the server closes (a reset also ends it)."""
        data = bytearray(self._buf)
        self._buf.clear()
        while True:
            try:
                chunk = await asyncio.wait_for(self._loop.sock_recv(self.sock, 2**20), timeout)
            except ConnectionResetError:
                return bytes(data)
            if not chunk:
                return bytes(data)
            data += chunk

    async def assert_closed(self, *, within: float = TIMEOUT) -> None:
        """The server closes the connection within `within` seconds without sending more."""
        rest = await self.read_to_eof(timeout=within)
        assert rest == b"", f"expected the connection to close, received {rest!r}"

    async def assert_silent(self, seconds: float) -> None:
        """Nothing arrives, and the connection stays open, for `seconds`."""
        assert not self._buf, f"unexpected bytes: {bytes(self._buf)!r}"
        try:
            data = await asyncio.wait_for(self._loop.sock_recv(self.sock, 65536), seconds)
        except asyncio.TimeoutError:
            return
        raise AssertionError(f"expected silence, received {data!r}")

    async def read_response(self, method: bytes = b"GET", *, timeout: float = TIMEOUT) -> Reply:
        """Read and strictly parse one response (interim 1xx ones are collected on the way).

        Raises:
            RemoteProtocolError: the response is malformed or was cut short.
        """
        parser = ResponseParser()
        parser.start_response(method)
        head: ResponseHead | None = None
        interim: list[int] = []
        body = bytearray()
        trailers: Headers | None = None
        pending = bytes(self._buf)
        self._buf.clear()
        while trailers is None:
            if pending:
                events = parser.feed(pending)
            else:
                data = await asyncio.wait_for(self._loop.sock_recv(self.sock, 2**20), timeout)
                events = parser.feed(data) if data else parser.feed_eof()
                if not data and not events:
                    raise AssertionError("the server closed before a response arrived")
            pending = b""
            for event in events:
                if isinstance(event, ResponseHead):
                    if event.status_code < 200:
                        interim.append(event.status_code)
                    else:
                        head = event
                elif isinstance(event, EndOfMessage):
                    trailers = Headers.from_raw(list(event.trailers))
                elif isinstance(event, bytes):
                    body += event
        assert head is not None
        self._buf += parser.trailing_data
        return Reply(
            status=head.status_code,
            reason=head.reason,
            http_version=head.http_version,
            headers=Headers.from_raw(head.headers),
            body=bytes(body),
            trailers=trailers,
            keep_alive=parser.keep_alive,
            interim=interim,
        )

    async def exchange(self, request: bytes, method: bytes = b"GET") -> Reply:
        """Send a request and read its response."""
        await self.send(request)
        return await self.read_response(method)

    def close(self) -> None:
        self.sock.close()
