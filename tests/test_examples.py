"""The scripts in examples/ run as a user runs them: each in a subprocess, offline, to exit 0
with the line that shows it did its job; given a URL, against a fake server; and the pytest
example passes under pytest.

Scripts are found by glob, so a new one is run without a change here; it fails until its key
line is added to KEY_LINES. Warnings are errors in the scripts, and anything they write to
stderr (a warning, a logged server error, a traceback) fails the test.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_aioreq import FakeServer

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SCRIPTS = sorted(EXAMPLES.glob("*.py"))
PYTEST_EXAMPLES = sorted(EXAMPLES.glob("**/test_*.py"))
# What each script prints when it has done its job: a regex searched in its output (with re.M).
KEY_LINES = {
    "concurrent_gets.py": (
        r"^get_requests: 1000 requests in .*: 200 x 970, 404 x 20, RemoteProtocolError x 10\n"
        r"Client \+ gather: 1000 requests in .*: 200 x 970, 404 x 20, RemoteProtocolError x 10$"
    ),
    "download.py": r"^saved 8,388,608 bytes to demo\.bin, SHA-256 [0-9a-f]{64}$",
    "retries_and_timeouts.py": (
        r"/flaky: 3 attempt\(s\) .*: 200 OK\n"
        r".*/down: 5 attempt\(s\) .*: HTTPStatusError: 503 .*\n"
        r".*/slow: .*: ReadTimeout"
    ),
    "sequential_batches.py": r"^every chain counted to its end$",
}
# Proxy variables would send the scripts' loopback requests elsewhere.
ENV = {name: value for name, value in os.environ.items() if not name.lower().endswith("_proxy")}


def python(*args: str, cwd: Path, warnings: bool = True) -> subprocess.CompletedProcess[str]:
    """Run Python with `args` in `cwd` (warnings as errors unless `warnings` is False)."""
    flags = ["-W", "error"] if warnings else []
    return subprocess.run(
        [sys.executable, *flags, *args],
        cwd=cwd,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("script", SCRIPTS, ids=[script.name for script in SCRIPTS])
def test_each_script_runs_offline(script: Path, tmp_path: Path) -> None:
    result = python(str(script), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert script.name in KEY_LINES, f"add what {script.name} prints when it works to KEY_LINES"
    assert re.search(KEY_LINES[script.name], result.stdout, re.M), result.stdout


def test_the_pytest_example_passes() -> None:
    tests = sum(
        len(re.findall(r"^(?:async )?def test_", path.read_text(encoding="utf-8"), re.M))
        for path in PYTEST_EXAMPLES
    )
    result = python(
        "-m",
        "pytest",
        "-p",
        "pytest_aioreq",
        "-p",
        "no:cacheprovider",
        "-q",
        *map(str, PYTEST_EXAMPLES),
        cwd=ROOT,
        warnings=False,  # pytest's own filterwarnings (error) applies
    )
    assert result.returncode == 0, result.stdout
    assert re.search(rf"^{tests} passed in ", result.stdout, re.M), result.stdout


def test_the_readme_lists_every_example() -> None:
    readme = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    for path in [*SCRIPTS, *PYTEST_EXAMPLES]:
        assert f"({path.relative_to(EXAMPLES).as_posix()})" in readme
    assert set(KEY_LINES) <= {script.name for script in SCRIPTS}


def test_concurrent_gets_of_urls_given(aioreq_server: FakeServer, tmp_path: Path) -> None:
    urls = [aioreq_server.url_for("/bytes/10"), aioreq_server.url_for("/status/503")]
    script = str(EXAMPLES / "concurrent_gets.py")
    result = python(script, *urls, "--requests", "20", "--concurrency", "4", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for way in ("get_requests", "Client \\+ gather"):
        assert re.search(rf"^{way}: 20 requests in .*: 200 x 10, 503 x 10$", result.stdout, re.M)
    assert len(aioreq_server.requests) == 40


def test_download_of_a_url_given(aioreq_server: FakeServer, tmp_path: Path) -> None:
    body = bytes(i % 256 for i in range(300_000))
    url = aioreq_server.url_for("/bytes/300000")
    sha256 = hashlib.sha256(body).hexdigest()
    result = python(str(EXAMPLES / "download.py"), url, "--sha256", sha256, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "  300,000 bytes of 300,000 (100%)\n" in result.stdout
    assert f"saved 300,000 bytes to 300000, SHA-256 {sha256}\n" in result.stdout
    assert (tmp_path / "300000").read_bytes() == body
    assert [path.name for path in tmp_path.iterdir()] == ["300000"]


def test_download_stops_at_the_size_limit(aioreq_server: FakeServer, tmp_path: Path) -> None:
    url = aioreq_server.url_for("/chunked?chunks=10&size=1000")  # no Content-Length
    result = python(str(EXAMPLES / "download.py"), url, "--max-size", "5000", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == f"download failed: {url} sent more than 5,000 bytes\n"
    assert list(tmp_path.iterdir()) == []  # not even the .part file


def test_retries_of_a_url_given(aioreq_server: FakeServer, tmp_path: Path) -> None:
    url = aioreq_server.url_for("/status/503")
    script = str(EXAMPLES / "retries_and_timeouts.py")
    result = python(script, url, "--retries", "2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"GET {url}: 3 attempt(s) in " in result.stdout
    assert len(aioreq_server.requests) == 3
