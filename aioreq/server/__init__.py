"""A small, fast HTTP/1.1 server: `await serve(app)`, where `app` is `async (Request) -> Response`.

Example::

    from aioreq.server import Request, Response, serve

    async def app(request: Request) -> Response:
        return Response(text=f"hello from {request.path}")

    async with await serve(app, port=8080) as server:
        print(server.url)
        await server.serve_forever()

Each connection runs in its own task: keep-alive and pipelining, HTTP/1.0, chunked request
bodies read as a stream, streamed responses (chunked, with trailers), `Expect: 100-continue`,
HEAD, idle and slow-client timeouts and size limits (`ServerLimits`). A malformed request gets
the status its error calls for (400, 408, 413, 414, 431, 501) and a close; an application's
exception gets a 500 and is logged on the "aioreq.server" logger. It is also the engine of the
`pytest_aioreq` fixtures, which is why `RawResponse` can send bytes no correct server would.
"""

from ._messages import Body, RawResponse, Request, Response, Trailers
from ._serve import App, Server, ServerLimits, run, serve
from ._writing import http_date

__all__ = [
    "App",
    "Body",
    "RawResponse",
    "Request",
    "Response",
    "Server",
    "ServerLimits",
    "Trailers",
    "http_date",
    "run",
    "serve",
]
