"""Redirects: the request a 3xx response asks for (RFC 9110 §15.4), and following a chain of
them."""

from __future__ import annotations

from collections.abc import AsyncIterable, Awaitable, Callable

from .._exceptions import RequestNotReplayable, TooManyRedirects
from ._models import Request, Response

__all__ = ["REDIRECT_STATUSES", "follow_chain", "redirect_request"]

REDIRECT_STATUSES = frozenset((301, 302, 303, 307, 308))
# Credentials are for the origin they were given to (RFC 9110 §15.4 and §11.6): on a change
# of host, port or scheme -- https to http included -- they are not sent on. aiosonic and
# urllib3 both shipped releases that forwarded them.
_CREDENTIALS = ("authorization", "cookie", "proxy-authorization")


def redirect_request(request: Request, response: Response, location: str) -> Request:
    """The request that `response`, a redirect to `location`, asks for.

    - 301 and 302 turn a POST into a GET and 303 turns anything but HEAD into a GET
      (RFC 9110 §15.4.2-4), dropping the body and the fields that described it; 307 and 308
      keep the method and the body.
    - A Location without a fragment inherits the request's (RFC 9110 §10.2.2).
    - Authorization, Cookie and Proxy-Authorization are dropped on a change of origin, and so
      are the request's own cookies (on the same origin, they go with the jar's for the new
      URL: see `with_jar_cookies`).

    Raises:
        InvalidURL: the Location is not a valid http(s) URL.
        RequestNotReplayable: a 307 or 308 would send again a body that was a stream.
    """
    url = request.url.join(location)
    if not url.fragment and request.url.fragment:
        # RFC 9110 §10.2.2: a Location without a fragment "inherits the fragment component of
        # the URI reference used to generate the target URI".
        url = url.with_fragment(request.url.fragment)
    method = request.method
    status = response.status
    headers = request.headers.copy()
    content: bytes | AsyncIterable[bytes] = request.content
    length = request.length
    if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
        method = "GET"
        content, length = b"", 0
        for name in ("content-length", "content-type", "transfer-encoding"):
            if name in headers:
                del headers[name]
    elif not request.replayable:
        raise RequestNotReplayable(
            f"{status} redirect to {url} asks to send the body again, but it was a stream: "
            "give it as bytes to allow that"
        )
    cookies = request.cookies
    if url.origin != request.url.origin:
        cookies = None
        for name in _CREDENTIALS:
            if name in headers:
                del headers[name]
    return Request(method, url, headers, content, length=length, cookies=cookies)


async def follow_chain(
    request: Request,
    response: Response,
    hop: Callable[[Request], Awaitable[Response]],
    *,
    max_redirects: int,
) -> Response:
    """Follow the redirects that `response` (to `request`) begins.

    Args:
        request: the request `response` answered.
        response: the first response, a redirect or not.
        hop: sends one request of the chain and returns its response.
        max_redirects: the most redirects followed.

    Returns:
        The first response that is not a redirect with a Location, with the redirects before it
        (their bodies read) in its `history`.

    Raises:
        TooManyRedirects: more than `max_redirects` (the last response is closed).
        InvalidURL, RequestNotReplayable: see `redirect_request`.
    """
    history: list[Response] = []
    while True:
        location = response.headers.get("location")
        if location is None:
            break
        if len(history) >= max_redirects:
            await response.aclose()
            raise TooManyRedirects(f"more than {max_redirects} redirects, the last to {location!r}")
        await response.aread()
        history.append(response)
        request = redirect_request(request, response, location)
        response = await hop(request)
        if response.status not in REDIRECT_STATUSES:
            break
    if history:
        response.history = history
    return response
