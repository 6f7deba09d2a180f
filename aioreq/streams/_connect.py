"""Opening a `Stream`: TCP (with happy eyeballs and TLS) and Unix sockets."""

from __future__ import annotations

import asyncio
import functools
import os
import ssl as _ssl
from collections.abc import Awaitable, Callable
from typing import Any, cast

from .._exceptions import (
    ConnectTimeout,
)
from ._contexts import _client_context
from ._failures import _connect_error, _deadline_passed, _where
from ._protocol import _Protocol
from ._stream import Stream, _abandon

__all__ = ["open_tcp_stream", "open_unix_stream"]


# Event loops whose create_connection takes no happy_eyeballs_delay (uvloop).
_NO_HAPPY_EYEBALLS: set[type] = set()


async def _connect(
    opener: Callable[[], Awaitable[tuple[asyncio.BaseTransport, asyncio.BaseProtocol]]],
    where: str,
    host: str,
    port: int | None,
    timeout: float | None,
    *,
    tls: bool = False,
    server_hostname: str | None = None,
) -> Stream:
    attempt = asyncio.ensure_future(asyncio.wait_for(opener(), timeout))
    try:
        transport, protocol = await asyncio.shield(attempt)
    except asyncio.CancelledError:
        # Cancelled, asyncio's own connect (its staggered race of addresses) drops a socket
        # that has just connected, unclosed.
        _abandon(attempt)
        raise
    except (OSError, _ssl.SSLError, asyncio.TimeoutError) as exc:
        if _deadline_passed(exc, timeout):
            raise ConnectTimeout(
                f"connecting to {where} took longer than {timeout:g} seconds"
            ) from None
        raise _connect_error(exc, host, port, tls=tls, server_hostname=server_hostname) from exc
    return Stream(cast(asyncio.Transport, transport), cast(_Protocol, protocol))


async def open_tcp_stream(
    host: str,
    port: int,
    *,
    ssl: _ssl.SSLContext | bool | None = None,
    server_hostname: str | None = None,
    connect_timeout: float | None = None,
    local_address: tuple[str, int] | None = None,
    happy_eyeballs_delay: float | None = 0.25,
) -> Stream:
    """Connect to host:port over TCP, and TLS when `ssl` says so.

    The system resolver gives every address of `host`; IPv6 and IPv4 are raced as RFC 8305
    (happy eyeballs) describes, through the event loop's own implementation.

    Args:
        host: a name, an IPv4 address or an IPv6 address (without brackets).
        port: the TCP port.
        ssl: an `ssl.SSLContext`; True for the default context (certifi's CA bundle, host name
            checked); None or False for plain TCP.
        server_hostname: the name for SNI and certificate checking (default: `host`).
        connect_timeout: seconds for resolving, connecting and the TLS handshake together.
        local_address: a (host, port) to bind the local side to.
        happy_eyeballs_delay: seconds before the next address is tried in parallel; None tries
            the addresses one after another.

    Raises:
        TLSError: the TLS handshake failed (a `ConnectError`); its `reason` says which check:
            "untrusted", "hostname", "expired", "protocol" or "handshake".
        ConnectError: the name did not resolve, the connection was refused or unreachable.
        ConnectTimeout: it took longer than `connect_timeout`.
    """
    loop = asyncio.get_running_loop()
    context = _client_context(ssl)

    options: dict[str, Any] = {
        "ssl": context,
        "server_hostname": (server_hostname or host) if context is not None else None,
        "local_addr": local_address,
    }
    if happy_eyeballs_delay is not None and type(loop) not in _NO_HAPPY_EYEBALLS:
        options["happy_eyeballs_delay"] = happy_eyeballs_delay

    async def opener() -> tuple[asyncio.BaseTransport, asyncio.BaseProtocol]:
        factory = functools.partial(_Protocol, loop)
        try:
            return await loop.create_connection(factory, host, port, **options)
        except TypeError as exc:
            # uvloop's create_connection has no happy_eyeballs_delay: without it, then.
            if "happy_eyeballs_delay" not in str(exc):
                raise
            _NO_HAPPY_EYEBALLS.add(type(loop))
            options.pop("happy_eyeballs_delay", None)
            return await loop.create_connection(factory, host, port, **options)

    where = _where(host, port)
    return await _connect(
        opener,
        where,
        host,
        port,
        connect_timeout,
        tls=context is not None,
        server_hostname=options["server_hostname"],
    )


async def open_unix_stream(
    path: str | os.PathLike[str],
    *,
    ssl: _ssl.SSLContext | bool | None = None,
    server_hostname: str | None = None,
    connect_timeout: float | None = None,
) -> Stream:
    """Connect to a Unix domain socket (TLS over it when `ssl` says so; then give a name).

    Raises:
        TLSError: the TLS handshake failed (a `ConnectError`; see `open_tcp_stream`).
        ConnectError: no such socket, or refused.
        ConnectTimeout: it took longer than `connect_timeout` seconds.
    """
    loop = asyncio.get_running_loop()
    context = _client_context(ssl)
    name = os.fspath(path)

    def opener() -> Awaitable[tuple[asyncio.BaseTransport, asyncio.BaseProtocol]]:
        return loop.create_unix_connection(
            functools.partial(_Protocol, loop),
            name,
            ssl=context,
            server_hostname=server_hostname if context is not None else None,
        )

    return await _connect(
        opener,
        name,
        name,
        None,
        connect_timeout,
        tls=context is not None,
        server_hostname=server_hostname,
    )
