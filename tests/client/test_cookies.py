"""The client's cookie jar, over real sockets against the fake server."""

from __future__ import annotations

import http.cookiejar

import pytest

import aioreq
from pytest_aioreq import FakeServer

pytestmark = pytest.mark.asyncio


async def test_cookies_set_on_a_redirect_are_sent_to_its_target(aioreq_server: FakeServer) -> None:
    async with aioreq.Client() as client:
        response = await client.get(aioreq_server.url_for("/cookies/set?flavour=oat&size=2"))
        assert response.json() == {"cookies": {"flavour": "oat", "size": "2"}}
        assert [r.status for r in response.history] == [302]
        # Kept in the jar for the next request, too.
        again = await client.get(aioreq_server.url_for("/cookies"))
        assert again.json() == {"cookies": {"flavour": "oat", "size": "2"}}
        assert again.request.headers["cookie"] in ("flavour=oat; size=2", "size=2; flavour=oat")
        assert {c.name for c in client.cookies} == {"flavour", "size"}


async def test_client_cookies_are_sent_with_every_request(aioreq_server: FakeServer) -> None:
    async with aioreq.Client(cookies={"session": "abc"}) as client:
        first = await client.get(aioreq_server.url_for("/cookies"))
        second = await client.get(aioreq_server.url_for("/cookies"))
    assert first.json() == second.json() == {"cookies": {"session": "abc"}}


async def test_a_cookie_field_of_the_request_wins_over_the_jar(aioreq_server: FakeServer) -> None:
    async with aioreq.Client(cookies={"session": "abc"}) as client:
        response = await client.get(
            aioreq_server.url_for("/cookies"), headers={"Cookie": "session=mine"}
        )
    assert response.json() == {"cookies": {"session": "mine"}}


async def test_a_jar_given_to_the_client_is_the_clients_jar(aioreq_server: FakeServer) -> None:
    jar = http.cookiejar.CookieJar()
    async with aioreq.Client(cookies=jar) as client:
        await client.get(aioreq_server.url_for("/cookies/set?k=v"))
        assert client.cookies is jar
    assert [c.name for c in jar] == ["k"]


async def test_cookies_follow_the_jars_domain_path_and_secure_rules(
    aioreq_server: FakeServer,
) -> None:
    aioreq_server.expect("GET", "/set").respond(
        headers=[
            ("Set-Cookie", "everywhere=1; Path=/"),
            ("Set-Cookie", "under_api=1; Path=/api"),
            ("Set-Cookie", "secure_only=1; Path=/; Secure"),
            ("Set-Cookie", "elsewhere=1; Path=/; Domain=example.org"),
            ("Set-Cookie", "expired=1; Path=/; Max-Age=0"),
        ]
    )
    aioreq_server.expect("GET", "/api/items").respond(status=204)
    async with aioreq.Client() as client:
        await client.get(aioreq_server.url_for("/set"))
        root = await client.get(aioreq_server.url_for("/cookies"))
        await client.get(aioreq_server.url_for("/api/items"))
    assert root.json() == {"cookies": {"everywhere": "1"}}
    # The more specific path first (RFC 6265 §5.4).
    assert aioreq_server.requests[-1].header("cookie") == "under_api=1; everywhere=1"


async def test_cookies_are_not_sent_to_another_host(aioreq_server: FakeServer) -> None:
    async with aioreq.Client() as client:
        await client.get(aioreq_server.url_for("/cookies/set?k=v"))
        # 127.0.0.1 set it; localhost is another host.
        other = aioreq_server.url_for("/cookies").replace("127.0.0.1", "localhost")
        response = await client.get(other)
    assert response.json() == {"cookies": {}}


async def test_a_client_without_cookies_sends_no_cookie_field(aioreq_server: FakeServer) -> None:
    async with aioreq.Client() as client:
        await client.get(aioreq_server.url_for("/status/204"))
    assert aioreq_server.requests[0].header("cookie") is None


async def test_cookies_can_be_replaced(aioreq_server: FakeServer) -> None:
    async with aioreq.Client(cookies={"a": "1"}) as client:
        client.cookies = {"b": "2"}
        response = await client.get(aioreq_server.url_for("/cookies"))
    assert response.json() == {"cookies": {"b": "2"}}


async def test_a_secure_cookie_goes_over_https_only(
    aioreq_tls_server: FakeServer, aioreq_server: FakeServer, aioreq_ca_bundle: str
) -> None:
    aioreq_tls_server.expect("GET", "/set").respond(
        headers=[("Set-Cookie", "token=t1; Path=/; Secure")]
    )
    async with aioreq.Client(verify=aioreq_ca_bundle) as client:
        await client.get(aioreq_tls_server.url_for("/set"))
        over_tls = await client.get(aioreq_tls_server.url_for("/cookies"))
        # The same host over plain HTTP (another port: RFC 6265 cookies ignore ports).
        over_http = await client.get(aioreq_server.url_for("/cookies"))
    assert over_tls.json() == {"cookies": {"token": "t1"}}
    assert over_http.json() == {"cookies": {}}


async def test_a_requests_own_cookies_go_with_the_jars_on_each_hop_of_its_origin(
    aioreq_server: FakeServer,
) -> None:
    """`cookies=` on a request: on a redirect to the same origin they are sent again, with the
    cookies the redirect set (the jar's); they were sent alone, the jar's left out."""
    async with aioreq.Client() as client:
        url = aioreq_server.url_for("/cookies/set?flavour=oat&size=2")
        response = await client.get(url, cookies={"mine": "1", "flavour": "own"})
        assert response.json() == {"cookies": {"flavour": "own", "mine": "1", "size": "2"}}
        assert [r.status for r in response.history] == [302]
        # The jar kept what the redirect set; the request's own cookies are not stored.
        assert {c.name: c.value for c in client.cookies} == {"flavour": "oat", "size": "2"}
        assert (await client.get(aioreq_server.url_for("/cookies"))).json() == {
            "cookies": {"flavour": "oat", "size": "2"}
        }


async def test_a_requests_own_cookies_are_not_sent_to_another_origin(
    aioreq_server: FakeServer,
) -> None:
    elsewhere = f"http://localhost:{aioreq_server.port}/cookies"
    url = aioreq_server.url_for(f"/redirect-to?url={elsewhere}")
    async with aioreq.Client() as client:
        response = await client.get(url, cookies={"mine": "1"})
    assert str(response.url) == elsewhere
    assert response.json() == {"cookies": {}}
    assert [r.header("cookie") for r in aioreq_server.requests] == ["mine=1", None]
