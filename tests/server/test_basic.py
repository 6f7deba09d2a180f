"""What a plain request gets: status line, fields, body, and what the application sees of it."""

from __future__ import annotations

import asyncio
import json
import time
from email.utils import parsedate_to_datetime
from typing import Any

import pytest

from aioreq.server import RawResponse, Request, Response

from ._support import IMF_FIXDATE, http_request
from .conftest import Connect, StartServer

pytestmark = pytest.mark.asyncio


async def test_get_answers_status_body_and_content_length(
    start: StartServer, connect: Connect
) -> None:
    async def app(request: Request) -> Response:
        return Response(body=b"hello, world")

    client = await connect(await start(app))
    reply = await client.exchange(http_request())
    assert reply.status == 200
    assert reply.reason == b"OK"
    assert reply.http_version == b"1.1"
    assert reply.body == b"hello, world"
    assert reply.headers["Content-Length"] == "12"
    assert "Transfer-Encoding" not in reply.headers
    assert reply.keep_alive


async def test_date_header_is_an_imf_fixdate_of_now(start: StartServer, connect: Connect) -> None:
    """RFC 9110 §6.6.1: an origin server with a clock MUST send Date, in IMF-fixdate form."""

    async def app(request: Request) -> Response:
        return Response(text="x")

    client = await connect(await start(app))
    reply = await client.exchange(http_request())
    assert len(reply.headers.get_all("Date")) == 1
    date = reply.headers["Date"]
    assert IMF_FIXDATE.fullmatch(date), date
    assert abs(parsedate_to_datetime(date).timestamp() - time.time()) < 5


async def test_json_response_is_compact_utf8_with_content_type(
    start: StartServer, connect: Connect
) -> None:
    async def app(request: Request) -> Response:
        return Response(json={"name": "Zoë", "items": [1, 2, None]})

    client = await connect(await start(app))
    reply = await client.exchange(http_request())
    assert reply.headers["Content-Type"] == "application/json"
    assert json.loads(reply.body) == {"name": "Zoë", "items": [1, 2, None]}
    assert reply.headers["Content-Length"] == str(len(reply.body))


async def test_text_and_str_bodies_are_sent_as_utf8_plain_text(
    start: StartServer, connect: Connect
) -> None:
    async def app(request: Request) -> Response:
        if request.path == "/text":
            return Response(text="héllo")
        return Response(body="wörld")

    client = await connect(await start(app))
    for path, expected in (("/text", "héllo"), ("/str", "wörld")):
        reply = await client.exchange(http_request(target=path))
        assert reply.headers["Content-Type"] == "text/plain; charset=utf-8"
        assert reply.body == expected.encode()
        assert reply.headers["Content-Length"] == str(len(expected.encode()))


async def test_explicit_content_type_is_not_overridden(
    start: StartServer, connect: Connect
) -> None:
    async def app(request: Request) -> Response:
        return Response(text="<p>hi</p>", headers={"Content-Type": "text/html"})

    client = await connect(await start(app))
    reply = await client.exchange(http_request())
    assert reply.headers.get_all("Content-Type") == ["text/html"]


async def test_custom_status_reason_and_headers_are_sent(
    start: StartServer, connect: Connect
) -> None:
    async def app(request: Request) -> Response:
        return Response(
            201,
            reason="Made It",
            headers=[
                ("X-Str", "text value"),
                (b"X-Bytes", b"bytes value"),
                ("Set-Cookie", "a=1"),
                ("Set-Cookie", "b=2"),
            ],
            body=b"ok",
        )

    client = await connect(await start(app))
    reply = await client.exchange(http_request())
    assert reply.status == 201
    assert reply.reason == b"Made It"
    assert reply.headers["x-str"] == "text value"
    assert reply.headers["X-BYTES"] == "bytes value"
    assert reply.headers.get_all("Set-Cookie") == ["a=1", "b=2"]


async def test_mapping_headers_of_str_and_bytes(start: StartServer, connect: Connect) -> None:
    async def app(request: Request) -> Response:
        return Response(headers={"X-A": "1", b"X-B": b"2"})

    client = await connect(await start(app))
    reply = await client.exchange(http_request())
    assert (reply.headers["X-A"], reply.headers["X-B"]) == ("1", "2")
    assert reply.body == b""
    assert reply.headers["Content-Length"] == "0"


async def test_request_attributes_seen_by_the_app(start: StartServer, connect: Connect) -> None:
    seen: dict[str, Any] = {}

    async def app(request: Request) -> Response:
        seen.update(
            method=request.method,
            target=request.target,
            path=request.path,
            raw_path=request.raw_path,
            query_string=request.query_string,
            query=request.query,
            custom=(request.headers["x-custom"], request.headers["X-CUSTOM"]),
            multi=request.headers.get_all("x-multi"),
            http_version=request.http_version,
            client=request.client,
            scheme=request.scheme,
            url=request.url,
            expect_continue=request.expect_continue,
        )
        return Response()

    server = await start(app)
    client = await connect(server)
    target = "/a%20b/c%2Fd?x=1&x=2&empty=&z=%C3%A9"
    reply = await client.exchange(
        http_request(
            "PATCH",
            target,
            host=f"example.org:{server.port}",
            headers=[("X-Custom", "v"), ("X-Multi", "1"), ("x-multi", "2")],
        )
    )
    assert reply.status == 200
    assert seen == {
        "method": "PATCH",
        "target": target,
        "path": "/a b/c/d",
        "raw_path": "/a%20b/c%2Fd",
        "query_string": "x=1&x=2&empty=&z=%C3%A9",
        "query": {"x": ["1", "2"], "empty": [""], "z": ["é"]},
        "custom": ("v", "v"),
        "multi": ["1", "2"],
        "http_version": "1.1",
        "client": ("127.0.0.1", client.port),
        "scheme": "http",
        "url": f"http://example.org:{server.port}{target}",
        "expect_continue": False,
    }


async def test_request_without_query_has_empty_query(start: StartServer, connect: Connect) -> None:
    seen: list[tuple[str, dict[str, list[str]]]] = []

    async def app(request: Request) -> Response:
        seen.append((request.query_string, request.query))
        return Response()

    client = await connect(await start(app))
    await client.exchange(http_request(target="/plain"))
    assert seen == [("", {})]


async def test_head_gets_the_get_fields_and_no_body(start: StartServer, connect: Connect) -> None:
    """RFC 9110 §9.3.2: the server SHOULD send the same fields as for GET, but no content.

    HEAD and GET are pipelined: a single stray body byte after the HEAD response would corrupt
    the GET response that follows.
    """

    async def app(request: Request) -> Response:
        return Response(body=b"x" * 100, headers={"X-Method": request.method})

    client = await connect(await start(app))
    await client.send(http_request("HEAD") + http_request("GET"))
    head = await client.read_response(b"HEAD")
    get = await client.read_response(b"GET")
    assert head.status == get.status == 200
    assert head.body == b""
    assert head.headers["Content-Length"] == "100"
    assert head.headers["X-Method"] == "HEAD"
    assert get.body == b"x" * 100


async def test_head_to_a_streamed_body_sends_no_body(start: StartServer, connect: Connect) -> None:
    """RFC 9110 §9.3.2: no content in a response to HEAD, even when the app streams one."""

    async def body() -> Any:
        yield b"streamed"

    async def app(request: Request) -> Response:
        return Response(body=body())

    client = await connect(await start(app))
    await client.send(http_request("HEAD") + http_request("GET", "/next"))
    head = await client.read_response(b"HEAD")
    assert head.status == 200
    assert head.body == b""
    get = await client.read_response(b"GET")
    assert get.body == b"streamed"


@pytest.mark.parametrize("status", [204, 304])
async def test_204_and_304_have_no_body(start: StartServer, connect: Connect, status: int) -> None:
    """RFC 9110 §8.6: no Content-Length in a 204; RFC 9112 §6.3: 204 and 304 end at their head.

    The app gives a body anyway: it must not reach the wire (the pipelined response after it
    would be corrupted).
    """

    async def app(request: Request) -> Response:
        if request.path == "/next":
            return Response(body=b"next")
        return Response(status, body=b"should not be sent")

    client = await connect(await start(app))
    await client.send(http_request() + http_request(target="/next"))
    reply = await client.read_response()
    assert reply.status == status
    assert reply.body == b""
    if status == 204:
        assert "Content-Length" not in reply.headers
    assert "Transfer-Encoding" not in reply.headers
    following = await client.read_response()
    assert following.body == b"next"


async def test_raw_response_is_sent_verbatim_then_the_connection_closes(
    start: StartServer, connect: Connect
) -> None:
    raw = b"HTTP/1.1 200 OK\r\nX-Raw: yes\r\nContent-Length: 3\r\n\r\nraw"

    async def app(request: Request) -> RawResponse:
        return RawResponse(raw)

    client = await connect(await start(app))
    await client.send(http_request())
    assert await client.read_to_eof() == raw


async def test_raw_response_streamed_in_pieces_is_sent_verbatim(
    start: StartServer, connect: Connect
) -> None:
    async def pieces() -> Any:
        for piece in (b"HTTP/1.1 200 OK\r\n", b"Content-Length: 10\r\n\r\n", b"cut"):
            await asyncio.sleep(0.01)
            yield piece

    async def app(request: Request) -> RawResponse:
        return RawResponse(pieces())

    client = await connect(await start(app))
    await client.send(http_request())
    assert await client.read_to_eof() == b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\ncut"


async def test_raw_response_with_keep_alive_keeps_the_connection(
    start: StartServer, connect: Connect
) -> None:
    async def app(request: Request) -> RawResponse | Response:
        if request.path == "/raw":
            return RawResponse(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nraw", keep_alive=True)
        return Response(body=b"normal")

    client = await connect(await start(app))
    first = await client.exchange(http_request(target="/raw"))
    assert first.body == b"raw"
    assert first.headers.get_all("Date") == []  # nothing added to the raw bytes
    second = await client.exchange(http_request(target="/other"))
    assert second.body == b"normal"


async def test_pipelined_raw_responses_in_memory_are_sent_in_order(
    start: StartServer, connect: Connect
) -> None:
    # Raw bytes in memory are written from the data callback, like a Response: three requests
    # in one read get three answers in order, then the last (not kept) closes the connection.
    async def app(request: Request) -> RawResponse:
        body = request.path.encode()
        head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body)
        return RawResponse(head + body, keep_alive=request.path != "/c")

    client = await connect(await start(app))
    await client.send(
        http_request(target="/a") + http_request(target="/b") + http_request(target="/c")
    )
    assert await client.read_to_eof() == b"".join(
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n" + path for path in (b"/a", b"/b", b"/c")
    )


async def test_absolute_form_target_gives_the_path(start: StartServer, connect: Connect) -> None:
    """RFC 9112 §3.2.2: a server MUST accept the absolute-form; its path is the path."""
    seen: list[tuple[str, str, str, str]] = []

    async def app(request: Request) -> Response:
        seen.append((request.path, request.raw_path, request.query_string, request.url))
        return Response()

    client = await connect(await start(app))
    target = "http://example.org/x%20y?q=1"
    reply = await client.exchange(http_request(target=target, host="example.org"))
    assert reply.status == 200
    assert seen == [("/x y", "/x%20y", "q=1", target)]


async def test_date_given_by_the_app_is_not_duplicated(
    start: StartServer, connect: Connect
) -> None:
    """RFC 9110 §5.3 and §6.6.1: one Date field; the app's own value is kept."""
    date = "Tue, 01 Jan 2030 00:00:00 GMT"

    async def app(request: Request) -> Response:
        return Response(headers={"Date": date})

    client = await connect(await start(app))
    reply = await client.exchange(http_request())
    assert reply.headers.get_all("Date") == [date]


@pytest.mark.parametrize(
    ("request_bytes", "expected"),
    [
        pytest.param(
            b"GET /x HTTP/1.0\r\n\r\n",
            "http://127.0.0.1:{port}/x",
            id="http10-without-host",
        ),
        pytest.param(
            b"OPTIONS * HTTP/1.1\r\nHost: example.org\r\n\r\n",
            "http://example.org",
            id="asterisk-form",
        ),
        pytest.param(
            b"GET /p?q HTTP/1.1\r\nHost: example.org:8080\r\n\r\n",
            "http://example.org:8080/p?q",
            id="origin-form",
        ),
    ],
)
async def test_request_url_is_the_target_uri(
    start: StartServer, connect: Connect, request_bytes: bytes, expected: str
) -> None:
    """RFC 9112 §3.3: how the target URI is reconstructed from the request."""
    urls: list[str] = []

    async def app(request: Request) -> Response:
        urls.append(request.url)
        return Response()

    server = await start(app)
    client = await connect(server)
    assert (await client.exchange(request_bytes)).status == 200
    assert urls == [expected.format(port=server.port)]
