"""The client's TLS context: certifi's CA bundle by default, loaded once per process."""

from __future__ import annotations

import functools
import os
import ssl as _ssl
import warnings

from ..streams import create_ssl_context, default_ssl_context

__all__ = ["InsecureRequestWarning", "client_ssl_context"]


class InsecureRequestWarning(UserWarning):
    """A client was made with `verify=False`: its HTTPS is not protected from tampering."""


@functools.lru_cache(maxsize=8)
def _verifying_context(cafile: str | None, capath: str | None) -> _ssl.SSLContext:
    """The verifying TLS context for a CA bundle, made once per process and shared by every
    client (loading a CA bundle costs milliseconds; httpx pays it per client)."""
    if cafile is None and capath is None:
        return default_ssl_context()  # certifi's, shared with aioreq.streams
    return create_ssl_context(cafile=cafile, capath=capath)


def client_ssl_context(
    verify: bool | str | _ssl.SSLContext, cert: str | tuple[str, str] | None, trust_env: bool
) -> _ssl.SSLContext:
    """The TLS context of a client: shared unless it carries a client certificate."""
    if isinstance(verify, _ssl.SSLContext):
        context = verify
    elif verify is False:
        warnings.warn(
            "verify=False: certificates and host names are not checked, so HTTPS does not "
            "protect this client from tampering",
            InsecureRequestWarning,
            stacklevel=4,
        )
        context = create_ssl_context(verify=False)
    else:
        if isinstance(verify, str):
            cafile, capath = (None, verify) if os.path.isdir(verify) else (verify, None)
        elif trust_env:
            cafile = os.environ.get("SSL_CERT_FILE") or None
            capath = os.environ.get("SSL_CERT_DIR") or None
        else:
            cafile = capath = None
        # A client certificate makes the context this client's own: never load it into a
        # shared one.
        if cert is None:
            context = _verifying_context(cafile, capath)
        else:
            context = create_ssl_context(cafile=cafile, capath=capath)
    if cert is not None:
        certfile, keyfile = (cert, None) if isinstance(cert, str) else cert
        context.load_cert_chain(certfile, keyfile)
    return context
