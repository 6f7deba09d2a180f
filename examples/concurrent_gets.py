"""Many concurrent GETs, two ways: `aioreq.get_requests`, and a `Client` of your own.

1. `aioreq.get_requests(urls, concurrency=N, return_exceptions=True)` is one call: at most N
   requests in flight over kept-alive connections, the responses (bodies read) in the order of
   the URLs. With `return_exceptions=True` a URL that failed has its exception in its place;
   without it the first failure is raised and the other results are lost.
2. An `aioreq.Client` with a semaphore around each `client.get`, under `asyncio.gather`: a few
   more lines, but each request may take options of its own (headers, a timeout...), errors
   are caught where they happen, and the client with its pool serves further requests after.

Each prints the requests sent, what they came to (statuses, errors), the time and the rate.

Run it::

    python examples/concurrent_gets.py                  # against an embedded server
    python examples/concurrent_gets.py https://example.org/ https://example.com/ -n 20 -c 4

With no URL the script serves `/items/{n}` itself, on 127.0.0.1 with `aioreq.server`: a few
of its answers are 404s and a few are cut short, so that the error handling has work to do.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence

import aioreq
from aioreq.server import RawResponse, Request, Response, serve

#: A response or the exception of its request, in the order of the URLs.
Results = Sequence[aioreq.Response | BaseException]


async def with_get_requests(urls: list[str], concurrency: int) -> Results:
    """GET every URL with `aioreq.get_requests`."""
    return await aioreq.get_requests(
        urls, concurrency=concurrency, return_exceptions=True, timeout=10
    )


async def with_a_client(urls: list[str], concurrency: int) -> Results:
    """GET every URL with a client, `concurrency` at a time."""
    limits = aioreq.Limits(max_connections=concurrency)
    async with aioreq.Client(limits=limits, timeout=10) as client:
        gate = asyncio.Semaphore(concurrency)

        async def fetch(url: str) -> aioreq.Response | aioreq.AioreqError:
            async with gate:
                try:
                    return await client.get(url)
                except aioreq.AioreqError as error:  # ConnectError, ReadTimeout, ...
                    return error

        return await asyncio.gather(*(fetch(url) for url in urls))


def outcomes(results: Results) -> str:
    """What the requests came to, e.g. "200 x 96, 404 x 2, RemoteProtocolError x 2"."""
    counts = Counter(
        str(result.status) if isinstance(result, aioreq.Response) else type(result).__name__
        for result in results
    )
    return ", ".join(f"{outcome} x {count}" for outcome, count in sorted(counts.items()))


async def compare(urls: list[str], concurrency: int) -> None:
    """GET the URLs both ways, and print what each came to."""
    ways: dict[str, Callable[[list[str], int], Awaitable[Results]]] = {
        "get_requests": with_get_requests,
        "Client + gather": with_a_client,
    }
    for name, fetch_all in ways.items():
        started = time.perf_counter()
        results = await fetch_all(urls, concurrency)
        seconds = time.perf_counter() - started
        print(
            f"{name}: {len(results)} requests in {seconds:.2f} s "
            f"({len(results) / seconds:,.0f}/s): {outcomes(results)}"
        )


async def main(urls: list[str], requests: int, concurrency: int) -> None:
    if urls:
        await compare([urls[n % len(urls)] for n in range(requests)], concurrency)
        return
    async with await serve(demo_app, "127.0.0.1", 0) as server:
        await compare([f"{server.url}/items/{n}" for n in range(requests)], concurrency)


# The embedded server, only there so that the example runs offline: /items/{n} answers JSON,
# except a 404 for n = 7, 57, 107... and a body cut short for n = 99, 199...


async def demo_app(request: Request) -> Response | RawResponse:
    item = request.path.removeprefix("/items/")
    if not item.isdigit() or int(item) % 50 == 7:
        return Response(404, text="no such item")
    if int(item) % 100 == 99:
        return RawResponse(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\ncut short")
    return Response(json={"item": int(item)})


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("urls", nargs="*", help="URLs to GET in turn (default: a local server)")
    parser.add_argument("-n", "--requests", type=int, default=1000, help="how many GETs in all")
    parser.add_argument("-c", "--concurrency", type=int, default=64, help="the most at once")
    args = parser.parse_args()
    asyncio.run(main(args.urls, args.requests, args.concurrency))
