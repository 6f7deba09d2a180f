"""Opening streams: `open_tcp_stream`, `open_unix_stream`, TLS and `start_tls`, and their errors.

The servers here are plain asyncio servers (not aioreq's), so a failure points at the client
side. TLS uses real certificates from a trustme CA. Name resolution failures are produced by
patching the running loop's `getaddrinfo`, never by asking a real resolver.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import pathlib
import re
import socket
import ssl
import sys
from collections.abc import AsyncIterator
from typing import NoReturn

import pytest
import trustme

from aioreq import AioreqError, ConnectError, ConnectTimeout, ReadError
from aioreq.streams import Stream, create_ssl_context, open_tcp_stream, open_unix_stream

from ._support import eventually, requires_unix_sockets, settle
from .conftest import Connection

requires_stream_start_tls = pytest.mark.skipif(
    sys.version_info < (3, 11), reason="the test server needs StreamWriter.start_tls (3.11)"
)


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except OSError:  # a reset, or a TLS failure (ssl.SSLError is an OSError)
        pass
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


@contextlib.asynccontextmanager
async def echo_server(
    host: str = "127.0.0.1", *, ssl: ssl.SSLContext | None = None
) -> AsyncIterator[int]:
    """An asyncio echo server on `host`; yields its port."""
    server = await asyncio.start_server(_echo, host, 0, ssl=ssl)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


@contextlib.asynccontextmanager
async def unix_echo_server(path: str, *, ssl: ssl.SSLContext | None = None) -> AsyncIterator[str]:
    server = await asyncio.start_unix_server(_echo, path, ssl=ssl)
    try:
        yield path
    finally:
        server.close()
        await server.wait_closed()


async def assert_echoes(stream: Stream) -> None:
    await stream.write_all(b"ping\n")
    assert await stream.read_until(b"\n", timeout=1) == b"ping\n"


def unused_port(family: socket.AddressFamily = socket.AF_INET, host: str = "127.0.0.1") -> int:
    """A port that nothing listens on (bound for a moment, then released)."""
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


async def _wait_forever(*args: object, **kwargs: object) -> NoReturn:
    await asyncio.Event().wait()
    raise AssertionError("unreachable")


async def _no_such_name(*args: object, **kwargs: object) -> NoReturn:
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


# --- plain TCP -----------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_open_tcp_stream_connects_over_ipv4() -> None:
    async with echo_server() as port, await open_tcp_stream("127.0.0.1", port) as stream:
        assert stream.peername == ("127.0.0.1", port)
        assert stream.ssl_object is None
        await assert_echoes(stream)


@pytest.mark.ipv6
@pytest.mark.asyncio
async def test_open_tcp_stream_connects_over_ipv6() -> None:
    async with echo_server("::1") as port, await open_tcp_stream("::1", port) as stream:
        assert stream.peername[:2] == ("::1", port)
        await assert_echoes(stream)


@pytest.mark.asyncio
async def test_open_tcp_stream_resolves_localhost() -> None:
    async with echo_server() as port, await open_tcp_stream("localhost", port) as stream:
        assert stream.peername[0] == "127.0.0.1"
        await assert_echoes(stream)


@pytest.mark.asyncio
async def test_open_tcp_stream_binds_the_local_address() -> None:
    local = ("127.0.0.1", unused_port())
    async with (
        echo_server() as port,
        await open_tcp_stream("127.0.0.1", port, local_address=local) as stream,
    ):
        assert stream.sockname == local
        await assert_echoes(stream)


@pytest.mark.asyncio
async def test_open_tcp_stream_without_happy_eyeballs_still_connects() -> None:
    async with (
        echo_server() as port,
        await open_tcp_stream("localhost", port, happy_eyeballs_delay=None) as stream,
    ):
        await assert_echoes(stream)


@pytest.mark.asyncio
async def test_ssl_false_means_plain_tcp() -> None:
    async with echo_server() as port, await open_tcp_stream("127.0.0.1", port, ssl=False) as s:
        assert s.ssl_object is None
        await assert_echoes(s)


# --- connect errors ------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_refused_connection_raises_connect_error_naming_the_address() -> None:
    port = unused_port()
    with pytest.raises(ConnectError, match=f"cannot connect to 127.0.0.1:{port}") as info:
        await open_tcp_stream("127.0.0.1", port)
    assert isinstance(info.value.__cause__, ConnectionRefusedError)


@pytest.mark.asyncio
async def test_refused_connection_message_says_it_was_refused() -> None:
    with pytest.raises(ConnectError, match=r"(?i)refused"):
        await open_tcp_stream("127.0.0.1", unused_port())


@pytest.mark.ipv6
@pytest.mark.asyncio
async def test_refused_ipv6_connection_raises_connect_error() -> None:
    port = unused_port(socket.AF_INET6, "::1")
    with pytest.raises(ConnectError, match=str(port)) as info:
        await open_tcp_stream("::1", port)
    assert isinstance(info.value.__cause__, ConnectionRefusedError)


@pytest.mark.ipv6
@pytest.mark.asyncio
async def test_refused_ipv6_message_brackets_the_address() -> None:
    port = unused_port(socket.AF_INET6, "::1")
    with pytest.raises(ConnectError, match=rf"\[::1\]:{port}"):
        await open_tcp_stream("::1", port)


@pytest.mark.asyncio
async def test_connect_timeout_raises_connect_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    loop = asyncio.get_running_loop()
    monkeypatch.setattr(loop, "create_connection", _wait_forever)
    start = loop.time()
    with pytest.raises(
        ConnectTimeout, match=re.escape("127.0.0.1:9 took longer than 0.05 seconds")
    ) as info:
        await open_tcp_stream("127.0.0.1", 9, connect_timeout=0.05)
    assert 0.04 <= loop.time() - start < 0.3
    assert isinstance(info.value, TimeoutError)


@pytest.mark.asyncio
async def test_connect_timeout_covers_name_resolution(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", _wait_forever)
    with pytest.raises(ConnectTimeout):
        await open_tcp_stream("slow-dns.invalid", 80, connect_timeout=0.05)


@pytest.mark.asyncio
async def test_connect_timeout_covers_the_tls_handshake(client_ssl: ssl.SSLContext) -> None:
    """The server's kernel accepts the connection, but nobody answers the ClientHello."""
    with socket.create_server(("127.0.0.1", 0)) as silent:
        port = silent.getsockname()[1]
        with pytest.raises(ConnectTimeout):
            await open_tcp_stream(
                "127.0.0.1", port, ssl=client_ssl, server_hostname="localhost", connect_timeout=0.1
            )


@pytest.mark.asyncio
async def test_unresolvable_name_raises_connect_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", _no_such_name)
    with pytest.raises(
        ConnectError,
        match=re.escape("cannot resolve 'no-such-host.invalid': Name or service not known"),
    ) as info:
        await open_tcp_stream("no-such-host.invalid", 80)
    assert isinstance(info.value.__cause__, socket.gaierror)


@pytest.mark.asyncio
async def test_an_os_connect_timeout_without_connect_timeout_is_an_aioreq_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What asyncio raises when a SYN goes unanswered (a firewall that drops packets)."""

    async def timed_out(*args: object, **kwargs: object) -> NoReturn:
        raise OSError(errno.ETIMEDOUT, "Connect call failed ('192.0.2.1', 80)")

    monkeypatch.setattr(asyncio.get_running_loop(), "create_connection", timed_out)
    with pytest.raises(AioreqError):
        await open_tcp_stream("192.0.2.1", 80)


# --- TLS -----------------------------------------------------------------------------------------


def test_create_ssl_context_verifies_by_default() -> None:
    context = create_ssl_context()
    assert context.check_hostname
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    assert context.cert_store_stats()["x509_ca"] > 0  # certifi's bundle is loaded


def test_create_ssl_context_verify_false_turns_checking_off() -> None:
    context = create_ssl_context(verify=False)
    assert not context.check_hostname
    assert context.verify_mode == ssl.CERT_NONE
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2


@pytest.mark.asyncio
async def test_tls_connection_with_a_trusted_certificate(
    server_ssl: ssl.SSLContext, client_ssl: ssl.SSLContext
) -> None:
    """The server gets the name by SNI; the client gets ALPN http/1.1 and a modern TLS."""
    sni_names: list[str | None] = []

    def record_sni(tls: ssl.SSLObject, name: str | None, context: ssl.SSLContext) -> None:
        sni_names.append(name)

    server_ssl.sni_callback = record_sni
    async with (
        echo_server(ssl=server_ssl) as port,
        await open_tcp_stream(
            "127.0.0.1", port, ssl=client_ssl, server_hostname="localhost"
        ) as stream,
    ):
        tls = stream.ssl_object
        assert tls is not None
        assert tls.version() in {"TLSv1.2", "TLSv1.3"}
        assert tls.selected_alpn_protocol() == "http/1.1"
        assert tls.server_hostname == "localhost"
        assert repr(stream).startswith("<Stream TLS ")
        await assert_echoes(stream)
    assert sni_names == ["localhost"]


@pytest.mark.asyncio
async def test_tls_checks_an_ip_address_host_against_the_certificate(
    ca: trustme.CA, server_ssl: ssl.SSLContext
) -> None:
    """Without server_hostname the host itself (here an IP address) is what is verified."""
    context = ssl.create_default_context()
    ca.configure_trust(context)
    async with (
        echo_server(ssl=server_ssl) as port,
        await open_tcp_stream("127.0.0.1", port, ssl=context) as stream,
    ):
        assert stream.ssl_object is not None
        await assert_echoes(stream)


@pytest.mark.ipv6
@pytest.mark.asyncio
async def test_tls_over_ipv6(server_ssl: ssl.SSLContext, client_ssl: ssl.SSLContext) -> None:
    async with (
        echo_server("::1", ssl=server_ssl) as port,
        await open_tcp_stream("::1", port, ssl=client_ssl) as stream,
    ):
        assert stream.ssl_object is not None
        await assert_echoes(stream)


@pytest.mark.asyncio
async def test_tls_rejects_a_certificate_for_another_host_name(
    server_ssl: ssl.SSLContext, client_ssl: ssl.SSLContext
) -> None:
    async with echo_server(ssl=server_ssl) as port:
        with pytest.raises(ConnectError, match=r"certificate .* was rejected") as info:
            await open_tcp_stream(
                "127.0.0.1", port, ssl=client_ssl, server_hostname="wrong.example"
            )
    assert isinstance(info.value.__cause__, ssl.SSLCertVerificationError)
    assert "wrong.example" in str(info.value)


@pytest.mark.asyncio
async def test_tls_rejects_a_certificate_from_an_untrusted_ca(server_ssl: ssl.SSLContext) -> None:
    stranger = trustme.CA()
    with stranger.cert_pem.tempfile() as other_ca:
        context = create_ssl_context(cafile=other_ca)
    async with echo_server(ssl=server_ssl) as port:
        with pytest.raises(ConnectError, match=r"certificate .* was rejected") as info:
            await open_tcp_stream("127.0.0.1", port, ssl=context, server_hostname="localhost")
    assert isinstance(info.value.__cause__, ssl.SSLCertVerificationError)


@pytest.mark.asyncio
async def test_ssl_true_verifies_against_the_default_ca_bundle(
    server_ssl: ssl.SSLContext,
) -> None:
    """The test CA is not in certifi's bundle, so ssl=True must refuse the server."""
    async with echo_server(ssl=server_ssl) as port:
        with pytest.raises(ConnectError, match="was rejected") as info:
            await open_tcp_stream("127.0.0.1", port, ssl=True, server_hostname="localhost")
    assert isinstance(info.value.__cause__, ssl.SSLCertVerificationError)


@pytest.mark.asyncio
async def test_verify_false_accepts_an_untrusted_certificate(server_ssl: ssl.SSLContext) -> None:
    async with (
        echo_server(ssl=server_ssl) as port,
        await open_tcp_stream(
            "127.0.0.1", port, ssl=create_ssl_context(verify=False), server_hostname="x"
        ) as stream,
    ):
        assert stream.ssl_object is not None
        await assert_echoes(stream)


@pytest.mark.asyncio
async def test_tls_to_a_server_that_does_not_speak_tls_raises_connect_error(
    client_ssl: ssl.SSLContext,
) -> None:
    async def plain_http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()

    server = await asyncio.start_server(plain_http, "127.0.0.1", 0)
    try:
        port = server.sockets[0].getsockname()[1]
        with pytest.raises(ConnectError, match=f"127.0.0.1:{port}") as info:
            await open_tcp_stream(
                "127.0.0.1", port, ssl=client_ssl, server_hostname="localhost", connect_timeout=1
            )
        assert isinstance(info.value.__cause__, OSError)
    finally:
        server.close()
        await server.wait_closed()


# --- Unix domain sockets -------------------------------------------------------------------------


@requires_unix_sockets
@pytest.mark.asyncio
async def test_open_unix_stream_connects(unix_path: str) -> None:
    async with (
        unix_echo_server(unix_path),
        await open_unix_stream(pathlib.Path(unix_path)) as stream,
    ):
        await assert_echoes(stream)


@requires_unix_sockets
@pytest.mark.asyncio
async def test_open_unix_stream_to_a_missing_path_raises_connect_error(unix_path: str) -> None:
    with pytest.raises(ConnectError, match=f"cannot connect to {unix_path}") as info:
        await open_unix_stream(unix_path)
    assert isinstance(info.value.__cause__, FileNotFoundError)


@requires_unix_sockets
@pytest.mark.asyncio
async def test_open_unix_stream_connect_timeout(
    unix_path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(asyncio.get_running_loop(), "create_unix_connection", _wait_forever)
    with pytest.raises(ConnectTimeout, match=re.escape("took longer than 0.05 seconds")):
        await open_unix_stream(unix_path, connect_timeout=0.05)


@requires_unix_sockets
@pytest.mark.asyncio
async def test_tls_over_a_unix_socket(
    unix_path: str, server_ssl: ssl.SSLContext, client_ssl: ssl.SSLContext
) -> None:
    async with (
        unix_echo_server(unix_path, ssl=server_ssl),
        await open_unix_stream(unix_path, ssl=client_ssl, server_hostname="localhost") as stream,
    ):
        assert stream.ssl_object is not None
        await assert_echoes(stream)


# --- start_tls -----------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def starttls_server(context: ssl.SSLContext) -> AsyncIterator[int]:
    """Answers b"STARTTLS\\r\\n" with b"GO\\r\\n", upgrades to TLS, then echoes."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if await reader.readline() != b"STARTTLS\r\n":
                return
            writer.write(b"GO\r\n")
            await writer.drain()
            await writer.start_tls(context)  # type: ignore[attr-defined,unused-ignore]  # 3.11+
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except OSError:
            pass
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


async def _ask_for_tls(stream: Stream) -> None:
    await stream.write_all(b"STARTTLS\r\n")
    assert await stream.read_until(b"\r\n", timeout=1) == b"GO\r\n"


@requires_stream_start_tls
@pytest.mark.asyncio
async def test_start_tls_upgrades_a_plain_connection(
    server_ssl: ssl.SSLContext, client_ssl: ssl.SSLContext
) -> None:
    async with starttls_server(server_ssl) as port, await open_tcp_stream("127.0.0.1", port) as s:
        await _ask_for_tls(s)
        plain = s.ssl_object
        await s.start_tls(client_ssl, server_hostname="localhost", timeout=1)
        tls = s.ssl_object
        assert plain is None
        assert tls is not None
        assert tls.selected_alpn_protocol() == "http/1.1"
        await assert_echoes(s)


@requires_stream_start_tls
@pytest.mark.asyncio
async def test_start_tls_rejects_a_certificate_for_another_host_name(
    server_ssl: ssl.SSLContext, client_ssl: ssl.SSLContext
) -> None:
    async with starttls_server(server_ssl) as port:
        stream = await open_tcp_stream("127.0.0.1", port)
        try:
            await _ask_for_tls(stream)
            with pytest.raises(
                ConnectError, match=re.escape("certificate of wrong.example was rejected")
            ):
                await stream.start_tls(client_ssl, server_hostname="wrong.example", timeout=1)
        finally:
            await settle(stream)


@pytest.mark.asyncio
async def test_start_tls_refuses_while_received_bytes_are_unread(
    conn: Connection, client_ssl: ssl.SSLContext
) -> None:
    """The unread bytes were sent in the clear; the stream stays plain and keeps them."""
    await conn.peer.send(b"leftover")
    await eventually(lambda: bool(conn.stream._protocol._buf))
    with pytest.raises(ConnectError, match="received bytes are still unread"):
        await conn.stream.start_tls(client_ssl, server_hostname="localhost")
    assert conn.stream.ssl_object is None
    assert await conn.stream.read_some(timeout=1) == b"leftover"
    await conn.stream.write_all(b"still plain")
    assert await conn.peer.recv_exactly(11) == b"still plain"


@pytest.mark.asyncio
async def test_start_tls_timeout_raises_connect_timeout(
    conn: Connection, client_ssl: ssl.SSLContext
) -> None:
    """The peer never answers the ClientHello."""
    with pytest.raises(
        ConnectTimeout, match=re.escape("TLS handshake took longer than 0.05 seconds")
    ):
        await conn.stream.start_tls(client_ssl, server_hostname="localhost", timeout=0.05)


@pytest.mark.asyncio
async def test_aclose_after_a_failed_start_tls_returns_promptly(
    conn: Connection, client_ssl: ssl.SSLContext
) -> None:
    with pytest.raises(ConnectTimeout):
        await conn.stream.start_tls(client_ssl, server_hostname="localhost", timeout=0.05)
    await asyncio.wait_for(conn.stream.aclose(), 0.3)


@pytest.mark.asyncio
async def test_reading_after_a_failed_start_tls_raises_read_error(
    conn: Connection, client_ssl: ssl.SSLContext
) -> None:
    with pytest.raises(ConnectTimeout):
        await conn.stream.start_tls(client_ssl, server_hostname="localhost", timeout=0.05)
    with pytest.raises(ReadError):
        await conn.stream.read_some(timeout=0.2)
