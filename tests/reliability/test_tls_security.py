"""TLS failures and the client's security guarantees, over real sockets (issue 7, part 5).

1. A failed TLS handshake is an `aioreq.TLSError` (a `ConnectError`) whose `reason` names the
   check that failed -- "untrusted", "hostname", "expired", "protocol" or "handshake" -- and
   whose message says it in words; through `aioreq.Client` and through the streams alike. A
   refusal is not retried by `aioreq.Retry`; a broken handshake is.
2. Injection: every place a user can put text refuses CR, LF, NUL (and the other controls the
   RFCs forbid there) before anything is sent -- or encodes it so that it cannot change the
   framing, which is shown by parsing what the server received.
3. Limits: decompression bombs, oversized response heads and bodies stop at their caps with
   the documented error, in bounded memory, and leave the pool usable.

Credentials are not forwarded across origins on redirect: tests/client/test_redirects.py
(`test_credentials_stay_with_their_origin`, `test_credentials_are_dropped_on_a_downgrade_to_http`,
`test_userinfo_credentials_are_not_sent_to_another_origin`) proves it; it is not repeated here.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import email.parser
import email.policy
import functools
import re
import socket
import ssl
import threading
import time
import tracemalloc
import warnings
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from http.cookiejar import CookieJar
from typing import Any

import pytest
import pytest_asyncio
import trustme

import aioreq
from aioreq.client._cookies import _any_host_cookie
from aioreq.client._decoders import ACCEPT_ENCODING, DEFAULT_MAX_DECODED_SIZE
from aioreq.client._retry import send_with_retries
from aioreq.protocol import (
    DEFAULT_MAX_CHUNK_LINE_SIZE,
    DEFAULT_MAX_HEADER_COUNT,
    DEFAULT_MAX_HEADER_SIZE,
    DEFAULT_MAX_LINE_SIZE,
)
from aioreq.server import Request as ServerRequest
from aioreq.server import Response as ServerResponse
from aioreq.server import Server
from aioreq.streams import create_ssl_context, open_tcp_stream, open_unix_stream
from pytest_aioreq import FakeProxy, FakeServer

pytestmark = pytest.mark.asyncio

MiB = 2**20
StartServer = Callable[..., Awaitable[Server]]


# -- TLS: servers that fail the handshake in each way -------------------------------------------


async def _answer_204(request: ServerRequest) -> ServerResponse:
    return ServerResponse(204)


def _server_context(leaf: trustme.LeafCert) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    leaf.configure_cert(context)
    return context


@pytest.fixture
def trusting_context(aioreq_ca_bundle: str) -> ssl.SSLContext:
    """aioreq's own client context (TLS 1.2 or later) trusting the plugin's CA alone."""
    return create_ssl_context(cafile=aioreq_ca_bundle)


@pytest_asyncio.fixture
async def other_ca_server(start: StartServer) -> Server:
    """An HTTPS server whose certificate (for 127.0.0.1 and localhost) is from another CA."""
    leaf = trustme.CA().issue_cert("127.0.0.1", "localhost")
    return await start(_answer_204, ssl=_server_context(leaf))


@pytest_asyncio.fixture
async def self_signed_server(start: StartServer) -> AsyncIterator[Server]:
    """An HTTPS server presenting a self-signed certificate (a CA's own, not issued by it)."""
    stranger = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    with stranger.cert_pem.tempfile() as cert, stranger.private_key_pem.tempfile() as key:
        context.load_cert_chain(cert, key)
    yield await start(_answer_204, ssl=context)


@pytest_asyncio.fixture
async def not_yet_valid_server(start: StartServer, aioreq_ca: trustme.CA) -> Server:
    """An HTTPS server whose certificate, from the trusted CA, becomes valid tomorrow."""
    now = datetime.datetime.now(datetime.timezone.utc)
    leaf = aioreq_ca.issue_cert(
        "127.0.0.1",
        not_before=now + datetime.timedelta(days=1),
        not_after=now + datetime.timedelta(days=30),
    )
    return await start(_answer_204, ssl=_server_context(leaf))


class BlockingTLSServer:
    """A TLS server on a thread, on the standard library's blocking sockets.

    Unlike asyncio's server side, which drops the connection at once when its handshake fails,
    the blocking one sends the alert first (protocol_version for a version it refuses), as
    production servers do: that alert is what lets the client say "protocol".

    Attributes:
        accepted: how many connections it accepted.
        errors: the handshake errors of its side, in order.
        versions: the TLS versions of the handshakes that succeeded.
    """

    def __init__(self, context: ssl.SSLContext) -> None:
        self._context = context
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self.port: int = self._listener.getsockname()[1]
        self.accepted = 0
        self.errors: list[BaseException] = []
        self.versions: list[str | None] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            self.accepted += 1
            conn.settimeout(5)
            try:
                with self._context.wrap_socket(conn, server_side=True) as tls:
                    self.versions.append(tls.version())
            except (OSError, ssl.SSLError) as exc:
                self.errors.append(exc)
            finally:
                conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._listener.close()


@pytest.fixture
def tls11_server(aioreq_ca: trustme.CA) -> Iterator[BlockingTLSServer]:
    """A server that offers TLS 1.1 and nothing newer (certificate from the trusted CA)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    aioreq_ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    permissive = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    aioreq_ca.configure_trust(permissive)
    try:
        with warnings.catch_warnings():
            # "ssl.TLSVersion.TLSv1_1 is deprecated": that is the point of this server.
            warnings.simplefilter("ignore", DeprecationWarning)
            for side in (context, permissive):
                side.minimum_version = ssl.TLSVersion.TLSv1_1
                side.maximum_version = ssl.TLSVersion.TLSv1_1
                # OpenSSL 3 allows TLS 1.1 only at security level 0.
                side.set_ciphers("DEFAULT:@SECLEVEL=0")
    except (ValueError, ssl.SSLError) as exc:
        pytest.skip(f"this OpenSSL ({ssl.OPENSSL_VERSION}) cannot configure TLS 1.1: {exc}")
    server = BlockingTLSServer(context)
    try:
        # The server must really speak TLS 1.1, or the tests with it prove nothing.
        version = _handshake(server, permissive)
    except (OSError, ssl.SSLError) as exc:
        server.close()
        pytest.skip(f"this OpenSSL ({ssl.OPENSSL_VERSION}) cannot handshake TLS 1.1: {exc}")
    if version != "TLSv1.1":
        server.close()
        pytest.skip(f"this OpenSSL ({ssl.OPENSSL_VERSION}) negotiated {version}, not TLS 1.1")
    server.accepted = 0
    server.versions.clear()
    try:
        yield server
    finally:
        server.close()


def _handshake(server: BlockingTLSServer, context: ssl.SSLContext) -> str | None:
    """Handshake with `server` as a client; the version, once the server has recorded it too."""
    with (
        socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        version = tls.version()
    for _ in range(500):
        if server.versions or server.errors:
            break
        time.sleep(0.01)
    return version


@contextlib.asynccontextmanager
async def _plain_tcp_server(
    handler: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
) -> AsyncIterator[tuple[int, list[int]]]:
    """A TCP server without TLS; yields its port and a list that grows by one per connection."""
    connections: list[int] = []

    async def counted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        try:
            await handler(reader, writer)
        except OSError:
            pass
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    server = await asyncio.start_server(counted, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1], connections
    finally:
        server.close()
        await server.wait_closed()


async def _plain_http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answers the ClientHello as a plain HTTP server would: not TLS at all."""
    await reader.read(1)
    writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    await writer.drain()


async def _close_mid_handshake(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Reads the ClientHello and closes without a word."""
    await reader.read(1)


async def _tls_error_from_client(url: str, verify: ssl.SSLContext) -> aioreq.TLSError:
    async with aioreq.Client(verify=verify, timeout=10) as client:
        with pytest.raises(aioreq.TLSError) as caught:
            await client.get(url)
    return caught.value


async def _tls_error_from_stream(
    port: int, context: ssl.SSLContext, server_hostname: str | None = None
) -> aioreq.TLSError:
    with pytest.raises(aioreq.TLSError) as caught:
        await open_tcp_stream(
            "127.0.0.1", port, ssl=context, server_hostname=server_hostname, connect_timeout=10
        )
    return caught.value


def _check(error: aioreq.TLSError, reason: str, pattern: str) -> None:
    """The error names the check in `reason` and in words, and stays a ConnectError."""
    assert isinstance(error, aioreq.ConnectError)
    assert error.reason == reason
    assert re.search(pattern, str(error)), str(error)
    assert isinstance(error.__cause__, OSError)  # the ssl or socket error, chained


# -- TLS: each failure, named ---------------------------------------------------------------------


async def test_tls_error_is_a_connect_error_with_a_documented_reason() -> None:
    assert issubclass(aioreq.TLSError, aioreq.ConnectError)
    reasons = aioreq.TLSError.REASONS
    assert reasons == {"untrusted", "hostname", "expired", "protocol", "handshake"}
    assert aioreq.TLSError("x", reason="expired").reason == "expired"
    with pytest.raises(ValueError, match="'certificate' is not one of"):
        aioreq.TLSError("x", reason="certificate")


async def test_a_certificate_from_an_unknown_ca_is_untrusted(
    other_ca_server: Server, trusting_context: ssl.SSLContext
) -> None:
    pattern = r"certificate of 127\.0\.0\.1:\d+ was rejected: it is not trusted \(unable to get "
    pattern += r"local issuer certificate\): no CA this client trusts issued it"
    error = await _tls_error_from_client(other_ca_server.url, trusting_context)
    _check(error, "untrusted", pattern)
    assert isinstance(error.__cause__, ssl.SSLCertVerificationError)
    error = await _tls_error_from_stream(other_ca_server.port, trusting_context)
    _check(error, "untrusted", pattern)


async def test_a_self_signed_certificate_is_untrusted(
    self_signed_server: Server, trusting_context: ssl.SSLContext
) -> None:
    pattern = r"was rejected: it is not trusted \(self[- ]signed certificate\)"
    error = await _tls_error_from_client(self_signed_server.url, trusting_context)
    _check(error, "untrusted", pattern)
    error = await _tls_error_from_stream(self_signed_server.port, trusting_context)
    _check(error, "untrusted", pattern)


async def test_an_expired_certificate_is_expired(
    aioreq_tls_server_expired: FakeServer, trusting_context: ssl.SSLContext
) -> None:
    pattern = r"certificate of 127\.0\.0\.1:\d+ was rejected: it has expired \(certificate has"
    error = await _tls_error_from_client(aioreq_tls_server_expired.url, trusting_context)
    _check(error, "expired", pattern)
    error = await _tls_error_from_stream(aioreq_tls_server_expired.port, trusting_context)
    _check(error, "expired", pattern)
    assert aioreq_tls_server_expired.requests == []


async def test_a_certificate_not_valid_yet_is_expired_too(
    not_yet_valid_server: Server, trusting_context: ssl.SSLContext
) -> None:
    pattern = r"was rejected: it is not valid yet \(certificate is not yet valid; is the clock"
    error = await _tls_error_from_client(not_yet_valid_server.url, trusting_context)
    _check(error, "expired", pattern)


async def test_a_certificate_for_another_host_is_a_hostname_mismatch(
    aioreq_tls_server_wrong_host: FakeServer,
    aioreq_tls_server: FakeServer,
    trusting_context: ssl.SSLContext,
) -> None:
    # An IP address in the URL: OpenSSL's "IP address mismatch" (X509_V_ERR_IP_ADDRESS_MISMATCH).
    error = await _tls_error_from_client(aioreq_tls_server_wrong_host.url, trusting_context)
    _check(
        error, "hostname", r"was rejected: hostname mismatch, it is not valid for '127\.0\.0\.1'"
    )
    # A name (X509_V_ERR_HOSTNAME_MISMATCH): the certificate is for localhost and 127.0.0.1.
    error = await _tls_error_from_stream(aioreq_tls_server.port, trusting_context, "wrong.example")
    _check(error, "hostname", r"hostname mismatch, it is not valid for 'wrong\.example'")
    assert aioreq_tls_server_wrong_host.requests == aioreq_tls_server.requests == []


async def test_a_server_offering_only_tls_1_1_is_a_protocol_failure(
    tls11_server: BlockingTLSServer, trusting_context: ssl.SSLContext
) -> None:
    pattern = r"TLS handshake with 127\.0\.0\.1:\d+ failed: no TLS version or cipher suite that "
    pattern += r"both sides accept \(TLSV1_ALERT_PROTOCOL_VERSION; aioreq's TLS contexts require"
    url = f"https://127.0.0.1:{tls11_server.port}/"
    _check(await _tls_error_from_client(url, trusting_context), "protocol", pattern)
    _check(await _tls_error_from_stream(tls11_server.port, trusting_context), "protocol", pattern)
    # The server refused our ClientHello for its version, and said so with its alert.
    for _ in range(100):
        if len(tls11_server.errors) == 2:
            break
        await asyncio.sleep(0.01)
    assert [getattr(e, "reason", e) for e in tls11_server.errors] == ["UNSUPPORTED_PROTOCOL"] * 2
    assert tls11_server.versions == []


async def test_a_plain_http_server_is_a_handshake_failure(trusting_context: ssl.SSLContext) -> None:
    pattern = r"TLS handshake with 127\.0\.0\.1:\d+ failed: the peer does not speak TLS "
    pattern += r"\(WRONG_VERSION_NUMBER; a plain HTTP port\?\)"
    async with _plain_tcp_server(_plain_http) as (port, _):
        _check(
            await _tls_error_from_client(f"https://127.0.0.1:{port}/", trusting_context),
            "handshake",
            pattern,
        )
        _check(await _tls_error_from_stream(port, trusting_context), "handshake", pattern)


async def test_a_peer_closing_mid_handshake_is_a_handshake_failure(
    trusting_context: ssl.SSLContext,
) -> None:
    pattern = r"TLS handshake with 127\.0\.0\.1:\d+ failed: the peer closed the connection before "
    async with _plain_tcp_server(_close_mid_handshake) as (port, _):
        _check(
            await _tls_error_from_client(f"https://127.0.0.1:{port}/", trusting_context),
            "handshake",
            pattern,
        )
        _check(await _tls_error_from_stream(port, trusting_context), "handshake", pattern)


async def test_start_tls_names_the_failure_too(
    aioreq_tls_server_expired: FakeServer, trusting_context: ssl.SSLContext
) -> None:
    """`Stream.start_tls` (TLS over a connection already open, as through a proxy tunnel)."""
    stream = await open_tcp_stream("127.0.0.1", aioreq_tls_server_expired.port)
    async with stream:
        with pytest.raises(aioreq.TLSError) as caught:
            await stream.start_tls(trusting_context, server_hostname="127.0.0.1", timeout=10)
    _check(caught.value, "expired", r"certificate of 127\.0\.0\.1 was rejected: it has expired")


async def test_open_unix_stream_names_the_failure_too(
    unix_path: str, trusting_context: ssl.SSLContext
) -> None:
    if not hasattr(socket, "AF_UNIX"):
        pytest.skip("no Unix domain sockets on this platform")
    leaf = trustme.CA().issue_cert("localhost")

    async def idle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_unix_server(idle, unix_path, ssl=_server_context(leaf))
    try:
        with pytest.raises(aioreq.TLSError) as caught:
            await open_unix_stream(
                unix_path, ssl=trusting_context, server_hostname="localhost", connect_timeout=10
            )
    finally:
        server.close()
        await server.wait_closed()
    _check(caught.value, "untrusted", f"certificate of {re.escape(unix_path)} was rejected")


async def test_a_tls_failure_leaves_the_client_usable(
    aioreq_tls_server_wrong_host: FakeServer,
    aioreq_tls_server: FakeServer,
    aioreq_client: aioreq.Client,
) -> None:
    for _ in range(3):
        with pytest.raises(aioreq.TLSError):
            await aioreq_client.get(aioreq_tls_server_wrong_host.url_for("/status/204"))
    assert (await aioreq_client.get(aioreq_tls_server.url_for("/status/204"))).status == 204
    pool = aioreq_client._pool
    assert pool.connection_count == pool.idle_count == 1


async def test_verify_false_warns_and_then_checks_nothing(
    aioreq_tls_server_expired: FakeServer,
) -> None:
    """The warning is deserved: an expired certificate goes through unnoticed."""
    with pytest.warns(aioreq.InsecureRequestWarning, match="verify=False: certificates and host"):
        async with aioreq.Client(verify=False) as client:
            response = await client.get(aioreq_tls_server_expired.url_for("/status/204"))
    assert response.status == 204


async def test_a_verifying_client_does_not_warn(
    aioreq_tls_server: FakeServer, trusting_context: ssl.SSLContext
) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        async with aioreq.Client(verify=trusting_context) as client:
            assert (await client.get(aioreq_tls_server.url_for("/status/204"))).status == 204
    assert [w.category for w in caught] == []


# -- TLS: what the retry policy does with each failure --------------------------------------------


@pytest.mark.parametrize(
    ("reason", "attempts"),
    [("untrusted", 1), ("hostname", 1), ("expired", 1), ("protocol", 1), ("handshake", 4)],
)
async def test_retry_gives_up_at_once_on_a_refusal_but_retries_a_broken_handshake(
    reason: str, attempts: int
) -> None:
    async with aioreq.Client() as client:
        request = client.build_request("GET", "https://example.invalid/")
    sent: list[aioreq.Request] = []

    async def send(request: aioreq.Request) -> aioreq.Response:
        sent.append(request)
        raise aioreq.TLSError(f"failed: {reason}", reason=reason)

    async def no_sleep(seconds: float) -> None:
        pass

    with pytest.raises(aioreq.TLSError):
        await send_with_retries(aioreq.Retry(total=3), request, send, sleep=no_sleep)
    assert len(sent) == attempts


async def test_a_client_with_retries_does_not_retry_a_refused_protocol(
    tls11_server: BlockingTLSServer, trusting_context: ssl.SSLContext
) -> None:
    async with aioreq.Client(verify=trusting_context, retries=3) as client:
        with pytest.raises(aioreq.TLSError, match="no TLS version"):
            await client.get(f"https://127.0.0.1:{tls11_server.port}/")
    assert tls11_server.accepted == 1


async def test_a_client_with_retries_does_not_retry_a_refused_certificate(
    aioreq_tls_server_expired: FakeServer, trusting_context: ssl.SSLContext
) -> None:
    trace: list[str] = []
    async with aioreq.Client(
        verify=trusting_context, retries=3, trace=lambda event, info: trace.append(event)
    ) as client:
        with pytest.raises(aioreq.TLSError, match="has expired"):
            await client.get(aioreq_tls_server_expired.url_for("/status/204"))
    assert trace.count("connection_created") == 1


async def test_a_client_with_retries_retries_a_broken_handshake(
    trusting_context: ssl.SSLContext,
) -> None:
    async with (
        _plain_tcp_server(_close_mid_handshake) as (port, connections),
        aioreq.Client(verify=trusting_context, retries=2) as client,
    ):
        with pytest.raises(aioreq.TLSError, match="closed the connection before it was done"):
            await client.get(f"https://127.0.0.1:{port}/")
    assert len(connections) == 3


# -- injection: every place a user can put text ---------------------------------------------------

# Refused everywhere; the CRLF case carries a field it tries to add.
CONTROLS = {"CR": "\r", "LF": "\n", "CRLF": "\r\nX-Injected: 1", "NUL": "\x00"}
# The other controls that no URL, field name, field value, token or credential may hold.
OTHER_CONTROLS = {"VT": "\x0b", "ESC": "\x1b", "DEL": "\x7f"}


@dataclass(frozen=True)
class Env:
    """What a case needs to make its request: the server's URL and the proxy's."""

    url: str
    proxy: str

    @property
    def authority(self) -> str:
        return self.url.removeprefix("http://")


async def _get(url: str, **kwargs: Any) -> None:
    async with aioreq.Client() as client:
        await client.get(url, **kwargs)


async def _post(url: str, **kwargs: Any) -> None:
    async with aioreq.Client() as client:
        await client.post(url, **kwargs)


async def _with_client(env: Env, **options: Any) -> None:
    async with aioreq.Client(**options) as client:
        await client.get(env.url + "/echo")


def _jar_with(value: str) -> CookieJar:
    """A jar given by the user, holding a cookie for every host with this value (made as the
    client makes those of `cookies=`, without its check of the value)."""
    jar = CookieJar()
    jar.set_cookie(_any_host_cookie("n", value))
    return jar


def _percent(text: str) -> str:
    return "".join(f"%{ord(char):02X}" for char in text)


Case = Callable[[Env, str], Awaitable[Any]]

# Each place, what it raises, and how a bad text gets there. Every case points at the fake
# server (or the fake proxy), so "nothing was sent" can be checked on their logs.
INJECTION_SITES: dict[str, tuple[type[Exception], Case]] = {
    "method": (
        aioreq.LocalProtocolError,
        lambda env, bad: _request(env.url + "/echo", method=f"GE{bad}T"),
    ),
    "url path": (aioreq.InvalidURL, lambda env, bad: _get(f"{env.url}/ec{bad}ho")),
    "url query": (aioreq.InvalidURL, lambda env, bad: _get(f"{env.url}/echo?a={bad}")),
    "url host": (aioreq.InvalidURL, lambda env, bad: _get(f"http://127.0.0{bad}.1/echo")),
    "url host, percent-encoded": (
        aioreq.InvalidURL,
        lambda env, bad: _get(f"http://127.0.0{_percent(bad)}.1/echo"),
    ),
    "url userinfo": (
        aioreq.InvalidURL,
        lambda env, bad: _get(f"http://us{bad}er:pw@{env.authority}/echo"),
    ),
    "url userinfo, percent-encoded": (
        aioreq.InvalidURL,
        lambda env, bad: _get(f"http://user:p{_percent(bad)}w@{env.authority}/echo"),
    ),
    "url fragment": (aioreq.InvalidURL, lambda env, bad: _get(f"{env.url}/echo#a{bad}")),
    "params= as a string": (
        aioreq.InvalidURL,
        lambda env, bad: _get(env.url + "/echo", params=f"a=1{bad}"),
    ),
    "request header name": (
        aioreq.LocalProtocolError,
        lambda env, bad: _get(env.url + "/echo", headers={f"X-A{bad}": "1"}),
    ),
    "request header value": (
        aioreq.LocalProtocolError,
        lambda env, bad: _get(env.url + "/echo", headers={"X-A": f"1{bad}"}),
    ),
    "request header value, bytes": (
        aioreq.LocalProtocolError,
        lambda env, bad: _get(env.url + "/echo", headers=[(b"X-A", f"1{bad}".encode())]),
    ),
    "client header name": (
        aioreq.LocalProtocolError,
        lambda env, bad: _with_client(env, headers={f"X-A{bad}": "1"}),
    ),
    "client header value": (
        aioreq.LocalProtocolError,
        lambda env, bad: _with_client(env, headers={"X-A": f"1{bad}"}),
    ),
    "request cookie name": (
        aioreq.LocalProtocolError,
        lambda env, bad: _get(env.url + "/echo", cookies={f"n{bad}": "v"}),
    ),
    "request cookie value": (
        aioreq.LocalProtocolError,
        lambda env, bad: _get(env.url + "/echo", cookies={"n": f"v{bad}"}),
    ),
    "client cookie name": (
        aioreq.LocalProtocolError,
        lambda env, bad: _with_client(env, cookies={f"n{bad}": "v"}),
    ),
    "client cookie value": (
        aioreq.LocalProtocolError,
        lambda env, bad: _with_client(env, cookies={"n": f"v{bad}"}),
    ),
    "cookie value in a given CookieJar": (
        aioreq.LocalProtocolError,
        lambda env, bad: _with_client(env, cookies=_jar_with(f"v{bad}")),
    ),
    # BasicAuth, DigestAuth and BearerAuth document ValueError for text they cannot carry.
    "auth= user": (ValueError, lambda env, bad: _get(env.url + "/echo", auth=(f"u{bad}", "p"))),
    "auth= password": (
        ValueError,
        lambda env, bad: _get(env.url + "/echo", auth=("u", f"p{bad}")),
    ),
    "client auth= password": (ValueError, lambda env, bad: _with_client(env, auth=("u", bad))),
    "DigestAuth user": (
        ValueError,
        lambda env, bad: _get(env.url + "/echo", auth=aioreq.DigestAuth(f"u{bad}", "p")),
    ),
    "BearerAuth token": (
        ValueError,
        lambda env, bad: _get(env.url + "/echo", auth=aioreq.BearerAuth(f"t{bad}")),
    ),
    "multipart content type": (
        aioreq.LocalProtocolError,
        lambda env, bad: _post(env.url + "/echo", files={"f": ("a.txt", b"x", f"text/plain{bad}")}),
    ),
    "multipart part header value": (
        aioreq.LocalProtocolError,
        lambda env, bad: _post(
            env.url + "/echo", files={"f": ("a.txt", b"x", None, {"X-Part": f"1{bad}"})}
        ),
    ),
    "multipart part header name": (
        aioreq.LocalProtocolError,
        lambda env, bad: _post(
            env.url + "/echo", files={"f": ("a.txt", b"x", None, {f"X-Part{bad}": "1"})}
        ),
    ),
    "proxy URL": (aioreq.InvalidURL, lambda env, bad: _with_client(env, proxy=env.proxy + bad)),
    "proxy URL userinfo, percent-encoded": (
        aioreq.InvalidURL,
        lambda env, bad: _with_client(
            env, proxy=env.proxy.replace("http://", f"http://u:p{_percent(bad)}@")
        ),
    ),
    "proxy header value": (
        aioreq.LocalProtocolError,
        lambda env, bad: _with_client(env, proxy=aioreq.Proxy(env.proxy, headers={"X-P": bad})),
    ),
    "base_url": (
        aioreq.InvalidURL,
        lambda env, bad: _with_client(env, base_url=f"{env.url}/v{bad}1"),
    ),
}

# Multipart names and filenames escape CR, LF and '"' as browsers do (see the escaping test
# below); every other control is refused.
MULTIPART_NAME_SITES: dict[str, tuple[type[Exception], Case]] = {
    "multipart field name": (
        aioreq.LocalProtocolError,
        lambda env, bad: _post(env.url + "/echo", files={f"f{bad}": ("a.txt", b"x")}),
    ),
    "multipart filename": (
        aioreq.LocalProtocolError,
        lambda env, bad: _post(env.url + "/echo", files={"f": (f"a{bad}.txt", b"x")}),
    ),
    "multipart data= field name": (
        aioreq.LocalProtocolError,
        lambda env, bad: _post(env.url + "/echo", data={f"d{bad}": "v"}, files={"f": b"x"}),
    ),
}


async def _request(url: str, *, method: str) -> None:
    async with aioreq.Client() as client:
        await client.request(method, url)


def _injection_params() -> Iterator[Any]:
    for site, (error, case) in INJECTION_SITES.items():
        for label, bad in (CONTROLS | OTHER_CONTROLS).items():
            yield pytest.param(error, case, bad, id=f"{site}-{label}")
    for site, (error, case) in MULTIPART_NAME_SITES.items():
        for label, bad in ({"NUL": "\x00"} | OTHER_CONTROLS).items():
            yield pytest.param(error, case, bad, id=f"{site}-{label}")
    # A method that is not a token, and proxy credentials (RFC 7617 §2, as BasicAuth).
    yield pytest.param(
        aioreq.LocalProtocolError, INJECTION_SITES["method"][1], "\u00e9", id="method-non-ASCII"
    )
    for label, bad in CONTROLS.items():
        yield pytest.param(
            ValueError,
            lambda env, bad: _with_client(
                env, proxy=aioreq.Proxy(env.proxy, auth=(f"u{bad}", "p"))
            ),
            bad,
            id=f"Proxy auth= user-{label}",
        )


@pytest.mark.parametrize(("error", "case", "bad"), list(_injection_params()))
async def test_injection_is_refused_before_anything_is_sent(
    error: type[Exception],
    case: Case,
    bad: str,
    aioreq_server: FakeServer,
    aioreq_proxy: FakeProxy,
) -> None:
    env = Env(aioreq_server.url, aioreq_proxy.url)
    with pytest.raises(error) as caught:
        await case(env, bad)
    if error is aioreq.InvalidURL or error is aioreq.LocalProtocolError:
        # The message shows what was wrong: the control itself, as repr shows it.
        assert repr(bad[0])[1:-1] in str(caught.value), caught.value
    assert aioreq_server.requests == []
    assert aioreq_proxy.requests == []


async def test_params_and_form_fields_with_controls_are_percent_encoded(
    aioreq_server: FakeServer,
) -> None:
    """`params=` pairs and `data=` fields are data, not syntax: their controls are sent as
    %XX, so they reach the application exactly and cannot touch the framing."""
    text = "a\r\nX-Injected: 1\x00\x0b\x7f"
    async with aioreq.Client(params={f"c{text}": text}) as client:
        response = await client.post(
            aioreq_server.url_for("/echo"), params={f"k{text}": text}, data={f"f{text}": text}
        )
    assert response.status == 200
    (received,) = aioreq_server.requests
    assert received.query == {f"c{text}": [text], f"k{text}": [text]}
    assert "%0D%0AX-Injected" in received.target
    assert received.body == b"fa%0D%0AX-Injected%3A+1%00%0B%7F=a%0D%0AX-Injected%3A+1%00%0B%7F"
    assert received.header("x-injected") is None


def _parse_multipart(content_type: str, body: bytes) -> list[EmailMessage]:
    raw = b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    assert not message.defects
    parts = list(message.iter_parts())
    assert all(isinstance(part, EmailMessage) for part in parts)
    return parts  # type: ignore[return-value]


@pytest.mark.parametrize("bad", ["\r", "\n", "\r\nX-Injected: 1\r\n\r\n--", '"; name="other'])
async def test_multipart_names_and_filenames_escape_cr_lf_and_quotes(
    bad: str, aioreq_server: FakeServer
) -> None:
    """RFC 7578 §4.2 points to the HTML standard, which escapes CR, LF and '"' as %0D, %0A
    and %22. What the server received still parses into exactly the parts sent, with the
    names escaped and no field added -- and a data= value is content, framed by the boundary."""
    async with aioreq.Client() as client:
        response = await client.post(
            aioreq_server.url_for("/echo"),
            data={f"d{bad}": f"value{bad}"},
            files={f"f{bad}": (f"a{bad}.txt", b"content", "text/plain")},
        )
    assert response.status == 200
    (received,) = aioreq_server.requests
    content_type = received.header("content-type")
    assert content_type is not None
    parts = _parse_multipart(content_type, received.body)
    escaped = bad.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")
    assert len(parts) == 2
    field, upload = parts
    assert field.get_param("name", header="content-disposition") == f"d{escaped}"
    assert field.get_payload(decode=True) == f"value{bad}".encode()
    assert upload.get_param("name", header="content-disposition") == f"f{escaped}"
    assert upload.get_filename() == f"a{escaped}.txt"
    assert upload.get_payload(decode=True) == b"content"
    for part in parts:
        assert [name.lower() for name, _ in part.items()] in (
            ["content-disposition"],
            ["content-disposition", "content-type"],
        )
    assert received.header("x-injected") is None


async def test_a_tab_is_allowed_where_the_grammar_allows_it(aioreq_server: FakeServer) -> None:
    """RFC 9110 §5.5 field-content and RFC 5322 field bodies allow HTAB inside a value, and a
    quoted-string allows it in a multipart name: those are sent as given."""
    async with aioreq.Client() as client:
        await client.get(aioreq_server.url_for("/echo"), headers={"X-A": "1\t2"})
        await client.post(
            aioreq_server.url_for("/echo"),
            files={"f\tg": ("a\tb.txt", b"x", None, {"X-Part": "1\t2"})},
        )
    first, second = aioreq_server.requests
    assert first.header("x-a") == "1\t2"
    assert b'name="f\tg"; filename="a\tb.txt"\r\n' in second.body
    assert b"X-Part: 1\t2\r\n" in second.body


# -- limits: decompression bombs ------------------------------------------------------------------

BOMB_SIZE = 50 * MiB
BOMB_CAP = 1 * MiB
# The decoders stop within one output step (4 MiB) past the cap; the bomb is 50 MiB.
BOMB_PEAK = BOMB_CAP + 6 * MiB


@functools.cache
def _zeros(coding: str, size: int) -> bytes:
    """`size` zero bytes in `coding`, compressed a mebibyte at a time (never held whole)."""
    chunk = b"\0" * MiB
    count = size // MiB
    if coding in ("gzip", "deflate"):
        zobj = zlib.compressobj(9, zlib.DEFLATED, 31 if coding == "gzip" else 15)
        return b"".join(zobj.compress(chunk) for _ in range(count)) + zobj.flush()
    if coding == "br":
        import brotli  # type: ignore[import-untyped]

        compressor = brotli.Compressor(quality=5)
        body = b"".join(compressor.process(chunk) for _ in range(count))
        return body + compressor.finish()  # type: ignore[no-any-return]
    import zstandard

    cobj = zstandard.ZstdCompressor(level=3).compressobj(size=size)
    return b"".join(cobj.compress(chunk) for _ in range(count)) + cobj.flush()


def _coding_params() -> list[Any]:
    installed = [c.strip() for c in ACCEPT_ENCODING.decode().split(",")]
    return [
        pytest.param(
            coding,
            marks=pytest.mark.skipif(
                coding not in installed, reason=f"{coding} decoding is not installed"
            ),
        )
        for coding in ("gzip", "deflate", "br", "zstd")
    ]


def _assert_pool_is_idle(client: aioreq.Client) -> None:
    pool = client._pool
    assert pool.connection_count == pool.idle_count


async def test_the_default_cap_on_a_decoded_body_is_64_mib() -> None:
    async with aioreq.Client() as client:
        assert client.max_decoded_size == DEFAULT_MAX_DECODED_SIZE
    assert client.max_decoded_size == 64 * MiB


@pytest.mark.parametrize("coding", _coding_params())
async def test_a_decompression_bomb_stops_at_the_cap_in_bounded_memory(
    coding: str, aioreq_server: FakeServer
) -> None:
    bomb = _zeros(coding, BOMB_SIZE)
    assert len(bomb) < BOMB_SIZE // 500
    aioreq_server.expect("GET", "/bomb").respond(body=bomb, headers={"Content-Encoding": coding})
    async with aioreq.Client(max_decoded_size=BOMB_CAP) as client:
        tracemalloc.start()
        try:
            with pytest.raises(aioreq.DecodingError, match=f"{coding} body decodes to more than"):
                await client.get(aioreq_server.url_for("/bomb"))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < BOMB_PEAK, f"{peak / MiB:.1f} MiB"
        _assert_pool_is_idle(client)
        assert (await client.get(aioreq_server.url_for("/status/204"))).status == 204


@pytest.mark.parametrize("coding", _coding_params())
async def test_a_body_at_the_cap_is_decoded(coding: str, aioreq_server: FakeServer) -> None:
    aioreq_server.expect("GET", "/full").respond(
        body=_zeros(coding, BOMB_CAP), headers={"Content-Encoding": coding}
    )
    async with aioreq.Client(max_decoded_size=BOMB_CAP) as client:
        response = await client.get(aioreq_server.url_for("/full"))
    assert response.body == b"\0" * BOMB_CAP


@pytest.mark.parametrize("coding", _coding_params())
async def test_a_streamed_decompression_bomb_stays_in_bounded_memory(
    aioreq_server: FakeServer, coding: str
) -> None:
    """A streamed body has no cap on its whole, but comes out in bounded pieces: 50 MiB of
    zeros never sit in memory at once (urllib3's CVE-2025-66471)."""
    aioreq_server.expect("GET", "/bomb").respond(
        body=_zeros(coding, BOMB_SIZE), headers={"Content-Encoding": coding}
    )
    async with aioreq.Client(max_decoded_size=BOMB_CAP) as client:
        tracemalloc.start()
        try:
            with contextlib.suppress(aioreq.DecodingError):
                async with client.stream("GET", aioreq_server.url_for("/bomb")) as response:
                    async for _chunk in response.iter_bytes():
                        pass
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    # A few pieces of at most 1 MiB (2 MiB of zstd), whatever the body decodes to.
    assert peak < 8 * MiB, f"{peak / MiB:.1f} MiB"


# -- limits: the response head ---------------------------------------------------------------------


def _fields(prefix: bytes, count: int) -> bytes:
    return b"".join(b"%s-%d: 1\r\n" % (prefix, n) for n in range(count))


HEAD_LIMITS = {
    "field count": (
        b"HTTP/1.1 200 OK\r\n" + _fields(b"X", DEFAULT_MAX_HEADER_COUNT + 1) + b"\r\n",
        rf"{DEFAULT_MAX_HEADER_COUNT + 1} header fields exceed the limit of "
        rf"{DEFAULT_MAX_HEADER_COUNT}",
        431,
    ),
    "field size": (
        b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * DEFAULT_MAX_HEADER_SIZE + b"\r\n\r\n",
        rf"response head exceeds the limit of {DEFAULT_MAX_HEADER_SIZE} bytes",
        431,
    ),
    "head that never ends": (
        b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * (DEFAULT_MAX_HEADER_SIZE + 10),
        rf"response head exceeds the limit of {DEFAULT_MAX_HEADER_SIZE} bytes",
        431,
    ),
    "status line": (
        b"HTTP/1.1 200 " + b"x" * DEFAULT_MAX_LINE_SIZE + b"\r\nContent-Length: 0\r\n\r\n",
        rf"status line exceeds the limit of {DEFAULT_MAX_LINE_SIZE} bytes",
        400,
    ),
    "status line that never ends": (
        b"HTTP/1.1 200 " + b"x" * (DEFAULT_MAX_LINE_SIZE + 10),
        rf"line exceeds the limit of {DEFAULT_MAX_LINE_SIZE} bytes",
        400,
    ),
    "chunk-size line": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;"
        + b"a" * (DEFAULT_MAX_CHUNK_LINE_SIZE + 10),
        rf"chunk-size line exceeds the limit of {DEFAULT_MAX_CHUNK_LINE_SIZE} bytes",
        400,
    ),
    "trailer field count": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n"
        + _fields(b"T", DEFAULT_MAX_HEADER_COUNT + 1)
        + b"\r\n",
        rf"{DEFAULT_MAX_HEADER_COUNT + 1} trailer fields exceed the limit of "
        rf"{DEFAULT_MAX_HEADER_COUNT}",
        431,
    ),
}


@pytest.mark.parametrize(("response", "message", "hint"), HEAD_LIMITS.values(), ids=HEAD_LIMITS)
async def test_a_response_head_past_the_parser_limits_is_refused(
    response: bytes, message: str, hint: int, aioreq_server: FakeServer
) -> None:
    """The client uses aioreq.protocol's defaults (it has no knob for them). The server keeps
    the connection open after its bytes: the limit, not the end of the stream, stops the read."""
    url = aioreq_server.serve_bytes(response, keep_alive=True)
    async with aioreq.Client(timeout=10) as client:
        with pytest.raises(aioreq.RemoteProtocolError, match=message) as caught:
            await client.get(url)
        assert caught.value.status_hint == hint
        _assert_pool_is_idle(client)
        assert (await client.get(aioreq_server.url_for("/status/204"))).status == 204


async def test_a_head_just_within_the_field_count_is_accepted(aioreq_server: FakeServer) -> None:
    head = b"HTTP/1.1 200 OK\r\n" + _fields(b"X", DEFAULT_MAX_HEADER_COUNT - 1)
    url = aioreq_server.serve_bytes(head + b"Content-Length: 0\r\n\r\n")
    async with aioreq.Client() as client:
        response = await client.get(url)
    assert len(response.headers) == DEFAULT_MAX_HEADER_COUNT


# -- limits: the response body ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/bytes/{n}", "/chunked?chunks={n}&size=1"], ids=["content-length", "chunked"]
)
async def test_a_response_body_past_max_body_size_is_refused(
    path: str, aioreq_server: FakeServer
) -> None:
    """`Client(max_body_size=)`: the read stops past the cap with LocalProtocolError (as
    `Connection.read_body` documents), and the connection is dropped, not reused."""
    async with aioreq.Client(max_body_size=1000) as client:
        within = await client.get(aioreq_server.url_for(path.format(n=1000)))
        assert len(within.body) == 1000
        with pytest.raises(
            aioreq.LocalProtocolError, match="the response body exceeds the limit of 1000 bytes"
        ):
            await client.get(aioreq_server.url_for(path.format(n=1001)))
        _assert_pool_is_idle(client)
        assert (await client.get(aioreq_server.url_for("/status/204"))).status == 204


async def test_a_large_body_stops_at_max_body_size_in_bounded_memory() -> None:
    """A server announcing 32 MiB (sent from one buffer, so tracemalloc, which sees every
    thread, counts the client's memory alone): the read stops within a read of the cap."""
    piece = b"x" * 2**16

    async def endless(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (32 * MiB))
        for _ in range(32 * MiB // len(piece)):
            writer.write(piece)
            await writer.drain()

    async with (
        _plain_tcp_server(endless) as (port, _),
        aioreq.Client(max_body_size=MiB) as client,
    ):
        tracemalloc.start()
        try:
            with pytest.raises(aioreq.LocalProtocolError, match="exceeds the limit of 1048576"):
                await client.get(f"http://127.0.0.1:{port}/")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        _assert_pool_is_idle(client)
    assert peak < 4 * MiB, f"{peak / MiB:.1f} MiB"


async def test_max_body_size_holds_with_a_download_progress_callback(
    aioreq_server: FakeServer,
) -> None:
    async with aioreq.Client(max_body_size=1000) as client:
        with pytest.raises(aioreq.LocalProtocolError, match="exceeds the limit"):
            await client.get(
                aioreq_server.url_for("/bytes/1001"), download_progress=lambda done, total: None
            )
