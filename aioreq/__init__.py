"""aioreq: an asyncio HTTP/1.1 client written from TCP sockets up.

The layers, lowest first: `aioreq.protocol` (sans-IO parsing and serializing), the streams, the
connection and its pool, and the client. Every exception aioreq raises on purpose derives from
`AioreqError` (see `aioreq._exceptions` for the whole tree).
"""

from ._exceptions import (
    AioreqError,
    ConnectError,
    ConnectTimeout,
    DecodingError,
    HTTPStatusError,
    IncompleteReadError,
    InvalidURL,
    LimitOverrunError,
    LocalProtocolError,
    PoolTimeout,
    ProtocolError,
    ReadError,
    ReadTimeout,
    RemoteProtocolError,
    TimeoutError,
    TooManyRedirects,
    TransportError,
    WriteError,
    WriteTimeout,
)

__version__ = "0.1.0.dev0"

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
    "ReadError",
    "ReadTimeout",
    "RemoteProtocolError",
    "TimeoutError",
    "TooManyRedirects",
    "TransportError",
    "WriteError",
    "WriteTimeout",
    "__version__",
]
