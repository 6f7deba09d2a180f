"""Auth over real sockets: Basic, Digest (RFC 7616), bearer tokens, custom flows and .netrc,
against the fake server's endpoints."""

from __future__ import annotations

import base64
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

import aioreq
from pytest_aioreq import FakeServer

pytestmark = pytest.mark.asyncio


async def test_basic_auth_on_the_client_and_per_request(aioreq_server: FakeServer) -> None:
    url = aioreq_server.url_for("/basic-auth/ann/s3cret")
    async with aioreq.Client(auth=aioreq.BasicAuth("ann", "s3cret")) as client:
        assert (await client.get(url)).json() == {"authenticated": True, "user": "ann"}
        assert (await client.get(url, auth=None)).status == 401
        assert (await client.get(url, auth=("ann", "wrong"))).status == 401
    async with aioreq.Client() as client:
        assert (await client.get(url, auth=("ann", "s3cret"))).status == 200


@pytest.mark.parametrize("algorithm", ["MD5", "MD5-sess", "SHA-256", "SHA-256-sess"])
@pytest.mark.parametrize("qop", ["auth", "auth-int"])
async def test_digest_auth(aioreq_server: FakeServer, algorithm: str, qop: str) -> None:
    url = aioreq_server.url_for(f"/digest-auth/{qop}/ann/s3cret/{algorithm}")
    auth = aioreq.DigestAuth("ann", "s3cret")
    async with aioreq.Client(auth=auth) as client:
        first = await client.get(url)
        second = await client.get(url)
    assert first.json() == {"authenticated": True, "user": "ann"}
    assert [r.status for r in first.history] == [401]
    # The second request answers the remembered challenge at once, with the next nonce count.
    assert second.status == 200
    assert second.history == []
    sent = second.request.headers["authorization"]
    assert "nc=00000002" in sent


async def test_digest_auth_with_a_stale_nonce_and_a_wrong_password(
    aioreq_server: FakeServer,
) -> None:
    url = aioreq_server.url_for("/digest-auth/auth/ann/s3cret/SHA-256/1")
    async with aioreq.Client(auth=aioreq.DigestAuth("ann", "s3cret")) as client:
        assert (await client.get(url)).status == 200
        again = await client.get(url)  # the nonce went stale after one use: a new one
        assert again.status == 200
        assert [r.status for r in again.history] == [401]
    async with aioreq.Client(auth=aioreq.DigestAuth("ann", "wrong")) as client:
        refused = await client.get(url)
    assert refused.status == 401  # tried once, no loop
    assert len(refused.history) == 1


async def test_digest_auth_with_a_body_that_is_bytes(aioreq_server: FakeServer) -> None:
    url = aioreq_server.url_for("/digest-auth/auth-int/ann/s3cret/SHA-256")
    async with aioreq.Client(auth=aioreq.DigestAuth("ann", "s3cret")) as client:
        response = await client.post(url, content=b"the body is hashed too")
    assert response.status == 200


async def test_bearer_tokens(aioreq_server: FakeServer) -> None:
    async with aioreq.Client(auth=aioreq.BearerAuth("abc.def-123")) as client:
        response = await client.get(aioreq_server.url_for("/headers"))
    assert ["Authorization", "Bearer abc.def-123"] in response.json()["headers"]
    with pytest.raises(ValueError, match="b64token"):
        aioreq.BearerAuth("two words")


async def test_a_custom_flow_that_answers_a_401(aioreq_server: FakeServer) -> None:
    """An auth flow of one's own: ask for a token when the server says 401, then retry."""
    aioreq_server.expect("GET", "/token").respond(200, json={"token": "t0k3n"})

    class TokenAuth(aioreq.Auth):
        requires_response_body = True

        def __init__(self) -> None:
            self.token: str | None = None

        def auth_flow(
            self, request: aioreq.Request
        ) -> Generator[aioreq.Request, aioreq.Response, None]:
            response = yield self._signed(request)
            if response.status == 401:
                token_response = yield aioreq.Request(
                    "GET", request.url.join("/token"), [(b"Accept", b"application/json")]
                )
                self.token = token_response.json()["token"]
                yield self._signed(request)

        def _signed(self, request: aioreq.Request) -> aioreq.Request:
            """A copy of the request with the token: a flow never changes the caller's."""
            headers = request.headers.copy()
            if self.token is not None:
                headers["Authorization"] = f"Bearer {self.token}"
            return aioreq.Request(
                request.method, request.url, headers, request.content, length=request.length
            )

    def protected(recorded: Any) -> aioreq.server.Response:
        if recorded.header("authorization") == "Bearer t0k3n":
            return aioreq.server.Response(200, body=b"secret stuff")
        return aioreq.server.Response(401, body=b"no")

    aioreq_server.expect("GET", "/protected").respond_with(protected)
    async with aioreq.Client(auth=TokenAuth()) as client:
        response = await client.get(aioreq_server.url_for("/protected"))
        again = await client.get(aioreq_server.url_for("/protected"))
    assert response.body == b"secret stuff"
    assert [r.status for r in response.history] == [401, 200]
    assert again.history == []


async def test_a_function_as_auth(aioreq_server: FakeServer) -> None:
    def sign(request: aioreq.Request) -> aioreq.Request:
        request.headers["X-Signature"] = "signed:" + request.method
        return request

    async with aioreq.Client(auth=sign) as client:
        response = await client.get(aioreq_server.url_for("/headers"))
    assert ["X-Signature", "signed:GET"] in response.json()["headers"]


async def test_netrc_when_trust_env(
    aioreq_server: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login ann password s3cret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    url = aioreq_server.url_for("/basic-auth/ann/s3cret")
    async with aioreq.Client() as client:
        assert (await client.get(url)).status == 200
        # A request's own Authorization wins over .netrc.
        mine = base64.b64encode(b"ann:other").decode()
        assert (await client.get(url, headers={"Authorization": f"Basic {mine}"})).status == 401
    async with aioreq.Client(trust_env=False) as client:
        assert (await client.get(url)).status == 401


async def test_auth_with_a_streamed_body_that_must_be_sent_again(
    aioreq_server: FakeServer,
) -> None:
    async def body():  # type: ignore[no-untyped-def]
        yield b"once"

    url = aioreq_server.url_for("/digest-auth/auth/ann/s3cret")
    async with aioreq.Client(auth=aioreq.DigestAuth("ann", "s3cret")) as client:
        response = await client.post(url, content=body())
    # The challenge cannot be answered without sending the body again: the 401 stands.
    assert response.status == 401
