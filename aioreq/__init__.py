"""aioreq: an asyncio HTTP/1.1 client written from TCP sockets up.

The layers, lowest first: `aioreq.protocol` (sans-IO parsing and serializing), the streams, the
connection and its pool, and the client. Every exception aioreq raises on purpose derives from
`AioreqError` (see `aioreq._exceptions` for the whole tree).
"""

from ._config import Limits, Timeout
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
from ._headers import Headers
from ._version import __version__
from .client import (
    Client,
    InsecureRequestWarning,
    Request,
    Response,
    StreamClient,
    delete,
    get,
    get_requests,
    head,
    options,
    patch,
    post,
    put,
    request,
)

__all__ = [
    "AioreqError",
    "Client",
    "ConnectError",
    "ConnectTimeout",
    "DecodingError",
    "HTTPStatusError",
    "Headers",
    "IncompleteReadError",
    "InsecureRequestWarning",
    "InvalidURL",
    "LimitOverrunError",
    "Limits",
    "LocalProtocolError",
    "PoolTimeout",
    "ProtocolError",
    "ReadError",
    "ReadTimeout",
    "RemoteProtocolError",
    "Request",
    "Response",
    "StreamClient",
    "Timeout",
    "TimeoutError",
    "TooManyRedirects",
    "TransportError",
    "WriteError",
    "WriteTimeout",
    "__version__",
    "delete",
    "get",
    "get_requests",
    "head",
    "options",
    "patch",
    "post",
    "put",
    "request",
]
