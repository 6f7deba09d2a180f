"""The pytest fixtures of pytest_aioreq.

Each server runs once per test session on its own thread (see `FakeServer`), and each test gets
it through a function-scoped fixture that clears it before the test and, after it, closes the
connections still open (a stalled endpoint never holds up teardown) and fails the test if the
server saw an unmatched request, an unmet expectation or a handler error. Opt out per test with
`aioreq_server.strict = False`, or for a whole suite by overriding `aioreq_server_strict`.

`aioreq_proxy` is a fake HTTP proxy in the same way: one per session, cleared before each test;
after it, its connections and tunnels are closed and the test fails if the proxy itself failed.

Configuration fixtures a suite may override (in its conftest.py): `aioreq_server_host`,
`aioreq_server_limits`, `aioreq_server_strict`.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import shutil
import socket
import ssl
import tempfile
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

import pytest

import aioreq
from aioreq.server import ServerLimits
from aioreq.streams import create_ssl_context

from .fakeserver import FakeProxy, FakeServer

if TYPE_CHECKING:
    import trustme

__all__ = [
    "aioreq_ca",
    "aioreq_ca_bundle",
    "aioreq_client",
    "aioreq_mtls_server",
    "aioreq_mtls_server_session",
    "aioreq_proxy",
    "aioreq_proxy_session",
    "aioreq_server",
    "aioreq_server_host",
    "aioreq_server_ipv6",
    "aioreq_server_ipv6_session",
    "aioreq_server_limits",
    "aioreq_server_session",
    "aioreq_server_strict",
    "aioreq_server_unix",
    "aioreq_server_unix_session",
    "aioreq_tls_server",
    "aioreq_tls_server_expired",
    "aioreq_tls_server_expired_session",
    "aioreq_tls_server_session",
    "aioreq_tls_server_wrong_host",
    "aioreq_tls_server_wrong_host_session",
]


# -- configuration (override these in a conftest.py) ----------------------------------------------


@pytest.fixture(scope="session")
def aioreq_server_host() -> str:
    """The address `aioreq_server` binds: the IPv4 loopback."""
    return "127.0.0.1"


@pytest.fixture(scope="session")
def aioreq_server_limits() -> ServerLimits | None:
    """The `ServerLimits` of every fake server (None: aioreq.server's defaults)."""
    return None


@pytest.fixture
def aioreq_server_strict() -> bool:
    """Whether the fixtures fail a test whose server saw problems (see `FakeServer.check`)."""
    return True


# -- servers --------------------------------------------------------------------------------------


def _session_server(server: FakeServer) -> Iterator[FakeServer]:
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _per_test(server: FakeServer, strict: bool) -> Iterator[FakeServer]:
    server.clear()
    server.strict = strict
    yield server
    server.drop_connections()
    if server.strict:
        problems = server.problems()
        if problems:
            pytest.fail(server.report(problems), pytrace=False)


@pytest.fixture(scope="session")
def aioreq_server_session(
    aioreq_server_host: str, aioreq_server_limits: ServerLimits | None
) -> Iterator[FakeServer]:
    """The session's fake HTTP server itself, not cleared between tests (for session-scoped
    fixtures of your own; tests want `aioreq_server`)."""
    yield from _session_server(FakeServer(host=aioreq_server_host, limits=aioreq_server_limits))


@pytest.fixture
def aioreq_server(
    aioreq_server_session: FakeServer, aioreq_server_strict: bool
) -> Iterator[FakeServer]:
    """A fake HTTP server on 127.0.0.1, cleared for this test (see `FakeServer`)."""
    yield from _per_test(aioreq_server_session, aioreq_server_strict)


@pytest.fixture(scope="session")
def aioreq_server_ipv6_session(aioreq_server_limits: ServerLimits | None) -> Iterator[FakeServer]:
    """The session's fake HTTP server on ::1 (see `aioreq_server_session`)."""
    if not _ipv6_loopback():
        pytest.skip("the IPv6 loopback ::1 is not available on this host")
    yield from _session_server(FakeServer(host="::1", limits=aioreq_server_limits))


@pytest.fixture
def aioreq_server_ipv6(
    aioreq_server_ipv6_session: FakeServer, aioreq_server_strict: bool
) -> Iterator[FakeServer]:
    """The fake HTTP server on the IPv6 loopback ::1 (the test is skipped where there is none)."""
    yield from _per_test(aioreq_server_ipv6_session, aioreq_server_strict)


@pytest.fixture(scope="session")
def aioreq_server_unix_session(aioreq_server_limits: ServerLimits | None) -> Iterator[FakeServer]:
    """The session's fake HTTP server on a Unix socket (see `aioreq_server_session`)."""
    # AF_UNIX paths are limited to about 100 bytes: a short directory, not TMPDIR's.
    short = "/tmp" if os.path.isdir("/tmp") else None  # noqa: S108 -- mkdtemp makes it private
    directory = tempfile.mkdtemp(prefix="aioreq-", dir=short)
    try:
        path = os.path.join(directory, "http.sock")
        yield from _session_server(FakeServer(uds=path, limits=aioreq_server_limits))
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def aioreq_server_unix(
    aioreq_server_unix_session: FakeServer, aioreq_server_strict: bool
) -> Iterator[FakeServer]:
    """The fake HTTP server on a Unix socket: `.uds` is its path, `.url` "http://localhost"."""
    yield from _per_test(aioreq_server_unix_session, aioreq_server_strict)


# -- TLS ------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def aioreq_ca() -> trustme.CA:
    """A trustme certificate authority for the session; `aioreq_tls_server` uses its leaf."""
    import trustme

    return trustme.CA()


@pytest.fixture(scope="session")
def aioreq_ca_bundle(aioreq_ca: trustme.CA) -> Iterator[str]:
    """The path of a PEM file with the CA certificate (for `requests`' verify=,
    `SSL_CERT_FILE`, curl's --cacert)."""
    with aioreq_ca.cert_pem.tempfile() as path:
        yield path


_SERVER_NAMES = ("localhost", "127.0.0.1", "::1")


def _tls_server(
    ca: trustme.CA,
    host: str,
    limits: ServerLimits | None,
    *,
    names: tuple[str, ...] = _SERVER_NAMES,
    expired: bool = False,
    mutual: bool = False,
) -> Iterator[FakeServer]:
    """A session TLS server with a leaf from `ca` (expired, or for other names, on request)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    not_before = not_after = None
    if expired:
        now = datetime.datetime.now(datetime.timezone.utc)
        not_before = now - datetime.timedelta(days=30)
        not_after = now - datetime.timedelta(days=1)
    ca.issue_cert(*names, not_before=not_before, not_after=not_after).configure_cert(context)
    context.set_alpn_protocols(["http/1.1"])
    server = FakeServer(host=host, ssl=context, limits=limits, ca=ca)
    with contextlib.ExitStack() as stack:
        if mutual:
            # RFC 8446 §4.3.2: the server asks for a certificate and refuses a client without
            # one that chains to the CA.
            context.verify_mode = ssl.CERT_REQUIRED
            ca.configure_trust(context)
            client = ca.issue_cert("client@pytest-aioreq.test")
            server.client_cert = client
            server.client_cert_file = stack.enter_context(
                client.private_key_and_cert_chain_pem.tempfile()
            )
        yield from _session_server(server)


@pytest.fixture(scope="session")
def aioreq_tls_server_session(
    aioreq_ca: trustme.CA, aioreq_server_host: str, aioreq_server_limits: ServerLimits | None
) -> Iterator[FakeServer]:
    """The session's fake HTTPS server (see `aioreq_server_session`)."""
    yield from _tls_server(aioreq_ca, aioreq_server_host, aioreq_server_limits)


@pytest.fixture
def aioreq_tls_server(
    aioreq_tls_server_session: FakeServer, aioreq_server_strict: bool
) -> Iterator[FakeServer]:
    """A fake HTTPS server with a certificate from `aioreq_ca` for localhost, 127.0.0.1 and
    ::1; `.client_ssl_context()` gives a client context that trusts it."""
    yield from _per_test(aioreq_tls_server_session, aioreq_server_strict)


@pytest.fixture(scope="session")
def aioreq_mtls_server_session(
    aioreq_ca: trustme.CA, aioreq_server_host: str, aioreq_server_limits: ServerLimits | None
) -> Iterator[FakeServer]:
    """The session's fake HTTPS server that requires a client certificate."""
    yield from _tls_server(aioreq_ca, aioreq_server_host, aioreq_server_limits, mutual=True)


@pytest.fixture
def aioreq_mtls_server(
    aioreq_mtls_server_session: FakeServer, aioreq_server_strict: bool
) -> Iterator[FakeServer]:
    """A fake HTTPS server that requires a client certificate from `aioreq_ca` (mutual TLS).

    `.client_cert_file` is a PEM file with a client key and certificate it accepts (requests:
    `cert=`; curl: `--cert`); `.client_ssl_context()` includes that certificate.
    """
    yield from _per_test(aioreq_mtls_server_session, aioreq_server_strict)


@pytest.fixture(scope="session")
def aioreq_tls_server_expired_session(
    aioreq_ca: trustme.CA, aioreq_server_host: str, aioreq_server_limits: ServerLimits | None
) -> Iterator[FakeServer]:
    """The session's fake HTTPS server with an expired certificate."""
    yield from _tls_server(aioreq_ca, aioreq_server_host, aioreq_server_limits, expired=True)


@pytest.fixture
def aioreq_tls_server_expired(
    aioreq_tls_server_expired_session: FakeServer, aioreq_server_strict: bool
) -> Iterator[FakeServer]:
    """A fake HTTPS server whose certificate (from `aioreq_ca`) expired yesterday: a client
    that verifies must refuse it."""
    yield from _per_test(aioreq_tls_server_expired_session, aioreq_server_strict)


@pytest.fixture(scope="session")
def aioreq_tls_server_wrong_host_session(
    aioreq_ca: trustme.CA, aioreq_server_host: str, aioreq_server_limits: ServerLimits | None
) -> Iterator[FakeServer]:
    """The session's fake HTTPS server with a certificate for another host name."""
    yield from _tls_server(
        aioreq_ca, aioreq_server_host, aioreq_server_limits, names=("wrong.example",)
    )


@pytest.fixture
def aioreq_tls_server_wrong_host(
    aioreq_tls_server_wrong_host_session: FakeServer, aioreq_server_strict: bool
) -> Iterator[FakeServer]:
    """A fake HTTPS server whose certificate (from `aioreq_ca`, valid) names only
    "wrong.example": a client that checks host names must refuse it."""
    yield from _per_test(aioreq_tls_server_wrong_host_session, aioreq_server_strict)


# -- the proxy ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def aioreq_proxy_session() -> Iterator[FakeProxy]:
    """The session's fake HTTP proxy itself, not cleared between tests (for session-scoped
    fixtures of your own; tests want `aioreq_proxy`)."""
    proxy = FakeProxy().start()
    try:
        yield proxy
    finally:
        proxy.stop()


@pytest.fixture
def aioreq_proxy(aioreq_proxy_session: FakeProxy) -> Iterator[FakeProxy]:
    """A fake HTTP proxy on 127.0.0.1, cleared for this test (see `FakeProxy`): it forwards
    http:// requests, tunnels CONNECT, relays to loopback addresses only, and records every
    request in `.requests`. `.require_auth(user, password)` and `.refuse_connect(status)`
    script its answers."""
    proxy = aioreq_proxy_session
    proxy.clear()
    yield proxy
    proxy.drop_connections()
    problems = proxy.problems()
    if problems:
        pytest.fail(proxy.report(problems), pytrace=False)


# -- the client ----------------------------------------------------------------------------------


async def _client(aioreq_ca: trustme.CA) -> AsyncIterator[aioreq.Client]:
    """An `aioreq.Client` that trusts `aioreq_ca` (and nothing else): it talks to
    `aioreq_server` and `aioreq_tls_server` alike. Closed after the test."""
    context = create_ssl_context(verify=False)
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    aioreq_ca.configure_trust(context)
    async with aioreq.Client(verify=context) as client:
        yield client


def _client_needs_pytest_asyncio() -> None:
    """An `aioreq.Client` trusting `aioreq_ca` (needs pytest-asyncio)."""
    pytest.fail("aioreq_client needs pytest-asyncio: pip install 'aioreq[pytest]'")


# pytest-asyncio comes with the plugin's extra; without it the plugin still loads (it is
# auto-loaded wherever aioreq is installed), and only this fixture says what is missing.
aioreq_client: Any
try:
    import pytest_asyncio
except ImportError:  # pragma: no cover
    aioreq_client = pytest.fixture(_client_needs_pytest_asyncio, name="aioreq_client")
else:
    aioreq_client = pytest_asyncio.fixture(_client, name="aioreq_client")


def _ipv6_loopback() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True
