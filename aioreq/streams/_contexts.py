"""TLS contexts: the shared verifying one on certifi's bundle, and made-to-order ones."""

from __future__ import annotations

import functools
import ssl as _ssl

__all__ = ["create_ssl_context", "default_ssl_context"]


@functools.cache
def default_ssl_context() -> _ssl.SSLContext:
    """The verifying TLS context on certifi's CA bundle, made once per process and shared
    (what `ssl=True` means). Shared: make your own with `create_ssl_context()` to change it."""
    return create_ssl_context()


def create_ssl_context(
    *, cafile: str | None = None, capath: str | None = None, verify: bool = True
) -> _ssl.SSLContext:
    """Make a client-side TLS context that speaks HTTP/1.1.

    Args:
        cafile: the CA bundle to trust; with neither it nor `capath`, certifi's (what
            `ssl=True` uses).
        capath: a directory of CA certificates to trust (OpenSSL's hashed layout).
        verify: check the server's certificate and host name. Turning this off makes TLS
            worthless against an active attacker; it exists for tests and private networks.

    Returns:
        A fresh `ssl.SSLContext` with ALPN set to `http/1.1` and TLS 1.2 as the oldest version.
    """
    if cafile is None and capath is None and verify:
        import certifi

        cafile = certifi.where()
    context = _ssl.create_default_context(cafile=cafile, capath=capath)
    context.minimum_version = _ssl.TLSVersion.TLSv1_2
    context.set_alpn_protocols(["http/1.1"])
    if not verify:
        context.check_hostname = False
        context.verify_mode = _ssl.CERT_NONE
    return context


def _client_context(ssl: _ssl.SSLContext | bool | None) -> _ssl.SSLContext | None:
    if ssl is None or ssl is False:
        return None
    if ssl is True:
        return default_ssl_context()
    return ssl
