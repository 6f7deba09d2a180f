"""ConnectionPool on its own, with scripted connections (no socket): limits, waiting,
cancellation, eviction and expiry."""

from __future__ import annotations

import asyncio
import random
from typing import Any, cast

import pytest

import aioreq
from aioreq.connection import Connection, Origin
from aioreq.pool import ConnectionPool

pytestmark = pytest.mark.asyncio

A: Origin = ("http", "a.test", 80)
B: Origin = ("http", "b.test", 80)


class FakeConnection:
    """Just what the pool looks at."""

    def __init__(self, origin: Origin) -> None:
        self.origin = origin
        self.idle_since = 0.0
        self.reusable = True
        self.stale = False
        self.closed = False

    def close(self) -> None:
        self.closed = True

    async def aclose(self) -> None:
        self.closed = True


class Opener:
    def __init__(self, delay: float = 0.0) -> None:
        self.opened: list[FakeConnection] = []
        self.delay = delay

    async def __call__(self, origin: Origin, connect_timeout: float | None) -> Connection:
        if self.delay:
            await asyncio.sleep(self.delay)
        connection = FakeConnection(origin)
        self.opened.append(connection)
        return cast(Connection, connection)


def make(**limits: Any) -> tuple[ConnectionPool, Opener]:
    opener = Opener(limits.pop("delay", 0.0))
    return ConnectionPool(opener, aioreq.Limits(**limits)), opener


async def test_an_idle_connection_is_reused() -> None:
    pool, opener = make()
    first = await pool.acquire(A)
    pool.release(first, reusable=True)
    assert await pool.acquire(A) is first
    assert len(opener.opened) == 1


async def test_a_stale_or_expired_idle_connection_is_not_reused() -> None:
    pool, _opener = make(keepalive_expiry=0.05)
    stale = await pool.acquire(A)
    pool.release(stale, reusable=True)
    cast(FakeConnection, stale).stale = True
    fresh = await pool.acquire(A)
    assert fresh is not stale
    assert cast(FakeConnection, stale).closed
    pool.release(fresh, reusable=True)
    await asyncio.sleep(0.08)
    assert await pool.acquire(A) is not fresh
    assert cast(FakeConnection, fresh).closed


async def test_limits_hold_and_a_waiter_gets_the_released_connection() -> None:
    pool, _ = make(max_connections=2)
    one, two = await pool.acquire(A), await pool.acquire(A)
    waiting = asyncio.ensure_future(pool.acquire(A))
    await asyncio.sleep(0)
    assert not waiting.done()
    pool.release(one, reusable=True)
    assert await waiting is one
    assert pool.connection_count == 2
    pool.release(two, reusable=False)
    assert pool.connection_count == 1


async def test_per_host_limit() -> None:
    pool, _ = make(max_connections=10, max_connections_per_host=1)
    first = await pool.acquire(A)
    other = await pool.acquire(B)  # another host is not held up
    with pytest.raises(aioreq.PoolTimeout):
        await pool.acquire(A, timeout=0.05)
    pool.release(first, reusable=False)
    pool.release(other, reusable=False)
    assert pool.connection_count == 0


async def test_an_idle_connection_of_another_origin_gives_up_its_slot() -> None:
    pool, _ = make(max_connections=1)
    a = await pool.acquire(A)
    pool.release(a, reusable=True)
    b = await pool.acquire(B, timeout=0.05)
    assert cast(FakeConnection, a).closed
    assert b.origin == B


async def test_pool_timeout_then_the_slot_still_works() -> None:
    pool, _ = make(max_connections=1)
    held = await pool.acquire(A)
    with pytest.raises(aioreq.PoolTimeout, match=r"no connection to a\.test:80"):
        await pool.acquire(A, timeout=0.02)
    pool.release(held, reusable=True)
    assert await pool.acquire(A, timeout=0.02) is held


async def test_a_cancelled_waiter_that_was_handed_a_connection_gives_it_back() -> None:
    pool, _ = make(max_connections=1)
    held = await pool.acquire(A)
    waiting = asyncio.ensure_future(pool.acquire(A))
    await asyncio.sleep(0)
    pool.release(held, reusable=True)  # handed to the waiter...
    waiting.cancel()  # ...which is cancelled before it runs
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert pool.idle_count == 1
    assert await pool.acquire(A, timeout=0.02) is held


async def test_a_failed_connect_frees_its_slot() -> None:
    async def refuse(origin: Origin, connect_timeout: float | None) -> Connection:
        raise aioreq.ConnectError("refused")

    pool = ConnectionPool(refuse, aioreq.Limits(max_connections=1))
    for _ in range(3):
        with pytest.raises(aioreq.ConnectError):
            await pool.acquire(A)
    assert pool.connection_count == 0


async def test_random_cancellations_never_leak_a_slot() -> None:
    """Thousands of acquisitions cancelled at random moments (while waiting, while
    connecting, after being handed a connection): the counts always come back."""
    rng = random.Random(7)
    pool, opener = make(max_connections=4, max_connections_per_host=3, delay=0.001)

    async def use(origin: Origin) -> None:
        connection = await pool.acquire(origin, timeout=1)
        try:
            await asyncio.sleep(rng.random() * 0.002)
        finally:
            pool.release(connection, reusable=rng.random() < 0.7)

    for _ in range(40):
        tasks = [asyncio.ensure_future(use(rng.choice((A, B)))) for _ in range(60)]
        await asyncio.sleep(rng.random() * 0.004)
        for task in tasks:
            if rng.random() < 0.5:
                task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        assert pool.connection_count == pool.idle_count <= 4
    opened = len(opener.opened)
    closed = sum(c.closed for c in opener.opened)
    assert opened - closed == pool.connection_count
    await pool.aclose()
    assert all(c.closed for c in opener.opened)
