"""The layers of a `Client` between `send()` and the exchange: its middlewares, auth, redirects,
and on each hop the jar's cookies, the hooks and the retries (steps 1 to 4 of `_client`'s
docstring).

They stand apart from `_client`, which builds requests and holds the public methods, as the
policy a request goes through when it uses any of these features (a plain request goes straight
to the exchange, `_exchange`); `Client` has them from the `_Layers` mixin.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

from ._auth import Auth, authenticate, coerce_auth, netrc_auth
from ._cookies import with_jar_cookies
from ._exchange import _Call, _Exchange
from ._hooks import Handler, Hook, Middleware, call_hook, link
from ._models import Request, Response
from ._redirects import REDIRECT_STATUSES, follow_chain
from ._retry import Retry, send_with_retries

if TYPE_CHECKING:
    from http.cookiejar import CookieJar

_REDIRECTS = REDIRECT_STATUSES
_USE_CLIENT: Any = object()


class _Layers(_Exchange):
    """The layers of a `Client` around its exchange (see the module's docstring), with the
    client's attributes they read."""

    _auth: Auth | None
    _netrc: dict[str, Auth | None] | None
    _middleware: tuple[Middleware, ...]
    _jar: CookieJar | None
    _request_hooks: tuple[Hook, ...]
    _response_hooks: tuple[Hook, ...]
    _retry: Retry | None
    max_redirects: int

    def _auth_for(self, request: Request, auth: Any) -> Auth | None:
        """The auth of a request: its own, the client's, or `.netrc`'s for its host."""
        if auth is not _USE_CLIENT:
            return coerce_auth(auth)
        if self._auth is not None:
            return self._auth
        netrc = self._netrc
        if netrc is None or "authorization" in request.headers:
            return None
        host = request.url.host
        if host not in netrc:
            if len(netrc) >= 512:
                netrc.clear()
            netrc[host] = netrc_auth(host)
        return netrc[host]

    def _chain(self, call: _Call, flow: Auth | None) -> Handler:
        """The middlewares around auth, redirects and the exchange, outermost first."""

        async def innermost(request: Request) -> Response:
            if flow is None:
                return await self._following(request, call, None)
            return await authenticate(flow, request, lambda sent: self._following(sent, call, None))

        handler: Handler = innermost
        for middleware in reversed(self._middleware):
            handler = link(middleware, handler)
        return handler

    async def _following(self, request: Request, call: _Call, head: bytes | None) -> Response:
        """One request and the redirects it leads to."""
        response = await self._hop(request, call, head)
        if call.follow and response.status in _REDIRECTS:
            return await self._follow(request, response, call)
        return response

    def _follow(self, request: Request, response: Response, call: _Call) -> Awaitable[Response]:
        """Follow the redirects that `response` (to `request`) begins (see `follow_chain`).

        Not a coroutine function, so it adds no coroutine level; and the closure over `self`
        and `call` is made here because made in `request()` it would turn `self` there into a
        cell, which the fast path would pay for on every request."""
        return follow_chain(
            request,
            response,
            lambda sent: self._hop(sent, call, None),
            max_redirects=self.max_redirects,
        )

    async def _hop(self, request: Request, call: _Call, head: bytes | None) -> Response:
        """One request to one URL: cookies, hooks and retries around the exchange."""
        sent = with_jar_cookies(self._jar, request)
        if sent is not request:
            head = None  # the prepared head has no Cookie field
        for hook in self._request_hooks:
            await call_hook(hook, sent)
            head = None  # a hook may have changed the request
        retry = self._retry
        if retry is None:
            response = await self._send_once(
                sent, call.phases, call.deadline, call.stream, head, call
            )
        else:

            async def once(attempt: Request) -> Response:
                return await self._send_once(
                    attempt, call.phases, call.deadline, call.stream, None, call
                )

            response = await send_with_retries(retry, sent, once, deadline=call.deadline)
        for hook in self._response_hooks:
            await call_hook(hook, response)
        return response
