"""Proxies: forwarding for http://, CONNECT tunnels for https://, proxy credentials, and the
environment's variables -- through the plugin's fake proxy, over real sockets."""

from __future__ import annotations

import pytest

import aioreq
from aioreq.client._proxies import Proxy, ProxyRoutes, _environment_proxies, _NoProxy
from aioreq.client._urls import parse_url
from pytest_aioreq import FakeProxy, FakeServer

pytestmark = pytest.mark.asyncio


async def test_http_requests_are_forwarded_in_absolute_form(
    aioreq_proxy: FakeProxy, aioreq_server: FakeServer
) -> None:
    async with aioreq.Client(proxy=aioreq_proxy.url) as client:
        first = await client.get(aioreq_server.url_for("/echo?a=1"))
        second = await client.post(aioreq_server.url_for("/echo"), json={"k": 1})
    assert first.json()["target"] == "/echo?a=1"  # the origin gets origin-form
    assert second.json()["method"] == "POST"
    targets = [record.target for record in aioreq_proxy.requests]
    assert targets == [aioreq_server.url_for("/echo?a=1"), aioreq_server.url_for("/echo")]
    assert [record.tunnel for record in aioreq_proxy.requests] == [False, False]
    assert aioreq_proxy.connections_opened == 1  # the connection to the proxy is kept alive


async def test_https_goes_through_a_connect_tunnel(
    aioreq_proxy: FakeProxy, aioreq_tls_server: FakeServer
) -> None:
    context = aioreq_tls_server.client_ssl_context()
    async with aioreq.Client(proxy=aioreq_proxy.url, verify=context) as client:
        first = await client.get(aioreq_tls_server.url_for("/echo"))
        second = await client.get(aioreq_tls_server.url_for("/status/204"))
    assert first.json()["path"] == "/echo"
    assert second.status == 204
    (record,) = aioreq_proxy.requests  # one tunnel, reused
    assert record.tunnel
    assert record.method == "CONNECT"
    assert record.target == f"127.0.0.1:{aioreq_tls_server.port}"
    assert record.status == 200


async def test_proxy_credentials_go_to_the_proxy_alone(
    aioreq_proxy: FakeProxy, aioreq_server: FakeServer, aioreq_tls_server: FakeServer
) -> None:
    aioreq_proxy.require_auth("user", "pa ss")
    proxy_url = aioreq_proxy.url.replace("http://", "http://user:pa%20ss@")
    context = aioreq_tls_server.client_ssl_context()
    async with aioreq.Client(proxy=proxy_url, verify=context) as client:
        plain = await client.get(aioreq_server.url_for("/headers"))
        tunnelled = await client.get(aioreq_tls_server.url_for("/headers"))
    assert plain.status == tunnelled.status == 200
    for record in aioreq_proxy.requests:
        assert dict(record.headers)["Proxy-Authorization"] == "Basic dXNlcjpwYSBzcw=="
    # The proxy keeps the credentials to itself; inside a tunnel it never sees the request.
    for response in (plain, tunnelled):
        names = {name.lower() for name, _ in response.json()["headers"]}
        assert "proxy-authorization" not in names


async def test_a_refused_tunnel_raises_proxy_error(
    aioreq_proxy: FakeProxy, aioreq_tls_server: FakeServer
) -> None:
    aioreq_proxy.require_auth("user", "secret")
    context = aioreq_tls_server.client_ssl_context()
    async with aioreq.Client(proxy=aioreq_proxy.url, verify=context) as client:
        with pytest.raises(aioreq.ProxyError, match=r"407.*requires authentication") as caught:
            await client.get(aioreq_tls_server.url_for("/echo"))
        assert caught.value.status == 407
        assert isinstance(caught.value, aioreq.ConnectError)
        aioreq_proxy.require_auth(None)
        aioreq_proxy.refuse_connect(403)
        with pytest.raises(aioreq.ProxyError, match="403") as caught:
            await client.get(aioreq_tls_server.url_for("/echo"))
        assert caught.value.status == 403
        # Nothing leaked: the pool is empty and usable once the proxy agrees again.
        aioreq_proxy.refuse_connect(None)
        assert (await client.get(aioreq_tls_server.url_for("/status/204"))).status == 204


async def test_a_forwarding_refusal_is_the_response(
    aioreq_proxy: FakeProxy, aioreq_server: FakeServer
) -> None:
    aioreq_proxy.require_auth("user", "secret")
    async with aioreq.Client(proxy=aioreq_proxy.url) as client:
        response = await client.get(aioreq_server.url_for("/echo"))
    assert response.status == 407
    assert response.headers["proxy-authenticate"].startswith("Basic")


async def test_the_environment_names_the_proxy_and_no_proxy_bypasses_it(
    aioreq_proxy: FakeProxy, aioreq_server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", aioreq_proxy.url)
    monkeypatch.delenv("http_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    async with aioreq.Client() as client:
        await client.get(aioreq_server.url_for("/status/204"))
    assert len(aioreq_proxy.requests) == 1
    async with aioreq.Client(trust_env=False) as client:
        await client.get(aioreq_server.url_for("/status/204"))
    monkeypatch.setenv("NO_PROXY", "example.org, 127.0.0.0/8")
    async with aioreq.Client() as client:
        await client.get(aioreq_server.url_for("/status/204"))
    assert len(aioreq_proxy.requests) == 1  # neither went through the proxy
    assert len(aioreq_server.requests) == 3


async def test_an_unreachable_proxy_is_a_connect_error(unused_tcp_port: int) -> None:
    async with aioreq.Client(proxy=f"http://127.0.0.1:{unused_tcp_port}") as client:
        with pytest.raises(aioreq.ConnectError):
            await client.get("http://127.0.0.1:9/")


@pytest.mark.parametrize(
    ("no_proxy", "host", "port", "bypass"),
    [
        ("*", "anything.example", 80, True),
        ("example.org", "example.org", 80, True),
        ("example.org", "api.example.org", 443, True),
        (".example.org", "example.org", 80, True),
        ("example.org", "badexample.org", 80, False),
        ("example.org:8080", "example.org", 8080, True),
        ("example.org:8080", "example.org", 80, False),
        ("10.0.0.0/8", "10.1.2.3", 80, True),
        ("10.0.0.0/8", "11.1.2.3", 80, False),
        ("::1", "::1", 80, True),
        ("[::1]:8080", "::1", 8080, True),
        ("127.0.0.1", "127.0.0.1", 5000, True),
        ("localhost, , other", "localhost", 80, True),
        ("", "localhost", 80, False),
    ],
)
async def test_no_proxy_matching(no_proxy: str, host: str, port: int, bypass: bool) -> None:
    assert _NoProxy(no_proxy).matches(host, port) is bypass


async def test_environment_variables_and_httpoxy() -> None:
    found, no_proxy = _environment_proxies(
        {"http_proxy": "http://low:1", "HTTP_PROXY": "http://up:2", "ALL_PROXY": "http://all:3"}
    )
    assert found == {"http": "http://low:1", "all": "http://all:3"}
    assert no_proxy == ""
    # In a CGI script, HTTP_PROXY comes from the request's Proxy header (CVE-2016-5385).
    found, _ = _environment_proxies({"HTTP_PROXY": "http://evil:1", "REQUEST_METHOD": "GET"})
    assert found == {}
    routes = ProxyRoutes.make(None, trust_env=False)
    assert routes is None


async def test_proxy_objects() -> None:
    proxy = Proxy("http://user:secret@proxy.example:3128")
    assert "secret" not in repr(proxy)
    assert proxy.auth == ("user", "secret")
    assert (b"Proxy-Authorization", b"Basic dXNlcjpzZWNyZXQ=") in proxy.headers
    with pytest.raises(aioreq.InvalidURL, match="no path"):
        Proxy("http://proxy.example:3128/path")
    routes = ProxyRoutes({"https": Proxy("http://p:1")}, "")
    assert routes.proxy_for(parse_url("http://a/")) is None
    assert routes.proxy_for(parse_url("https://a/")) == Proxy("http://p:1")


async def test_a_refused_tunnel_is_not_retried(
    aioreq_proxy: FakeProxy, aioreq_tls_server: FakeServer
) -> None:
    aioreq_proxy.refuse_connect(403)
    context = aioreq_tls_server.client_ssl_context()
    async with aioreq.Client(proxy=aioreq_proxy.url, verify=context, retries=3) as client:
        with pytest.raises(aioreq.ProxyError):
            await client.get(aioreq_tls_server.url_for("/echo"))
    assert len(aioreq_proxy.requests) == 1


async def test_tls_inside_the_tunnel_checks_the_origins_name(
    aioreq_proxy: FakeProxy,
    aioreq_tls_server: FakeServer,
    aioreq_tls_server_wrong_host: FakeServer,
) -> None:
    """SNI and the certificate check are for the origin, not the proxy: a certificate for
    localhost passes for https://localhost, and one for another name fails."""
    context = aioreq_tls_server.client_ssl_context()
    async with aioreq.Client(proxy=aioreq_proxy.url, verify=context) as client:
        url = aioreq_tls_server.url_for("/echo").replace("127.0.0.1", "localhost")
        response = await client.get(url)
        assert response.json()["headers"][0] == ["Host", f"localhost:{aioreq_tls_server.port}"]
        with pytest.raises(aioreq.ConnectError) as caught:
            await client.get(aioreq_tls_server_wrong_host.url_for("/echo"))
        assert not isinstance(caught.value, aioreq.ProxyError)
    assert [r.target for r in aioreq_proxy.requests] == [
        f"localhost:{aioreq_tls_server.port}",
        f"127.0.0.1:{aioreq_tls_server_wrong_host.port}",
    ]
