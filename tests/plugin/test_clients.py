"""The fixtures serve any client: aiohttp and httpx from async tests on the test's own loop,
httpx and urllib from sync tests, over HTTP and over TLS with the helpers of aioreq_ca."""

from __future__ import annotations

import ssl
import urllib.request

import aiohttp
import httpx
import pytest

from pytest_aioreq import FakeServer


@pytest.mark.asyncio
async def test_aiohttp_from_an_async_test(aioreq_server: FakeServer) -> None:
    aioreq_server.expect("POST", "/items", json={"name": "a"}).respond(status=201, json={"id": 1})
    async with aiohttp.ClientSession() as session:
        async with session.post(aioreq_server.url_for("/items"), json={"name": "a"}) as response:
            assert response.status == 201
            assert await response.json() == {"id": 1}
        async with session.get(aioreq_server.url_for("/chunked?chunks=4&size=5")) as response:
            assert await response.read() == b"aaaaabbbbbcccccddddd"
    assert aioreq_server.requests[0].json() == {"name": "a"}


@pytest.mark.asyncio
async def test_httpx_async_over_tls(aioreq_tls_server: FakeServer) -> None:
    aioreq_tls_server.expect("GET", "/secure").respond(text="encrypted")
    context = aioreq_tls_server.client_ssl_context()
    async with httpx.AsyncClient(verify=context) as client:
        response = await client.get(aioreq_tls_server.url_for("/secure"))
        assert response.text == "encrypted"
        gzipped = await client.get(aioreq_tls_server.url_for("/gzip"))
        assert gzipped.json() == {"encoding": "gzip", "ok": True}


@pytest.mark.asyncio
async def test_aiohttp_over_tls_with_the_ca(aioreq_tls_server: FakeServer) -> None:
    context = aioreq_tls_server.client_ssl_context()
    connector = aiohttp.TCPConnector(ssl=context)
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        session.get(aioreq_tls_server.url_for("/status/204")) as response,
    ):
        assert response.status == 204


@pytest.mark.asyncio
async def test_aiohttp_refuses_the_wrong_host(aioreq_tls_server_wrong_host: FakeServer) -> None:
    context = aioreq_tls_server_wrong_host.client_ssl_context()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context)) as session:
        with pytest.raises(aiohttp.ClientConnectorCertificateError):
            await session.get(aioreq_tls_server_wrong_host.url_for("/status/200"))


def test_httpx_sync_keeps_the_connection_alive(aioreq_server: FakeServer) -> None:
    aioreq_server.expect("GET", "/n").respond(text="n")
    with httpx.Client() as client:
        for _ in range(3):
            assert client.get(aioreq_server.url_for("/n")).text == "n"
    assert aioreq_server.connection_count == 1


def test_urllib_with_the_ca_bundle(aioreq_tls_server: FakeServer, aioreq_ca_bundle: str) -> None:
    context = ssl.create_default_context(cafile=aioreq_ca_bundle)
    with urllib.request.urlopen(aioreq_tls_server.url_for("/bytes/4"), context=context) as reply:
        assert reply.read() == b"\x00\x01\x02\x03"
