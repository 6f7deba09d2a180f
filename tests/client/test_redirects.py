"""Redirects over real sockets: methods and bodies per status, history, limits, fragments, and
credentials never carried to another origin (aiosonic and urllib3 both shipped that bug)."""

from __future__ import annotations

import io
import urllib.parse
from pathlib import Path

import pytest

import aioreq
from pytest_aioreq import FakeServer

pytestmark = pytest.mark.asyncio


def _to(server: FakeServer, location: str, status: int) -> str:
    query = urllib.parse.urlencode({"url": location, "status": status})
    return server.url_for(f"/redirect-to?{query}")


@pytest.mark.parametrize(
    ("status", "method", "method_after", "body_after"),
    [
        (301, "POST", "GET", ""),
        (302, "POST", "GET", ""),
        (303, "POST", "GET", ""),
        (303, "PUT", "GET", ""),
        (303, "DELETE", "GET", ""),
        (301, "PUT", "PUT", "payload"),
        (302, "PATCH", "PATCH", "payload"),
        (307, "POST", "POST", "payload"),
        (308, "POST", "POST", "payload"),
        (307, "PUT", "PUT", "payload"),
    ],
)
async def test_method_and_body_after_each_redirect_status(
    aioreq_server: FakeServer, status: int, method: str, method_after: str, body_after: str
) -> None:
    async with aioreq.Client() as client:
        response = await client.request(
            method,
            _to(aioreq_server, "/echo", status),
            content=b"payload",
            headers={"Content-Type": "text/plain"},
        )
    echoed = response.json()
    assert (echoed["method"], echoed["body"]) == (method_after, body_after)
    names = {name.lower() for name, _ in echoed["headers"]}
    # A body dropped takes the fields that described it along.
    assert ("content-type" in names) is bool(body_after)
    assert [r.status for r in response.history] == [status]
    assert response.history[0].request.method == method


async def test_303_keeps_a_head(aioreq_server: FakeServer) -> None:
    async with aioreq.Client() as client:
        response = await client.head(_to(aioreq_server, "/echo", 303))
    assert response.status == 200
    assert response.request.method == "HEAD"


async def test_a_307_cannot_send_a_streamed_body_again(aioreq_server: FakeServer) -> None:
    async def stream():  # type: ignore[no-untyped-def]
        yield b"once"

    async with aioreq.Client() as client:
        with pytest.raises(aioreq.RequestNotReplayable, match="307 redirect"):
            await client.post(_to(aioreq_server, "/echo", 307), content=stream())
        # The client is still usable, the connection was returned.
        assert (await client.get(aioreq_server.url_for("/status/204"))).status == 204


@pytest.mark.parametrize(
    ("kind", "again"),
    [("seekable-file", True), ("opened-file", True), ("list", True), ("iterator", False)],
)
async def test_a_307_sends_a_body_again_only_if_it_can_give_the_same_bytes(
    aioreq_server: FakeServer, tmp_path: Path, kind: str, again: bool
) -> None:
    path = tmp_path / "body"
    path.write_bytes(b"payload")
    with io.BytesIO(b"--payload") as memory, path.open("rb") as opened:
        memory.read(2)  # a file is sent from where it stands
        body = {
            "seekable-file": memory,
            "opened-file": opened,
            "list": [b"pay", b"load"],
            "iterator": iter([b"pay", b"load"]),
        }[kind]
        async with aioreq.Client() as client:
            url = _to(aioreq_server, "/echo", 307)
            if again:
                assert (await client.put(url, content=body)).json()["body"] == "payload"
            else:
                with pytest.raises(aioreq.RequestNotReplayable, match="307 redirect"):
                    await client.put(url, content=body)


async def test_max_redirects_and_history(aioreq_server: FakeServer) -> None:
    async with aioreq.Client(max_redirects=5) as client:
        response = await client.get(aioreq_server.url_for("/redirect/5"))
        assert len(response.history) == 5
        assert [str(r.url) for r in response.history][-1] == aioreq_server.url_for("/redirect/1")
        with pytest.raises(aioreq.TooManyRedirects, match="more than 5 redirects"):
            await client.get(aioreq_server.url_for("/redirect/6"))
    async with aioreq.Client() as default:
        assert default.max_redirects == 20
        response = await default.get(aioreq_server.url_for("/redirect/20"))
        assert len(response.history) == 20


async def test_relative_locations_resolve_against_the_request(aioreq_server: FakeServer) -> None:
    aioreq_server.expect("GET", "/a/b").respond(302, headers={"Location": "../c?x=1"})
    aioreq_server.expect("GET", "/c").respond(200, text="here")
    async with aioreq.Client() as client:
        response = await client.get(aioreq_server.url_for("/a/b"))
    assert response.text == "here"
    assert str(response.url) == aioreq_server.url_for("/c?x=1")


async def test_a_fragment_is_inherited_unless_the_location_has_one(
    aioreq_server: FakeServer,
) -> None:
    """RFC 9110 §10.2.2: a Location without a fragment inherits the request's."""
    async with aioreq.Client() as client:
        inherited = await client.get(_to(aioreq_server, "/echo", 302) + "#section")
        replaced = await client.get(_to(aioreq_server, "/echo#other", 302) + "#section")
    assert str(inherited.url).endswith("/echo#section")
    assert str(replaced.url).endswith("/echo#other")
    # The fragment is never sent.
    assert inherited.json()["target"] == "/echo"


async def test_credentials_stay_with_their_origin(aioreq_server: FakeServer) -> None:
    """127.0.0.1 and localhost are the same server but two origins: the second must not get
    Authorization, Cookie or Proxy-Authorization."""
    other = aioreq_server.url_for("/echo").replace("127.0.0.1", "localhost")
    secrets = {
        "Authorization": "Bearer secret",
        "Cookie": "session=secret",
        "Proxy-Authorization": "Basic c2VjcmV0",
        "X-Kept": "1",
    }
    async with aioreq.Client() as client:
        same = await client.get(_to(aioreq_server, "/echo", 302), headers=secrets)
        cross = await client.get(_to(aioreq_server, other, 302), headers=secrets)
    same_names = {name.lower() for name, _ in same.json()["headers"]}
    cross_names = {name.lower() for name, _ in cross.json()["headers"]}
    assert {"authorization", "cookie", "proxy-authorization", "x-kept"} <= same_names
    assert "x-kept" in cross_names
    assert not {"authorization", "cookie", "proxy-authorization"} & cross_names


async def test_credentials_are_dropped_on_a_downgrade_to_http(
    aioreq_tls_server: FakeServer, aioreq_server: FakeServer, aioreq_client: aioreq.Client
) -> None:
    response = await aioreq_client.get(
        _to(aioreq_tls_server, aioreq_server.url_for("/echo"), 302),
        headers={"Authorization": "Bearer secret"},
        auth=None,
    )
    assert response.url.scheme == "http"
    assert "authorization" not in {name.lower() for name, _ in response.json()["headers"]}


async def test_userinfo_credentials_are_not_sent_to_another_origin(
    aioreq_server: FakeServer,
) -> None:
    other = aioreq_server.url_for("/echo").replace("127.0.0.1", "localhost")
    url = _to(aioreq_server, other, 302).replace("http://", "http://user:pw@")
    async with aioreq.Client() as client:
        response = await client.get(url)
    assert response.history[0].request.headers["authorization"].startswith("Basic ")
    assert "authorization" not in {name.lower() for name, _ in response.json()["headers"]}


async def test_a_redirect_without_location_is_the_response(aioreq_server: FakeServer) -> None:
    aioreq_server.expect("GET", "/nowhere").respond(302, text="no location")
    async with aioreq.Client() as client:
        response = await client.get(aioreq_server.url_for("/nowhere"))
    assert response.status == 302
    assert response.history == []


async def test_a_bad_location_raises_invalid_url(aioreq_server: FakeServer) -> None:
    aioreq_server.expect("GET", "/bad").respond(302, headers={"Location": "ftp://example.org/"})
    async with aioreq.Client() as client:
        with pytest.raises(aioreq.InvalidURL, match="unsupported scheme"):
            await client.get(aioreq_server.url_for("/bad"))
