"""Batches of sequential POSTs, run concurrently: each chain waits on itself, not on the others.

A chain is a run of JSON POSTs where each request needs the previous response: here a counter
service hands out a token with each count, and the next POST must bring that token back (a
used or unknown token gets 409 Conflict). Within a chain the requests cannot overlap; the
chains, though, are independent, so K of them run side by side under `asyncio.gather` on one
`aioreq.Client`, each on a kept-alive connection of its own from the client's pool. The same
chains are then run one after another, for comparison: the time of a chain is mostly waiting
for the server, and concurrency overlaps the waits.

Run it::

    python examples/sequential_batches.py               # against an embedded server
    python examples/sequential_batches.py http://127.0.0.1:8000/counter --chains 16 --steps 50

A URL given must speak the same small protocol as the embedded server (`demo_app` below):
`POST {"token": null}` starts a counter at 1, `POST {"token": t}` counts on from the token's
count, and each answer is `{"token": <the next token>, "count": n}`. The embedded server takes
5 ms to answer, like a service on the same network. The exit status is 1 if a chain did not
count to its end.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
import time
from collections.abc import Awaitable, Callable

import aioreq
from aioreq.server import Request, Response, serve


async def run_chain(client: aioreq.Client, url: str, steps: int) -> int:
    """POST `steps` times, each with the token of the answer before; return the last count."""
    token: str | None = None
    count = 0
    for _ in range(steps):
        response = await client.post(url, json={"token": token})
        response.raise_for_status()
        reply = response.json()
        token, count = reply["token"], reply["count"]
    return count


async def concurrently(client: aioreq.Client, url: str, chains: int, steps: int) -> list[int]:
    """The chains side by side."""
    return await asyncio.gather(*(run_chain(client, url, steps) for _ in range(chains)))


async def one_after_another(client: aioreq.Client, url: str, chains: int, steps: int) -> list[int]:
    """The chains in turn."""
    return [await run_chain(client, url, steps) for _ in range(chains)]


async def compare(url: str, chains: int, steps: int) -> bool:
    """Time both ways; True if every chain counted to `steps`."""
    ways: dict[str, Callable[[aioreq.Client, str, int, int], Awaitable[list[int]]]] = {
        "concurrently": concurrently,
        "one after another": one_after_another,
    }
    seconds = {}
    counts = []
    async with aioreq.Client(timeout=10) as client:
        for name, run in ways.items():
            started = time.perf_counter()
            counts += await run(client, url, chains, steps)
            seconds[name] = time.perf_counter() - started
            print(f"{name}: {chains} chains of {steps} POSTs in {seconds[name]:.2f} s")
    speedup = seconds["one after another"] / seconds["concurrently"]
    print(f"concurrency saved {1 - 1 / speedup:.0%} of the time ({speedup:.1f}x)")
    return all(count == steps for count in counts)


async def main(url: str | None, chains: int, steps: int) -> int:
    if url is not None:
        complete = await compare(url, chains, steps)
    else:
        async with await serve(demo_app, "127.0.0.1", 0) as server:
            complete = await compare(f"{server.url}/counter", chains, steps)
    print("every chain counted to its end" if complete else "a chain fell short")
    return 0 if complete else 1


# The embedded server, only there so that the example runs offline: the counter service.

DEMO_LATENCY = 0.005
COUNTS: dict[str, int] = {}  # the count each token still open was given with


async def demo_app(request: Request) -> Response:
    await asyncio.sleep(DEMO_LATENCY)
    token = (await request.json())["token"]
    if token is not None and token not in COUNTS:
        return Response(409, json={"error": f"token {token!r} is unknown or used"})
    count = 1 + (COUNTS.pop(token) if token is not None else 0)
    fresh = secrets.token_hex(8)
    COUNTS[fresh] = count
    return Response(json={"token": fresh, "count": count})


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("url", nargs="?", help="the counter service (default: a local one)")
    parser.add_argument("--chains", type=int, default=8, help="how many chains run at once")
    parser.add_argument("--steps", type=int, default=20, help="the POSTs in each chain")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.url, args.chains, args.steps)))
