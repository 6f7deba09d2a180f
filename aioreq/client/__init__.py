"""The aioreq client: `Client`, its `Request` and `Response`, and the one-call helpers."""

from ._auth import Auth, BasicAuth, BearerAuth, DigestAuth
from ._client import Client
from ._hooks import TRACE_EVENTS
from ._models import Request, Response
from ._proxies import Proxy
from ._retry import Retry
from ._shortcuts import (
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
from ._tls import InsecureRequestWarning

__all__ = [
    "TRACE_EVENTS",
    "Auth",
    "BasicAuth",
    "BearerAuth",
    "Client",
    "DigestAuth",
    "InsecureRequestWarning",
    "Proxy",
    "Request",
    "Response",
    "Retry",
    "StreamClient",
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
