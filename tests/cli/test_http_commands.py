"""`aioreq get|head|post|put|patch|delete`: every option, the output rule, every exit code.

In-process through `main()` against the fake servers, with stdout and stderr captured (so they
are pipes, not terminals, unless `terminal(...)` says otherwise); a few runs as subprocesses
prove the real entry points, and every command docs/cli.md shows is run.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import certifi
import pytest

from aioreq._cli._http import METHODS
from aioreq._cli._output import EXIT_CODES
from pytest_aioreq import FakeServer
from pytest_aioreq.fakeserver import faults

from .conftest import DOCS, Documented, Result, documented, plain, without_proxies

Cli = Callable[..., Result]
Terminal = Callable[..., None]


def pattern(n: int) -> bytes:
    """What /bytes/{n} sends."""
    return bytes(i % 256 for i in range(n))


def echoed(result: Result) -> dict[str, object]:
    echo: dict[str, object] = json.loads(result.out)
    return echo


def sent(result: Result, name: str) -> list[str]:
    """The values of the header `name` that /echo received."""
    pairs = echoed(result)["headers"]
    assert isinstance(pairs, list)
    return [value for item, value in pairs if item.lower() == name.lower()]


# -- the output rule --------------------------------------------------------------------------


def test_into_a_pipe_only_the_body_is_printed(cli: Cli, aioreq_server: FakeServer) -> None:
    result = cli("get", aioreq_server.url_for("/bytes/1000"))
    assert (result.code, result.out, result.err) == (0, pattern(1000), "")


def test_a_coded_body_is_printed_decoded(cli: Cli, aioreq_server: FakeServer) -> None:
    result = cli("get", aioreq_server.url_for("/gzip"))
    assert result.code == 0
    assert json.loads(result.out) == {"encoding": "gzip", "ok": True}


def test_include_puts_the_head_before_the_body(cli: Cli, aioreq_server: FakeServer) -> None:
    result = cli("get", "-i", aioreq_server.url_for("/bytes/3"))
    head, blank, body = result.out.partition(b"\n\n")
    assert blank
    assert head.split(b"\n")[0] == b"HTTP/1.1 200 OK"
    assert b"Content-Length: 3" in head.split(b"\n")
    assert body == b"\x00\x01\x02"


def test_head_prints_the_head_even_into_a_pipe(cli: Cli, aioreq_server: FakeServer) -> None:
    result = cli("head", aioreq_server.url_for("/bytes/10"))
    assert result.code == 0
    assert result.out.startswith(b"HTTP/1.1 200 OK\n")
    assert b"\nContent-Length: 10\n" in result.out
    assert result.out.endswith(b"\n\n")
    assert aioreq_server.requests[0].method == "HEAD"


@pytest.fixture
def on_a_terminal(cli: Cli, terminal: Terminal) -> Cli:
    """`cli`, with stdout a terminal."""
    terminal("stdout")
    return cli


def test_a_terminal_gets_a_coloured_head_and_pretty_json(
    on_a_terminal: Cli, aioreq_server: FakeServer
) -> None:
    result = on_a_terminal("get", aioreq_server.url_for("/echo?x=1"))
    assert result.code == 0
    assert "\x1b[" in result.out.decode()  # styled
    head, _, body = result.text.partition("\n\n")
    assert head.splitlines()[0] == "HTTP/1.1 200 OK"
    assert "Content-Type: application/json" in head.splitlines()
    assert '\n  "method": "GET",\n' in body  # indented, one field a line
    assert json.loads(body)["query"] == {"x": ["1"]}


def test_a_terminal_gets_text_as_text(on_a_terminal: Cli, aioreq_server: FakeServer) -> None:
    json_type = {"Content-Type": "application/json"}
    aioreq_server.expect("GET", "/not-json").respond(headers=json_type, body="{nope [bold]")
    result = on_a_terminal("get", aioreq_server.url_for("/not-json"))
    assert result.text.endswith("\n\n{nope [bold]\n")  # as sent, no markup read into it


def test_a_terminal_gets_a_notice_instead_of_a_binary_body(
    on_a_terminal: Cli, aioreq_server: FakeServer
) -> None:
    result = on_a_terminal("get", aioreq_server.url_for("/bytes/100"))
    assert result.code == 0
    assert b"\x00" not in result.out
    assert "binary body is not shown" in result.text


def test_verbose_traces_every_hop_on_stderr(cli: Cli, aioreq_server: FakeServer) -> None:
    result = cli("get", "-v", aioreq_server.url_for("/redirect/1"))
    assert json.loads(result.out)["path"] == "/echo"  # stdout: still the body alone
    lines = result.err.splitlines()
    host = aioreq_server.url.removeprefix("http://")
    assert lines[:2] == ["> GET /redirect/1 HTTP/1.1", f"> Host: {host}"]
    assert "< HTTP/1.1 302 Found" in lines
    assert "< Location: /echo" in lines
    assert "> GET /echo HTTP/1.1" in lines
    assert lines[-1] == "<"
    assert "< HTTP/1.1 200 OK" in lines  # the final head: stdout does not show it


def test_verbose_leaves_the_final_head_to_stdout_when_it_shows_it(
    cli: Cli, aioreq_server: FakeServer
) -> None:
    result = cli("post", "-v", "-i", aioreq_server.url_for("/echo"), "--data", "a=1")
    assert "> POST /echo HTTP/1.1" in result.err.splitlines()
    assert "> Content-Length: 3" in result.err.splitlines()
    assert "< HTTP/1.1 200 OK" not in result.err.splitlines()
    assert result.out.startswith(b"HTTP/1.1 200 OK\n")


# -- -o ---------------------------------------------------------------------------------------


def test_output_streams_a_large_body_to_a_file(
    cli: Cli, aioreq_server: FakeServer, tmp_path: Path
) -> None:
    target = tmp_path / "big.bin"
    size = 6 * 2**20
    result = cli("get", aioreq_server.url_for(f"/bytes/{size}"), "-o", str(target))
    assert (result.code, result.out, result.err) == (0, b"", "")  # no terminal: no bar
    assert target.read_bytes() == pattern(size)


def test_output_shows_a_progress_bar_when_stderr_is_a_terminal(
    cli: Cli, aioreq_server: FakeServer, tmp_path: Path, terminal: Terminal
) -> None:
    terminal("stderr")
    target = tmp_path / "big.bin"
    size = 3 * 2**20
    result = cli("get", aioreq_server.url_for(f"/bytes/{size}"), "-o", str(target))
    assert result.code == 0
    assert target.read_bytes() == pattern(size)
    assert result.out == b""  # stdout is no terminal: no head
    bar = plain(result.err)
    assert str(target) in bar
    assert "3.1/3.1 MB" in bar  # DownloadColumn: received/total, decimal units


def test_output_with_a_terminal_stdout_keeps_the_head_there(
    cli: Cli, aioreq_server: FakeServer, tmp_path: Path, terminal: Terminal
) -> None:
    terminal("stdout")
    target = tmp_path / "chunked.txt"
    url = aioreq_server.url_for("/chunked?chunks=3&size=4")
    result = cli("get", url, "-o", str(target))
    assert result.text.startswith("HTTP/1.1 200 OK\n")
    assert "Transfer-Encoding: chunked" in result.text
    assert target.read_bytes() == b"aaaabbbbcccc"


def test_output_into_a_missing_directory_fails_with_1(
    cli: Cli, aioreq_server: FakeServer, tmp_path: Path
) -> None:
    result = cli("get", aioreq_server.url_for("/bytes/3"), "-o", str(tmp_path / "no" / "f"))
    assert result.code == 1
    assert result.err.startswith("aioreq: [Errno 2] No such file or directory")


# -- what is sent -----------------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_each_command_sends_its_method(cli: Cli, aioreq_server: FakeServer, method: str) -> None:
    result = cli(method, aioreq_server.url_for("/echo"))
    assert result.code == 0
    assert aioreq_server.requests[-1].method == method.upper()
    if method != "head":
        assert echoed(result)["method"] == method.upper()


def test_a_url_without_a_scheme_is_http(cli: Cli, aioreq_server: FakeServer) -> None:
    result = cli("get", f"127.0.0.1:{aioreq_server.port}/echo")
    assert echoed(result)["path"] == "/echo"


def test_json_is_checked_and_sent_as_written(cli: Cli, aioreq_server: FakeServer) -> None:
    result = cli("post", aioreq_server.url_for("/echo"), "--json", '{"a": [1, 2]}')
    assert echoed(result)["body"] == '{"a": [1, 2]}'
    assert sent(result, "content-type") == ["application/json"]
    assert sent(result, "accept") == ["application/json"]


def test_a_header_replaces_the_json_defaults(cli: Cli, aioreq_server: FakeServer) -> None:
    url = aioreq_server.url_for("/echo")
    result = cli("put", url, "--json", "[]", "-H", "Content-Type: application/vnd.x+json")
    assert sent(result, "content-type") == ["application/vnd.x+json"]
    assert sent(result, "accept") == ["application/json"]


def test_data_is_a_form_unless_a_header_says_otherwise(cli: Cli, aioreq_server: FakeServer) -> None:
    url = aioreq_server.url_for("/echo")
    form = cli("post", url, "--data", "a=1&b=2")
    assert echoed(form)["body"] == "a=1&b=2"
    assert sent(form, "content-type") == ["application/x-www-form-urlencoded"]
    text = cli("patch", url, "--data", "note", "-H", "content-type: text/plain")
    assert sent(text, "content-type") == ["text/plain"]


def test_data_from_a_file_is_sent_byte_for_byte(
    cli: Cli, aioreq_server: FakeServer, tmp_path: Path
) -> None:
    upload = tmp_path / "upload.bin"
    upload.write_bytes(bytes(range(256)) + b"\r\n")
    result = cli("post", aioreq_server.url_for("/echo"), "--data", f"@{upload}", "-v")
    assert result.code == 0
    assert aioreq_server.requests[0].body == bytes(range(256)) + b"\r\n"
    # Streamed from the file, with the length it knows (not chunked), and -v says so.
    assert aioreq_server.requests[0].header("content-length") == "258"
    assert "> Content-Length: 258" in result.err


def test_data_and_json_from_stdin(
    cli: Cli, aioreq_server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b'{"from": "stdin"}')))
    result = cli("post", aioreq_server.url_for("/echo"), "--json", "@-")
    assert json.loads(str(echoed(result)["body"])) == {"from": "stdin"}
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"x=1")))
    result = cli("post", aioreq_server.url_for("/echo"), "--data", "@-")
    assert echoed(result)["body"] == "x=1"


def test_headers_repeat_and_replace_the_defaults(cli: Cli, aioreq_server: FakeServer) -> None:
    url = aioreq_server.url_for("/echo")
    result = cli("get", url, "-H", "X-A: 1", "--header", "X-A: 2", "-H", "User-Agent: me/1")
    assert sent(result, "x-a") == ["1", "2"]
    assert sent(result, "user-agent") == ["me/1"]


def test_no_follow_prints_the_redirect(cli: Cli, aioreq_server: FakeServer) -> None:
    result = cli("get", "--no-follow", "-i", aioreq_server.url_for("/redirect/1"))
    assert result.code == 0
    assert result.out.startswith(b"HTTP/1.1 302 Found\n")
    assert b"\nLocation: /echo\n" in result.out
    assert [r.path for r in aioreq_server.requests] == ["/redirect/1"]


# -- TLS --------------------------------------------------------------------------------------


def test_cacert_trusts_a_pem_bundle(
    cli: Cli, aioreq_tls_server: FakeServer, aioreq_ca_bundle: str
) -> None:
    result = cli("get", "--cacert", aioreq_ca_bundle, aioreq_tls_server.url_for("/bytes/5"))
    assert (result.code, result.out, result.err) == (0, pattern(5), "")


def test_an_untrusted_certificate_is_a_connect_failure(
    cli: Cli, aioreq_tls_server: FakeServer
) -> None:
    result = cli("get", aioreq_tls_server.url_for("/bytes/5"))
    assert result.code == 6
    assert result.err.startswith("aioreq: TLSError: ")
    assert len(result.err.splitlines()) == 1


def test_insecure_warns_in_one_line(cli: Cli, aioreq_tls_server: FakeServer) -> None:
    # A Python warning would fail this test: pytest runs with filterwarnings=error.
    result = cli("get", "--insecure", aioreq_tls_server.url_for("/bytes/5"))
    assert (result.code, result.out) == (0, pattern(5))
    assert result.err == "aioreq: warning: --insecure: certificates are not checked\n"


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--data", "x", "--json", "1"], "not allowed with argument --data"),
        (["--json", "{nope"], "argument --json: this is not JSON"),
        (["--data", "@/no/such/file"], "cannot read /no/such/file: No such file"),
        (["-H", "no colon"], "is not a header field"),
        (["--timeout", "0"], "'0' is not a positive number of seconds"),
        (["--timeout", "soon"], "'soon' is not a positive number of seconds"),
        (["--cacert", "/no/such.pem"], "cannot load CA certificates from /no/such.pem"),
        (["--cacert", __file__], "cannot load CA certificates"),
        (["--insecure", "--cacert", certifi.where()], "not allowed with argument --insecure"),
        (["--no-such-option"], "unrecognized arguments: --no-such-option"),
    ],
)
def test_usage_errors_exit_with_2(
    cli: Cli, aioreq_server: FakeServer, argv: list[str], says: str
) -> None:
    result = cli("post", aioreq_server.url_for("/echo"), *argv)
    assert result.code == 2
    last = result.err.splitlines()[-1]
    assert last.startswith(("aioreq post: error: ", "aioreq: error: "))
    assert says in last
    aioreq_server.assert_no_requests()


# -- exit codes -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "code"),
    [("/status/200", 0), ("/status/404", 4), ("/status/500", 5), ("/status/599", 5)],
)
def test_the_status_gives_the_exit_code(
    cli: Cli, aioreq_server: FakeServer, path: str, code: int
) -> None:
    result = cli("get", aioreq_server.url_for(path))
    assert (result.code, result.err) == (code, "")


def test_a_refused_connection_exits_with_6(cli: Cli, closed_port: int) -> None:
    result = cli("get", f"http://127.0.0.1:{closed_port}/")
    assert result.code == 6
    assert result.err.startswith("aioreq: ConnectError: ")
    assert len(result.err.splitlines()) == 1


def test_a_timeout_exits_with_7(cli: Cli, aioreq_server: FakeServer) -> None:
    started = time.monotonic()
    result = cli("get", "--timeout", "0.3", aioreq_server.url_for("/stall"))
    assert time.monotonic() - started < 5
    assert result.code == 7
    assert result.err == "aioreq: ReadTimeout: no data received within 0.3 seconds\n"


def test_a_slow_body_times_out_too(cli: Cli, aioreq_server: FakeServer) -> None:
    url = aioreq_server.url_for("/drip?numbytes=3&duration=6")  # a byte at 0, 3 and 6 s
    result = cli("get", "--timeout", "1", url)
    assert result.code == 7
    assert result.out == b"*"  # what came before the deadline is printed


@pytest.mark.parametrize("path", ["/truncate/100", "/close", "/malformed"])
def test_a_broken_response_exits_with_8(cli: Cli, aioreq_server: FakeServer, path: str) -> None:
    fault = faults.malformed_status_line(b"HTTP/1.1 2OO OK")
    aioreq_server.expect("GET", "/malformed").respond(body="hi", fault=fault)
    result = cli("get", aioreq_server.url_for(path))
    assert result.code == 8
    assert result.err.startswith("aioreq: RemoteProtocolError: ")
    assert len(result.err.splitlines()) == 1


def test_other_aioreq_errors_exit_with_1(cli: Cli, aioreq_server: FakeServer) -> None:
    result = cli("get", aioreq_server.url_for("/redirect/21"))
    assert result.code == 1
    assert result.err.startswith("aioreq: TooManyRedirects: ")
    result = cli("get", "http://bad host/")
    assert result.code == 1
    assert result.err.startswith("aioreq: InvalidURL: ")


def test_help_lists_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    from aioreq._cli import main

    with pytest.raises(SystemExit) as exited:
        main(["get", "--help"])
    assert exited.value.code == 0
    shown = capsys.readouterr().out
    listed = shown[shown.index("exit codes:") :]
    for code, _ in EXIT_CODES:
        assert re.search(rf"^  {code} ", listed, re.MULTILINE), code


def test_the_docs_list_the_exit_codes() -> None:
    rows = re.findall(r"^\| (\d+) \| (.+) \|$", DOCS.read_text(), re.MULTILINE)
    assert [(int(code), meaning) for code, meaning in rows] == list(EXIT_CODES)


# -- the real entry points --------------------------------------------------------------------


def run_command(argv: list[str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(argv, capture_output=True, timeout=60, env=without_proxies(), check=False)


def test_python_dash_m_aioreq(aioreq_server: FakeServer) -> None:
    done = run_command(
        [sys.executable, "-m", "aioreq", "get", aioreq_server.url_for("/bytes/70000")]
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, pattern(70000), b"")


def test_the_console_script(aioreq_server: FakeServer) -> None:
    script = shutil.which("aioreq", path=os.path.dirname(sys.executable))
    assert script is not None, "the aioreq console script is not installed beside python"
    done = run_command([script, "get", aioreq_server.url_for("/status/503")])
    assert (done.returncode, done.stdout, done.stderr) == (5, b"", b"")


def test_a_reader_that_goes_away_gets_no_traceback(aioreq_server: FakeServer) -> None:
    url = aioreq_server.url_for(f"/bytes/{20 * 2**20}")
    with subprocess.Popen(
        [sys.executable, "-m", "aioreq", "get", url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=without_proxies(),
    ) as process:
        assert process.stdout is not None
        assert process.stderr is not None
        assert process.stdout.read(10) == pattern(10)
        process.stdout.close()  # `| head -c 10`
        code = process.wait(timeout=60)
        assert (code, process.stderr.read()) == (1, b"")


def test_ctrl_c_exits_with_130(aioreq_server: FakeServer) -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "aioreq", "get", aioreq_server.url_for("/stall")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=without_proxies(),
    ) as process:
        deadline = time.monotonic() + 30
        while not aioreq_server.requests and time.monotonic() < deadline:
            time.sleep(0.05)
        assert aioreq_server.requests, "the request never arrived"
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    assert process.returncode == 130
    assert b"Traceback" not in err


# -- docs/cli.md ------------------------------------------------------------------------------


REQUESTS = [doc for doc in documented() if doc.argv()[0] in METHODS]


def test_the_docs_show_requests() -> None:
    assert len(REQUESTS) >= 10


@pytest.mark.parametrize("doc", REQUESTS, ids=lambda doc: doc.line)
def test_a_command_of_the_docs(
    cli: Cli,
    doc: Documented,
    aioreq_server: FakeServer,
    aioreq_tls_server: FakeServer,
    aioreq_ca_bundle: str,
    closed_port: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    shutil.copy(aioreq_ca_bundle, tmp_path / "ca.pem")
    urls = {
        "8080": aioreq_server.url,
        "8443": aioreq_tls_server.url,
        "1": f"http://127.0.0.1:{closed_port}",
    }
    result = cli(*doc.argv(urls))
    assert result.code == doc.code, result.err
