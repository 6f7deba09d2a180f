"""`Retry` over real sockets: statuses, Retry-After, dropped connections, refused connects."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

import aioreq
from aioreq.server import Response as ServerResponse
from pytest_aioreq import FakeServer

pytestmark = pytest.mark.asyncio


def _failing_then(status: int, times: int, headers: dict[str, str] | None = None) -> Any:
    calls = {"n": 0}

    def handler(recorded: Any) -> ServerResponse:
        calls["n"] += 1
        if calls["n"] <= times:
            return ServerResponse(status, headers=headers or {}, body=b"busy")
        return ServerResponse(200, body=b"done")

    return handler


async def test_retries_are_off_by_default(aioreq_server: FakeServer) -> None:
    async with aioreq.Client() as client:
        assert client.retries is None
        assert (await client.get(aioreq_server.url_for("/status/503"))).status == 503
    assert len(aioreq_server.requests) == 1


async def test_a_503_is_retried_until_it_passes(aioreq_server: FakeServer) -> None:
    aioreq_server.expect("GET", "/flaky").respond_with(_failing_then(503, 2))
    async with aioreq.Client(retries=3) as client:
        response = await client.get(aioreq_server.url_for("/flaky"))
    assert response.status == 200
    assert len(aioreq_server.requests) == 3


async def test_when_retries_run_out_the_last_response_is_returned(
    aioreq_server: FakeServer,
) -> None:
    async with aioreq.Client(retries=aioreq.Retry(total=2)) as client:
        response = await client.get(aioreq_server.url_for("/status/502"))
    assert response.status == 502
    assert len(aioreq_server.requests) == 3


async def test_a_post_is_retried_only_when_allowed(aioreq_server: FakeServer) -> None:
    async with aioreq.Client(retries=2) as client:
        assert (await client.post(aioreq_server.url_for("/status/503"), content=b"x")).status == 503
    assert len(aioreq_server.requests) == 1
    aioreq_server.clear()
    policy = aioreq.Retry(total=2, allowed_methods={"GET", "POST"})
    async with aioreq.Client(retries=policy) as client:
        await client.post(aioreq_server.url_for("/status/503"), content=b"x")
    assert len(aioreq_server.requests) == 3
    assert {r.body for r in aioreq_server.requests} == {b"x"}


async def test_retry_after_is_respected(aioreq_server: FakeServer) -> None:
    aioreq_server.expect("GET", "/later").respond_with(_failing_then(429, 1, {"Retry-After": "1"}))
    async with aioreq.Client(retries=1) as client:
        started = time.monotonic()
        response = await client.get(aioreq_server.url_for("/later"))
        waited = time.monotonic() - started
    assert response.status == 200
    assert 0.9 <= waited < 5


async def test_a_retry_after_past_the_limit_returns_the_response(
    aioreq_server: FakeServer,
) -> None:
    aioreq_server.expect("GET", "/much-later").respond(503, headers={"Retry-After": "3600"})
    async with aioreq.Client(retries=aioreq.Retry(total=3, retry_after_max=60)) as client:
        response = await client.get(aioreq_server.url_for("/much-later"))
    assert response.status == 503
    assert len(aioreq_server.requests) == 1


async def test_a_dropped_connection_is_retried_for_a_get_only(aioreq_server: FakeServer) -> None:
    async with aioreq.Client(retries=2) as client:
        with pytest.raises((aioreq.RemoteProtocolError, aioreq.ReadError)):
            await client.get(aioreq_server.url_for("/close"))
        assert len(aioreq_server.requests) == 3
        aioreq_server.clear()
        aioreq_server.strict = False
        with pytest.raises((aioreq.RemoteProtocolError, aioreq.ReadError)):
            await client.post(aioreq_server.url_for("/close"), content=b"once")
        assert len(aioreq_server.requests) == 1
        # The pool is whole afterwards.
        assert (await client.get(aioreq_server.url_for("/status/204"))).status == 204


async def test_a_refused_connection_is_retried_with_backoff(unused_tcp_port: int) -> None:
    policy = aioreq.Retry(total=3, backoff_factor=0.1)
    async with aioreq.Client(retries=policy) as client:
        started = time.monotonic()
        with pytest.raises(aioreq.ConnectError):
            await client.post(f"http://127.0.0.1:{unused_tcp_port}/", content=b"never sent")
        waited = time.monotonic() - started
    # urllib3's schedule: no wait before the first retry, then 0.2 and 0.4 seconds.
    assert 0.55 <= waited < 5


async def test_retries_stop_at_the_total_timeout(aioreq_server: FakeServer) -> None:
    aioreq_server.expect("GET", "/slowly").respond(503, headers={"Retry-After": "2"})
    timeout = aioreq.Timeout(5, total=0.5)
    async with aioreq.Client(retries=5, timeout=timeout) as client:
        started = time.monotonic()
        response = await client.get(aioreq_server.url_for("/slowly"))
    assert response.status == 503
    assert time.monotonic() - started < 0.5


async def test_retries_and_cancellation(aioreq_server: FakeServer) -> None:
    aioreq_server.expect("GET", "/wait").respond(503, headers={"Retry-After": "10"})
    async with aioreq.Client(retries=2) as client:
        task = asyncio.ensure_future(client.get(aioreq_server.url_for("/wait")))
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert (await client.get(aioreq_server.url_for("/status/204"))).status == 204
