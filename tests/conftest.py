"""Fixtures and markers shared by the network tests (streams, server, interop).

TLS uses real certificates from a trustme CA made once per session. `@pytest.mark.ipv6` marks a
test that needs the IPv6 loopback: it is skipped, with the reason, where ::1 cannot be bound.
"""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
import pytest_asyncio
import trustme

from aioreq.server import App, Server, serve

StartServer = Callable[..., Awaitable[Server]]


def _ipv6_loopback_available() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    marked = [item for item in items if item.get_closest_marker("ipv6") is not None]
    if marked and not _ipv6_loopback_available():
        skip = pytest.mark.skip(reason="IPv6 loopback (::1) is not available on this host")
        for item in marked:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    """The test certificate authority."""
    return trustme.CA()


@pytest.fixture(scope="session")
def server_cert(ca: trustme.CA) -> trustme.LeafCert:
    """A certificate for localhost, 127.0.0.1 and ::1."""
    return ca.issue_cert("localhost", "127.0.0.1", "::1")


@pytest.fixture(scope="session")
def ca_file(ca: trustme.CA) -> Iterator[str]:
    """The CA certificate as a PEM file."""
    with ca.cert_pem.tempfile() as path:
        yield path


@pytest.fixture
def server_ssl(server_cert: trustme.LeafCert) -> ssl.SSLContext:
    """A server context with the trustme certificate."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_cert.configure_cert(context)
    context.set_alpn_protocols(["http/1.1"])
    return context


@pytest.fixture
def client_ssl(ca: trustme.CA) -> ssl.SSLContext:
    """A client context (the standard library's) that trusts the test CA."""
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


@pytest.fixture
def unix_path() -> Iterator[str]:
    """A socket path short enough for AF_UNIX (108 bytes), which tmp_path may not be."""
    directory = tempfile.mkdtemp(prefix="aioreq-", dir="/tmp")
    try:
        yield os.path.join(directory, "s.sock")
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest_asyncio.fixture
async def start() -> AsyncIterator[StartServer]:
    """`await start(app, **serve_kwargs)`: a server that is closed when the test ends."""
    servers: list[Server] = []

    async def start_(app: App, **kwargs: Any) -> Server:
        server = await serve(app, **kwargs)
        servers.append(server)
        return server

    try:
        yield start_
    finally:
        for server in servers:
            await server.close(graceful_shutdown=0)
