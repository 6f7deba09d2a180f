"""`FakeProxy`: an HTTP/1.1 forward proxy for tests, on its own thread and event loop.

It speaks the two ways a client uses a proxy:

* **Forwarding** (RFC 9112 §3.2.2): `GET http://127.0.0.1:8080/echo HTTP/1.1` goes on to that
  origin in origin-form (`GET /echo HTTP/1.1`), and the origin's answer comes back. The
  connection-specific fields (RFC 9110 §7.6.1) stay behind, the body is re-framed, and the
  client's connection is kept alive across requests, as a client's pool expects.
* **Tunnelling** (RFC 9110 §9.3.6): `CONNECT 127.0.0.1:8443 HTTP/1.1` opens a TCP connection to
  that authority, answers 200, then relays bytes both ways, opaque (TLS to the origin runs
  inside), until both sides have closed.

It relays only to the loopback (127.0.0.0/8, ::1, "localhost"): anything else gets 403 before
any connection is tried, so a test can never reach the internet through it. Every request it
receives is recorded with the status it answered (`requests`).

The thread and its loop are `_thread._LoopThread`'s, as for `FakeServer` (its docstring says
why a thread). What a test touches (the log, the settings, the error list) is guarded by one
lock held only for short steps.
"""

from __future__ import annotations

import asyncio
import threading
import traceback
from collections.abc import Sequence

import aioreq
from aioreq.protocol import (
    BodyWriter,
    EndOfMessage,
    Fields,
    RequestHead,
    ResponseHead,
    encode_request_head,
    encode_response_head,
)
from aioreq.streams import Stream, StreamServer, open_tcp_stream, start_tcp_server

from ._log import ProxiedRequest
from ._relay import (
    CONNECT_TIMEOUT,
    Connection,
    Origin,
    OriginFailed,
    absolute_form,
    authorized,
    close_stream,
    forwarded_fields,
    has_length,
    is_chunked,
    is_loopback,
    reply,
    send_body,
    send_to_origin,
    skip_body,
    splice,
)
from ._thread import _LoopThread

__all__ = ["FakeProxy"]

_REALM = b'Basic realm="pytest_aioreq proxy"'
_ESTABLISHED = encode_response_head(200, [], reason=b"Connection Established")


class FakeProxy(_LoopThread[StreamServer]):
    """An HTTP/1.1 proxy for tests: forwards absolute-form requests, tunnels CONNECT, records.

    Args:
        host: the address to bind ("127.0.0.1", "::1").
        port: the port; 0 picks a free one.
        loopback_only: relay only to loopback addresses (the default); others get 403.

    Example::

        with FakeProxy() as proxy:
            requests.get(server.url_for("/echo"), proxies={"http": proxy.url})
            assert proxy.requests[0].status == 200
    """

    def __init__(
        self, *, host: str = "127.0.0.1", port: int = 0, loopback_only: bool = True
    ) -> None:
        super().__init__("proxy")
        self._host = host
        self._port = port
        self._loopback_only = loopback_only
        self._lock = threading.Lock()
        self._log: list[ProxiedRequest] = []
        self._errors: list[str] = []
        self._credentials: bytes | None = None
        self._refuse_status: int | None = None
        self._connections = 0

    # -- life -------------------------------------------------------------------------------------

    def start(self) -> FakeProxy:
        """Start serving on a new thread; returns once the proxy accepts connections.

        Raises:
            OSError: the address could not be bound.
        """
        self._start()
        return self

    async def _open(self) -> StreamServer:
        return await start_tcp_server(self._host, self._port, self._handle, graceful_shutdown=0.0)

    async def _close(self, server: StreamServer) -> None:
        await server.aclose(graceful_shutdown=0.0)
        # One more turn: the aborted transports close their sockets in callbacks.
        await asyncio.sleep(0)

    def stop(self) -> None:
        """Close every connection and tunnel at once, stop the proxy and its thread."""
        self._stop()

    # -- where it is ------------------------------------------------------------------------------

    @property
    def host(self) -> str:
        """The address it listens on."""
        return str(self._running.address[0])

    @property
    def port(self) -> int:
        """The port it listens on."""
        return int(self._running.address[1])

    @property
    def url(self) -> str:
        """The proxy URL for a client, e.g. "http://127.0.0.1:38517"."""
        host = self.host
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    # -- settings ---------------------------------------------------------------------------------

    def require_auth(self, user: str | None, password: str = "") -> None:
        """Answer 407 unless a request carries `Proxy-Authorization: Basic` with these
        credentials (forwarded requests and CONNECT alike); `require_auth(None)` turns it off.

        The challenge is `Proxy-Authenticate: Basic realm="pytest_aioreq proxy"` (RFC 9110
        §11.7.1); user and password are encoded as UTF-8 (RFC 7617 §2.1).
        """
        credentials = None if user is None else f"{user}:{password}".encode()
        with self._lock:
            self._credentials = credentials

    def refuse_connect(self, status: int | None = 403) -> None:
        """Answer every CONNECT with `status` (e.g. 403, 502) instead of opening a tunnel;
        None opens tunnels again.

        Raises:
            ValueError: `status` is not a 3xx, 4xx or 5xx code (a 2xx would open the tunnel).
        """
        if status is not None and not 300 <= status <= 599:
            raise ValueError(f"a refusal is a 3xx, 4xx or 5xx status, not {status}")
        with self._lock:
            self._refuse_status = status

    def clear(self) -> None:
        """Forget the request log, the errors and the connection count; turn auth and
        `refuse_connect` off."""
        with self._lock:
            self._log.clear()
            self._errors.clear()
            self._connections = 0
            self._credentials = None
            self._refuse_status = None

    def drop_connections(self) -> int:
        """Close every client connection and tunnel at once (the proxy goes on listening).

        Returns:
            How many client connections were dropped.
        """
        return self._call(self._running.drop_connections())

    # -- what happened ----------------------------------------------------------------------------

    @property
    def requests(self) -> list[ProxiedRequest]:
        """Every request the proxy received since the last `clear()`, in order."""
        with self._lock:
            return list(self._log)

    @property
    def connections_opened(self) -> int:
        """How many client connections the proxy accepted since the last `clear()`."""
        with self._lock:
            return self._connections

    def problems(self) -> list[str]:
        """Errors inside the proxy itself (not a client's or an origin's fault), one each."""
        with self._lock:
            return list(self._errors)

    def __repr__(self) -> str:
        where = self.url if self._server is not None and self._thread is not None else "stopped"
        return f"<FakeProxy {where}>"

    # -- serving ----------------------------------------------------------------------------------

    async def _handle(self, stream: Stream) -> None:
        with self._lock:
            self._connections += 1
            number = self._connections
        connection = Connection(stream, number)
        failed = True
        try:
            await self._serve(connection)
            failed = False
        except (aioreq.TransportError, aioreq.RemoteProtocolError, ConnectionError):
            pass  # a peer went away or broke HTTP: routine for a proxy
        except Exception:
            with self._lock:
                self._errors.append(
                    f"the proxy failed on connection {number}:\n" + traceback.format_exc().rstrip()
                )
        finally:
            await connection.close_origin(graceful=not failed)

    async def _serve(self, connection: Connection) -> None:
        """Answer the requests of one client connection until it closes or turns into a tunnel."""
        client = connection.client
        while True:
            try:
                event = await client.next()
            except aioreq.RemoteProtocolError as exc:
                await reply(connection.stream, exc.status_hint, f"{exc}\n", close=True)
                return
            if event is None:
                return
            if not isinstance(event, RequestHead):  # the parser starts every message so
                raise AssertionError(f"a request began with {event!r}")
            if event.method == b"CONNECT":
                keep = await self._tunnel(connection, event)
            else:
                keep = await self._forward(connection, event)
            if not keep or not client.parser.keep_alive:
                return
            client.events.extend(client.parser.next_request())

    def _record(self, head: RequestHead, status: int, connection: Connection) -> None:
        record = ProxiedRequest(
            method=head.method.decode("latin-1"),
            target=head.target.decode("latin-1"),
            headers=[(n.decode("latin-1"), v.decode("latin-1")) for n, v in head.headers],
            tunnel=head.method == b"CONNECT",
            status=status,
            connection=connection.number,
        )
        with self._lock:
            self._log.append(record)

    def _refusal(self, head: RequestHead, host: str) -> tuple[int, str, Fields] | None:
        """The status, text and fields that refuse this request, or None to let it through."""
        with self._lock:
            credentials = self._credentials
            refuse = self._refuse_status if head.method == b"CONNECT" else None
        if credentials is not None and not authorized(head.headers, credentials):
            # RFC 9110 §15.5.8: 407 "The proxy MUST send a Proxy-Authenticate header field".
            text = "pytest_aioreq proxy: authentication required\n"
            return 407, text, [(b"Proxy-Authenticate", _REALM)]
        if refuse is not None:
            return refuse, f"pytest_aioreq proxy: CONNECT refused with {refuse}\n", []
        if self._loopback_only and not is_loopback(host):
            text = f"pytest_aioreq proxy: only loopback destinations are relayed, not {host!r}\n"
            return 403, text, []
        return None

    async def _refuse(
        self,
        connection: Connection,
        head: RequestHead,
        status: int,
        text: str,
        fields: Sequence[tuple[bytes, bytes]] = (),
    ) -> bool:
        """Answer a request that goes no further; returns whether the connection stays open."""
        self._record(head, status, connection)
        client = connection.client
        # A request whose body has not all come: answer, then read the rest and drop it, unless
        # the client waits for a 100 (Continue) that will not come: then close. (Its end may
        # also have been read already, by the task that forwarded the body.)
        received = client.parser.complete
        unread = not received or any(isinstance(event, EndOfMessage) for event in client.events)
        close = not client.parser.keep_alive or (head.expect_continue and not received)
        await reply(connection.stream, status, text, close=close, fields=fields)
        if close:
            return False
        if unread:
            await skip_body(client)
        return True

    # -- forwarding -------------------------------------------------------------------------------

    async def _forward(self, connection: Connection, head: RequestHead) -> bool:
        """Forward one absolute-form request and relay the answer (RFC 9112 §3.2.2).

        Returns:
            Whether the client's connection may carry another request.
        """
        try:
            host, port, authority, target = absolute_form(head.target)
        except ValueError as exc:
            return await self._refuse(connection, head, 400, f"pytest_aioreq proxy: {exc}\n")
        refusal = self._refusal(head, host)
        if refusal is not None:
            return await self._refuse(connection, head, *refusal)
        fields = forwarded_fields(head.headers, chunked=is_chunked(head.headers))
        fields = [(b"Host", authority) if n.lower() == b"host" else (n, v) for n, v in fields]
        if not any(n.lower() == b"host" for n, _ in fields):
            fields.insert(0, (b"Host", authority))
        try:
            writer = BodyWriter(fields)
            data = encode_request_head(head.method, target, fields)
        except aioreq.LocalProtocolError as exc:
            return await self._refuse(connection, head, 400, f"pytest_aioreq proxy: {exc}\n")
        try:
            origin = await connection.origin_for(host, port, head.method)
        except (aioreq.ConnectError, aioreq.ConnectTimeout) as exc:
            return await self._refuse(connection, head, 502, f"pytest_aioreq proxy: {exc}\n")

        client = connection.client
        body: asyncio.Task[None] | None = None
        failure: str | None = None
        keep = False
        try:
            if client.events and isinstance(client.events[0], EndOfMessage):
                client.events.popleft()  # no body, the usual GET: one write
                await send_to_origin(origin.stream, data + writer.end())
            else:
                await send_to_origin(origin.stream, data)
                # The body goes on while the answer is read: the origin may answer 100
                # (Continue) first, or answer early, before the body is all there.
                body = asyncio.get_running_loop().create_task(
                    send_body(client, origin.stream, writer)
                )
            keep = await self._relay_response(connection, head, origin)
        except OriginFailed as exc:
            failure = str(exc)
        finally:
            if body is not None:
                if not body.done():
                    body.cancel()  # the answer came before the body ended: it is dropped
                await asyncio.wait([body])
                if body.cancelled() or body.exception() is not None:
                    keep = False
        if failure is not None:
            await connection.close_origin(graceful=False)
            text = f"pytest_aioreq proxy: the origin failed: {failure}\n"
            return await self._refuse(connection, head, 502, text)
        if keep and origin.reusable:
            origin.stream_reusable = True
        return keep

    async def _relay_response(
        self, connection: Connection, head: RequestHead, origin: Origin
    ) -> bool:
        """Read the origin's answer and pass it to the client.

        Returns:
            Whether the client's connection stays open.

        Raises:
            OriginFailed: the origin failed before its answer's head (a 502 is still possible).
        """
        stream = connection.stream
        try:
            while True:
                event = await origin.reader.next()
                if event is None:
                    raise aioreq.RemoteProtocolError("the origin closed without answering")
                if not isinstance(event, ResponseHead):
                    raise AssertionError(f"a response began with {event!r}")
                if event.status_code >= 200:
                    break
                if event.status_code == 101:
                    # Upgrade does not go through this proxy, so nothing may switch.
                    raise aioreq.RemoteProtocolError("the origin switched protocols unasked")
                # RFC 9110 §15.2: "A proxy MUST forward 1xx responses unless the proxy itself
                # requested the generation of the 1xx response" -- not to HTTP/1.0, which has
                # none.
                if head.http_version == b"1.1":
                    fields = forwarded_fields(event.headers, chunked=False)
                    await stream.write_all(encode_response_head(event.status_code, fields))
        except (aioreq.ReadError, aioreq.RemoteProtocolError) as exc:
            raise OriginFailed(str(exc)) from exc

        status = event.status_code
        client11 = head.http_version == b"1.1"
        keep = connection.client.parser.keep_alive
        has_body = head.method != b"HEAD" and status not in (204, 304)
        if not has_body:
            chunked = is_chunked(event.headers) and client11
        elif is_chunked(event.headers) or not has_length(event.headers):
            # Chunked, or close-delimited: chunked to an HTTP/1.1 client, which keeps its
            # connection; an HTTP/1.0 client reads it to the close.
            chunked = client11
            keep = keep and client11
        else:
            chunked = False
        fields = forwarded_fields(event.headers, chunked=chunked)
        if not keep:
            fields.append((b"Connection", b"close"))
        writer = BodyWriter(fields, until_close=not keep) if has_body else None
        self._record(head, status, connection)
        await stream.write_all(encode_response_head(status, fields, reason=event.reason or None))
        try:
            while True:
                event = await origin.reader.next()
                if isinstance(event, bytes):
                    if writer is not None:
                        await stream.write_all(writer.write(event))
                elif isinstance(event, EndOfMessage):
                    if writer is not None:
                        trailers = event.trailers if writer.chunked else ()
                        await stream.write_all(writer.end(trailers))
                    return keep
                else:
                    raise aioreq.RemoteProtocolError("the origin closed inside its answer")
        except (aioreq.ReadError, aioreq.RemoteProtocolError):
            # Half an answer went out: only closing tells the client it is cut short.
            await connection.close_origin(graceful=False)
            stream.abort()
            return False

    # -- tunnelling -------------------------------------------------------------------------------

    async def _tunnel(self, connection: Connection, head: RequestHead) -> bool:
        """Open a tunnel for CONNECT (RFC 9110 §9.3.6); returns whether the client's connection
        may carry another request (only after a refusal)."""
        # The parser checked the authority-form: host ":" port, brackets around IPv6.
        host, _, port = head.target.decode("latin-1").rpartition(":")
        host = host[1:-1] if host.startswith("[") else host
        refusal = self._refusal(head, host)
        if refusal is not None:
            return await self._refuse(connection, head, *refusal)
        try:
            origin = await open_tcp_stream(host, int(port), connect_timeout=CONNECT_TIMEOUT)
        except (aioreq.ConnectError, aioreq.ConnectTimeout) as exc:
            return await self._refuse(connection, head, 502, f"pytest_aioreq proxy: {exc}\n")
        failed = True
        try:
            client = connection.client
            await skip_body(client)  # a CONNECT has none; one that does has it dropped
            self._record(head, 200, connection)
            # RFC 9110 §9.3.6: "A server MUST NOT send any Transfer-Encoding or
            # Content-Length header fields in a 2xx (Successful) response to CONNECT."
            await connection.stream.write_all(_ESTABLISHED)
            early = client.parser.trailing_data  # sent before the 200 arrived (TLS false start)
            if early:
                await origin.write_all(early)
            await splice(connection.stream, origin)
            failed = False
        finally:
            await close_stream(origin, graceful=not failed)
        return False
