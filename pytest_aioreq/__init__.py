"""pytest_aioreq: a pytest plugin of fake HTTP servers, and hypothesis strategies for HTTP/1.1.

Loaded by its `pytest11` entry point, or with `pytest -p pytest_aioreq`. The fixtures
(`aioreq_server`, `aioreq_tls_server`, `aioreq_proxy`, `aioreq_ca`, ...) are in
`pytest_aioreq.plugin`; the server and the proxy behind them, usable without pytest, in
`pytest_aioreq.fakeserver`; the hypothesis strategies in
`pytest_aioreq.strategies` (importing this package does not import hypothesis).
"""

from .fakeserver import Expectation, FakeProxy, FakeServer, ProxiedRequest, RecordedRequest
from .plugin import (
    aioreq_ca,
    aioreq_ca_bundle,
    aioreq_client,
    aioreq_mtls_server,
    aioreq_mtls_server_session,
    aioreq_proxy,
    aioreq_proxy_session,
    aioreq_server,
    aioreq_server_host,
    aioreq_server_ipv6,
    aioreq_server_ipv6_session,
    aioreq_server_limits,
    aioreq_server_session,
    aioreq_server_strict,
    aioreq_server_unix,
    aioreq_server_unix_session,
    aioreq_tls_server,
    aioreq_tls_server_expired,
    aioreq_tls_server_expired_session,
    aioreq_tls_server_session,
    aioreq_tls_server_wrong_host,
    aioreq_tls_server_wrong_host_session,
)

__all__ = [
    "Expectation",
    "FakeProxy",
    "FakeServer",
    "ProxiedRequest",
    "RecordedRequest",
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
