"""Middlewares, event hooks, trace events, progress callbacks, Expect: 100-continue, Unix
sockets, `OPTIONS *` and per-request cookies -- over real sockets."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import trustme

import aioreq
from aioreq.server import Request as ServerRequest
from aioreq.server import Response as ServerResponse
from aioreq.server import serve
from pytest_aioreq import FakeServer

pytestmark = pytest.mark.asyncio


# -- middleware ------------------------------------------------------------------------------------


async def test_middlewares_run_in_order_and_may_change_request_and_response(
    aioreq_server: FakeServer,
) -> None:
    seen: list[str] = []

    async def outer(request: aioreq.Request, call_next: Any) -> aioreq.Response:
        seen.append("outer in")
        request.headers["X-Outer"] = "1"
        response = await call_next(request)
        seen.append("outer out")
        response.headers["X-Seen-By"] = "outer"
        return response

    async def inner(request: aioreq.Request, call_next: Any) -> aioreq.Response:
        seen.append("inner in")
        request.headers["X-Inner"] = request.headers["X-Outer"] + "2"
        response = await call_next(request)
        seen.append("inner out")
        return response

    async with aioreq.Client(middleware=[outer, inner]) as client:
        response = await client.get(aioreq_server.url_for("/headers"))
    assert seen == ["outer in", "inner in", "inner out", "outer out"]
    sent = dict(response.json()["headers"])
    assert (sent["X-Outer"], sent["X-Inner"]) == ("1", "12")
    assert response.headers["x-seen-by"] == "outer"


async def test_a_middleware_can_answer_without_the_network() -> None:
    async def cached(request: aioreq.Request, call_next: Any) -> aioreq.Response:
        return aioreq.Response(200, b"OK", "HTTP/1.1", [], request, body=b"from cache")

    async with aioreq.Client(middleware=[cached]) as client:
        response = await client.get("http://127.0.0.1:9/never-connected")
    assert response.body == b"from cache"


async def test_middlewares_are_per_client(aioreq_server: FakeServer) -> None:
    """The original aioreq kept middlewares in a module-level list: one client's leaked into
    every other."""
    calls: list[str] = []

    async def counting(request: aioreq.Request, call_next: Any) -> aioreq.Response:
        calls.append(str(request.url))
        return await call_next(request)

    async with aioreq.Client(middleware=[counting]) as with_it, aioreq.Client() as without:
        await with_it.get(aioreq_server.url_for("/status/204"))
        await without.get(aioreq_server.url_for("/status/204"))
    assert len(calls) == 1


async def test_middlewares_run_on_the_streaming_path_before_the_body(
    aioreq_server: FakeServer,
) -> None:
    unread: list[bool] = []

    async def watch(request: aioreq.Request, call_next: Any) -> aioreq.Response:
        response = await call_next(request)
        with pytest.raises(RuntimeError, match="has not been read"):
            response.body  # noqa: B018 -- the middleware runs before the body is read
        unread.append(True)
        response.headers["X-Streamed"] = "yes"
        return response

    async with (
        aioreq.Client(middleware=[watch]) as client,
        client.stream("GET", aioreq_server.url_for("/bytes/100000")) as response,
    ):
        assert response.headers["x-streamed"] == "yes"
        received = sum([len(chunk) async for chunk in response.iter_bytes()])
    assert received == 100000
    assert unread == [True]


async def test_middlewares_see_the_redirects_as_one_call(aioreq_server: FakeServer) -> None:
    urls: list[str] = []

    async def log(request: aioreq.Request, call_next: Any) -> aioreq.Response:
        urls.append(str(request.url))
        return await call_next(request)

    async with aioreq.Client(middleware=[log]) as client:
        response = await client.get(aioreq_server.url_for("/redirect/2"))
    assert urls == [aioreq_server.url_for("/redirect/2")]
    assert len(response.history) == 2


# -- event hooks -----------------------------------------------------------------------------------


async def test_event_hooks_see_every_hop_sync_and_async(aioreq_server: FakeServer) -> None:
    requests: list[str] = []
    statuses: list[int] = []

    def on_request(request: aioreq.Request) -> None:
        requests.append(request.url.target.decode())
        request.headers["X-Hooked"] = "yes"

    async def on_response(response: aioreq.Response) -> None:
        await asyncio.sleep(0)
        statuses.append(response.status)

    hooks = {"request": [on_request], "response": [on_response]}
    async with aioreq.Client(event_hooks=hooks) as client:
        response = await client.get(aioreq_server.url_for("/redirect/2"))
        again = await client.get(aioreq_server.url_for("/headers"))
    assert requests == ["/redirect/2", "/redirect/1", "/echo", "/headers"]
    assert statuses == [302, 302, 200, 200]
    assert ["X-Hooked", "yes"] in response.json()["headers"]
    assert ["X-Hooked", "yes"] in again.json()["headers"]


async def test_a_hook_may_raise_for_status(aioreq_server: FakeServer) -> None:
    def check(response: aioreq.Response) -> None:
        response.raise_for_status()

    async with aioreq.Client(event_hooks={"response": [check]}) as client:
        with pytest.raises(aioreq.HTTPStatusError):
            await client.get(aioreq_server.url_for("/status/503"))


async def test_unknown_hook_names_are_refused() -> None:
    with pytest.raises(ValueError, match="'request' and 'response'"):
        aioreq.Client(event_hooks={"requests": []})


# -- trace -----------------------------------------------------------------------------------------


async def test_trace_events_of_a_new_then_a_reused_connection(aioreq_server: FakeServer) -> None:
    events: list[tuple[str, dict[str, Any]]] = []
    async with aioreq.Client(trace=lambda name, info: events.append((name, info))) as client:
        await client.get(aioreq_server.url_for("/bytes/10"))
        await client.get(aioreq_server.url_for("/bytes/10"))
    names = [name for name, _ in events]
    assert names == [
        "connection_created",
        "connection_acquired",
        "request_sent",
        "response_headers",
        "response_done",
        "connection_acquired",
        "request_sent",
        "response_headers",
        "response_done",
    ]
    assert set(names) <= set(aioreq.TRACE_EVENTS)
    info = dict(events)
    assert events[0][1]["remote"][:2] == ("127.0.0.1", aioreq_server.port)
    assert [i["reused"] for n, i in events if n == "connection_acquired"] == [False, True]
    assert info["response_headers"]["status"] == 200
    assert info["response_done"]["bytes"] == 10
    assert all(i.get("seconds", 0) >= 0 for _, i in events)


async def test_trace_separates_tcp_and_tls(
    aioreq_tls_server: FakeServer, aioreq_ca: trustme.CA
) -> None:
    events: list[tuple[str, dict[str, Any]]] = []
    context = aioreq_tls_server.client_ssl_context()
    async with (
        aioreq.Client(verify=context, trace=lambda n, i: events.append((n, i))) as client,
        client.stream("GET", aioreq_tls_server.url_for("/bytes/5")) as response,
    ):
        await response.aread()
    names = [name for name, _ in events]
    assert names[:2] == ["connection_created", "tls_done"]
    assert names[-1] == "response_done"
    assert events[1][1]["version"] in ("TLSv1.2", "TLSv1.3")


# -- progress --------------------------------------------------------------------------------------


async def test_upload_and_download_progress(aioreq_server: FakeServer) -> None:
    up: list[tuple[int, int | None]] = []
    down: list[tuple[int, int | None]] = []
    body = b"x" * 200_000
    async with aioreq.Client() as client:
        response = await client.post(
            aioreq_server.url_for("/echo"),
            content=body,
            upload_progress=lambda done, total: up.append((done, total)),
        )
        assert len(response.json()["body"]) == 200_000
        fetched = await client.get(
            aioreq_server.url_for("/bytes/300000"),
            download_progress=lambda done, total: down.append((done, total)),
        )
    assert fetched.body == bytes(i % 256 for i in range(300_000))
    assert up[-1] == (200_000, 200_000)
    assert [done for done, _ in up] == sorted(done for done, _ in up)
    assert len(up) == 4  # 64 KiB pieces
    assert down[-1] == (300_000, 300_000)
    assert all(total == 300_000 for _, total in down)


async def test_progress_of_a_stream_of_unknown_length(aioreq_server: FakeServer) -> None:
    up: list[tuple[int, int | None]] = []

    async def pieces() -> AsyncIterator[bytes]:
        for _ in range(3):
            yield b"abc"

    async with aioreq.Client() as client:
        response = await client.post(
            aioreq_server.url_for("/echo"),
            content=pieces(),
            upload_progress=lambda done, total: up.append((done, total)),
        )
    assert response.json()["body"] == "abcabcabc"
    assert up == [(3, None), (6, None), (9, None)]


# -- Expect: 100-continue --------------------------------------------------------------------------


async def test_expect_continue_sends_the_body_after_the_100(aioreq_server: FakeServer) -> None:
    async with aioreq.Client(expect_continue=1000) as client:
        big = await client.post(aioreq_server.url_for("/echo"), content=b"y" * 5000)
        small = await client.post(aioreq_server.url_for("/echo"), content=b"small")
    assert len(big.json()["body"]) == 5000
    assert ["Expect", "100-continue"] in big.json()["headers"]
    assert "expect" not in {name.lower() for name, _ in small.json()["headers"]}


async def test_a_refusal_before_the_body_keeps_the_body_unsent() -> None:
    received: list[int] = []

    async def app(request: ServerRequest) -> ServerResponse:
        if request.target == "/refuse":
            return ServerResponse(413, body=b"too big for me")
        received.append(len(await request.body()))
        return ServerResponse(200, body=b"ok")

    server = await serve(app)
    try:
        async with aioreq.Client(expect_continue=1) as client:
            refused = await client.put(server.url + "/refuse", content=b"z" * 1_000_000)
            accepted = await client.put(server.url + "/accept", content=b"z" * 1000)
    finally:
        await server.close()
    assert refused.status == 413
    assert refused.text == "too big for me"
    assert accepted.status == 200
    assert received == [1000]


async def test_a_server_that_ignores_expect_gets_the_body_after_a_wait() -> None:
    """RFC 9110 §10.1.1: a client need not wait forever for a 100 that an older server never
    sends; aioreq waits a second (CONTINUE_WAIT), then sends the body."""
    waited: list[float] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        loop = asyncio.get_running_loop()
        started = loop.time()
        assert b"Expect: 100-continue" in head
        body = await reader.readexactly(4)
        waited.append(loop.time() - started)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n" + body)
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with aioreq.Client(expect_continue=1) as client:
            response = await client.post(f"http://127.0.0.1:{port}/", content=b"data")
    finally:
        server.close()
        await server.wait_closed()
    assert response.body == b"data"
    assert 0.9 <= waited[0] < 5


# -- Unix sockets, OPTIONS *, per-request cookies --------------------------------------------------


async def test_requests_over_a_unix_socket(aioreq_server_unix: FakeServer) -> None:
    assert aioreq_server_unix.uds is not None
    async with aioreq.Client(uds=aioreq_server_unix.uds) as client:
        response = await client.get("http://localhost/echo?x=1")
        again = await client.get("http://localhost/status/204")
    assert response.json()["query"] == {"x": ["1"]}
    assert again.status == 204
    assert ["Host", "localhost"] in response.json()["headers"]


async def test_options_asterisk() -> None:
    targets: list[str] = []

    async def app(request: ServerRequest) -> ServerResponse:
        targets.append(request.target)
        return ServerResponse(204, headers={"Allow": "GET, OPTIONS"})

    server = await serve(app)
    try:
        async with aioreq.Client(base_url=server.url) as client:
            response = await client.options("*")
    finally:
        await server.close()
    assert targets == ["*"]
    assert response.headers["allow"] == "GET, OPTIONS"


async def test_per_request_cookies_join_the_jars(aioreq_server: FakeServer) -> None:
    async with aioreq.Client(cookies={"a": "1", "b": "2"}) as client:
        response = await client.get(aioreq_server.url_for("/cookies"), cookies={"b": "3", "c": "4"})
        plain = await client.get(aioreq_server.url_for("/cookies"))
    assert response.json() == {"cookies": {"a": "1", "b": "3", "c": "4"}}
    assert plain.json() == {"cookies": {"a": "1", "b": "2"}}
    assert "c" not in {cookie.name for cookie in client.cookies}


@pytest.mark.parametrize(
    ("name", "value"),
    [("a", "1; admin=true"), ("a", "x\r\nX-Injected: 1"), ("a b", "1"), ("a", "\x00")],
)
async def test_cookie_injection_is_refused(name: str, value: str) -> None:
    async with aioreq.Client() as client:
        with pytest.raises(aioreq.LocalProtocolError):
            await client.get("http://127.0.0.1:9/", cookies={name: value})
    with pytest.raises(aioreq.LocalProtocolError):
        aioreq.Client(cookies={name: value})


async def test_a_json_middleware_example(aioreq_server: FakeServer) -> None:
    """The docs' example: a middleware that adds a request id and times the call."""
    timings: list[float] = []

    async def request_id(request: aioreq.Request, call_next: Any) -> aioreq.Response:
        request.headers["X-Request-Id"] = "42"
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            return await call_next(request)
        finally:
            timings.append(loop.time() - started)

    async with aioreq.Client(middleware=[request_id]) as client:
        response = await client.post(aioreq_server.url_for("/echo"), json={"k": "v"})
    assert json.loads(response.json()["body"]) == {"k": "v"}
    assert ["X-Request-Id", "42"] in response.json()["headers"]
    assert len(timings) == 1
