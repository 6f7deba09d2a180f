"""The built-in endpoints of the fake server, seen by clients nobody here wrote.

`requests` for what a user sees, `http.client` and raw sockets where the wire itself matters
(chunk boundaries, a body cut short, a connection closed without an answer).
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import hashlib
import http.client
import importlib.util
import json
import re
import socket
import sys
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import requests.auth

from pytest_aioreq.fakeserver import FakeServer, RecordedRequest
from pytest_aioreq.fakeserver._endpoints import route

TIMEOUT = 5


def get(server: FakeServer, path: str, **kwargs: Any) -> requests.Response:
    return requests.get(server.url_for(path), timeout=kwargs.pop("timeout", TIMEOUT), **kwargs)


def connect(server: FakeServer) -> http.client.HTTPConnection:
    return http.client.HTTPConnection(server.host, server.port, timeout=TIMEOUT)


def exchange(server: FakeServer, data: bytes) -> bytes:
    """Send `data` on a new connection and return all that comes back until the server closes
    (so `data` must end the connection: HTTP/1.0, or `Connection: close`)."""
    with socket.create_connection((server.host, server.port), timeout=TIMEOUT) as sock:
        sock.sendall(data)
        received = b""
        while piece := sock.recv(65536):
            received += piece
    return received


def split(response: bytes) -> tuple[bytes, bytes]:
    head, _, body = response.partition(b"\r\n\r\n")
    return head, body


def dechunk(body: bytes) -> tuple[list[bytes], list[bytes]]:
    """The chunks and the trailer lines of a chunked body, each framing checked."""
    chunks = []
    while True:
        line, crlf, body = body.partition(b"\r\n")
        assert crlf, "a chunk-size line without CRLF"
        size = int(line, 16)
        if size == 0:
            break
        assert body[size : size + 2] == b"\r\n"
        chunks.append(body[:size])
        body = body[size + 2 :]
    assert body.endswith(b"\r\n")
    fields = body[:-2]
    return chunks, fields.split(b"\r\n")[:-1] if fields else []


def pattern(n: int) -> bytes:
    return bytes(i % 256 for i in range(n))


@pytest.fixture
def stopwatch() -> Iterator[None]:
    """Fails the test unless it, its server's teardown included, takes less than a second.

    Request it before `aioreq_server`: it is then torn down after the server's teardown."""
    start = time.monotonic()
    yield
    elapsed = time.monotonic() - start
    assert elapsed < 1.0, f"the test and its teardown took {elapsed:.2f} s"


# -- /status ----------------------------------------------------------------------------------


@pytest.mark.parametrize("code", [200, 201, 299, 404, 418, 500, 599, 999])
def test_status(aioreq_server: FakeServer, code: int) -> None:
    response = get(aioreq_server, f"/status/{code}")
    assert response.status_code == code
    assert response.content == b""
    assert response.headers["Content-Length"] == "0"


@pytest.mark.parametrize("code", [204, 304])
def test_status_without_a_body(aioreq_server: FakeServer, code: int) -> None:
    raw = exchange(
        aioreq_server,
        f"GET /status/{code} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode(),
    )
    head, body = split(raw)
    assert head.startswith(f"HTTP/1.1 {code} ".encode())
    assert b"content-length" not in head.lower()
    assert b"transfer-encoding" not in head.lower()
    assert body == b""


@pytest.mark.parametrize("code", ["99", "100", "101", "199", "1000", "abc", "-200", "2.5", ""])
def test_status_refuses_what_is_no_final_status(aioreq_server: FakeServer, code: str) -> None:
    response = get(aioreq_server, f"/status/{code}")
    assert response.status_code == 400
    assert f"/status/{code}: " in response.text
    assert "200 to 999" in response.text


def test_status_explains_1xx(aioreq_server: FakeServer) -> None:
    assert "informational" in get(aioreq_server, "/status/101").text


# -- /echo, /headers --------------------------------------------------------------------------


def test_echo(aioreq_server: FakeServer) -> None:
    response = requests.post(
        aioreq_server.url_for("/echo?a=1&a=2&b="),
        data="héllo",
        headers={"X-Test": "yes"},
        timeout=TIMEOUT,
    )
    answer = response.json()
    assert response.headers["Content-Type"] == "application/json"
    assert set(answer) == {"method", "target", "path", "query", "headers", "body", "http_version"}
    assert answer["method"] == "POST"
    assert answer["target"] == "/echo?a=1&a=2&b="
    assert answer["path"] == "/echo"
    assert answer["query"] == {"a": ["1", "2"], "b": [""]}
    assert ["X-Test", "yes"] in answer["headers"]
    assert all(isinstance(pair, list) and len(pair) == 2 for pair in answer["headers"])
    assert answer["body"] == "héllo"
    assert answer["http_version"] == "1.1"


def test_echo_http10(aioreq_server: FakeServer) -> None:
    _, body = split(exchange(aioreq_server, b"GET /echo?x=%20 HTTP/1.0\r\n\r\n"))
    answer = json.loads(body)
    assert answer["http_version"] == "1.0"
    assert answer["target"] == "/echo?x=%20"
    assert answer["query"] == {"x": [" "]}
    assert answer["headers"] == []


def test_headers_keeps_order_and_repeats(aioreq_server: FakeServer) -> None:
    conn = connect(aioreq_server)
    try:
        conn.putrequest("GET", "/headers", skip_accept_encoding=True)
        conn.putheader("X-A", "1")
        conn.putheader("x-b", "2")
        conn.putheader("X-A", "3")
        conn.endheaders()
        response = conn.getresponse()
        answer = json.loads(response.read())
    finally:
        conn.close()
    assert response.getheader("Content-Type") == "application/json"
    assert answer == {
        "headers": [
            ["Host", f"{aioreq_server.host}:{aioreq_server.port}"],
            ["X-A", "1"],
            ["x-b", "2"],
            ["X-A", "3"],
        ]
    }


# -- /bytes -----------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 255, 256, 1000])
def test_bytes(aioreq_server: FakeServer, n: int) -> None:
    response = get(aioreq_server, f"/bytes/{n}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["Content-Length"] == str(n)
    assert response.content == pattern(n)


def test_bytes_head(aioreq_server: FakeServer) -> None:
    response = requests.head(aioreq_server.url_for("/bytes/10"), timeout=TIMEOUT)
    assert response.headers["Content-Length"] == "10"
    assert response.content == b""


@pytest.mark.parametrize("n", ["-1", "x", "1.5", str(100 * 2**20 + 1)])
def test_bytes_refuses(aioreq_server: FakeServer, n: str) -> None:
    response = get(aioreq_server, f"/bytes/{n}")
    assert response.status_code == 400
    assert "whole number from 0 to 104857600" in response.text


# -- /chunked ---------------------------------------------------------------------------------


def test_chunked_defaults_on_the_wire(aioreq_server: FakeServer) -> None:
    raw = exchange(aioreq_server, b"GET /chunked HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    head, body = split(raw)
    assert b"\r\nTransfer-Encoding: chunked" in head
    assert b"\r\nTrailer:" not in head
    chunks, trailers = dechunk(body)
    assert chunks == [b"a" * 10, b"b" * 10, b"c" * 10]
    assert trailers == []


def test_chunked_with_trailer_on_the_wire(aioreq_server: FakeServer) -> None:
    raw = exchange(
        aioreq_server,
        b"GET /chunked?chunks=30&size=7&trailer=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    head, body = split(raw)
    assert b"\r\nTrailer: X-Trailer\r\n" in head
    chunks, trailers = dechunk(body)
    assert len(chunks) == 30
    assert all(len(chunk) == 7 for chunk in chunks)
    assert chunks[0] == b"aaaaaaa"
    assert chunks[26] == b"aaaaaaa"  # the letters wrap around after z
    assert chunks[29] == b"ddddddd"
    assert trailers == [b"X-Trailer: done"]


def test_chunked_none(aioreq_server: FakeServer) -> None:
    raw = exchange(
        aioreq_server, b"GET /chunked?chunks=0 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    assert split(raw)[1] == b"0\r\n\r\n"


def test_chunked_read_by_requests(aioreq_server: FakeServer) -> None:
    response = get(aioreq_server, "/chunked?chunks=2&size=5&trailer=1")
    assert response.headers["Transfer-Encoding"] == "chunked"
    assert response.content == b"aaaaabbbbb"


def test_chunked_to_http10_is_unframed(aioreq_server: FakeServer) -> None:
    head, body = split(exchange(aioreq_server, b"GET /chunked?trailer=1 HTTP/1.0\r\n\r\n"))
    assert b"transfer-encoding" not in head.lower()
    assert body == b"a" * 10 + b"b" * 10 + b"c" * 10


@pytest.mark.parametrize("query", ["size=0", "chunks=-1", "trailer=2", "chunks=1000&size=1048576"])
def test_chunked_refuses(aioreq_server: FakeServer, query: str) -> None:
    assert get(aioreq_server, f"/chunked?{query}").status_code == 400


# -- content codings --------------------------------------------------------------------------


def raw_body(server: FakeServer, path: str) -> tuple[http.client.HTTPResponse, bytes]:
    conn = connect(server)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response, response.read()
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("name", "decode"),
    [("gzip", gzip.decompress), ("deflate", zlib.decompress)],  # deflate: the zlib format
)
def test_stdlib_codings(aioreq_server: FakeServer, name: str, decode: Any) -> None:
    response = get(aioreq_server, f"/{name}")
    assert response.headers["Content-Encoding"] == name
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"encoding": name, "ok": True}
    _, body = raw_body(aioreq_server, f"/{name}")
    assert json.loads(decode(body)) == {"encoding": name, "ok": True}


@pytest.mark.skipif(
    importlib.util.find_spec("brotli") is None, reason="the brotli module is not installed"
)
def test_brotli(aioreq_server: FakeServer) -> None:
    import brotli

    response = get(aioreq_server, "/brotli")  # requests decodes br when brotli is installed
    assert response.headers["Content-Encoding"] == "br"
    assert response.json() == {"encoding": "brotli", "ok": True}
    _, body = raw_body(aioreq_server, "/brotli")
    assert json.loads(brotli.decompress(body)) == {"encoding": "brotli", "ok": True}


@pytest.mark.skipif(
    importlib.util.find_spec("zstandard") is None, reason="the zstandard module is not installed"
)
def test_zstd(aioreq_server: FakeServer) -> None:
    import zstandard

    # Decoded here: urllib3 decodes zstd with compression.zstd / backports.zstd, not zstandard.
    response, body = raw_body(aioreq_server, "/zstd")
    assert response.getheader("Content-Encoding") == "zstd"
    assert response.getheader("Content-Type") == "application/json"
    decoded = zstandard.ZstdDecompressor().decompress(body)
    assert json.loads(decoded) == {"encoding": "zstd", "ok": True}


@pytest.mark.parametrize(("path", "module"), [("/brotli", "brotli"), ("/zstd", "zstandard")])
def test_coding_without_its_module(
    aioreq_server: FakeServer, monkeypatch: pytest.MonkeyPatch, path: str, module: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # importing it now raises ImportError
    response = get(aioreq_server, path)
    assert response.status_code == 501
    assert f"needs the {module} module" in response.text
    assert "Content-Encoding" not in response.headers


# -- time: /delay, /drip, /stall --------------------------------------------------------------


def test_delay(aioreq_server: FakeServer) -> None:
    start = time.monotonic()
    response = get(aioreq_server, "/delay/0.2")
    elapsed = time.monotonic() - start
    assert response.json() == {"delay": 0.2}
    assert 0.19 <= elapsed < 0.7


@pytest.mark.parametrize("seconds", ["-1", "61", "nan", "inf", "1e1", "x"])
def test_delay_refuses(aioreq_server: FakeServer, seconds: str) -> None:
    response = get(aioreq_server, f"/delay/{seconds}")
    assert response.status_code == 400
    assert "from 0 to 60" in response.text


def test_drip_spreads_the_body(aioreq_server: FakeServer) -> None:
    conn = connect(aioreq_server)
    try:
        start = time.monotonic()
        conn.request("GET", "/drip?numbytes=4&duration=0.3")
        response = conn.getresponse()
        assert response.getheader("Content-Length") == "4"
        arrivals = []
        for _ in range(4):
            assert response.read(1) == b"*"
            arrivals.append(time.monotonic() - start)
        assert response.read() == b""
    finally:
        conn.close()
    assert arrivals[0] < 0.1  # the first byte at once
    assert arrivals[1] - arrivals[0] >= 0.05  # then one every 0.1 s
    assert 0.28 <= arrivals[3] < 0.8  # the last after the duration


def test_drip_defaults_and_delay(aioreq_server: FakeServer) -> None:
    start = time.monotonic()
    response = get(aioreq_server, "/drip?duration=0&delay=0.1")
    assert response.content == b"*" * 10
    assert 0.09 <= time.monotonic() - start < 0.6


@pytest.mark.parametrize("query", ["numbytes=-1", "numbytes=100001", "duration=61", "delay=x"])
def test_drip_refuses(aioreq_server: FakeServer, query: str) -> None:
    assert get(aioreq_server, f"/drip?{query}").status_code == 400


def test_stall_times_out_and_teardown_is_quick(stopwatch: None, aioreq_server: FakeServer) -> None:
    with pytest.raises(requests.exceptions.ReadTimeout):
        get(aioreq_server, "/stall", timeout=0.2)
    aioreq_server.assert_requested("GET", "/stall", times=1)


def test_stall_ends_when_the_connection_is_dropped(aioreq_server: FakeServer) -> None:
    with socket.create_connection(
        (aioreq_server.host, aioreq_server.port), timeout=TIMEOUT
    ) as sock:
        sock.sendall(b"GET /stall HTTP/1.1\r\nHost: x\r\n\r\n")
        sock.settimeout(0.1)
        with pytest.raises(socket.timeout):
            sock.recv(1)
        assert aioreq_server.drop_connections() == 1
        sock.settimeout(TIMEOUT)
        with contextlib.suppress(ConnectionResetError):
            assert sock.recv(1) == b""  # closed without an answer


# -- redirects --------------------------------------------------------------------------------


def test_redirect_chain(aioreq_server: FakeServer) -> None:
    response = get(aioreq_server, "/redirect/3")
    assert [r.status_code for r in response.history] == [302, 302, 302]
    assert [r.headers["Location"] for r in response.history] == [
        "/redirect/2",
        "/redirect/1",
        "/echo",
    ]
    assert response.json()["path"] == "/echo"


def test_redirect_one_step(aioreq_server: FakeServer) -> None:
    response = get(aioreq_server, "/redirect/1", allow_redirects=False)
    assert response.status_code == 302
    assert response.headers["Location"] == "/echo"
    assert response.content == b""


@pytest.mark.parametrize("n", ["0", "-1", "x", ""])
def test_redirect_refuses(aioreq_server: FakeServer, n: str) -> None:
    assert get(aioreq_server, f"/redirect/{n}").status_code == 400


def test_redirect_to(aioreq_server: FakeServer) -> None:
    response = get(
        aioreq_server, "/redirect-to?url=http://example.invalid/x", allow_redirects=False
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "http://example.invalid/x"


@pytest.mark.parametrize("status", ["307", "308"])
def test_redirect_to_keeps_the_method(aioreq_server: FakeServer, status: str) -> None:
    response = requests.post(
        aioreq_server.url_for(f"/redirect-to?url=/echo&status={status}"),
        data=b"kept",
        timeout=TIMEOUT,
    )
    assert [r.status_code for r in response.history] == [int(status)]
    assert response.json()["method"] == "POST"
    assert response.json()["body"] == "kept"


def test_redirect_to_status_code_alias(aioreq_server: FakeServer) -> None:
    response = get(aioreq_server, "/redirect-to?url=/echo&status_code=301", allow_redirects=False)
    assert response.status_code == 301


@pytest.mark.parametrize(
    "query", ["", "url=", "url=/echo&status=200", "url=/echo&status=400", "url=/a%0d%0aX:%20y"]
)
def test_redirect_to_refuses(aioreq_server: FakeServer, query: str) -> None:
    response = get(aioreq_server, f"/redirect-to?{query}", allow_redirects=False)
    assert response.status_code == 400
    assert "X" not in response.headers


# -- cookies ----------------------------------------------------------------------------------


def test_cookies_round_trip(aioreq_server: FakeServer) -> None:
    with requests.Session() as session:
        response = session.get(aioreq_server.url_for("/cookies/set?a=1&b=two"), timeout=TIMEOUT)
        assert [r.status_code for r in response.history] == [302]
        assert response.json() == {"cookies": {"a": "1", "b": "two"}}
        assert session.cookies.get_dict() == {"a": "1", "b": "two"}
        again = session.get(aioreq_server.url_for("/cookies"), timeout=TIMEOUT)
    assert again.json() == {"cookies": {"a": "1", "b": "two"}}


def test_cookies_set_sends_one_field_each(aioreq_server: FakeServer) -> None:
    response = get(aioreq_server, "/cookies/set?a=1&b=2&a=3", allow_redirects=False)
    assert response.status_code == 302
    assert response.headers["Location"] == "/cookies"
    assert response.raw.headers.getlist("Set-Cookie") == [
        "a=1; Path=/",
        "a=3; Path=/",
        "b=2; Path=/",
    ]


def test_cookies_set_nothing(aioreq_server: FakeServer) -> None:
    response = get(aioreq_server, "/cookies/set", allow_redirects=False)
    assert response.status_code == 302
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize("query", ["a=b%20c", "a=b;c", 'a="', "a%20b=1", "=1"])
def test_cookies_set_refuses(aioreq_server: FakeServer, query: str) -> None:
    response = get(aioreq_server, f"/cookies/set?{query}", allow_redirects=False)
    assert response.status_code == 400
    assert "Set-Cookie" not in response.headers


def test_cookies_reads_every_cookie_field(aioreq_server: FakeServer) -> None:
    conn = connect(aioreq_server)
    try:
        conn.putrequest("GET", "/cookies")
        conn.putheader("Cookie", 'a=1; b="q"; junk; c=x=y')
        conn.putheader("Cookie", "d=4")
        conn.endheaders()
        answer = json.loads(conn.getresponse().read())
    finally:
        conn.close()
    assert answer == {"cookies": {"a": "1", "b": '"q"', "c": "x=y", "d": "4"}}


def test_cookies_none(aioreq_server: FakeServer) -> None:
    assert get(aioreq_server, "/cookies").json() == {"cookies": {}}


# -- /basic-auth ------------------------------------------------------------------------------


def test_basic_auth_good(aioreq_server: FakeServer) -> None:
    response = get(aioreq_server, "/basic-auth/ann/s3cret", auth=("ann", "s3cret"))
    assert response.status_code == 200
    assert response.json() == {"authenticated": True, "user": "ann"}


def basic(text: bytes) -> str:
    return "Basic " + base64.b64encode(text).decode()


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        basic(b"ann:wrong"),
        basic(b"bob:s3cret"),
        basic(b"ann:s3cret:"),
        "Bearer " + base64.b64encode(b"ann:s3cret").decode(),
        "Basic !!!not-base64",
        "Basic",
    ],
)
def test_basic_auth_bad(aioreq_server: FakeServer, authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = get(aioreq_server, "/basic-auth/ann/s3cret", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Basic realm="pytest_aioreq"'
    assert response.json() == {"authenticated": False}


def test_basic_auth_scheme_is_case_insensitive(aioreq_server: FakeServer) -> None:
    headers = {"Authorization": "basic " + base64.b64encode(b"ann:pw").decode()}
    assert get(aioreq_server, "/basic-auth/ann/pw", headers=headers).status_code == 200


@pytest.mark.parametrize("path", ["/basic-auth/ann", "/basic-auth/a/b/c"])
def test_basic_auth_refuses_other_paths(aioreq_server: FakeServer, path: str) -> None:
    assert get(aioreq_server, path).status_code == 400


# -- /digest-auth -----------------------------------------------------------------------------
#
# Real clients first (urllib, requests); then a hand-rolled client, written out from RFC 7616
# §3.4 in a few lines, for what those two cannot do (auth-int, username*, a chosen nc).


def urllib_get(url: str, user: str, password: str) -> Any:
    manager = urllib.request.HTTPPasswordMgrWithDefaultRealm()
    manager.add_password(None, url, user, password)
    opener = urllib.request.build_opener(urllib.request.HTTPDigestAuthHandler(manager))
    with opener.open(url, timeout=TIMEOUT) as response:
        return json.loads(response.read())


def urllib_has(algorithm: str) -> bool:
    handler = urllib.request.HTTPDigestAuthHandler()
    try:
        handler.get_algorithm_impls(algorithm)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize(
    "algorithm",
    [
        "MD5",
        pytest.param(
            "SHA-256",
            marks=pytest.mark.skipif(
                not urllib_has("SHA-256"), reason="this Python's urllib has no SHA-256 digest"
            ),
        ),
    ],
)
def test_digest_auth_urllib(aioreq_server: FakeServer, algorithm: str) -> None:
    url = aioreq_server.url_for(f"/digest-auth/auth/ann/s3cret/{algorithm}")
    assert urllib_get(url, "ann", "s3cret") == {"authenticated": True, "user": "ann"}


@pytest.mark.parametrize("algorithm", ["MD5", "MD5-sess", "SHA-256", "sha-256"])
def test_digest_auth_requests(aioreq_server: FakeServer, algorithm: str) -> None:
    auth = requests.auth.HTTPDigestAuth("ann", "s3cret")
    response = get(aioreq_server, f"/digest-auth/auth/ann/s3cret/{algorithm}", auth=auth)
    assert response.status_code == 200
    assert response.json() == {"authenticated": True, "user": "ann"}
    challenge = response.history[0].headers["WWW-Authenticate"]
    assert f"algorithm={algorithm.replace('sha', 'SHA')}" in challenge


def test_digest_auth_requests_counts_on_one_nonce(aioreq_server: FakeServer) -> None:
    """requests sends the cached nonce with nc 2, 3... on later requests: each is accepted."""
    auth = requests.auth.HTTPDigestAuth("ann", "s3cret")
    with requests.Session() as session:
        for _ in range(3):
            url = aioreq_server.url_for("/digest-auth/auth/ann/s3cret/SHA-256")
            response = session.get(url, auth=auth, timeout=TIMEOUT)
            assert response.status_code == 200
    ncs = [
        re.search(r"nc=(\w+)", request.header("authorization") or "")
        for request in aioreq_server.requests
    ]
    assert [nc.group(1) if nc else None for nc in ncs] == [None, "00000001", "00000002", "00000003"]


def test_digest_auth_requests_wrong_password(aioreq_server: FakeServer) -> None:
    auth = requests.auth.HTTPDigestAuth("ann", "wrong")
    response = get(aioreq_server, "/digest-auth/auth/ann/s3cret", auth=auth)
    assert response.status_code == 401
    assert response.json() == {"authenticated": False}
    assert "stale" not in response.headers["WWW-Authenticate"]


def test_digest_auth_without_credentials(aioreq_server: FakeServer) -> None:
    first = get(aioreq_server, "/digest-auth/auth-int/ann/s3cret/SHA-256-sess")
    second = get(aioreq_server, "/digest-auth/auth-int/ann/s3cret/SHA-256-sess")
    assert first.status_code == 401
    assert first.json() == {"authenticated": False}
    pattern = (
        r'Digest realm="pytest_aioreq", qop="auth-int", nonce="([0-9a-f]{32})", '
        r'opaque="([0-9a-f]{32})", algorithm=SHA-256-sess'
    )
    one = re.fullmatch(pattern, first.headers["WWW-Authenticate"])
    two = re.fullmatch(pattern, second.headers["WWW-Authenticate"])
    assert one is not None
    assert two is not None
    assert one.group(1) != two.group(1), "a fresh nonce each time"


def challenge_params(field: str) -> dict[str, str]:
    """The parameters of the endpoint's challenge (its values hold no quote or backslash)."""
    assert field.startswith("Digest ")
    return {name: value.strip('"') for name, value in re.findall(r'(\w+)=("[^"]*"|[^,]+)', field)}


def digest_challenge(server: FakeServer, path: str) -> dict[str, str]:
    """The parameters of the challenge `path` answers without credentials."""
    response = get(server, path)
    assert response.status_code == 401
    return challenge_params(response.headers["WWW-Authenticate"])


def digest_answer(
    challenge: dict[str, str],
    path: str,
    *,
    user: str = "ann",
    password: str = "s3cret",
    nc: int = 1,
    method: str = "GET",
    body: bytes = b"",
    username_field: str | None = None,
) -> str:
    """An Authorization field for `challenge`, written out from RFC 7616 §3.4."""
    name = challenge["algorithm"]
    h = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}[name.removesuffix("-sess")]

    def hex_of(*parts: str | bytes) -> str:
        data = b":".join(p if isinstance(p, bytes) else p.encode() for p in parts)
        return h(data).hexdigest()

    cnonce, nc_text, qop = "0a4f113b", f"{nc:08x}", challenge["qop"]
    ha1 = hex_of(user, challenge["realm"], password)
    if name.endswith("-sess"):
        ha1 = hex_of(ha1, challenge["nonce"], cnonce)
    ha2 = hex_of(method, path) if qop == "auth" else hex_of(method, path, hex_of(body))
    response = hex_of(ha1, challenge["nonce"], nc_text, cnonce, qop, ha2)
    username = username_field or f'username="{user}"'
    return (
        f'Digest {username}, realm="{challenge["realm"]}", uri="{path}", '
        f'algorithm={name}, nonce="{challenge["nonce"]}", nc={nc_text}, cnonce="{cnonce}", '
        f'qop={qop}, response="{response}", opaque="{challenge["opaque"]}"'
    )


def test_digest_auth_int(aioreq_server: FakeServer) -> None:
    path = "/digest-auth/auth-int/ann/s3cret/MD5-sess"
    challenge = digest_challenge(aioreq_server, path)
    headers = {"Authorization": digest_answer(challenge, path, method="POST", body=b"payload")}
    url = aioreq_server.url_for(path)
    response = requests.post(url, data=b"payload", headers=headers, timeout=TIMEOUT)
    assert response.status_code == 200
    headers = {"Authorization": digest_answer(challenge, path, method="POST", nc=2, body=b"x")}
    response = requests.post(url, data=b"other", headers=headers, timeout=TIMEOUT)
    assert response.status_code == 401, "auth-int covers the body"


def test_digest_auth_username_star(aioreq_server: FakeServer) -> None:
    path = "/digest-auth/auth/J%C3%A4s%C3%B8n/pw/SHA-256"
    challenge = digest_challenge(aioreq_server, path)
    answer = digest_answer(
        challenge,
        path,
        user="Jäsøn",
        password="pw",
        username_field="username*=UTF-8''J%C3%A4s%C3%B8n",
    )
    response = get(aioreq_server, path, headers={"Authorization": answer})
    assert response.json() == {"authenticated": True, "user": "Jäsøn"}


def test_digest_auth_refuses_a_replayed_nc(aioreq_server: FakeServer) -> None:
    path = "/digest-auth/auth/ann/s3cret"
    challenge = digest_challenge(aioreq_server, path)

    def status(nc: int) -> int:
        answer = digest_answer(challenge, path, nc=nc)
        response = get(aioreq_server, path, headers={"Authorization": answer})
        if response.status_code == 401:
            assert "stale" not in response.headers["WWW-Authenticate"]
        return response.status_code

    assert [status(nc) for nc in (1, 1, 3, 2, 3, 4)] == [200, 401, 200, 401, 401, 200]


@pytest.mark.parametrize(
    "change",
    [
        ('uri="/digest-auth/auth/ann/s3cret"', 'uri="/digest-auth/auth/ann/s3cret?x"'),
        ('realm="pytest_aioreq"', 'realm="other"'),
        ("algorithm=MD5", "algorithm=SHA-256"),
        ("qop=auth", "qop=auth-int"),
        ('username="ann"', 'username="bob"'),
        ('opaque="', 'opaque="0'),
        ('cnonce="0a4f113b", ', ""),
        ("nc=00000001", "nc=1"),
        ("Digest ", "Basic "),
        (", response=", ", response=x, response="),
    ],
)
def test_digest_auth_refuses_altered_credentials(
    aioreq_server: FakeServer, change: tuple[str, str]
) -> None:
    path = "/digest-auth/auth/ann/s3cret"
    answer = digest_answer(digest_challenge(aioreq_server, path), path)
    assert change[0] in answer
    altered = answer.replace(*change)
    assert get(aioreq_server, path, headers={"Authorization": altered}).status_code == 401
    assert get(aioreq_server, path, headers={"Authorization": answer}).status_code == 200


def test_digest_auth_stale_after(aioreq_server: FakeServer) -> None:
    path = "/digest-auth/auth/ann/s3cret/MD5/2"
    challenge = digest_challenge(aioreq_server, path)
    responses = [
        get(aioreq_server, path, headers={"Authorization": digest_answer(challenge, path, nc=nc)})
        for nc in (1, 2, 3)
    ]
    assert [response.status_code for response in responses] == [200, 200, 401]
    field = responses[2].headers["WWW-Authenticate"]
    assert field.endswith(", stale=TRUE")
    fresh = challenge_params(field)
    assert fresh["nonce"] != challenge["nonce"]
    answer = digest_answer(fresh, path)
    assert get(aioreq_server, path, headers={"Authorization": answer}).status_code == 200
    # The old nonce is forgotten: valid credentials with it are told stale again.
    answer = digest_answer(challenge, path, nc=4)
    response = get(aioreq_server, path, headers={"Authorization": answer})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].endswith(", stale=TRUE")


def test_digest_auth_stale_after_with_requests(aioreq_server: FakeServer) -> None:
    """requests answers the stale 401 with the new nonce, without being told the password
    again."""
    auth = requests.auth.HTTPDigestAuth("ann", "s3cret")
    url = aioreq_server.url_for("/digest-auth/auth/ann/s3cret/SHA-256/1")
    with requests.Session() as session:
        first = session.get(url, auth=auth, timeout=TIMEOUT)
        second = session.get(url, auth=auth, timeout=TIMEOUT)
    assert [r.status_code for r in [*first.history, first]] == [401, 200]
    assert [r.status_code for r in [*second.history, second]] == [401, 200]
    assert second.history[0].headers["WWW-Authenticate"].endswith(", stale=TRUE")


@pytest.mark.parametrize(
    "path",
    [
        "/digest-auth/auth/ann",
        "/digest-auth/auth-conf/ann/pw",
        "/digest-auth/auth/ann/pw/SHA-1",
        "/digest-auth/auth/ann/pw/MD5/0",
        "/digest-auth/auth/ann/pw/MD5/soon",
        "/digest-auth/auth/ann/pw/MD5/2/more",
    ],
)
def test_digest_auth_refuses_other_paths(aioreq_server: FakeServer, path: str) -> None:
    assert get(aioreq_server, path).status_code == 400


# -- faults: /truncate, /close ----------------------------------------------------------------


def test_truncate_http_client(aioreq_server: FakeServer) -> None:
    conn = connect(aioreq_server)
    try:
        conn.request("GET", "/truncate/10")
        response = conn.getresponse()
        assert response.getheader("Content-Length") == "10"
        with pytest.raises(http.client.IncompleteRead) as excinfo:
            response.read()
    finally:
        conn.close()
    assert excinfo.value.partial == pattern(5)
    assert excinfo.value.expected == 5


def test_truncate_requests(aioreq_server: FakeServer) -> None:
    with pytest.raises(requests.exceptions.ChunkedEncodingError) as excinfo:
        get(aioreq_server, "/truncate/10")
    assert type(excinfo.value) is requests.exceptions.ChunkedEncodingError
    assert "IncompleteRead(5 bytes read, 5 more expected)" in str(excinfo.value)


def test_truncate_on_the_wire(aioreq_server: FakeServer) -> None:
    head, body = split(
        exchange(
            aioreq_server, b"GET /truncate/7 HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n"
        )
    )
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"\r\nContent-Length: 7" in head
    assert b"connection" not in head.lower()
    assert body == pattern(3)


def test_truncate_zero_is_complete(aioreq_server: FakeServer) -> None:
    assert get(aioreq_server, "/truncate/0").content == b""


def test_close_http_client(aioreq_server: FakeServer) -> None:
    conn = connect(aioreq_server)
    try:
        conn.request("GET", "/close")
        with pytest.raises(http.client.RemoteDisconnected):
            conn.getresponse()
    finally:
        conn.close()


def test_close_requests(aioreq_server: FakeServer) -> None:
    with pytest.raises(requests.exceptions.ConnectionError) as excinfo:
        get(aioreq_server, "/close")
    assert type(excinfo.value) is requests.exceptions.ConnectionError
    assert "Remote end closed connection without response" in str(excinfo.value)


def test_close_on_the_wire(aioreq_server: FakeServer) -> None:
    assert exchange(aioreq_server, b"GET /close HTTP/1.1\r\nHost: x\r\n\r\n") == b""


# -- what is not an endpoint ------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/echo/", "/status", "/bytes", "/get", "/cookies/"])
def test_unknown_paths_are_unmatched(aioreq_server: FakeServer, path: str) -> None:
    aioreq_server.strict = False
    assert get(aioreq_server, path).status_code == 500
    assert aioreq_server.problems() == [
        f"no expectation matched: GET {path} (HTTP/1.1, connection 1)"
    ]


def test_route_returns_none_for_unknown_paths() -> None:
    request = RecordedRequest("GET", "/nope", "/nope", {}, [], b"")
    assert route(request) is None
