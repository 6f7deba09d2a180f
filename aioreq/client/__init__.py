"""The aioreq client: `Client`, its `Request` and `Response`, and the one-call helpers."""

from ._client import Client, InsecureRequestWarning
from ._models import Request, Response
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

__all__ = [
    "Client",
    "InsecureRequestWarning",
    "Request",
    "Response",
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
