"""How a failed connect or TLS handshake is told: `OSError` and `ssl.SSLError` become
`ConnectError`, `ConnectTimeout` or `TLSError` (whose `reason` names the check that failed)."""

from __future__ import annotations

import asyncio
import os
import socket
import ssl as _ssl

from .._exceptions import (
    ConnectError,
    TLSError,
)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def _deadline_passed(exc: BaseException, timeout: float | None) -> bool:
    """Whether `exc` is asyncio.wait_for's timeout, not the OS's ETIMEDOUT (both are a
    TimeoutError since Python 3.11; only the OS's carries an errno)."""
    return (
        timeout is not None
        and isinstance(exc, asyncio.TimeoutError)
        and getattr(exc, "errno", None) is None
    )


def _where(host: str, port: int | None) -> str:
    if port is None:
        return host
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


# A TCP connect fails with ECONNREFUSED, ETIMEDOUT, EHOSTUNREACH...; a reset, a broken pipe or
# an abort can only come once the connection is up -- when TLS was asked for, in its handshake.
# asyncio raises a bare ConnectionResetError when the peer closes during the handshake, and
# ConnectionAbortedError when its own handshake timeout passes.
_MID_HANDSHAKE = (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)

# X509_V_ERR_* codes of OpenSSL (include/openssl/x509_vfy.h). A rejected certificate is
# "expired" for 9 and 10, "hostname" for 62 to 64, and "untrusted" for every other code: 2 and
# 18 to 21 (no trusted issuer, self-signed), 7 (bad signature), 23 (revoked), 24 and 26 to 28
# (not a CA, the wrong purpose, untrusted, rejected), 66 to 68 (a key or digest too weak)...
_EXPIRED_CODES = {9: "is not valid yet", 10: "has expired"}
# Unable to get the issuer (2, 20), self-signed (18, 19), cannot verify the leaf (21).
_UNKNOWN_ISSUER_CODES = frozenset((2, 18, 19, 20, 21))
_HOSTNAME_CODES = frozenset((62, 63, 64))  # host name, email, IP address mismatch

# Reasons OpenSSL gives (ssl.SSLError.reason) when the two sides share no TLS version or
# cipher suite: ours (the peer offered only what we refuse) or the peer's alert saying so.
_PROTOCOL_REASONS = frozenset(
    (
        "UNSUPPORTED_PROTOCOL",
        "WRONG_SSL_VERSION",
        "VERSION_TOO_LOW",
        "NO_PROTOCOLS_AVAILABLE",
        "TLSV1_ALERT_PROTOCOL_VERSION",
        "INAPPROPRIATE_FALLBACK",
        "TLSV1_ALERT_INAPPROPRIATE_FALLBACK",
        "NO_SHARED_CIPHER",
        "NO_CIPHERS_AVAILABLE",
        "NO_SUITABLE_SIGNATURE_ALGORITHM",
        "TLSV1_ALERT_INSUFFICIENT_SECURITY",
        "DH_KEY_TOO_SMALL",
    )
)
# Reasons that mean the peer sent bytes that are not TLS at all.
_NOT_TLS_REASONS = frozenset(
    ("WRONG_VERSION_NUMBER", "HTTP_REQUEST", "PACKET_LENGTH_TOO_LONG", "RECORD_LAYER_FAILURE")
)


def _connect_error(
    exc: BaseException,
    host: str,
    port: int | None,
    *,
    tls: bool = False,
    server_hostname: str | None = None,
) -> ConnectError:
    """The error a failed connect raises: a `TLSError` when the TLS handshake failed.

    Args:
        exc: what the event loop raised.
        host, port: where the connection went (port None for a Unix socket or `start_tls`).
        tls: whether a TLS handshake was part of the connect.
        server_hostname: the name the certificate was checked against.
    """
    where = _where(host, port)
    if isinstance(exc, _ssl.SSLError) or (tls and isinstance(exc, _MID_HANDSHAKE)):
        return _tls_error(exc, where, server_hostname or host)
    if isinstance(exc, socket.gaierror):
        return ConnectError(f"cannot resolve {host!r}: {exc.strerror or exc}")
    errno = getattr(exc, "errno", None)
    reason = os.strerror(errno) if isinstance(errno, int) and errno else _describe(exc)
    return ConnectError(f"cannot connect to {where}: {reason}")


def _tls_error(exc: BaseException, where: str, name: str) -> TLSError:
    """Name the check a failed TLS handshake failed (see `TLSError` for the reasons)."""
    if isinstance(exc, _ssl.SSLCertVerificationError):
        code = exc.verify_code
        detail = exc.verify_message or exc.reason or str(exc)
        prefix = f"the TLS certificate of {where} was rejected"
        if code in _EXPIRED_CODES:
            return TLSError(
                f"{prefix}: it {_EXPIRED_CODES[code]} ({detail}; is the clock right?)",
                reason="expired",
            )
        if code in _HOSTNAME_CODES:
            return TLSError(
                f"{prefix}: hostname mismatch, it is not valid for {name!r} ({detail})",
                reason="hostname",
            )
        if code in _UNKNOWN_ISSUER_CODES:
            return TLSError(
                f"{prefix}: it is not trusted ({detail}): no CA this client trusts issued it",
                reason="untrusted",
            )
        return TLSError(f"{prefix}: it is not trusted ({detail})", reason="untrusted")
    reason = getattr(exc, "reason", None)
    if reason == "SSLV3_ALERT_HANDSHAKE_FAILURE":
        # RFC 8446 §6.2: "the sender was unable to negotiate an acceptable set of security
        # parameters given the options available" -- no suite in common, or (TLS 1.2) no
        # client certificate for a server that requires one.
        return TLSError(
            f"the TLS handshake with {where} failed: the server could not agree on the "
            f"parameters ({reason}: no cipher suite in common, or it wants a client certificate)",
            reason="protocol",
        )
    if isinstance(exc, _ssl.SSLError) and reason in _PROTOCOL_REASONS:
        return TLSError(
            f"the TLS handshake with {where} failed: no TLS version or cipher suite that both "
            f"sides accept ({reason}; aioreq's TLS contexts require TLS 1.2 or later)",
            reason="protocol",
        )
    if isinstance(exc, _ssl.SSLError) and reason in _NOT_TLS_REASONS:
        return TLSError(
            f"the TLS handshake with {where} failed: the peer does not speak TLS ({reason}; "
            "a plain HTTP port?)",
            reason="handshake",
        )
    if isinstance(
        exc, (ConnectionResetError, BrokenPipeError, _ssl.SSLEOFError, _ssl.SSLZeroReturnError)
    ):
        return TLSError(
            f"the TLS handshake with {where} failed: the peer closed the connection before it "
            f"was done ({_describe(exc)})",
            reason="handshake",
        )
    return TLSError(
        f"the TLS handshake with {where} failed: {reason or _describe(exc)}", reason="handshake"
    )


#: How long a connect whose caller was cancelled may go on, to be closed when it is done.
