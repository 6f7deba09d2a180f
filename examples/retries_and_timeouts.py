"""Retries and timeouts: a server that fails now and then, and one that answers late.

- `Client(retries=aioreq.Retry(total=4, backoff_factor=0.05))`: a GET that fails to connect,
  breaks off, times out or gets 429, 502, 503 or 504 is sent again, after 0, 0.1, 0.2 and
  0.4 s (or as long as the response's `Retry-After` asks). Once the retries are spent, the
  last response is returned as it is, and `raise_for_status()` makes it an
  `aioreq.HTTPStatusError`. A POST is not sent again once it may have reached the server
  (RFC 9110 §9.2.2), unless the policy's `allowed_methods` names it.
- `aioreq.Timeout(5, read=1, total=2)`: every phase has its deadline (connect 5 s; read 1 s,
  the longest wait for the next piece of the response), and `total` bounds the whole request,
  its retries and their waits included. A late server raises `aioreq.ReadTimeout`, which is a
  builtin `TimeoutError` too.

A `trace=` function counts the attempts: it sees every request sent, retries included (event
hooks run once per hop of a redirect chain, not once per attempt).

Run it::

    python examples/retries_and_timeouts.py           # against an embedded server
    python examples/retries_and_timeouts.py https://example.org/ --retries 2 --read 10 --total 30

With no URL the script serves three paths itself: /flaky (a 503 twice, then 200), /down (503
every time) and /slow (5 s late).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import time
from typing import Any

import aioreq
from aioreq.server import Request, Response, serve


class Attempts:
    """A `trace` function that counts the requests sent."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, event: str, info: dict[str, Any]) -> None:
        if event == "request_sent":
            self.count += 1


async def get_and_report(client: aioreq.Client, attempts: Attempts, url: str) -> None:
    """GET `url`; print what came of it, after how many attempts, in how long."""
    attempts.count = 0
    started = time.perf_counter()
    try:
        response = (await client.get(url)).raise_for_status()
        outcome = f"{response.status} {response.status_message}"
    except aioreq.AioreqError as error:
        outcome = f"{type(error).__name__}: {error}"
    seconds = time.perf_counter() - started
    print(f"GET {url}: {attempts.count} attempt(s) in {seconds:.2f} s: {outcome}")


async def get_all(urls: list[str], *, retries: int, read: float, total: float) -> None:
    """GET the URLs one after another, with the retry policy and the timeouts."""
    attempts = Attempts()
    policy = aioreq.Retry(total=retries, backoff_factor=0.05)
    timeout = aioreq.Timeout(5, read=read, total=total)
    async with aioreq.Client(retries=policy, timeout=timeout, trace=attempts) as client:
        for url in urls:
            await get_and_report(client, attempts, url)


async def main(urls: list[str], retries: int, read: float, total: float) -> None:
    if urls:
        await get_all(urls, retries=retries, read=read, total=total)
        return
    # No grace period at close: the handler of /slow is still asleep then.
    async with await serve(demo_app, "127.0.0.1", 0, graceful_shutdown=0) as server:
        urls = [f"{server.url}{path}" for path in ("/flaky", "/down", "/slow")]
        await get_all(urls, retries=retries, read=read, total=total)


# The embedded server, only there so that the example runs offline.

CALLS = itertools.count(1)


async def demo_app(request: Request) -> Response:
    if request.path == "/flaky" and next(CALLS) % 3:
        return Response(503, text="busy, try again")
    if request.path == "/down":
        return Response(503, text="down for maintenance")
    if request.path == "/slow":
        await asyncio.sleep(5)
    return Response(text="done")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("urls", nargs="*", help="URLs to GET (default: a local server's)")
    parser.add_argument("--retries", type=int, default=4, help="the most retries a request")
    parser.add_argument("--read", type=float, default=1.0, help="the read timeout, seconds")
    parser.add_argument("--total", type=float, default=2.0, help="the total timeout, seconds")
    args = parser.parse_args()
    asyncio.run(main(args.urls, args.retries, args.read, args.total))
