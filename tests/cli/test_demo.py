"""`aioreq demo`, run as a user runs it: it passes its own checks, in time, and says what it shows.

The tour runs once, as a subprocess (`python -m aioreq demo`, warnings as errors), and each test
reads a part of its output. COLUMNS is set wide so that a fact is never wrapped across lines.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass

import pytest

from aioreq import _cli
from aioreq._cli import _demo


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str
    seconds: float


@pytest.fixture(scope="module")
def demo() -> Run:
    env = {**os.environ, "COLUMNS": "200"}
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-W", "error", "-m", "aioreq", "demo"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        env=env,
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr, time.monotonic() - start)


def test_the_demo_passes_its_checks_in_time(demo: Run) -> None:
    assert demo.code == 0, demo.stdout + demo.stderr
    assert demo.stderr == ""  # no warning, no leaked socket, no traceback
    assert demo.seconds < 30
    assert "✗" not in demo.stdout
    assert len(re.findall(r"✓ \d+ checks held", demo.stdout)) == 8
    total = re.search(r"Total: ([\d.]+) s, every section held\.", demo.stdout)
    assert total is not None
    assert float(total.group(1)) < demo.seconds


SECTIONS = {
    "1. get_requests: many URLs": [
        r"await aioreq\.get_requests\(urls, concurrency=64",
        r"responses\s+200, statuses \{200: 200\}",
        r"bodies of the right size\s+200 of 200",
        r"connections opened\s+\d+ \(the server's count; at most 64\)",
    ],
    "2. The Client API": [
        r"repr\(resp\)\s+<Response 200 OK>",
        r"<Request GET http://127\.0\.0\.1:\d+/echo\?q=aioreq>",
        r"the server saw query\s+\{'q': \['aioreq'\]\}",
        r"POST json= arrived as\s+\{\"name\":\"Ada\",\"langs\":\[\"py\"\]\}",
    ],
    "3. Streaming": [
        r"downloaded\s+8,388,608 bytes in \d+ chunks",
        r"sha256\s+matches /bytes/n",
        r"sent with Transfer-Encoding: chunked",
        r"the server received\s+32,768 bytes",
    ],
    "4. Content and transport": [
        r"chunked\s+chunked, 5,000 bytes, trailer X-Trailer: done",
        r"gzip\s+[\d,]+ bytes on the wire, 49,114 decoded",
        r"TLS\s+TLSv1\.[23], \S+: <Response 200 OK>",
        r"with certifi's CAs\s+TLSError: the TLS certificate of 127\.0\.0\.1:\d+ was rejected",
        r"keep-alive\s+a new Client, 20 requests: 1 connection opened",
    ],
    "5. Timeouts and broken responses": [
        r"/delay/0\.2\s+200 OK\s+[\d.]+ s",
        r"/stall\s+ReadTimeout: no data received within 0\.3 seconds\s+[\d.]+ s",
        r"/truncate/1000\s+RemoteProtocolError: connection closed with 500 of 1000 body bytes",
        r"/bad-status\s+RemoteProtocolError: invalid status line",
        r"/stall: ReadTimeout → TimeoutError → TransportError → AioreqError",
    ],
    "6. Sync versus async": [
        r"mode\s+requests\s+wall time\s+req/s\s+speed-up",
        r"aioreq, one after another\s+40\s+[\d.]+ s\s+[\d,]+\s+1\.0×",
        r"aioreq, concurrently \(gather\)\s+40\s+[\d.]+ s\s+[\d,]+\s+[\d.]+×",
        r"urllib\.request, one after another\s+40\s+[\d.]+ s",
    ],
    "7. Chains of dependent requests": [
        r"chains one after another\s+200\s+[\d.]+ s",
        r"chains side by side \(gather\)\s+200\s+[\d.]+ s",
        r"final tokens\s+[0-9a-f]{12}, \.\.\. \(the same both ways\)",
    ],
    "8. Under the hood: the parser": [
        r"a request with Content-Length and\s+Transfer-Encoding\s+RemoteProtocolError: both",
        r"two Host fields\s+RemoteProtocolError: 2 Host fields in one request",
        r"LocalProtocolError: invalid field value .* \(0 requests reached the server\)",
    ],
    "9. Summary": [
        r"1\s+get_requests: many URLs\s+200 GETs, 64 at a time\s+ok",
        r"8\s+Under the hood: the parser\s+smuggling refused\s+ok",
        r"aioreq bench\s+the client's throughput",
    ],
}


def _section(output: str, heading: str) -> str:
    """The part of the output from `heading` to the next numbered heading."""
    start = output.index(heading)
    following = re.search(r"^\d\. ", output[start + len(heading) :], re.MULTILINE)
    end = start + len(heading) + following.start() if following else len(output)
    return output[start:end]


@pytest.mark.parametrize(("heading", "facts"), SECTIONS.items(), ids=[*SECTIONS])
def test_each_section_says_what_it_showed(demo: Run, heading: str, facts: list[str]) -> None:
    section = _section(demo.stdout, heading)
    for fact in facts:
        assert re.search(fact, section), f"{fact!r} not in:\n{section}"


def test_sync_versus_async_figures_are_consistent(demo: Run) -> None:
    section = _section(demo.stdout, "6. Sync versus async")
    rows = re.findall(r"^\s*(.+?)\s+(\d+)\s+([\d.]+) s\s+([\d,]+)\s+([\d.]+)×", section, re.M)
    assert [row[0] for row in rows] == [
        "aioreq, one after another",
        "aioreq, concurrently (gather)",
        "urllib.request, one after another",
    ]
    walls = [float(row[2]) for row in rows]
    assert walls[0] >= 0.9 * 40 * 0.025  # the waits add up (a timer may fire a little early)
    assert walls[2] >= 0.9 * 40 * 0.025
    assert float(rows[1][4]) == pytest.approx(walls[0] / walls[1], rel=0.05, abs=0.1)
    for _, count, wall, rate, _speed_up in rows:
        assert int(rate.replace(",", "")) == pytest.approx(int(count) / float(wall), rel=0.05)


def test_a_bare_aioreq_runs_the_demo(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = []

    def tour(args: object) -> int:
        seen.append(args)
        return 7

    monkeypatch.setattr(_demo, "run", tour)
    assert _cli.main([]) == 7
    assert _cli.main(["demo"]) == 7
    assert len(seen) == 2


def test_a_check_that_fails_fails_the_demo(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async def nothing(tour: _demo._Demo) -> None:
        pass

    async def broken(tour: _demo._Demo) -> None:
        tour.check(False, "the impossible")

    async def raising(tour: _demo._Demo) -> None:
        raise RuntimeError("boom")

    monkeypatch.setenv("COLUMNS", "200")
    for name in ("fetch", "client_api", "streaming", "transport", "failures", "sync_vs_async"):
        monkeypatch.setattr(_demo._Demo, name, nothing)
    monkeypatch.setattr(_demo._Demo, "chains", broken)
    monkeypatch.setattr(_demo._Demo, "parser", raising)
    assert _cli.main(["demo"]) == 1
    output = capsys.readouterr().out
    assert "✗ expected: the impossible" in output
    assert "✗ expected: no exception, but RuntimeError: boom" in output
    assert re.search(
        r"7\s+Chains of dependent requests\s+8 chains side by side\s+FAILED \(1\)", output
    )
    assert re.search(r"6\s+Sync versus async\s+waits overlapped\s+ok", output)
    assert "2 section(s) failed." in output
