"""Writing a response: the framing of its head, its body held in memory or streamed, raw bytes.

The connection's loop (`_connection`) decides when a response is written and whether the
connection is kept; this decides what goes on the wire for it: Content-Length for bytes, chunked
for a stream to an HTTP/1.1 client (the only framing that carries trailers), close-delimited for
a stream to an HTTP/1.0 client, the Date field, `Connection: close` or `keep-alive`. A response
the application made that cannot be sent (CR or LF in a field, a Content-Length that does not
match) is logged and replaced by a 500. `_Connection` takes these methods as a mixin, so the
request path calls them as it always did.
"""

from __future__ import annotations

import logging
import time
from email.utils import formatdate
from typing import TYPE_CHECKING, Any

from .._exceptions import LocalProtocolError, TransportError
from ..protocol import BodyWriter, encode_response_head, reason_phrase
from ..streams import Stream
from ._messages import RawResponse, Request, Response, _fields

if TYPE_CHECKING:
    from ._serve import Server

__all__: list[str] = []

logger = logging.getLogger("aioreq.server")

_BODYLESS = frozenset((204, 304))
# The lengths of the response field names the server looks at (framing, Date, Connection):
# a name of another length is passed over without being lowercased.
_FIELD_LENGTHS = frozenset(
    len(name) for name in (b"content-length", b"transfer-encoding", b"connection", b"date")
)

_date = [0, b""]


def http_date() -> bytes:
    """The Date field value for now (RFC 9110 §6.6.1), recomputed once a second."""
    now = int(time.time())
    if now != _date[0]:
        _date[0] = now
        _date[1] = formatdate(now, usegmt=True).encode("ascii")
    return _date[1]  # type: ignore[return-value]


class _Writing:
    """The writing of `_Connection`'s responses (a mixin: the attributes are `_Connection`'s)."""

    __slots__ = ()

    server: Server
    stream: Stream

    def _head(
        self, request: Request, response: Response, keep_alive: bool
    ) -> tuple[bytes, BodyWriter | None, bool, bool]:
        """The head to send, the body's writer (None: send the bytes as they are), whether
        the connection is kept, and whether a body may follow at all.

        Raises:
            LocalProtocolError: the application's status, reason or fields cannot be sent.
        """
        status = response.status
        fields = response.headers
        body = response.body
        has_length = has_coding = has_date = has_close = False
        for name, value in fields:
            if len(name) in _FIELD_LENGTHS:
                lname = name.lower()
                if lname == b"content-length":
                    has_length = True
                elif lname == b"transfer-encoding":
                    has_coding = True
                elif lname == b"date":
                    has_date = True
                elif lname == b"connection" and b"close" in value.lower():
                    keep_alive = False
                    has_close = True
        http10 = request._head.http_version == b"1.0"
        no_body = status < 200 or status in _BODYLESS
        # RFC 9110 §6.6.1: "An origin server with a clock ... MUST generate a Date header
        # field" -- unless the application already did (Date is a singleton field).
        extra: list[tuple[bytes, bytes]] = [] if has_date else [(b"Date", http_date())]
        streamed = not isinstance(body, bytes)
        framed = has_length or has_coding
        if no_body:
            # RFC 9110 §8.6: "A server MUST NOT send a Content-Length header field in any
            # response with a status code of 1xx (Informational) or 204 (No Content)."
            pass
        elif not framed and (streamed or (response.trailers is not None and not http10)):
            if http10:
                # An HTTP/1.0 client knows no chunked coding: the body ends with the connection.
                keep_alive = False
            else:
                # A stream of unknown length, or trailers (which only chunked can carry).
                extra.append((b"Transfer-Encoding", b"chunked"))
                has_coding = framed = True
        elif not framed:
            extra.append((b"Content-Length", b"%d" % len(body)))  # type: ignore[arg-type]
        if not keep_alive:
            if not has_close:
                extra.append((b"Connection", b"close"))
        elif http10:
            extra.append((b"Connection", b"keep-alive"))
        all_fields = fields + extra if fields else extra
        head = encode_response_head(status, all_fields, reason=response.reason)
        writer = BodyWriter(all_fields, until_close=not keep_alive) if framed or streamed else None
        return head, writer, keep_alive, not no_body and request._head.method != b"HEAD"

    def _payload(
        self, request: Request, response: Response, keep_alive: bool
    ) -> tuple[bytes, bool]:
        """The whole response to a body held in memory, and whether the connection is kept.

        A response that cannot be sent as the application made it (CR or LF in a field, a
        Content-Length that does not match) is logged and replaced by a 500.
        """
        body = response.body
        assert isinstance(body, bytes)
        status = response.status
        fields = response.headers
        try:
            if (
                keep_alive
                and status >= 200
                and status not in _BODYLESS
                and response.reason is None
                and response.trailers is None
                and request._head.http_version == b"1.1"
                and request._head.method != b"HEAD"
            ):
                # The usual case, spared the general path below: nothing about the framing,
                # the date or the connection comes from the application.
                for name, _ in fields:
                    if len(name) in _FIELD_LENGTHS:
                        break
                else:
                    extra = [(b"Date", http_date()), (b"Content-Length", b"%d" % len(body))]
                    head = encode_response_head(status, fields + extra if fields else extra)
                    return head + body, True
            head, writer, keep_alive, with_body = self._head(request, response, keep_alive)
            if not with_body:
                return head, keep_alive
            if writer is None:
                return head + body, keep_alive
            return head + writer.write(body) + writer.end(_trailers(response)), keep_alive
        except LocalProtocolError as exc:
            return self._payload(request, _unsendable(request, exc), keep_alive)

    async def _send(self, request: Request, response: Response, keep_alive: bool) -> bool:
        """Write the response; returns whether the connection may be kept.

        Raises:
            TransportError: the client went away, or took no data for `body_timeout` seconds
                (WriteTimeout).
        """
        stream = self.stream
        timeout = self.server.limits.body_timeout
        body = response.body
        if isinstance(body, bytes):
            payload, keep_alive = self._payload(request, response, keep_alive)
            await stream.write_all(payload, timeout=timeout)
            return keep_alive
        try:
            head, writer, keep_alive, with_body = self._head(request, response, keep_alive)
        except LocalProtocolError as exc:
            await _close_iterable(body)
            return await self._send(request, _unsendable(request, exc), keep_alive)
        if not with_body or writer is None:
            await _close_iterable(body)
            await stream.write_all(head, timeout=timeout)
            return keep_alive
        try:
            await stream.write_all(head, timeout=timeout)
            async for data in body:
                if data:
                    await stream.write_all(writer.write(data), timeout=timeout)
            # Trailers travel only in the chunked coding; an HTTP/1.0 client gets none.
            end = writer.end(_trailers(response) if writer.chunked else ())
            await stream.write_all(end, timeout=timeout)
        except TransportError:
            await _close_iterable(body)
            raise
        except Exception:
            # The head is out, so no error response can follow: abort, and the client sees
            # a body cut short rather than a wrong one.
            logger.exception(
                "the response body to %s %s failed after the head was sent",
                request.method,
                request.target,
            )
            await _close_iterable(body)
            stream.abort()
            return False
        return keep_alive

    async def _send_raw(self, response: RawResponse) -> None:
        data = response.data
        stream = self.stream
        timeout = self.server.limits.body_timeout
        if isinstance(data, bytes):
            if data:
                await stream.write_all(data, timeout=timeout)
        else:
            try:
                async for piece in data:
                    await stream.write_all(piece, timeout=timeout)
            except TransportError:
                await _close_iterable(data)
                raise
            except Exception:
                logger.exception("the raw response failed while it was being sent")
                await _close_iterable(data)
                stream.abort()
                return
        if response.reset:
            # Let what was written reach the kernel first: a reset drops unsent bytes.
            await stream.flush()
            stream.reset()


def _unsendable(request: Request, exc: LocalProtocolError) -> Response:
    logger.error("cannot send the response to %s %s: %s", request.method, request.target, exc)
    return _error_response(500, "the application's response could not be sent")


def _error_response(status: int, message: str) -> Response:
    return Response(status, text=f"{status} {reason_phrase(status).decode()}: {message}\n")


def _trailers(response: Response) -> list[tuple[bytes, bytes]]:
    trailers = response.trailers
    if trailers is None:
        return []
    return _fields(trailers() if callable(trailers) else trailers)


async def _close_iterable(body: Any) -> None:
    close = getattr(body, "aclose", None)
    if close is not None:
        await close()
