"""How a client opens the connections of its pool: TCP or a Unix socket, TLS, proxy tunnels.

A pool key is (scheme, host, port), with the `Proxy` after them for a route through a proxy.
The usual connection -- direct, not traced -- is opened with its TLS handshake in one call of
the event loop. Otherwise the steps go one after the other, each with its trace event: the
first hop (the host, the Unix socket or the proxy, itself over TLS when its URL is https), the
CONNECT tunnel for an https origin behind a proxy, then TLS with the origin, whose name SNI and
the certificate check use. One connect timeout bounds all of the steps together.
"""

from __future__ import annotations

import os
import ssl as _ssl
import time
from collections.abc import Mapping

from ..connection import Connection, Origin
from ..streams import Stream, open_tcp_stream, open_unix_stream
from ._hooks import Trace, connection_info, tls_info
from ._proxies import Proxy, open_tunnel
from ._tls import client_ssl_context
from ._urls import URL

__all__ = ["Connector"]

_now = time.monotonic


class Connector:
    """Opens a connection for a pool key (the pool's `connect` function).

    Args:
        verify, cert, trust_env: the client's TLS settings (see `Client`).
        uds: a Unix socket to connect to instead of the URL's host.
        trace: the client's trace function.
        head_limits: the response parser's limits on a head (`max_line_size`,
            `max_header_size`, `max_header_count`).
    """

    def __init__(
        self,
        *,
        verify: bool | str | _ssl.SSLContext,
        cert: str | tuple[str, str] | None,
        trust_env: bool,
        uds: str | os.PathLike[str] | None,
        trace: Trace | None,
        head_limits: Mapping[str, int],
    ) -> None:
        self._verify = verify
        self._cert = cert
        self._trust_env = trust_env
        self._uds = None if uds is None else os.fspath(uds)
        self._trace = trace
        self._head_limits = head_limits
        self._tls: _ssl.SSLContext | None = None

    def tls_context(self) -> _ssl.SSLContext:
        """The client's TLS context, made on first use (`verify=False` warns then)."""
        if self._tls is None:
            self._tls = client_ssl_context(self._verify, self._cert, self._trust_env)
        return self._tls

    async def __call__(self, origin: Origin, connect_timeout: float | None) -> Connection:
        scheme, host, port = origin[:3]
        proxy: Proxy | None = origin[3] if len(origin) > 3 else None
        trace = self._trace
        tls = self.tls_context() if scheme == "https" else None
        started = _now()
        if proxy is None and trace is None:
            stream = await self._first_hop(host, port, tls, connect_timeout)
            return Connection(stream, origin, **self._head_limits)
        stream = await self._first_hop(host, port, None, connect_timeout, proxy)
        try:
            if trace is not None:
                trace("connection_created", connection_info(origin, stream, started))
            if proxy is not None and tls is not None:
                target = URL(scheme, host, port, b"/")
                await open_tunnel(stream, target, proxy, timeout=_left(connect_timeout, started))
            if tls is not None:
                handshake = _now()
                await stream.start_tls(
                    tls, server_hostname=host, timeout=_left(connect_timeout, started)
                )
                if trace is not None:
                    trace("tls_done", tls_info(origin, stream, handshake))
        except BaseException:
            stream.abort()
            raise
        return Connection(stream, origin, **self._head_limits)

    async def _first_hop(
        self,
        host: str,
        port: int,
        tls: _ssl.SSLContext | None,
        connect_timeout: float | None,
        proxy: Proxy | None = None,
    ) -> Stream:
        """A stream to the proxy, the Unix socket or the host (with `tls` if given)."""
        if proxy is not None:
            hop = proxy.url
            hop_tls = self.tls_context() if hop.scheme == "https" else None
            return await open_tcp_stream(
                hop.host, hop.port, ssl=hop_tls, connect_timeout=connect_timeout
            )
        if self._uds is not None:
            return await open_unix_stream(
                self._uds,
                ssl=tls,
                server_hostname=host if tls else None,
                connect_timeout=connect_timeout,
            )
        return await open_tcp_stream(
            host,
            port,
            ssl=tls,
            server_hostname=host if tls else None,
            connect_timeout=connect_timeout,
        )


def _left(timeout: float | None, started: float) -> float | None:
    """What is left of a connect timeout that started at `started`."""
    return None if timeout is None else max(0.0, timeout - (_now() - started))
