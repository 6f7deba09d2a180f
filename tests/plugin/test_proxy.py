"""The fake proxy, `aioreq_proxy`, driven by clients nobody here wrote: urllib, http.client,
requests, and raw sockets where the bytes on the wire are the point.

Forwarding (RFC 9112 §3.2.2) and CONNECT tunnels (RFC 9110 §9.3.6) over real loopback
sockets; the refusals (400, 403, 407, 502 and `refuse_connect`); keep-alive; what the log
records; and the fixture as a user's suite meets it, through pytester.
"""

from __future__ import annotations

import base64
import http.client
import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
import requests

from pytest_aioreq.fakeserver import FakeProxy, FakeServer, ProxiedRequest

TIMEOUT = 5


@pytest.fixture(autouse=True)
def _no_proxy_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """urllib and requests skip a proxy for hosts in no_proxy: only the test's proxy counts."""
    for name in ("no_proxy", "NO_PROXY", "http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)


def _proxies(proxy: FakeProxy, credentials: str = "") -> dict[str, str]:
    url = proxy.url.replace("http://", f"http://{credentials}@") if credentials else proxy.url
    return {"http": url, "https": url}


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _exchange(proxy: FakeProxy, data: bytes) -> bytes:
    """Send raw bytes to the proxy and read everything until it closes."""
    with socket.create_connection((proxy.host, proxy.port), timeout=TIMEOUT) as sock:
        sock.sendall(data)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received


def _split(response: bytes) -> tuple[str, list[tuple[str, str]], bytes]:
    """The status line, the fields and the rest of a raw response."""
    head, _, rest = response.partition(b"\r\n\r\n")
    line, *lines = head.decode("latin-1").split("\r\n")
    fields = [(n, v.strip()) for n, _, v in (item.partition(":") for item in lines)]
    return line, fields, rest


def _names(fields: list[tuple[str, str]] | list[list[str]]) -> set[str]:
    return {name.lower() for name, _ in fields}


# -- forwarding -----------------------------------------------------------------------------------


def test_urllib_forwards_through_the_proxy_in_origin_form(aioreq_proxy, aioreq_server):
    opener = urllib.request.build_opener(urllib.request.ProxyHandler(_proxies(aioreq_proxy)))
    url = aioreq_server.url_for("/echo?a=1")
    with opener.open(url, timeout=TIMEOUT) as response:
        assert response.status == 200
        assert response.headers["Via"] == "1.1 pytest_aioreq"
        echoed = json.load(response)

    # RFC 9112 §3.2.2: the proxy sends the origin-form on, with the Host of the target.
    assert echoed["target"] == "/echo?a=1"
    assert ["Host", f"127.0.0.1:{aioreq_server.port}"] in echoed["headers"]
    [record] = aioreq_proxy.requests
    assert record == ProxiedRequest(
        method="GET",
        target=url,
        headers=record.headers,
        tunnel=False,
        status=200,
        connection=1,
    )
    assert record.header("host") == f"127.0.0.1:{aioreq_server.port}"


def test_requests_forwards_bodies_of_either_framing(aioreq_proxy, aioreq_server):
    proxies = _proxies(aioreq_proxy)
    url = aioreq_server.url_for("/echo")
    sized = requests.post(url, data=b"x" * 100_000, proxies=proxies, timeout=TIMEOUT)
    chunked = requests.post(url, data=iter([b"ab", b"cd"]), proxies=proxies, timeout=TIMEOUT)

    assert sized.json()["body"] == "x" * 100_000
    assert chunked.json()["body"] == "abcd"
    sent = aioreq_server.requests
    assert sent[0].header("content-length") == "100000"
    assert sent[1].header("transfer-encoding") == "chunked"
    assert [r.status for r in aioreq_proxy.requests] == [200, 200]


def test_the_answer_comes_back_whole(aioreq_proxy, aioreq_server):
    """Status, reason, fields and body of the origin, whatever its framing."""
    aioreq_server.expect("GET", "/teapot").respond(409, headers={"X-Kind": "tea"}, body="short")
    proxies = _proxies(aioreq_proxy)
    with requests.Session() as session:
        teapot = session.get(aioreq_server.url_for("/teapot"), proxies=proxies, timeout=TIMEOUT)
        chunked = session.get(
            aioreq_server.url_for("/chunked?chunks=3&size=1000"), proxies=proxies, timeout=TIMEOUT
        )
        gzipped = session.get(aioreq_server.url_for("/gzip"), proxies=proxies, timeout=TIMEOUT)
        head = session.head(aioreq_server.url_for("/bytes/10"), proxies=proxies, timeout=TIMEOUT)
        empty = session.get(aioreq_server.url_for("/status/204"), proxies=proxies, timeout=TIMEOUT)

    assert (teapot.status_code, teapot.reason, teapot.text) == (409, "Conflict", "short")
    assert teapot.headers["X-Kind"] == "tea"
    assert chunked.content == b"a" * 1000 + b"b" * 1000 + b"c" * 1000
    assert chunked.headers["Transfer-Encoding"] == "chunked"
    assert gzipped.json()["encoding"] == "gzip"
    assert (head.headers["Content-Length"], head.content) == ("10", b"")
    assert (empty.status_code, empty.content) == (204, b"")
    assert [r.status for r in aioreq_proxy.requests] == [409, 200, 200, 200, 204]
    assert aioreq_proxy.connections_opened == 1


def test_connection_specific_fields_stay_behind(aioreq_proxy, aioreq_server):
    """RFC 9110 §7.6.1: Connection, the fields it names, Proxy-Connection, Keep-Alive, TE,
    Upgrade and Proxy-Authorization are not forwarded, either way."""
    aioreq_server.expect("GET", "/hop").respond(
        raw=b"HTTP/1.1 200 OK\r\nConnection: X-Origin-Hop\r\nX-Origin-Hop: 1\r\n"
        b"Keep-Alive: timeout=5\r\nX-End: 1\r\nContent-Length: 2\r\n\r\nhi"
    )
    target = aioreq_server.url_for("/hop")
    response = _exchange(
        aioreq_proxy,
        f"GET {target} HTTP/1.1\r\nHost: {aioreq_server.host}:{aioreq_server.port}\r\n"
        "Connection: close, X-Client-Hop\r\nX-Client-Hop: 1\r\nProxy-Connection: keep-alive\r\n"
        "Keep-Alive: 300\r\nTE: trailers\r\nUpgrade: websocket\r\n"
        "Proxy-Authorization: Basic Zm9vOmJhcg==\r\nX-Kept: yes\r\n\r\n".encode(),
    )

    line, fields, body = _split(response)
    assert (line, body) == ("HTTP/1.1 200 OK", b"hi")
    assert _names(fields) == {"x-end", "content-length", "via", "connection"}
    assert ("Connection", "close") in fields  # the proxy's own: the client asked to close
    [forwarded] = aioreq_server.requests
    assert _names(forwarded.headers) == {"host", "x-kept", "via"}
    # The log keeps what the client sent, hop-by-hop fields included.
    assert aioreq_proxy.requests[0].header("proxy-authorization") == "Basic Zm9vOmJhcg=="


def test_trailers_and_interim_responses_are_relayed(aioreq_proxy, aioreq_server):
    target = aioreq_server.url_for("/chunked?chunks=2&size=3&trailer=1")
    response = _exchange(
        aioreq_proxy, f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
    )
    assert response.endswith(b"3\r\naaa\r\n3\r\nbbb\r\n0\r\nX-Trailer: done\r\n\r\n")

    # RFC 9110 §15.2: a proxy forwards the 100 (Continue) the origin sends.
    with socket.create_connection((aioreq_proxy.host, aioreq_proxy.port), timeout=5) as sock:
        sock.sendall(
            f"POST {aioreq_server.url_for('/echo')} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            "Expect: 100-continue\r\nContent-Length: 4\r\n\r\n".encode()
        )
        assert sock.recv(1000).startswith(b"HTTP/1.1 100 Continue\r\n")
        sock.sendall(b"body")
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    assert json.loads(_split(received)[2])["body"] == "body"


def test_a_close_delimited_answer_is_chunked_for_http11_and_read_to_the_close_for_http10(
    aioreq_proxy, aioreq_server
):
    url = aioreq_server.serve_bytes(b"HTTP/1.1 200 OK\r\nX-Origin: 1\r\n\r\nuntil the close")
    eleven = _exchange(
        aioreq_proxy, f"GET {url} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
    )
    ten = _exchange(aioreq_proxy, f"GET {url} HTTP/1.0\r\n\r\n".encode())

    line, fields, body = _split(eleven)
    assert line == "HTTP/1.1 200 OK"
    assert ("Transfer-Encoding", "chunked") in fields
    assert body == b"f\r\nuntil the close\r\n0\r\n\r\n"
    line, fields, body = _split(ten)
    assert line == "HTTP/1.1 200 OK"  # the proxy's version is 1.1 (RFC 9110 §6.2)
    assert "transfer-encoding" not in _names(fields)
    assert body == b"until the close"


def test_keep_alive_two_requests_one_connection(aioreq_proxy, aioreq_server):
    with requests.Session() as session:
        for path in ("/status/200", "/bytes/5"):
            url = aioreq_server.url_for(path)
            assert session.get(url, proxies=_proxies(aioreq_proxy), timeout=5).ok
    assert aioreq_proxy.connections_opened == 1
    assert [r.connection for r in aioreq_proxy.requests] == [1, 1]
    # The proxy keeps its own connection to the origin too.
    assert aioreq_server.connection_count == 1

    requests.get(aioreq_server.url_for("/status/200"), proxies=_proxies(aioreq_proxy), timeout=5)
    assert aioreq_proxy.connections_opened == 2


def test_a_request_in_origin_form_gets_400(aioreq_proxy, aioreq_server):
    response = _exchange(
        aioreq_proxy, b"GET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    line, _, body = _split(response)
    assert line == "HTTP/1.1 400 Bad Request"
    assert b"absolute-form" in body
    assert aioreq_proxy.requests[0].status == 400
    aioreq_server.assert_no_requests()


def test_a_malformed_request_gets_400_and_a_close(aioreq_proxy):
    response = _exchange(
        aioreq_proxy, b"GET http://127.0.0.1/ HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"
    )
    line, fields, body = _split(response)
    assert line == "HTTP/1.1 400 Bad Request"
    assert ("Connection", "close") in fields
    assert b"2 Host fields" in body
    assert aioreq_proxy.requests == []  # no request to record


def test_an_unreachable_origin_gets_502(aioreq_proxy, unused_tcp_port):
    url = f"http://127.0.0.1:{unused_tcp_port}/"
    response = requests.get(url, proxies=_proxies(aioreq_proxy), timeout=TIMEOUT)
    assert response.status_code == 502
    assert f"127.0.0.1:{unused_tcp_port}" in response.text
    assert aioreq_proxy.requests[0].status == 502


def test_an_origin_that_closes_without_answering_gets_502(aioreq_proxy, aioreq_server):
    connection = http.client.HTTPConnection(aioreq_proxy.host, aioreq_proxy.port, timeout=5)
    try:
        connection.request("POST", aioreq_server.url_for("/close"), body=b"x" * 10_000)
        response = connection.getresponse()
        assert response.status == 502
        assert b"the origin failed" in response.read()
        # The client's connection goes on, with a new one to the origin.
        connection.request("GET", aioreq_server.url_for("/status/200"))
        assert connection.getresponse().status == 200
    finally:
        connection.close()
    assert [r.status for r in aioreq_proxy.requests] == [502, 200]
    assert aioreq_proxy.connections_opened == 1
    assert aioreq_server.connection_count == 2


def test_an_answer_cut_short_is_cut_short_for_the_client(aioreq_proxy, aioreq_server):
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(
            aioreq_server.url_for("/truncate/100"), proxies=_proxies(aioreq_proxy), timeout=TIMEOUT
        )


# -- tunnels --------------------------------------------------------------------------------------


def test_http_client_tunnels_tls_to_the_origin(aioreq_proxy, aioreq_tls_server):
    aioreq_tls_server.expect("GET", "/secret").respond(body="42")
    connection = http.client.HTTPSConnection(
        aioreq_proxy.host,
        aioreq_proxy.port,
        timeout=TIMEOUT,
        context=aioreq_tls_server.client_ssl_context(),
    )
    connection.set_tunnel(aioreq_tls_server.host, aioreq_tls_server.port)
    try:
        for _ in range(2):  # two requests through one tunnel
            connection.request("GET", "/secret")
            assert connection.getresponse().read() == b"42"
    finally:
        connection.close()

    [record] = aioreq_proxy.requests
    assert (record.method, record.tunnel, record.status) == ("CONNECT", True, 200)
    assert record.target == f"{aioreq_tls_server.host}:{aioreq_tls_server.port}"
    # The tunnel is opaque: the origin saw the requests, the proxy only the CONNECT.
    assert [r.target for r in aioreq_tls_server.requests] == ["/secret", "/secret"]


def test_requests_through_the_proxy_for_http_and_https(
    aioreq_proxy, aioreq_server, aioreq_tls_server, aioreq_ca_bundle
):
    proxies = _proxies(aioreq_proxy)
    plain = requests.get(aioreq_server.url_for("/echo"), proxies=proxies, timeout=TIMEOUT)
    secure = requests.get(
        aioreq_tls_server.url_for("/echo"),
        proxies=proxies,
        verify=aioreq_ca_bundle,
        timeout=TIMEOUT,
    )
    assert plain.json()["target"] == "/echo"
    assert secure.json()["target"] == "/echo"
    assert "via" not in _names(secure.json()["headers"])  # nothing is added inside a tunnel
    assert [(r.method, r.tunnel) for r in aioreq_proxy.requests] == [
        ("GET", False),
        ("CONNECT", True),
    ]


def test_a_tunnel_passes_half_closes_on(aioreq_proxy, aioreq_server):
    """The client's EOF reaches the origin, whose answer still comes back, then its EOF."""
    with socket.create_connection((aioreq_proxy.host, aioreq_proxy.port), timeout=5) as sock:
        authority = f"{aioreq_server.host}:{aioreq_server.port}"
        sock.sendall(f"CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n".encode())
        assert sock.recv(1000) == b"HTTP/1.1 200 Connection Established\r\n\r\n"
        sock.sendall(b"GET /bytes/3 HTTP/1.1\r\nHost: x\r\n\r\n")
        sock.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    assert received.startswith(b"HTTP/1.1 200 OK\r\n")
    assert received.endswith(b"\r\n\r\n\x00\x01\x02")


def test_bytes_sent_right_after_connect_are_not_lost(aioreq_proxy, aioreq_server):
    authority = f"{aioreq_server.host}:{aioreq_server.port}"
    response = _exchange(
        aioreq_proxy,
        f"CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n"
        "GET /bytes/2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode(),
    )
    established, _, tunnelled = response.partition(b"\r\n\r\n")
    assert established == b"HTTP/1.1 200 Connection Established"
    assert tunnelled.endswith(b"\r\n\r\n\x00\x01")


def test_an_unreachable_tunnel_destination_gets_502(aioreq_proxy, unused_tcp_port):
    connection = http.client.HTTPConnection(aioreq_proxy.host, aioreq_proxy.port, timeout=5)
    connection.set_tunnel("127.0.0.1", unused_tcp_port)
    with pytest.raises(OSError, match="Tunnel connection failed: 502"):
        connection.connect()
    connection.close()
    assert aioreq_proxy.requests[0].status == 502


@pytest.mark.parametrize("status", [403, 502])
def test_refuse_connect(aioreq_proxy, aioreq_tls_server, aioreq_ca_bundle, status):
    aioreq_proxy.refuse_connect(status=status)
    with pytest.raises(requests.exceptions.ProxyError, match=str(status)):
        requests.get(
            aioreq_tls_server.url_for("/"),
            proxies=_proxies(aioreq_proxy),
            verify=aioreq_ca_bundle,
            timeout=TIMEOUT,
        )
    assert [r.status for r in aioreq_proxy.requests] == [status]
    aioreq_tls_server.assert_no_requests()


def test_refuse_connect_takes_refusals_only():
    with pytest.raises(ValueError, match="not 200"):
        FakeProxy().refuse_connect(status=200)


def test_a_tunnel_can_go_to_localhost(aioreq_proxy, aioreq_server):
    response = _exchange(
        aioreq_proxy,
        f"CONNECT localhost:{aioreq_server.port} HTTP/1.1\r\nHost: x\r\n\r\n"
        "GET /bytes/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode(),
    )
    assert response.startswith(b"HTTP/1.1 200 Connection Established\r\n\r\nHTTP/1.1 200 OK")


# -- refusing -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "destination", ["192.0.2.1:80", "example.com:443", "[2001:db8::1]:443", "10.0.0.1:8080"]
)
def test_only_loopback_destinations_are_relayed(aioreq_proxy, destination):
    """403 at once: no connection is even tried (192.0.2.1 and 2001:db8:: are documentation
    addresses, which would hang rather than refuse)."""
    started = time.monotonic()
    forwarded = requests.get(
        f"http://{destination}/", proxies=_proxies(aioreq_proxy), timeout=TIMEOUT
    )
    connect = f"CONNECT {destination} HTTP/1.1\r\nHost: {destination}\r\nConnection: close\r\n"
    tunnel = _exchange(aioreq_proxy, connect.encode() + b"\r\n")

    assert time.monotonic() - started < 1
    assert forwarded.status_code == 403
    assert "only loopback destinations" in forwarded.text
    assert tunnel.startswith(b"HTTP/1.1 403 Forbidden\r\n")
    assert [(r.tunnel, r.status) for r in aioreq_proxy.requests] == [(False, 403), (True, 403)]


def test_authentication_for_forwarded_requests(aioreq_proxy, aioreq_server):
    aioreq_proxy.require_auth("ada", "s3cret")
    url = aioreq_server.url_for("/echo")
    with requests.Session() as session:
        denied = session.get(url, proxies=_proxies(aioreq_proxy), timeout=TIMEOUT)
        wrong = session.get(url, proxies=_proxies(aioreq_proxy, "ada:nope"), timeout=TIMEOUT)
        allowed = session.get(url, proxies=_proxies(aioreq_proxy, "ada:s3cret"), timeout=TIMEOUT)

    assert denied.status_code == 407
    assert denied.headers["Proxy-Authenticate"] == 'Basic realm="pytest_aioreq proxy"'
    assert wrong.status_code == 407
    assert allowed.status_code == 200
    # The credentials stop at the proxy.
    assert "proxy-authorization" not in _names(allowed.json()["headers"])
    assert [r.status for r in aioreq_proxy.requests] == [407, 407, 200]
    assert aioreq_proxy.requests[2].header("proxy-authorization") == _basic("ada", "s3cret")
    assert len(aioreq_server.requests) == 1

    aioreq_proxy.require_auth(None)
    assert requests.get(url, proxies=_proxies(aioreq_proxy), timeout=TIMEOUT).ok


def test_a_407_keeps_the_connection_for_the_retry(aioreq_proxy, aioreq_server):
    """The refused request's body is read and dropped, and the same connection carries the
    retry with credentials."""
    aioreq_proxy.require_auth("ada", "s3cret")
    url = aioreq_server.url_for("/echo")
    connection = http.client.HTTPConnection(aioreq_proxy.host, aioreq_proxy.port, timeout=5)
    try:
        connection.request("POST", url, body=b"x" * 50_000)
        assert connection.getresponse().read().startswith(b"pytest_aioreq proxy: auth")
        credentials = {"Proxy-Authorization": _basic("ada", "s3cret")}
        connection.request("POST", url, body=b"y", headers=credentials)
        assert json.loads(connection.getresponse().read())["body"] == "y"
    finally:
        connection.close()
    assert [r.status for r in aioreq_proxy.requests] == [407, 200]
    assert aioreq_proxy.connections_opened == 1


def test_authentication_for_tunnels(aioreq_proxy, aioreq_tls_server):
    aioreq_proxy.require_auth("ada", "s3cret")
    context = aioreq_tls_server.client_ssl_context()
    for headers, outcome in [
        ({}, "Tunnel connection failed: 407"),
        ({"Proxy-Authorization": _basic("ada", "s3cret")}, None),
    ]:
        connection = http.client.HTTPSConnection(
            aioreq_proxy.host, aioreq_proxy.port, timeout=TIMEOUT, context=context
        )
        connection.set_tunnel(aioreq_tls_server.host, aioreq_tls_server.port, headers=headers)
        try:
            if outcome is not None:
                with pytest.raises(OSError, match=outcome):
                    connection.request("GET", "/status/200")
            else:
                connection.request("GET", "/status/200")
                assert connection.getresponse().status == 200
        finally:
            connection.close()
    assert [(r.tunnel, r.status) for r in aioreq_proxy.requests] == [(True, 407), (True, 200)]


def test_requests_with_credentials_in_the_proxy_url_for_https(
    aioreq_proxy, aioreq_tls_server, aioreq_ca_bundle
):
    aioreq_proxy.require_auth("ada", "pa:ss")
    url = aioreq_tls_server.url_for("/status/200")
    with pytest.raises(requests.exceptions.ProxyError, match="407"):
        requests.get(url, proxies=_proxies(aioreq_proxy), verify=aioreq_ca_bundle, timeout=5)
    proxies = _proxies(aioreq_proxy, "ada:pa%3Ass")
    assert requests.get(url, proxies=proxies, verify=aioreq_ca_bundle, timeout=5).ok


# -- the proxy itself -----------------------------------------------------------------------------


def test_clear_forgets_the_log_auth_and_refusals():
    with FakeServer() as server, FakeProxy() as proxy:
        proxy.require_auth("u", "p")
        proxy.refuse_connect(502)
        requests.get(server.url_for("/status/200"), proxies=_proxies(proxy), timeout=TIMEOUT)
        assert [r.status for r in proxy.requests] == [407]

        proxy.clear()
        assert (proxy.requests, proxy.connections_opened) == ([], 0)
        response = requests.get(
            server.url_for("/status/200"), proxies=_proxies(proxy), timeout=TIMEOUT
        )
        assert response.status_code == 200
        authority = f"{server.host}:{server.port}"
        established = _exchange(
            proxy,
            f"CONNECT {authority} HTTP/1.1\r\nHost: x\r\n\r\n"
            "GET /bytes/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode(),
        )
        assert established.startswith(b"HTTP/1.1 200 Connection Established")
        proxy.check()


def test_a_failure_inside_the_proxy_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the fixture fails a test with at teardown: the proxy's own errors, with traceback."""
    with FakeProxy() as proxy:

        async def broken(*args: object) -> bool:
            raise RuntimeError("a bug in the proxy")

        monkeypatch.setattr(proxy, "_forward", broken)
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get("http://127.0.0.1:1/", proxies=_proxies(proxy), timeout=TIMEOUT)
        with pytest.raises(AssertionError) as failure:
            proxy.check()
    report = str(failure.value)
    assert "the fake proxy saw problems" in report
    assert "RuntimeError: a bug in the proxy" in report
    assert "requests that arrived (0)" in report


@pytest.fixture
def open_tunnel() -> Iterator[tuple[FakeProxy, socket.socket]]:
    """A proxy of its own with a client holding a tunnel open to a fake server."""
    with FakeServer() as server:
        proxy = FakeProxy().start()
        sock = socket.create_connection((proxy.host, proxy.port), timeout=TIMEOUT)
        try:
            authority = f"{server.host}:{server.port}"
            sock.sendall(f"CONNECT {authority} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            assert sock.recv(1000).startswith(b"HTTP/1.1 200")
            yield proxy, sock
        finally:
            sock.close()
            proxy.stop()


def test_dropping_connections_ends_tunnels_at_once(open_tunnel):
    proxy, sock = open_tunnel
    started = time.monotonic()
    assert proxy.drop_connections() == 1
    assert sock.recv(100) == b""
    assert time.monotonic() - started < 0.5
    # It goes on listening.
    response = requests.get("http://127.0.0.1:1/", proxies=_proxies(proxy), timeout=TIMEOUT)
    assert response.status_code == 502


def test_stopping_is_quick_with_a_tunnel_open(open_tunnel):
    proxy, sock = open_tunnel
    started = time.monotonic()
    proxy.stop()
    assert time.monotonic() - started < 0.5
    assert sock.recv(100) == b""
    assert repr(proxy) == "<FakeProxy stopped>"


def test_where_it_listens(aioreq_proxy):
    assert aioreq_proxy.host == "127.0.0.1"
    assert aioreq_proxy.url == f"http://127.0.0.1:{aioreq_proxy.port}"
    assert repr(aioreq_proxy) == f"<FakeProxy {aioreq_proxy.url}>"


# -- as a user's suite meets it -------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::pytest.PytestDeprecationWarning")
def test_a_users_suite_uses_the_fixture(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
import pytest
import requests


def test_through_the_proxy(aioreq_proxy, aioreq_server, monkeypatch):
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    aioreq_proxy.require_auth("user", "pw")
    aioreq_server.expect("GET", "/users").respond(json=[1])
    url = aioreq_proxy.url.replace("http://", "http://user:pw@")
    response = requests.get(aioreq_server.url_for("/users"), proxies={"http": url}, timeout=5)
    assert response.json() == [1]
    assert [r.status for r in aioreq_proxy.requests] == [200]


def test_the_next_test_starts_clean(aioreq_proxy):
    assert aioreq_proxy.requests == []
    assert aioreq_proxy.connections_opened == 0
    response = requests.get(
        "http://192.0.2.1/", proxies={"http": aioreq_proxy.url}, timeout=5
    )
    assert response.status_code == 403  # auth was reset; the destination is refused


def test_the_session_proxy_is_shared(aioreq_proxy, aioreq_proxy_session):
    assert aioreq_proxy is aioreq_proxy_session


def test_a_failure_of_the_proxy_fails_the_test(aioreq_proxy, monkeypatch):
    async def broken(*args):
        raise RuntimeError("boom")

    monkeypatch.setattr(aioreq_proxy, "_forward", broken)
    proxies = {"http": aioreq_proxy.url}
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get("http://127.0.0.1:1/", proxies=proxies, timeout=5)
"""
    )
    # In a process of its own: the proxy made to fail in the last test may leave a socket for
    # the garbage collector to find after that session, which must not land in this one.
    result = pytester.runpytest_subprocess(
        "-p", "pytest_aioreq", "-o", "asyncio_default_fixture_loop_scope=function"
    )
    result.assert_outcomes(passed=4, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_a_failure_of_the_proxy_fails_the_test*",
            "*the fake proxy saw problems:*",
            "*RuntimeError: boom*",
        ]
    )
