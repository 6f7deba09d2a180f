"""Every exception aioreq raises on purpose, in one tree.

```
AioreqError
├── ProtocolError                    the HTTP/1.1 rules were broken
│   ├── LocalProtocolError           by us: a message that cannot be sent safely
│   └── RemoteProtocolError          by the peer: a malformed or truncated message
├── TransportError                   the connection itself failed
│   ├── ConnectError                 could not connect (refused, DNS, TLS handshake)
│   │   ├── ProxyError               the proxy refused the tunnel; carries .status
│   │   └── TLSError                 the TLS handshake failed; carries .reason (which check)
│   ├── ReadError                    the connection failed while reading
│   │   ├── IncompleteReadError      it closed before the delimiter or byte count; carries .partial
│   │   └── LimitOverrunError        the delimiter did not come within the read's limit
│   ├── WriteError                   the connection failed while writing
│   └── TimeoutError                 a deadline passed (also the builtin TimeoutError)
│       ├── ConnectTimeout
│       ├── ReadTimeout
│       ├── WriteTimeout
│       └── PoolTimeout
├── TooManyRedirects
├── RequestNotReplayable             a body that was a stream would have to be sent again
├── DecodingError                    a Content-Encoding could not be decoded
├── HTTPStatusError                  raise_for_status() on a 4xx or 5xx; carries .response
└── InvalidURL
```

Every class derives from the project's own bases by single inheritance; the one exception is
`TimeoutError`, which is also the builtin `TimeoutError` because that is what users catch.
A message says what was wrong and with which value.
"""

from __future__ import annotations

import builtins
from typing import Any

__all__ = [
    "AioreqError",
    "ConnectError",
    "ConnectTimeout",
    "DecodingError",
    "HTTPStatusError",
    "IncompleteReadError",
    "InvalidURL",
    "LimitOverrunError",
    "LocalProtocolError",
    "PoolTimeout",
    "ProtocolError",
    "ProxyError",
    "ReadError",
    "ReadTimeout",
    "RemoteProtocolError",
    "RequestNotReplayable",
    "TLSError",
    "TimeoutError",
    "TooManyRedirects",
    "TransportError",
    "WriteError",
    "WriteTimeout",
]


class AioreqError(Exception):
    """Base class of every exception aioreq raises on purpose."""


class ProtocolError(AioreqError):
    """The HTTP/1.1 rules were broken, by us or by the peer.

    Attributes:
        status_hint: the status code a server would answer with (400, 413, 414, 431, 501).
    """

    def __init__(self, message: str, *, status_hint: int = 400) -> None:
        super().__init__(message)
        self.status_hint = status_hint


class LocalProtocolError(ProtocolError):
    """We were about to send something HTTP/1.1 forbids (CR/LF/NUL in a field, a bad method)."""


class RemoteProtocolError(ProtocolError):
    """The peer sent a malformed, oversized or truncated message."""


class TransportError(AioreqError):
    """The connection failed below HTTP: refused, reset, timed out."""


class ConnectError(TransportError):
    """The connection could not be opened: refused, unreachable, DNS or TLS handshake failure."""


class ProxyError(ConnectError):
    """The proxy would not open a tunnel to the origin (407: it wants credentials).

    Attributes:
        status: the status the proxy answered CONNECT with.
    """

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


class TLSError(ConnectError):
    """The TLS handshake failed: the certificate was refused, or no protocol was agreed.

    `reason` says which, from a fixed set (the message says it in words, with the details
    OpenSSL gave):

    - "untrusted": the certificate does not chain to a CA this client trusts (an unknown CA,
      a self-signed certificate), or its chain failed another check (revoked, bad signature,
      a CA that may not issue it, a key too weak);
    - "hostname": the certificate is valid, but not for the host name (or IP address) asked for;
    - "expired": the certificate has expired, or is not valid yet (check the clocks too);
    - "protocol": no TLS version or cipher suite both sides accept (a server that offers only
      TLS 1.1 or older, when the client requires 1.2), or the server's handshake_failure
      alert (which a TLS 1.2 server also sends when it requires a client certificate);
    - "handshake": anything else -- the peer does not speak TLS (a plain HTTP port), or it
      closed the connection, or sent something malformed, during the handshake.

    Only "handshake" may go away by trying again; the others are the server's configuration
    (or the client's), and `Retry` does not retry them.

    Attributes:
        reason: one of `REASONS`.
    """

    #: The values `reason` takes.
    REASONS = frozenset(("untrusted", "hostname", "expired", "protocol", "handshake"))

    def __init__(self, message: str, *, reason: str) -> None:
        if reason not in self.REASONS:
            raise ValueError(f"TLSError reason {reason!r} is not one of {sorted(self.REASONS)}")
        super().__init__(message)
        self.reason = reason


class ReadError(TransportError):
    """The connection failed while receiving."""


class IncompleteReadError(ReadError):
    """The connection closed before a read could complete.

    Attributes:
        partial: the bytes that did arrive (they are consumed from the stream).
        expected: the byte count asked for, or None when a delimiter was awaited.
    """

    def __init__(self, message: str, *, partial: bytes, expected: int | None = None) -> None:
        super().__init__(message)
        self.partial = partial
        self.expected = expected


class LimitOverrunError(ReadError):
    """The delimiter of `read_until` did not arrive within its limit (the bytes stay buffered)."""


class WriteError(TransportError):
    """The connection failed while sending."""


class TimeoutError(TransportError, builtins.TimeoutError):
    """A deadline passed. Also a builtin `TimeoutError`, so `except TimeoutError` catches it."""


class ConnectTimeout(TimeoutError):
    """Opening the connection (TCP and TLS) took longer than the connect timeout."""


class ReadTimeout(TimeoutError):
    """No data arrived within the read timeout."""


class WriteTimeout(TimeoutError):
    """Sending did not progress within the write timeout."""


class PoolTimeout(TimeoutError):
    """No connection of the pool became free within the pool timeout."""


class TooManyRedirects(AioreqError):
    """The redirect chain was longer than the client allows."""


class RequestNotReplayable(AioreqError):
    """A request would have to be sent again (a 307 or 308 redirect, an auth challenge), but
    its body was a stream that has been consumed: give it as bytes to allow that."""


class DecodingError(AioreqError):
    """A response body could not be decoded by its Content-Encoding."""


class HTTPStatusError(AioreqError):
    """Raised by `Response.raise_for_status()` on a 4xx or 5xx response.

    Attributes:
        response: the response that had the error status.
    """

    def __init__(self, message: str, *, response: Any) -> None:
        super().__init__(message)
        self.response = response


class InvalidURL(AioreqError):
    """A URL could not be parsed or used (no host, unsupported scheme, bad port)."""
