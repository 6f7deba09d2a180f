"""`aioreq bench`: a small run prints a table of the three modes whose figures agree.

Once as a user runs it (`python -m aioreq bench`, a subprocess) and once in-process, where
`filterwarnings = error` turns a server process left running or a socket left open into a
failure.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from aioreq import _cli

MODES = [
    "aioreq, one after another",
    "aioreq, 8 concurrent tasks",
    "http.client, one after another",
]
SMALL = ["--requests", "300", "--rounds", "1", "--concurrency", "8"]
ROW = re.compile(r"^\s*(\S.*?)\s+([\d,]+)\s+([\d.]+)\s+([\d,]+)\s+([\d.]+)\s*$", re.MULTILINE)


def check_table(output: str, requests: int) -> None:
    """The table has one row per mode, and each row's numbers parse and agree."""
    assert re.search(r"mode\s+requests\s+wall s\s+req/s\s+CPU µs/request", output), output
    rows = ROW.findall(output)
    assert [row[0] for row in rows] == MODES, output
    for _, count, wall, rate, cpu in rows:
        assert int(count.replace(",", "")) == requests
        assert 0 < float(wall) < 60
        # req/s is requests / wall, from the wall time before it was rounded to the ms
        fastest, slowest = (
            requests / max(float(wall) - 0.0005, 1e-9),
            requests / (float(wall) + 0.0005),
        )
        assert slowest - 1 <= int(rate.replace(",", "")) <= fastest + 1
        assert 0 < float(cpu) < 100_000  # µs of CPU per request
    assert re.search(r"aioreq makes [\d.]+× the requests per\s+second of http\.client", output)
    assert "benchmarks/client.py" in output


def test_bench_as_a_command() -> None:
    done = subprocess.run(
        [sys.executable, "-W", "error", "-m", "aioreq", "bench", *SMALL],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        env={**os.environ, "COLUMNS": "160"},
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr == ""
    assert re.search(r"aioreq\.server on (uvloop|asyncio)", done.stdout)
    assert "300 requests a mode, 1 round(s), medians" in done.stdout
    check_table(done.stdout, 300)


def test_bench_in_process(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "160")
    assert _cli.main(["bench", "--requests", "100", "--rounds", "2", "--concurrency", "8"]) == 0
    check_table(capsys.readouterr().out, 100)


@pytest.mark.parametrize("option", ["--requests", "--rounds", "--concurrency"])
def test_counts_must_be_positive(option: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        _cli.main(["bench", option, "0"])
    assert exited.value.code == 2
    assert "must be at least 1, not 0" in capsys.readouterr().err
