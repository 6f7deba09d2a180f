"""`aioreq serve`: the fake server standalone, run as a user runs it (`python -m aioreq serve`),
used over real sockets with http.client, stopped with SIGINT or SIGTERM."""

from __future__ import annotations

import errno
import http.client
import json
import os
import queue
import re
import signal
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import pytest

from aioreq._cli._serve import endpoint_paths
from pytest_aioreq.fakeserver import _endpoints

from .conftest import Documented, Result, documented, without_proxies

_WAIT = 30  # seconds: generous, the machine is shared


class Served:
    """`python -m aioreq serve ...` in a subprocess; stdout and stderr read by threads."""

    def __init__(self, args: list[str], cwd: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "aioreq", "serve", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=cwd,
            env=without_proxies(),
        )
        assert self.process.stdout is not None
        assert self.process.stderr is not None
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._err: list[str | None] = []
        self._readers = [
            threading.Thread(target=self._read, args=(self.process.stdout, self._lines.put)),
            threading.Thread(target=self._read, args=(self.process.stderr, self._err.append)),
        ]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _read(stream: IO[str], keep: Callable[[str | None], None]) -> None:
        for line in stream:
            keep(line.rstrip("\n"))
        keep(None)

    def banner(self) -> list[str]:
        """The lines printed at start, up to the last one."""
        lines = []
        while True:
            line = self._lines.get(timeout=_WAIT)
            assert line is not None, f"serve exited early: {self.stderr}"
            lines.append(line)
            if line.startswith("Other paths get 404."):
                return lines

    def stop(self, signum: int) -> int:
        """Send `signum`; the exit code."""
        self.process.send_signal(signum)
        code = self.process.wait(timeout=_WAIT)
        self.close()
        return code

    @property
    def stderr(self) -> str:
        return "\n".join(line for line in self._err if line is not None)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=_WAIT)
        for reader in self._readers:
            reader.join(timeout=_WAIT)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Served]]:
    """`serve("--tls", ...)`: start `aioreq serve` in tmp_path; killed at teardown if need be."""
    started: list[Served] = []

    def start(*args: str) -> Served:
        served = Served(list(args), tmp_path)
        started.append(served)
        return served

    yield start
    for served in started:
        served.close()


def fetch(url: str, path: str, context: ssl.SSLContext | None = None) -> tuple[int, bytes]:
    """GET `path` from the server at `url` with http.client: (status, body)."""
    found = re.fullmatch(r"(https?)://([^:/]+):(\d+)", url)
    assert found is not None, url
    scheme, host, port = found.group(1), found.group(2), int(found.group(3))
    connection = (
        http.client.HTTPSConnection(host, port, timeout=_WAIT, context=context)
        if scheme == "https"
        else http.client.HTTPConnection(host, port, timeout=_WAIT)
    )
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def base_url(banner: list[str]) -> str:
    found = re.search(r" at (https?://\S+)$", banner[0])
    assert found is not None, banner
    return found.group(1)


def test_serve_http_until_ctrl_c(serve: Callable[..., Served]) -> None:
    served = serve("--host", "127.0.0.1", "--port", "0")
    banner = served.banner()
    url = base_url(banner)
    assert f"  curl {url}/echo" in banner
    assert any(line.split()[:1] == ["/truncate/{n}"] for line in banner)

    status, body = fetch(url, "/echo?x=1")
    assert (status, json.loads(body)["query"]) == (200, {"x": ["1"]})
    assert fetch(url, "/status/418") == (418, b"")
    assert fetch(url, "/bytes/3") == (200, b"\x00\x01\x02")
    assert fetch(url, "/no/such/thing") == (404, b"aioreq serve: no endpoint at /no/such/thing\n")

    assert served.stop(signal.SIGINT) == 0
    log = served.stderr
    assert "GET /echo?x=1 (HTTP/1.1" in log
    assert "GET /no/such/thing (HTTP/1.1" in log
    assert log.endswith("aioreq serve: stopped")
    assert "Traceback" not in log


def test_serve_tls_until_sigterm(serve: Callable[..., Served]) -> None:
    served = serve("--tls", "--port", "0")
    banner = served.banner()
    url = base_url(banner)
    assert url.startswith("https://127.0.0.1:")
    found = re.fullmatch(r"CA certificate: (\S+) \(removed when the server stops\)", banner[1])
    assert found is not None, banner
    ca_file = Path(found.group(1))
    assert f"  curl --cacert {ca_file} {url}/echo" in banner

    context = ssl.create_default_context(cafile=ca_file)
    assert fetch(url, "/bytes/3", context) == (200, b"\x00\x01\x02")
    with pytest.raises(ssl.SSLCertVerificationError):
        fetch(url, "/bytes/3", ssl.create_default_context())  # the system's CAs do not know it

    assert served.stop(signal.SIGTERM) == 0
    assert not ca_file.exists()
    assert not ca_file.parent.exists()


def test_a_ca_file_that_is_named_is_kept(serve: Callable[..., Served], tmp_path: Path) -> None:
    ca_file = tmp_path / "kept.pem"
    served = serve("--tls", "--port", "0", "--ca-file", str(ca_file))
    banner = served.banner()
    assert banner[1] == f"CA certificate: {ca_file}"
    context = ssl.create_default_context(cafile=ca_file)
    assert fetch(base_url(banner), "/status/204", context) == (204, b"")
    assert served.stop(signal.SIGINT) == 0
    assert ca_file.read_text().startswith("-----BEGIN CERTIFICATE-----")


def test_a_port_in_use_exits_with_1(cli: Callable[..., Result]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli("serve", "--port", str(port))
    assert result.code == 1
    reason = os.strerror(errno.EADDRINUSE)
    assert result.err == f"aioreq: cannot listen on 127.0.0.1:{port}: {reason}\n"


def test_ca_file_needs_tls(cli: Callable[..., Result]) -> None:
    result = cli("serve", "--ca-file", "ca.pem")
    assert (result.code, result.err) == (2, "aioreq: --ca-file goes with --tls\n")


def test_the_endpoints_listed_are_those_the_fake_server_routes() -> None:
    exact, prefixes = endpoint_paths()
    assert exact == set(_endpoints._EXACT)
    assert sorted(prefixes) == sorted(prefix for prefix, _ in _endpoints._PREFIXED)


SERVES = [doc for doc in documented() if doc.argv()[0] == "serve"]


def test_the_docs_show_serve() -> None:
    assert [doc.argv()[1:] for doc in SERVES][:2] == [[], ["--tls"]]


@pytest.mark.parametrize("doc", SERVES, ids=lambda doc: doc.line)
def test_a_serve_command_of_the_docs(serve: Callable[..., Served], doc: Documented) -> None:
    served = serve(*doc.argv()[1:], "--port", "0")  # the documented port may be taken
    assert base_url(served.banner()).startswith(("http://127.0.0.1:", "https://127.0.0.1:"))
    assert served.stop(signal.SIGINT) == doc.code
