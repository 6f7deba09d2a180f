"""The standard library's clients (`http.client`, `urllib.request`) against `aioreq.server`.

They run in a thread (`asyncio.to_thread`), since the server runs on the test's event loop.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import ssl
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from .conftest import TIMEOUT, App, StartServer, pattern

pytestmark = pytest.mark.asyncio


def keep_alive_session(conn: http.client.HTTPConnection) -> list[tuple[int, Any]]:
    """Three requests on one `HTTPConnection`; each response is read whole before the next."""
    results: list[tuple[int, Any]] = []
    try:
        for index in range(3):
            conn.request("GET", f"/echo?i={index}")
            response = conn.getresponse()
            results.append((response.status, json.loads(response.read())))
            assert not response.will_close
    finally:
        conn.close()
    return results


async def test_http_client_reuses_one_connection(start: StartServer, app: App) -> None:
    """RFC 9112 §9.3: http.client keeps the connection when the server does."""
    server = await start()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=TIMEOUT)
    results = await asyncio.to_thread(keep_alive_session, conn)
    assert [status for status, _ in results] == [200, 200, 200]
    assert [data["query"] for _, data in results] == [{"i": [str(i)]} for i in range(3)]
    assert len(app.ports) == 3
    assert len(set(app.ports)) == 1  # one client port: one connection


@pytest.mark.ipv6
async def test_http_client_over_ipv6(start: StartServer, app: App) -> None:
    server = await start(host="::1")
    conn = http.client.HTTPConnection("::1", server.port, timeout=TIMEOUT)
    results = await asyncio.to_thread(keep_alive_session, conn)
    assert [status for status, _ in results] == [200, 200, 200]
    assert len(set(app.ports)) == 1


async def test_http_client_over_tls(
    start: StartServer, app: App, server_ssl: ssl.SSLContext, client_ssl: ssl.SSLContext
) -> None:
    server = await start(ssl=server_ssl)
    conn = http.client.HTTPSConnection(
        "127.0.0.1", server.port, timeout=TIMEOUT, context=client_ssl
    )
    results = await asyncio.to_thread(keep_alive_session, conn)
    assert [data["scheme"] for _, data in results] == ["https"] * 3
    assert len(set(app.ports)) == 1


async def test_http_client_chunked_upload(start: StartServer) -> None:
    """RFC 9112 §7.1: a body sent with `encode_chunked=True` arrives whole, with the next
    request on the same connection still framed right."""
    server = await start()

    def pieces() -> Iterator[bytes]:
        yield b"first,"
        yield b"second,"
        yield b"third"

    def run() -> tuple[Any, Any]:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=TIMEOUT)
        try:
            conn.request(
                "POST",
                "/echo",
                body=pieces(),
                headers={"Transfer-Encoding": "chunked", "Content-Type": "text/plain"},
                encode_chunked=True,
            )
            first = json.loads(conn.getresponse().read())
            conn.request("POST", "/echo", body=b"plain")
            second = json.loads(conn.getresponse().read())
        finally:
            conn.close()
        return first, second

    first, second = await asyncio.to_thread(run)
    assert first["body"] == "first,second,third"
    assert first["transfer_encoding"] == "chunked"
    assert first["content_type"] == "text/plain"
    assert second["body"] == "plain"


async def test_http_client_head_then_get(start: StartServer) -> None:
    """RFC 9110 §9.3.2: HEAD gets GET's Content-Length and no body; the connection is reused."""
    server = await start()
    size = 100_000

    def run() -> tuple[str | None, bytes, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=TIMEOUT)
        try:
            conn.request("HEAD", f"/bytes?n={size}")
            head = conn.getresponse()
            head_body = head.read()
            length = head.getheader("Content-Length")
            conn.request("GET", f"/bytes?n={size}")
            get_body = conn.getresponse().read()
        finally:
            conn.close()
        return length, head_body, get_body

    length, head_body, get_body = await asyncio.to_thread(run)
    assert length == str(size)
    assert head_body == b""
    assert get_body == pattern(size)


async def test_http_client_reads_a_chunked_stream(start: StartServer) -> None:
    server = await start()
    size = 300_000

    def run() -> tuple[str | None, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=TIMEOUT)
        try:
            conn.request("GET", f"/stream?n={size}")
            response = conn.getresponse()
            return response.getheader("Transfer-Encoding"), response.read()
        finally:
            conn.close()

    coding, body = await asyncio.to_thread(run)
    assert coding == "chunked"
    assert body == pattern(size)


async def test_http_client_http10_request(start: StartServer) -> None:
    """RFC 9112 §9.3: an HTTP/1.0 request without keep-alive is answered, then closed."""
    server = await start()

    class HTTP10Connection(http.client.HTTPConnection):
        _http_vsn = 10
        _http_vsn_str = "HTTP/1.0"

    def run() -> tuple[Any, bool]:
        conn = HTTP10Connection("127.0.0.1", server.port, timeout=TIMEOUT)
        try:
            conn.request("GET", "/echo")
            response = conn.getresponse()
            return json.loads(response.read()), response.will_close
        finally:
            conn.close()

    data, will_close = await asyncio.to_thread(run)
    assert data["http_version"] == "1.0"
    assert will_close


async def test_urllib_request_get_and_post(start: StartServer) -> None:
    server = await start()
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def run() -> tuple[Any, Any]:
        with opener.open(f"{server.url}/echo?q=a+b", timeout=TIMEOUT) as response:
            got = json.loads(response.read())
        request = urllib.request.Request(
            f"{server.url}/echo",
            data=json.dumps({"x": 1}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with opener.open(request, timeout=TIMEOUT) as response:
            posted = json.loads(response.read())
        return got, posted

    got, posted = await asyncio.to_thread(run)
    assert got["method"] == "GET"
    assert got["query"] == {"q": ["a b"]}
    assert posted["method"] == "POST"
    assert json.loads(posted["body"]) == {"x": 1}
    assert posted["content_type"] == "application/json"


async def test_urllib_request_over_tls(
    start: StartServer, server_ssl: ssl.SSLContext, client_ssl: ssl.SSLContext
) -> None:
    server = await start(ssl=server_ssl)
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=client_ssl)
    )

    def run() -> bytes:
        with opener.open(f"{server.url}/bytes?n=5000", timeout=TIMEOUT) as response:
            body: bytes = response.read()
            return body

    assert await asyncio.to_thread(run) == pattern(5000)
