"""`urllib3` and `requests` against `aioreq.server`, in a thread each (the server runs on the
test's event loop)."""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import urllib3

from .conftest import TIMEOUT, App, StartServer, pattern

pytestmark = pytest.mark.asyncio


def pool_session(pool: urllib3.PoolManager, base: str) -> tuple[list[Any], int]:
    """Several requests through one pool; returns the answers and the pool's connection count."""
    try:
        answers = []
        for index in range(4):
            response = pool.request("GET", f"{base}/echo?i={index}", timeout=TIMEOUT)
            answers.append(response.json())
        posted = pool.request("POST", f"{base}/echo", json={"k": [1, 2]}, timeout=TIMEOUT)
        answers.append(posted.json())
        return answers, pool.connection_from_url(base).num_connections
    finally:
        pool.clear()


async def test_urllib3_pool_reuses_one_connection(start: StartServer, app: App) -> None:
    server = await start()
    answers, connections = await asyncio.to_thread(
        pool_session, urllib3.PoolManager(retries=False), server.url
    )
    assert [answer["query"] for answer in answers[:4]] == [{"i": [str(i)]} for i in range(4)]
    assert json.loads(answers[4]["body"]) == {"k": [1, 2]}
    assert connections == 1
    assert len(set(app.ports)) == 1


@pytest.mark.ipv6
async def test_urllib3_over_ipv6(start: StartServer, app: App) -> None:
    server = await start(host="::1")
    assert server.url.startswith("http://[::1]:")
    answers, connections = await asyncio.to_thread(
        pool_session, urllib3.PoolManager(retries=False), server.url
    )
    assert len(answers) == 5
    assert connections == 1
    assert len(set(app.ports)) == 1


async def test_urllib3_over_tls(
    start: StartServer, app: App, server_ssl: ssl.SSLContext, ca_file: str
) -> None:
    server = await start(ssl=server_ssl)
    pool = urllib3.PoolManager(ca_certs=ca_file, cert_reqs="CERT_REQUIRED", retries=False)
    answers, connections = await asyncio.to_thread(pool_session, pool, server.url)
    assert {answer["scheme"] for answer in answers} == {"https"}
    assert connections == 1
    assert len(set(app.ports)) == 1


async def test_urllib3_streams_a_chunked_response(start: StartServer) -> None:
    server = await start()
    size = 1_000_000

    def run() -> tuple[str | None, bytes, int]:
        pool = urllib3.PoolManager(retries=False)
        try:
            response = pool.request(
                "GET", f"{server.url}/stream?n={size}", preload_content=False, timeout=TIMEOUT
            )
            try:
                body = b"".join(response.stream(32 * 1024))
            finally:
                response.release_conn()
            # The connection went back to the pool and serves the next request.
            again = pool.request("GET", f"{server.url}/bytes?n=10", timeout=TIMEOUT)
            assert again.data == pattern(10)
            return (
                response.headers.get("Transfer-Encoding"),
                body,
                pool.connection_from_url(server.url).num_connections,
            )
        finally:
            pool.clear()

    coding, body, connections = await asyncio.to_thread(run)
    assert coding == "chunked"
    assert body == pattern(size)
    assert connections == 1


async def test_requests_session_json_round_trip(start: StartServer, app: App) -> None:
    server = await start()
    payload = {"name": "Zoë", "values": [1, 2.5, None, True]}

    def run() -> list[Any]:
        with requests.Session() as session:
            session.trust_env = False
            answers = []
            for _ in range(3):
                response = session.post(f"{server.url}/echo", json=payload, timeout=TIMEOUT)
                response.raise_for_status()
                answers.append(response.json())
            return answers

    answers = await asyncio.to_thread(run)
    for answer in answers:
        assert answer["method"] == "POST"
        assert answer["content_type"] == "application/json"
        assert json.loads(answer["body"]) == payload
    assert len(set(app.ports)) == 1


async def test_requests_streaming_download(start: StartServer) -> None:
    server = await start()
    size = 2_000_000

    def run() -> tuple[str | None, bytes]:
        with requests.Session() as session:
            session.trust_env = False
            with session.get(f"{server.url}/stream?n={size}", stream=True, timeout=TIMEOUT) as r:
                r.raise_for_status()
                received = bytearray()
                for chunk in r.iter_content(chunk_size=16 * 1024):
                    received += chunk
                return r.headers.get("X-Streamed"), bytes(received)

    streamed, body = await asyncio.to_thread(run)
    assert streamed == "yes"
    assert body == pattern(size)


async def test_requests_chunked_upload_from_a_generator(start: StartServer) -> None:
    """requests sends a generator body chunked (RFC 9112 §7.1); the app reads it whole."""
    server = await start()

    def pieces() -> Iterator[bytes]:
        for index in range(5):
            yield f"piece{index};".encode()

    def run() -> Any:
        with requests.Session() as session:
            session.trust_env = False
            response = session.post(f"{server.url}/echo", data=pieces(), timeout=TIMEOUT)
            return response.json()

    answer = await asyncio.to_thread(run)
    assert answer["transfer_encoding"] == "chunked"
    assert answer["body"] == "piece0;piece1;piece2;piece3;piece4;"


async def test_requests_over_tls(
    start: StartServer, app: App, server_ssl: ssl.SSLContext, ca_file: str
) -> None:
    server = await start(ssl=server_ssl)
    assert server.url.startswith("https://")

    def run() -> tuple[Any, bytes]:
        with requests.Session() as session:
            session.trust_env = False
            session.verify = ca_file
            answer = session.get(f"{server.url}/echo", timeout=TIMEOUT).json()
            body = session.get(f"{server.url}/bytes?n=70000", timeout=TIMEOUT).content
            return answer, body

    answer, body = await asyncio.to_thread(run)
    assert answer["scheme"] == "https"
    assert body == pattern(70000)
    assert len(set(app.ports)) == 1


async def test_requests_rejects_the_server_without_the_ca(
    start: StartServer, server_ssl: ssl.SSLContext
) -> None:
    """The certificate really is checked: without the test CA the client refuses."""
    server = await start(ssl=server_ssl)

    def run() -> None:
        with requests.Session() as session:
            session.trust_env = False
            session.get(f"{server.url}/echo", timeout=TIMEOUT)

    with pytest.raises(requests.exceptions.SSLError):
        await asyncio.to_thread(run)


@pytest.mark.ipv6
async def test_requests_over_ipv6(start: StartServer) -> None:
    server = await start(host="::1")

    def run() -> Any:
        with requests.Session() as session:
            session.trust_env = False
            return session.get(f"{server.url}/echo?v=6", timeout=TIMEOUT).json()

    answer = await asyncio.to_thread(run)
    assert answer["query"] == {"v": ["6"]}
