"""The fixtures as users run them: through pytester, in a real pytest run.

Sync tests and async tests (pytest-asyncio strict and auto mode, function and module loop
scopes) share one fake server; unmatched requests, unmet expectations and handler errors fail
the test at teardown with the request log, unless the test opts out.
"""

from __future__ import annotations

import pytest

# The pytester runs here are in-process and import requests (and http.cookiejar) themselves;
# pytester then drops every module a run imported. Had urllib.request been imported before
# (the CLI tests do), a second run's requests would meet the first run's CookieJar class:
# "You can only merge into CookieJar". Imported here, they outlive the runs.
import requests  # noqa: F401

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestDeprecationWarning")

CLIENTS = """
import asyncio, http.client, json, urllib.request
import pytest
import requests


def get(url, **kwargs):
    return requests.get(url, timeout=5, **kwargs)
"""


def run(pytester: pytest.Pytester, source: str, *args: str) -> pytest.RunResult:
    pytester.makepyfile(CLIENTS + source)
    return pytester.runpytest(
        "-p", "pytest_aioreq", "-o", "asyncio_default_fixture_loop_scope=function", *args
    )


def test_sync_and_async_tests_share_the_server(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
def test_sync(aioreq_server):
    aioreq_server.expect("GET", "/a").respond(json={"x": 1})
    assert get(aioreq_server.url_for("/a")).json() == {"x": 1}


@pytest.mark.asyncio
async def test_async_function_loop(aioreq_server):
    aioreq_server.expect("POST", "/b", json={"k": 2}).respond(status=201)
    status = await asyncio.to_thread(
        lambda: requests.post(aioreq_server.url_for("/b"), json={"k": 2}, timeout=5).status_code
    )
    assert status == 201


@pytest.mark.asyncio(loop_scope="module")
async def test_async_module_loop(aioreq_server):
    aioreq_server.expect("GET", "/c").respond(body="c")
    reader, writer = await asyncio.open_connection(aioreq_server.host, aioreq_server.port)
    writer.write(b"GET /c HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n")
    data = await reader.read()
    writer.close()
    await writer.wait_closed()
    assert data.endswith(b"\\r\\n\\r\\nc")
""",
    )
    result.assert_outcomes(passed=3)


def test_auto_mode_works_too(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
async def test_auto(aioreq_server):
    aioreq_server.expect("GET", "/auto").respond(body="auto")
    body = await asyncio.to_thread(lambda: get(aioreq_server.url_for("/auto")).text)
    assert body == "auto"
""",
        "-o",
        "asyncio_mode=auto",
    )
    result.assert_outcomes(passed=1)


def test_an_unmatched_request_fails_the_test_at_teardown(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
def test_unmatched(aioreq_server):
    aioreq_server.expect("GET", "/known").respond(body="ok")
    assert get(aioreq_server.url_for("/unknown")).status_code == 500
""",
    )
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*no expectation matched: GET /unknown (HTTP/1.1, connection 1)*",
            "*requests that arrived (1):*",
            "*1. GET /unknown*",
        ]
    )


def test_an_unmet_one_shot_expectation_fails_the_test(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
def test_unmet(aioreq_server):
    aioreq_server.expect("DELETE", "/item/1", times=1).respond(status=204)
""",
    )
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        ["*expected but not (fully) requested: DELETE /item/1 (0 of 1 time(s))*", "*(none)*"]
    )


def test_a_handler_exception_fails_the_test_with_its_traceback(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
def broken(request):
    raise KeyError("the handler is broken")


def test_handler_error(aioreq_server):
    aioreq_server.expect("GET", "/h").respond_with(broken)
    assert get(aioreq_server.url_for("/h")).status_code == 500
""",
    )
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        ["*the handler for GET /h*raised*", "*KeyError*the handler is broken*"]
    )


def test_opting_out_per_test_and_per_suite(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
import pytest


@pytest.fixture
def aioreq_server_strict(request):
    return "lenient" not in request.node.name
"""
    )
    result = run(
        pytester,
        """
def test_attribute(aioreq_server):
    aioreq_server.strict = False
    get(aioreq_server.url_for("/unknown"))


def test_lenient_by_fixture(aioreq_server):
    get(aioreq_server.url_for("/unknown"))


def test_strict_again(aioreq_server):
    assert aioreq_server.strict
    assert aioreq_server.requests == []
""",
    )
    result.assert_outcomes(passed=3)


def test_ordered_expectations_report_a_request_out_of_turn(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
def test_in_order(aioreq_server):
    aioreq_server.expect("POST", "/login", ordered=True).respond(status=204)
    aioreq_server.expect("GET", "/data", ordered=True).respond(json=[1])
    assert get(aioreq_server.url_for("/data")).json() == [1]
    assert requests.post(aioreq_server.url_for("/login"), timeout=5).status_code == 204
""",
    )
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*out of order: GET /data*came before POST /login*"])


def test_the_request_log_and_connection_ids(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
def test_log(aioreq_server):
    aioreq_server.expect("POST", "/p").respond(status=200)
    with requests.Session() as session:
        for n in range(3):
            session.post(
                aioreq_server.url_for(f"/p?n={n}"), data=b"body", headers={"X-N": str(n)},
                timeout=5,
            )
    get(aioreq_server.url_for("/status/204"))
    log = aioreq_server.requests
    assert [r.query for r in log[:3]] == [{"n": ["0"]}, {"n": ["1"]}, {"n": ["2"]}]
    assert [r.header("x-n") for r in log[:3]] == ["0", "1", "2"]
    assert all(r.body == b"body" and r.method == "POST" and r.path == "/p" for r in log[:3])
    # One kept-alive connection for the session's three, another for the last request.
    assert [r.connection for r in log] == [1, 1, 1, 2]
    assert aioreq_server.connection_count == 2
    aioreq_server.assert_requested("POST", "/p", times=3)


def test_nothing_requested(aioreq_server):
    aioreq_server.assert_no_requests()
""",
    )
    result.assert_outcomes(passed=2)


def test_matchers_on_query_headers_and_body(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
import re


def test_matchers(aioreq_server):
    aioreq_server.expect("GET", "/q", query={"a": "1"}).respond(body="query")
    aioreq_server.expect("GET", "/h", headers={"x-token": "t"}).respond(body="header")
    aioreq_server.expect("PUT", re.compile(r"/items/\\d+"), body=b"raw").respond(body="regex")
    assert get(aioreq_server.url_for("/q?a=1")).text == "query"
    assert get(aioreq_server.url_for("/h"), headers={"X-Token": "t"}).text == "header"
    assert requests.put(aioreq_server.url_for("/items/42"), data=b"raw", timeout=5).text == "regex"
    aioreq_server.strict = False
    assert get(aioreq_server.url_for("/q?a=2")).status_code == 500
""",
    )
    result.assert_outcomes(passed=1)


def test_tls_server_and_ca_helpers(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
import ssl


def test_tls(aioreq_tls_server, aioreq_ca_bundle):
    assert aioreq_tls_server.url.startswith("https://127.0.0.1:")
    aioreq_tls_server.expect("GET", "/s").respond(body="secure")
    assert get(aioreq_tls_server.url_for("/s"), verify=aioreq_ca_bundle).text == "secure"
    context = aioreq_tls_server.client_ssl_context()
    with urllib.request.urlopen(aioreq_tls_server.url_for("/s"), context=context) as response:
        assert response.read() == b"secure"


def test_untrusted(aioreq_tls_server):
    with pytest.raises(requests.exceptions.SSLError):
        get(aioreq_tls_server.url_for("/status/200"))
""",
    )
    result.assert_outcomes(passed=2)


def test_ipv6_and_unix_socket_servers(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
import socket


def test_ipv6(aioreq_server_ipv6):
    assert aioreq_server_ipv6.url.startswith("http://[::1]:")
    assert get(aioreq_server_ipv6.url_for("/status/204")).status_code == 204


def test_unix(aioreq_server_unix):
    aioreq_server_unix.expect("GET", "/u").respond(body="over a unix socket")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(5)
        sock.connect(aioreq_server_unix.uds)
        sock.sendall(b"GET /u HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    assert data.endswith(b"over a unix socket")
""",
    )
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) == 0, result.stdout.str()
    assert outcomes.get("errors", 0) == 0, result.stdout.str()
    assert outcomes.get("passed", 0) + outcomes.get("skipped", 0) == 2


def test_tls_variants_for_verification_failures_and_client_certificates(
    pytester: pytest.Pytester,
) -> None:
    result = run(
        pytester,
        """
def test_expired(aioreq_tls_server_expired, aioreq_ca_bundle):
    with pytest.raises(requests.exceptions.SSLError, match="expired"):
        get(aioreq_tls_server_expired.url_for("/status/200"), verify=aioreq_ca_bundle)


def test_wrong_host(aioreq_tls_server_wrong_host, aioreq_ca_bundle):
    with pytest.raises(requests.exceptions.SSLError, match="match|mismatch"):
        get(aioreq_tls_server_wrong_host.url_for("/status/200"), verify=aioreq_ca_bundle)


def test_mutual_tls(aioreq_mtls_server, aioreq_ca_bundle):
    url = aioreq_mtls_server.url_for("/status/204")
    response = get(url, verify=aioreq_ca_bundle, cert=aioreq_mtls_server.client_cert_file)
    assert response.status_code == 204
    context = aioreq_mtls_server.client_ssl_context()
    with urllib.request.urlopen(url, context=context) as response:
        assert response.status == 204
    with pytest.raises(requests.exceptions.RequestException):
        get(url, verify=aioreq_ca_bundle)
""",
    )
    result.assert_outcomes(passed=3)


def test_safe_under_xdist(pytester: pytest.Pytester) -> None:
    """Each worker has its own servers on ephemeral ports: nothing fixed, nothing shared."""
    result = run(
        pytester,
        """
@pytest.mark.parametrize("n", range(8))
def test_parallel(aioreq_server, n):
    aioreq_server.expect("GET", f"/n/{n}", times=1).respond(body=str(n))
    assert get(aioreq_server.url_for(f"/n/{n}")).text == str(n)
    assert len(aioreq_server.requests) == 1
""",
        "-n",
        "2",
    )
    result.assert_outcomes(passed=8)


def test_a_response_the_server_cannot_send_fails_the_test(pytester: pytest.Pytester) -> None:
    """What aioreq.server refuses to send (a CR/LF in a field) is a problem of the test too."""
    result = run(
        pytester,
        """
def test_splitting(aioreq_server):
    aioreq_server.expect("GET", "/x").respond(headers={"X-Bad": "a\\nInjected: 1"})
    assert get(aioreq_server.url_for("/x")).status_code == 500
""",
    )
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*the server could not answer as told: cannot send the response*"])


def test_aioreq_client_talks_to_both_servers(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
@pytest.mark.asyncio
async def test_client(aioreq_client, aioreq_server, aioreq_tls_server):
    aioreq_server.expect("GET", "/plain").respond(text="plain")
    aioreq_tls_server.expect("GET", "/secure").respond(text="secure")
    assert (await aioreq_client.get(aioreq_server.url_for("/plain"))).text == "plain"
    assert (await aioreq_client.get(aioreq_tls_server.url_for("/secure"))).text == "secure"
""",
    )
    result.assert_outcomes(passed=1)
