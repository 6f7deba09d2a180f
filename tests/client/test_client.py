"""aioreq.Client against the project's fake servers, over real sockets."""

from __future__ import annotations

import asyncio
import gzip
import random

import pytest

import aioreq
from aioreq.server import Response as ServerResponse
from pytest_aioreq import FakeServer
from pytest_aioreq.fakeserver import faults

pytestmark = pytest.mark.asyncio


async def test_get_json_and_the_response_surface(aioreq_server: FakeServer) -> None:
    aioreq_server.expect("GET", "/users", query={"page": "2"}).respond(json=[{"id": 7}])
    async with aioreq.Client() as client:
        response = await client.get(aioreq_server.url_for("/users"), params={"page": 2})
    assert response.status == 200
    assert response.status_message == "OK"
    assert response.json() == [{"id": 7}]
    assert response.headers["content-type"] == "application/json"
    assert response.http_version == "HTTP/1.1"
    assert repr(response) == "<Response 200 OK>"
    assert repr(response.request) == f"<Request GET {aioreq_server.url}/users?page=2>"
    assert response.elapsed.total_seconds() > 0
    sent = aioreq_server.requests[0]
    assert sent.header("user-agent", "").startswith("aioreq/")
    assert sent.header("host") == f"127.0.0.1:{aioreq_server.port}"


async def test_post_bodies(aioreq_server: FakeServer) -> None:
    async with aioreq.Client(base_url=aioreq_server.url) as client:
        as_json = (await client.post("/echo", json={"a": 1})).json()
        as_form = (await client.post("/echo", data={"b": "2 3"})).json()
        as_bytes = (await client.put("/echo", content=b"raw")).json()

        async def pieces():
            yield b"stre"
            yield b"amed"

        streamed = (await client.post("/echo", content=pieces())).json()
    assert as_json["body"] == '{"a":1}'
    assert ["Content-Type", "application/json"] in as_json["headers"]
    assert as_form["body"] == "b=2+3"
    assert as_bytes["method"] == "PUT"
    assert as_bytes["body"] == "raw"
    assert streamed["body"] == "streamed"
    assert ["Transfer-Encoding", "chunked"] in streamed["headers"]


async def test_a_request_without_options_follows_changes_to_the_clients_headers(
    aioreq_server: FakeServer,
) -> None:
    # A request with no options of its own has its head prepared once per client: a change of
    # the client's headers (or of a response's request) must still be seen.
    url = aioreq_server.url_for("/status/204")
    async with aioreq.Client() as client:
        first = await client.get(url)
        first.request.headers["X-Only-Here"] = "1"
        await client.get(url)
        client.headers["X-Team"] = "core"
        await client.get(url)
        await client.request("get", url)  # the method is upper-cased, as with options
    sent = aioreq_server.requests
    assert [r.header("x-team") for r in sent] == [None, None, "core", "core"]
    assert [r.header("x-only-here") for r in sent] == [None] * 4
    assert [r.method for r in sent] == ["GET"] * 4


async def test_a_header_name_given_twice_sends_both_lines(aioreq_server: FakeServer) -> None:
    # As httpx does: a list of pairs may repeat a name, on the client and on a request; a
    # request's field replaces the client's lines of that name, not the others.
    url = aioreq_server.url_for("/status/204")
    client_fields = [("X-Tag", "a"), ("X-Tag", "b"), ("Accept", "text/plain")]
    async with aioreq.Client(headers=client_fields) as client:
        await client.get(url)
        await client.get(url, headers=[("X-Tag", "c"), ("X-Tag", "d"), ("X-Other", "e")])
    first, second = aioreq_server.requests
    assert first.header_all("x-tag") == ["a", "b"]
    assert first.header("accept") == "text/plain"
    assert second.header_all("x-tag") == ["c", "d"]
    assert second.header("x-other") == "e"
    assert second.header("accept") == "text/plain"


async def test_keep_alive_reuses_one_connection(aioreq_server: FakeServer) -> None:
    async with aioreq.Client() as client:
        for _ in range(5):
            assert (await client.get(aioreq_server.url_for("/status/204"))).status == 204
    assert [r.connection for r in aioreq_server.requests] == [1] * 5


async def test_a_stale_keep_alive_connection_is_retried_once(aioreq_server: FakeServer) -> None:
    """The server closes the idle connection; the next GET goes out on a fresh one."""
    aioreq_server.expect("GET", "/a").respond_with(faults.close_after(1, ServerResponse(text="a")))
    async with aioreq.Client() as client:
        first = await client.get(aioreq_server.url_for("/a"))
        second = await client.get(aioreq_server.url_for("/a"))
    assert (first.text, second.text) == ("a", "a")
    assert aioreq_server.connection_count == 2


async def test_a_non_idempotent_request_is_not_retried(aioreq_server: FakeServer) -> None:
    """RFC 9110 §9.2.2: a POST may have done its work; it is not sent twice on its own."""
    aioreq_server.expect("POST", "/p").respond(text="done")
    async with aioreq.Client() as client:
        assert (await client.post(aioreq_server.url_for("/p"), content=b"x")).text == "done"
        # Make the idle connection stale behind the client's back.
        aioreq_server.drop_connections()
        await asyncio.sleep(0.05)
        # The pool notices the close before reuse, so the POST goes out on a new connection.
        assert (await client.post(aioreq_server.url_for("/p"), content=b"x")).text == "done"
    assert len(aioreq_server.requests) == 2


async def test_gzip_and_deflate_are_decoded(aioreq_server: FakeServer) -> None:
    async with aioreq.Client() as client:
        gzipped = await client.get(aioreq_server.url_for("/gzip"))
        deflated = await client.get(aioreq_server.url_for("/deflate"))
    assert gzipped.json() == {"encoding": "gzip", "ok": True}
    assert deflated.json() == {"encoding": "deflate", "ok": True}
    assert gzipped.num_bytes_downloaded != len(gzipped.body)


async def test_chunked_response_with_trailers(aioreq_server: FakeServer) -> None:
    async with aioreq.Client() as client:
        response = await client.get(aioreq_server.url_for("/chunked?chunks=3&size=4&trailer=1"))
    assert response.body == b"aaaabbbbcccc"
    assert response.trailers["x-trailer"] == "done"


async def test_head_204_and_304_have_no_body(aioreq_server: FakeServer) -> None:
    async with aioreq.Client() as client:
        head = await client.head(aioreq_server.url_for("/bytes/100"))
        no_content = await client.get(aioreq_server.url_for("/status/204"))
        not_modified = await client.get(aioreq_server.url_for("/status/304"))
        after = await client.get(aioreq_server.url_for("/bytes/3"))
    assert head.headers["content-length"] == "100"
    assert head.body == no_content.body == not_modified.body == b""
    assert after.body == b"\x00\x01\x02"
    assert aioreq_server.connection_count == 1


async def test_redirects_are_followed_with_history(aioreq_server: FakeServer) -> None:
    async with aioreq.Client() as client:
        response = await client.get(aioreq_server.url_for("/redirect/3"))
    assert response.json()["path"] == "/echo"
    assert [r.status for r in response.history] == [302, 302, 302]


async def test_too_many_redirects(aioreq_server: FakeServer) -> None:
    async with aioreq.Client(max_redirects=2) as client:
        with pytest.raises(aioreq.TooManyRedirects):
            await client.get(aioreq_server.url_for("/redirect/3"))
        unfollowed = await client.get(aioreq_server.url_for("/redirect/3"), follow_redirects=False)
    assert unfollowed.status == 302
    assert unfollowed.headers["location"] == "/redirect/2"


async def test_303_turns_a_post_into_a_get(aioreq_server: FakeServer) -> None:
    async with aioreq.Client() as client:
        response = await client.post(
            aioreq_server.url_for("/redirect-to?url=/echo&status=303"), content=b"form"
        )
    assert response.json()["method"] == "GET"
    assert response.json()["body"] == ""


async def test_raise_for_status(aioreq_server: FakeServer) -> None:
    async with aioreq.Client() as client:
        response = await client.get(aioreq_server.url_for("/status/418"))
    with pytest.raises(aioreq.HTTPStatusError) as caught:
        response.raise_for_status()
    assert caught.value.response is response
    assert "418" in str(caught.value)


async def test_streaming_reads_as_it_arrives(aioreq_server: FakeServer) -> None:
    async with (
        aioreq.Client() as client,
        client.stream("GET", aioreq_server.url_for("/drip?numbytes=5&duration=0.2")) as response,
    ):
        with pytest.raises(RuntimeError):
            _ = response.body
        chunks = [chunk async for chunk in response.iter_bytes()]
    assert b"".join(chunks) == b"*****"
    assert len(chunks) > 1


async def test_a_stream_left_early_closes_its_connection(aioreq_server: FakeServer) -> None:
    async with aioreq.Client() as client:
        async with client.stream("GET", aioreq_server.url_for("/bytes/100000")) as response:
            async for _chunk in response.iter_raw():
                break
        after = await client.get(aioreq_server.url_for("/status/204"))
    assert after.status == 204
    assert aioreq_server.connection_count == 2  # the half-read connection was not reused


async def test_read_timeout(aioreq_server: FakeServer) -> None:
    async with aioreq.Client(timeout=aioreq.Timeout(read=0.1)) as client:
        with pytest.raises(aioreq.ReadTimeout) as caught:
            await client.get(aioreq_server.url_for("/stall"))
    assert isinstance(caught.value, TimeoutError)


async def test_total_timeout_bounds_a_dripping_response(aioreq_server: FakeServer) -> None:
    timeout = aioreq.Timeout(read=1, total=0.3)
    async with aioreq.Client(timeout=timeout) as client:
        with pytest.raises(aioreq.ReadTimeout):
            await client.get(aioreq_server.url_for("/drip?numbytes=10&duration=2"))


async def test_pool_timeout(aioreq_server: FakeServer) -> None:
    limits = aioreq.Limits(max_connections=1)
    async with aioreq.Client(limits=limits, timeout=aioreq.Timeout(pool=0.1)) as client:
        stalled = asyncio.ensure_future(client.get(aioreq_server.url_for("/stall")))
        await asyncio.sleep(0.05)
        with pytest.raises(aioreq.PoolTimeout):
            await client.get(aioreq_server.url_for("/status/204"))
        stalled.cancel()
        with pytest.raises(asyncio.CancelledError):
            await stalled
        # The cancelled request gave its slot back.
        assert (await client.get(aioreq_server.url_for("/status/204"))).status == 204


async def test_connect_error(unused_tcp_port: int) -> None:
    async with aioreq.Client() as client:
        with pytest.raises(aioreq.ConnectError):
            await client.get(f"http://127.0.0.1:{unused_tcp_port}/")


async def test_truncated_and_malformed_responses(aioreq_server: FakeServer) -> None:
    aioreq_server.expect("GET", "/bad").respond(body="x", fault=faults.malformed_status_line())
    async with aioreq.Client() as client:
        with pytest.raises(aioreq.RemoteProtocolError):
            await client.get(aioreq_server.url_for("/truncate/100"))
        with pytest.raises(aioreq.RemoteProtocolError):
            await client.get(aioreq_server.url_for("/bad"))
        assert (await client.get(aioreq_server.url_for("/status/200"))).status == 200


async def test_tls_with_the_test_ca(
    aioreq_tls_server: FakeServer,
    aioreq_tls_server_wrong_host: FakeServer,
    aioreq_ca_bundle: str,
) -> None:
    async with aioreq.Client(verify=aioreq_ca_bundle) as client:
        assert (await client.get(aioreq_tls_server.url_for("/status/204"))).status == 204
        with pytest.raises(aioreq.ConnectError, match="certificate"):
            await client.get(aioreq_tls_server_wrong_host.url_for("/status/204"))
    async with aioreq.Client() as default:  # certifi's bundle does not know the test CA
        with pytest.raises(aioreq.ConnectError, match="certificate"):
            await default.get(aioreq_tls_server.url_for("/status/204"))


async def test_verify_false_warns(aioreq_tls_server: FakeServer) -> None:
    with pytest.warns(aioreq.InsecureRequestWarning):
        async with aioreq.Client(verify=False) as client:
            assert (await client.get(aioreq_tls_server.url_for("/status/204"))).status == 204


async def test_thousands_of_random_cancellations_leak_nothing(aioreq_server: FakeServer) -> None:
    """Cancel requests at random moments: every slot comes back, no connection leaks."""
    rng = random.Random(1234)
    limits = aioreq.Limits(max_connections=8)
    async with aioreq.Client(limits=limits) as client:
        for _ in range(20):
            tasks = [
                asyncio.ensure_future(
                    client.get(aioreq_server.url_for("/drip?numbytes=2&duration=0.01"))
                )
                for _ in range(50)
            ]
            await asyncio.sleep(rng.random() * 0.02)
            for task in tasks:
                if rng.random() < 0.5:
                    task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        pool = client._pool
        assert pool.connection_count == pool.idle_count <= 8
        assert (await client.get(aioreq_server.url_for("/status/204"))).status == 204


async def test_module_level_get_and_get_requests(aioreq_server: FakeServer) -> None:
    aioreq_server.expect("GET", "/").respond(text="root")
    response = await aioreq.get(aioreq_server.url_for("/bytes/4"))
    assert response.body == b"\x00\x01\x02\x03"
    results = await aioreq.get_requests(
        [aioreq_server.url_for("/status/200"), (aioreq_server.host, aioreq_server.port)],
        concurrency=2,
    )
    assert [r.status for r in results if isinstance(r, aioreq.Response)] == [200, 200]
    assert results[1].text == "root"  # type: ignore[union-attr]


async def test_stream_client(aioreq_server: FakeServer) -> None:
    async with aioreq.StreamClient() as client:
        chunks = [c async for c in client.get(aioreq_server.url_for("/chunked?chunks=2&size=3"))]
    assert b"".join(chunks) == b"aaabbb"


async def test_ssl_cert_file_is_honoured_with_trust_env(
    aioreq_tls_server: FakeServer, aioreq_ca_bundle: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", aioreq_ca_bundle)
    async with aioreq.Client() as client:
        assert (await client.get(aioreq_tls_server.url_for("/status/204"))).status == 204
    async with aioreq.Client(trust_env=False) as client:
        with pytest.raises(aioreq.ConnectError):
            await client.get(aioreq_tls_server.url_for("/status/204"))


async def test_client_certificate(aioreq_mtls_server: FakeServer, aioreq_ca_bundle: str) -> None:
    cert = aioreq_mtls_server.client_cert_file
    assert cert is not None
    async with aioreq.Client(verify=aioreq_ca_bundle, cert=cert) as client:
        assert (await client.get(aioreq_mtls_server.url_for("/status/204"))).status == 204
    async with aioreq.Client(verify=aioreq_ca_bundle) as client:
        # TLS 1.3 ends the handshake before the server checks the client: the refusal shows
        # as a failed write or read rather than a failed connect.
        with pytest.raises((aioreq.TransportError, aioreq.RemoteProtocolError)):
            await client.get(aioreq_mtls_server.url_for("/status/204"))


async def test_a_new_base_url_is_used_by_the_next_request(
    aioreq_server: FakeServer, aioreq_tls_server: FakeServer, aioreq_ca_bundle: str
) -> None:
    async with aioreq.Client(base_url=aioreq_server.url, verify=aioreq_ca_bundle) as client:
        assert (await client.get("/status/204")).url.port == aioreq_server.port
        client.base_url = aioreq_tls_server.url
        moved = await client.get("/status/204")
    assert moved.url.scheme == "https"
    assert moved.url.port == aioreq_tls_server.port
    assert client.base_url is not None
    assert client.base_url.port == aioreq_tls_server.port


async def test_a_response_with_too_many_codings_frees_its_connection(
    aioreq_server: FakeServer,
) -> None:
    aioreq_server.expect("GET", "/bomb-chain").respond(
        200, headers={"Content-Encoding": ", ".join(["gzip"] * 1000)}, body=b"x"
    )
    async with aioreq.Client(limits=aioreq.Limits(max_connections=1)) as client:
        for _ in range(3):  # with one connection in all, a leaked one would stall the next
            with pytest.raises(aioreq.DecodingError, match="lists 1000 codings"):
                await client.get(aioreq_server.url_for("/bomb-chain"), timeout=5)
        assert (await client.get(aioreq_server.url_for("/status/204"))).status == 204


async def test_a_streamed_gzip_bomb_comes_out_in_bounded_pieces(aioreq_server: FakeServer) -> None:
    """urllib3's CVE-2025-66471: a streamed body of highly compressed data was decoded a whole
    read at a time. aioreq feeds its decoder 16 KiB slices: no piece is larger than gzip's
    ratio (about 1:1032) times that."""
    bomb = gzip.compress(bytes(64 * 2**20), compresslevel=9)
    aioreq_server.expect("GET", "/bomb").respond(
        200, headers={"Content-Encoding": "gzip"}, body=bomb
    )
    largest = total = 0
    async with (
        aioreq.Client() as client,
        client.stream("GET", aioreq_server.url_for("/bomb")) as response,
    ):
        async for piece in response.iter_bytes():
            largest = max(largest, len(piece))
            total += len(piece)
    assert total == 64 * 2**20
    assert largest <= 17 * 2**20


async def test_the_limits_on_a_response_head_have_knobs(aioreq_server: FakeServer) -> None:
    """Status line, header section and field count: a safe default each, and a knob."""
    many = b"".join(b"X-%d: 1\r\n" % n for n in range(300))
    big = b"X-Big: " + b"v" * (70 * 1024) + b"\r\n"
    long_reason = b"HTTP/1.1 200 " + b"R" * (9 * 1024) + b"\r\n"
    heads = {
        "/many": (b"HTTP/1.1 200 OK\r\n" + many, {"max_header_count": 400}),
        "/big": (b"HTTP/1.1 200 OK\r\n" + big, {"max_header_size": 128 * 1024}),
        "/long": (long_reason, {"max_line_size": 16 * 1024}),
    }
    for path, (head, _) in heads.items():
        raw = head + b"Content-Length: 2\r\n\r\nok"
        aioreq_server.expect("GET", path, times=2).respond(raw=raw)
    for path, (_, knob) in heads.items():
        url = aioreq_server.url_for(path)
        async with aioreq.Client() as client:
            with pytest.raises(aioreq.RemoteProtocolError, match="limit"):
                await client.get(url)
        async with aioreq.Client(**knob) as client:
            assert (await client.get(url)).text == "ok"


async def test_a_client_reads_at_most_256_mib_into_memory_by_default() -> None:
    async with aioreq.Client() as client:
        assert client.max_body_size == 256 * 2**20
