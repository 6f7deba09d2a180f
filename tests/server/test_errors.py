"""Bad requests get their status and a close; a failing application gets a logged 500."""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
from typing import Any

import pytest

from aioreq.server import Request, Response, ServerLimits

from ._support import http_request
from .conftest import Connect, StartServer

pytestmark = pytest.mark.asyncio


async def ok(request: Request) -> Response:
    return Response(text=f"ok {request.path}")


def server_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "aioreq.server"]


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        pytest.param(b"GET /\r\nHost: x\r\n\r\n", 400, id="request-line-without-version"),
        pytest.param(b"GET  / HTTP/1.1\r\nHost: x\r\n\r\n", 400, id="double-space"),
        pytest.param(b"G(T / HTTP/1.1\r\nHost: x\r\n\r\n", 400, id="bad-method"),
        pytest.param(b"GET / HTTP/1.1\r\n\r\n", 400, id="http11-without-host"),
        pytest.param(b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, id="two-hosts"),
        pytest.param(b"GET / HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n", 400, id="bad-field"),
        pytest.param(b"GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 400, id="obs-fold"),
        pytest.param(b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505, id="http2-version"),
        pytest.param(
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            400,
            id="content-length-and-transfer-encoding",
        ),
        pytest.param(
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
            400,
            id="conflicting-content-lengths",
        ),
        pytest.param(
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
            400,
            id="negative-content-length",
        ),
        pytest.param(
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
            501,
            id="unknown-transfer-coding",
        ),
        pytest.param(
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
            400,
            id="chunked-not-final",
        ),
        pytest.param(
            b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
            400,
            id="transfer-encoding-in-http10",
        ),
        pytest.param(
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            400,
            id="bad-chunk-size",
        ),
    ],
)
async def test_malformed_request_gets_its_status_and_a_close(
    start: StartServer, connect: Connect, raw: bytes, status: int
) -> None:
    """RFC 9112 §3, §5, §6.1, §6.3, §7.1: malformed framing is refused with 400 (501 for an
    unknown transfer coding, 505 for another major version), and the connection is closed,
    since what follows can no longer be framed (RFC 9112 §6.1: "MUST close the connection")."""
    called: list[str] = []

    async def app(request: Request) -> Response:
        called.append(request.target)
        return Response()

    client = await connect(await start(app))
    await client.send(raw)
    reply = await client.read_response()
    assert reply.status == status
    assert reply.headers["Connection"] == "close"
    assert reply.body.startswith(str(status).encode())
    await client.assert_closed()
    assert called == []


async def test_too_long_target_is_414(start: StartServer, connect: Connect) -> None:
    """RFC 9112 §3: a request-target longer than the server will parse gets 414."""
    client = await connect(await start(ok, limits=ServerLimits(max_line_size=1024)))
    reply = await client.exchange(http_request(target="/" + "a" * 2000))
    assert reply.status == 414
    await client.assert_closed()


async def test_too_long_target_is_414_before_the_line_ends(
    start: StartServer, connect: Connect
) -> None:
    """A request line that is already too long is refused without waiting for its end."""
    client = await connect(await start(ok, limits=ServerLimits(max_line_size=1024)))
    await client.send(b"GET /" + b"a" * 2000)
    reply = await client.read_response()
    assert reply.status == 414
    await client.assert_closed()


async def test_target_at_the_line_limit_is_served(start: StartServer, connect: Connect) -> None:
    client = await connect(await start(ok, limits=ServerLimits(max_line_size=1024)))
    target = "/" + "a" * (1024 - len("GET  HTTP/1.1") - 1)
    reply = await client.exchange(http_request(target=target))
    assert reply.status == 200


async def test_too_many_header_fields_is_431(start: StartServer, connect: Connect) -> None:
    """RFC 6585 §5: 431 Request Header Fields Too Large."""
    client = await connect(await start(ok, limits=ServerLimits(max_header_count=10)))
    headers = [(f"X-H{index}", "v") for index in range(20)]
    reply = await client.exchange(http_request(headers=headers))
    assert reply.status == 431
    await client.assert_closed()


async def test_header_section_too_large_is_431(start: StartServer, connect: Connect) -> None:
    """RFC 6585 §5: 431 Request Header Fields Too Large."""
    client = await connect(await start(ok, limits=ServerLimits(max_header_size=2048)))
    reply = await client.exchange(http_request(headers=[("X-Big", "b" * 4000)]))
    assert reply.status == 431
    await client.assert_closed()


async def test_bad_request_does_not_disturb_other_connections(
    start: StartServer, connect: Connect
) -> None:
    server = await start(ok)
    good = await connect(server)
    assert (await good.exchange(http_request(target="/1"))).status == 200
    bad = await connect(server)
    await bad.send(b"\x16\x03\x01 not http at all\r\n\r\n")
    assert (await bad.read_response()).status == 400
    assert (await good.exchange(http_request(target="/2"))).body == b"ok /2"


@pytest.mark.parametrize("awaits", [False, True], ids=["at-once", "after-await"])
async def test_app_exception_is_a_logged_500_and_the_connection_goes_on(
    start: StartServer, connect: Connect, caplog: pytest.LogCaptureFixture, awaits: bool
) -> None:
    """A handler's exception gets a 500 and is logged with its traceback; the connection (and
    a concurrent one) keep serving."""

    async def app(request: Request) -> Response:
        if awaits:
            await asyncio.sleep(0.001)
        if request.path == "/boom":
            raise ValueError("boom in the handler")
        return Response(text=f"ok {request.path}")

    server = await start(app)
    other = await connect(server)
    assert (await other.exchange(http_request(target="/before"))).status == 200
    client = await connect(server)
    with caplog.at_level(logging.ERROR, logger="aioreq.server"):
        reply = await client.exchange(http_request(target="/boom"))
    assert reply.status == 500
    assert b"boom" not in reply.body  # no internals leak to the client
    records = server_records(caplog)
    assert len(records) == 1
    assert records[0].levelno == logging.ERROR
    assert "/boom" in records[0].getMessage()
    assert records[0].exc_info is not None
    assert isinstance(records[0].exc_info[1], ValueError)
    assert (await client.exchange(http_request(target="/after"))).body == b"ok /after"
    assert (await other.exchange(http_request(target="/other"))).body == b"ok /other"


@pytest.mark.parametrize("returned", [None, "a string", {"status": 200}, b"bytes"])
async def test_app_returning_no_response_is_a_logged_500(
    start: StartServer, connect: Connect, caplog: pytest.LogCaptureFixture, returned: Any
) -> None:
    async def app(request: Request) -> Any:
        return returned if request.path == "/bad" else Response(text="fine")

    client = await connect(await start(app))
    with caplog.at_level(logging.ERROR, logger="aioreq.server"):
        reply = await client.exchange(http_request(target="/bad"))
    assert reply.status == 500
    assert len(server_records(caplog)) == 1
    assert (await client.exchange(http_request(target="/good"))).body == b"fine"


@pytest.mark.parametrize(
    "response",
    [
        pytest.param(
            lambda: Response(headers={"X-Split": "a\r\nSet-Cookie: injected=1"}, body=b"secret"),
            id="crlf-value",
        ),
        pytest.param(
            lambda: Response(headers={"X-Split": "a\nInjected: 1"}, body=b"secret"),
            id="lf-value",
        ),
        pytest.param(
            lambda: Response(headers={"Bad Name": "v"}, body=b"secret"),
            id="bad-name",
        ),
        pytest.param(
            lambda: Response(reason="OK\r\nInjected: 1", body=b"secret"),
            id="crlf-reason",
        ),
        pytest.param(
            lambda: Response(body=_one(b"secret"), headers={"X-Split": "a\r\nB: c"}),
            id="crlf-value-streamed",
        ),
    ],
)
async def test_response_splitting_is_refused_with_a_500(
    start: StartServer, connect: Connect, caplog: pytest.LogCaptureFixture, response: Any
) -> None:
    """RFC 9110 §5.5: CR and LF are not allowed in a field value; sending them would let the
    app's data forge fields or responses (response splitting). The server answers a correctly
    framed 500 instead and sends none of it.

    The next request is pipelined, so a 500 whose framing is wrong shows at once (its body
    would swallow the next response)."""

    async def app(request: Request) -> Response:
        if request.path == "/next":
            return Response(text="next")
        result: Response = response()
        return result

    client = await connect(await start(app))
    with caplog.at_level(logging.ERROR, logger="aioreq.server"):
        await client.send(http_request() + http_request(target="/next"))
        reply = await client.read_response()
    assert reply.status == 500
    assert "Injected" not in reply.headers
    assert "Set-Cookie" not in reply.headers
    assert "X-Split" not in reply.headers
    assert reply.body.startswith(b"500 Internal Server Error")
    assert b"secret" not in reply.body
    assert len(server_records(caplog)) == 1
    assert (await client.read_response()).body == b"next"


@pytest.mark.parametrize(
    "fields",
    [{"X-Split": "a\r\nInjected: 1"}, {"X-Split": "a\nInjected: 1"}],
    ids=["crlf", "lf"],
)
async def test_forged_field_never_reaches_the_wire(
    start: StartServer, connect: Connect, caplog: pytest.LogCaptureFixture, fields: Any
) -> None:
    """RFC 9110 §5.5: a field value with CR or LF is not sent (no response splitting): the
    client gets a 500 status line and not one byte of the forged field."""

    async def app(request: Request) -> Response:
        return Response(headers=fields, body=b"secret")

    client = await connect(await start(app))
    with caplog.at_level(logging.ERROR, logger="aioreq.server"):
        await client.send(http_request(headers=[("Connection", "close")]))
        raw = await client.read_to_eof()
    assert raw.startswith(b"HTTP/1.1 500 Internal Server Error\r\n")
    assert b"Injected" not in raw
    assert b"X-Split" not in raw
    assert len(server_records(caplog)) == 1


async def _one(piece: bytes) -> Any:
    yield piece


async def test_body_contradicting_its_content_length_is_a_500(
    start: StartServer, connect: Connect, caplog: pytest.LogCaptureFixture
) -> None:
    """RFC 9110 §8.6: a sender MUST NOT send a Content-Length that differs from the body."""

    async def app(request: Request) -> Response:
        if request.path == "/next":
            return Response(text="next")
        return Response(body=b"12345", headers={"Content-Length": "10"})

    client = await connect(await start(app))
    with caplog.at_level(logging.ERROR, logger="aioreq.server"):
        reply = await client.exchange(http_request())
    assert reply.status == 500
    assert len(server_records(caplog)) == 1
    assert (await client.exchange(http_request(target="/next"))).body == b"next"


async def test_client_resetting_mid_request_is_not_an_error(
    start: StartServer, connect: Connect, caplog: pytest.LogCaptureFixture
) -> None:
    """A client that goes away (TCP reset) while its request is handled is routine for a
    server: nothing is logged as an error and other connections go on."""
    handling = asyncio.Event()
    finished = asyncio.Event()

    async def app(request: Request) -> Response:
        if request.path == "/slow":
            handling.set()
            await asyncio.sleep(0.05)
            finished.set()
        return Response(text=f"ok {request.path}")

    server = await start(app)
    client = await connect(server)
    with caplog.at_level(logging.WARNING):
        await client.send(http_request(target="/slow"))
        await asyncio.wait_for(handling.wait(), 5.0)
        client.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.close()
        await asyncio.wait_for(finished.wait(), 5.0)
        await asyncio.sleep(0.02)
        other = await connect(server)
        assert (await other.exchange(http_request(target="/other"))).body == b"ok /other"
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
