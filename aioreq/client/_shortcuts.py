"""One-call helpers: `aioreq.get(...)` and friends, `StreamClient`, and `get_requests`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from typing import Any

from ._client import Client
from ._models import Response
from ._urls import URL

__all__ = [
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


async def request(method: str, url: str | URL, **kwargs: Any) -> Response:
    """Send one request with a client of its own (made and closed for it).

    For more than one request, make a `Client`: it keeps connections alive between them.
    Keyword arguments are those of `Client.request`, plus `timeout`, `verify` and the other
    arguments of `Client` itself.
    """
    client_options = {
        name: kwargs.pop(name)
        for name in ("verify", "cert", "trust_env", "limits", "max_redirects")
        if name in kwargs
    }
    async with Client(**client_options) as client:
        return await client.request(method, url, **kwargs)


async def get(url: str | URL, **kwargs: Any) -> Response:
    """A GET with a client of its own (see `request`)."""
    return await request("GET", url, **kwargs)


async def head(url: str | URL, **kwargs: Any) -> Response:
    """A HEAD with a client of its own (see `request`)."""
    return await request("HEAD", url, **kwargs)


async def options(url: str | URL, **kwargs: Any) -> Response:
    """An OPTIONS with a client of its own (see `request`)."""
    return await request("OPTIONS", url, **kwargs)


async def post(url: str | URL, **kwargs: Any) -> Response:
    """A POST with a client of its own (see `request`)."""
    return await request("POST", url, **kwargs)


async def put(url: str | URL, **kwargs: Any) -> Response:
    """A PUT with a client of its own (see `request`)."""
    return await request("PUT", url, **kwargs)


async def patch(url: str | URL, **kwargs: Any) -> Response:
    """A PATCH with a client of its own (see `request`)."""
    return await request("PATCH", url, **kwargs)


async def delete(url: str | URL, **kwargs: Any) -> Response:
    """A DELETE with a client of its own (see `request`)."""
    return await request("DELETE", url, **kwargs)


class StreamClient:
    """The streaming form of the original aioreq: `async for chunk in cl.get(url)`.

    Each call yields the decoded body chunk by chunk as it arrives, over the pooled
    connections of a `Client` (keyword arguments are those of `Client`).
    """

    def __init__(self, **client_options: Any) -> None:
        self._client = Client(**client_options)

    async def request(self, method: str, url: str | URL, **kwargs: Any) -> AsyncIterator[bytes]:
        """Yield the body of the response, decoded, as it arrives.

        Raises:
            HTTPStatusError: when `raise_for_status=True` is given and the status is 4xx/5xx.
        """
        check = kwargs.pop("raise_for_status", False)
        async with self._client.stream(method, url, **kwargs) as response:
            if check:
                response.raise_for_status()
            async for chunk in response.iter_bytes():
                yield chunk

    def get(self, url: str | URL, **kwargs: Any) -> AsyncIterator[bytes]:
        """The body of a GET, chunk by chunk."""
        return self.request("GET", url, **kwargs)

    def post(self, url: str | URL, **kwargs: Any) -> AsyncIterator[bytes]:
        """The body of a POST, chunk by chunk."""
        return self.request("POST", url, **kwargs)

    async def aclose(self) -> None:
        """Close the connections."""
        await self._client.aclose()

    async def __aenter__(self) -> StreamClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


async def get_requests(
    urls: Iterable[str | URL | tuple[str, int]],
    *,
    concurrency: int = 64,
    return_exceptions: bool = False,
    **client_options: Any,
) -> list[Response | BaseException]:
    """GET many URLs with at most `concurrency` requests in flight, over shared connections.

    Args:
        urls: URLs, or (host, port) pairs meaning `http://host:port/`.
        concurrency: the most requests at once (and the connection limit).
        return_exceptions: put a failed request's exception in its place in the result,
            rather than raising the first one.
        **client_options: arguments of `Client` (timeout, verify, ...).

    Returns:
        The responses (bodies read), in the order of `urls`.
    """
    targets = [_as_url(url) for url in urls]
    client_options.setdefault("limits", None)
    async with Client(**client_options) as client:
        gate = asyncio.Semaphore(concurrency)

        async def fetch(url: str | URL) -> Response:
            async with gate:
                return await client.get(url)

        results = await asyncio.gather(
            *(fetch(url) for url in targets), return_exceptions=return_exceptions
        )
    return list(results)


def _as_url(url: str | URL | tuple[str, int]) -> str | URL:
    if isinstance(url, tuple):
        host, port = url
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        return f"http://{host}:{port}/"
    return url
