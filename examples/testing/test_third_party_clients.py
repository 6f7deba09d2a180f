"""Testing HTTP clients aioreq did not write (requests, httpx, urllib, aiohttp) with the fake
servers of `pytest_aioreq`.

Each fixture is a real HTTP(S) server on 127.0.0.1 that serves from a thread of its own, so
sync clients and async ones (on any event loop) reach it over real sockets, and the code under
test needs nothing but its URL. Shown below:

- expectations (`expect(...).respond(...)`) and the log of the requests that arrived;
- faults on the wire and the error each client makes of them: a body cut short (requests,
  aiohttp) and a server that never answers (httpx);
- TLS with the fixtures' trustme CA: `aioreq_ca_bundle` is the path of its PEM file;
- an async client (aiohttp) in an `async def` test, through pytest-asyncio.

After each test the fixture fails it if the server saw a request that neither an expectation
nor a built-in endpoint (`/status/{code}`, `/echo`, `/stall`...) answered, or if an
expectation with `times=` was not met.

Run it (with `pip install 'aioreq[pytest]' requests httpx aiohttp`)::

    pytest -p pytest_aioreq examples/testing/
"""

from __future__ import annotations

import ssl
import urllib.error
import urllib.request

import aiohttp
import httpx
import pytest
import requests

from pytest_aioreq import FakeServer
from pytest_aioreq.fakeserver import faults


def latest_version(base_url: str, package: str) -> str:
    """The code under test: the latest version of `package`, from a PyPI-style JSON API."""
    response = requests.get(f"{base_url}/pypi/{package}/json", timeout=5)
    response.raise_for_status()
    return str(response.json()["info"]["version"])


def test_expectations_and_the_request_log(aioreq_server: FakeServer) -> None:
    aioreq_server.expect("GET", "/pypi/aioreq/json").respond(json={"info": {"version": "1.2"}})
    aioreq_server.expect("GET", "/pypi/gone/json").respond(404)
    aioreq_server.expect("POST", "/users", json={"name": "ada"}, times=1).respond(201, json={})

    assert latest_version(aioreq_server.url, "aioreq") == "1.2"
    with pytest.raises(requests.HTTPError, match="404"):
        latest_version(aioreq_server.url, "gone")
    created = requests.post(aioreq_server.url_for("/users"), json={"name": "ada"}, timeout=5)
    assert created.status_code == 201

    first, _, last = aioreq_server.requests
    assert first.header("user-agent", "").startswith("python-requests/")
    assert (last.method, last.json()) == ("POST", {"name": "ada"})
    assert aioreq_server.connection_count == 3  # requests.get opens a connection each call


def test_a_body_cut_short(aioreq_server: FakeServer) -> None:
    body = b"x" * 10_000
    aioreq_server.expect("GET", "/report").respond(body=body, fault=faults.close("mid-body"))
    # urllib3's IncompleteRead, in requests' wrapping (even though the body was not chunked).
    with pytest.raises(requests.exceptions.ChunkedEncodingError, match="IncompleteRead"):
        requests.get(aioreq_server.url_for("/report"), timeout=5)


def test_a_server_that_never_answers(aioreq_server: FakeServer) -> None:
    aioreq_server.expect("GET", "/slow").respond(fault=faults.stall())
    with httpx.Client(timeout=0.2) as client, pytest.raises(httpx.ReadTimeout):
        client.get(aioreq_server.url_for("/slow"))
    # The stalled connection is closed at teardown, at once.


def test_tls_with_the_fixtures_ca(aioreq_tls_server: FakeServer, aioreq_ca_bundle: str) -> None:
    aioreq_tls_server.expect("GET", "/secret").respond(text="42")
    url = aioreq_tls_server.url_for("/secret")

    assert requests.get(url, verify=aioreq_ca_bundle, timeout=5).text == "42"
    context = ssl.create_default_context(cafile=aioreq_ca_bundle)
    with urllib.request.urlopen(url, context=context, timeout=5) as response:
        assert response.read() == b"42"
    with httpx.Client(verify=context) as client:
        assert client.get(url).text == "42"

    # Without the CA, the certificate is refused before any request is sent.
    with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
        urllib.request.urlopen(url, context=ssl.create_default_context(), timeout=5)
    assert len(aioreq_tls_server.requests) == 3


@pytest.mark.asyncio
async def test_an_async_client(aioreq_server: FakeServer) -> None:
    aioreq_server.expect("GET", "/items").respond(json=[1, 2, 3])
    aioreq_server.expect("GET", "/broken").respond(body=b"x" * 10_000, fault=faults.truncate(500))

    async with aiohttp.ClientSession() as session:
        async with session.get(aioreq_server.url_for("/items")) as response:
            assert await response.json() == [1, 2, 3]
        async with session.get(aioreq_server.url_for("/broken")) as response:
            assert response.status == 200  # the head arrived whole; the body did not
            with pytest.raises(aiohttp.ClientPayloadError):
                await response.read()
    assert [r.connection for r in aioreq_server.requests] == [1, 1]  # kept alive
