"""Helpers of the command-line tests: running `main()` in-process, forcing the terminal path,
a port nobody listens on, and the commands that docs/cli.md shows.

The environment's proxy variables are cleared for every test: `aioreq` honours them, and the
fake servers are on the loopback.
"""

from __future__ import annotations

import os
import re
import shlex
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pytest

from aioreq._cli import _output, main

DOCS = Path(__file__).resolve().parents[2] / "docs" / "cli.md"
#: Base URLs that docs/cli.md uses, by port: 8080 `aioreq serve`, 8443 `aioreq serve --tls`, 1
#: a port where nothing listens.
PLACEHOLDER = re.compile(r"https?://127\.0\.0\.1:(8080|8443|1)(?![0-9])")
_SHELL = (">", "|", "<", "2>")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@dataclass(frozen=True)
class Result:
    """What one run of `main()` gave: the exit code, stdout as bytes, stderr as text."""

    code: int
    out: bytes
    err: str

    @property
    def text(self) -> str:
        """stdout as text, without terminal escape sequences."""
        return plain(self.out.decode())


@dataclass(frozen=True)
class Documented:
    """A `$ aioreq ...` line of a console block of docs/cli.md, and the exit code shown for it
    by a following `$ echo $?` (0 when there is none)."""

    line: str
    code: int

    def argv(self, urls: dict[str, str] | None = None) -> list[str]:
        """The arguments after `aioreq`, placeholder URLs replaced, shell redirections left out."""
        line = self.line
        if urls is not None:
            line = PLACEHOLDER.sub(lambda found: urls[found.group(1)], line)
        words = shlex.split(line.removeprefix("$ aioreq "))
        for index, word in enumerate(words):
            if word in _SHELL:
                return words[:index]
        return words


def documented() -> list[Documented]:
    """Every `$ aioreq` line of the ```console blocks of docs/cli.md, in order."""
    found = []
    for block in re.findall(r"^```console\n(.*?)^```", DOCS.read_text(), re.MULTILINE | re.DOTALL):
        lines = block.splitlines()
        for index, line in enumerate(lines):
            if not line.startswith("$ aioreq "):
                continue
            after = [n for n in range(index + 1, len(lines)) if lines[n].startswith("$ ")]
            code = 0
            if after and lines[after[0]] == "$ echo $?":
                code = int(lines[after[0] + 1])
            found.append(Documented(line, code))
    return found


def without_proxies() -> dict[str, str]:
    """The environment, less its proxy variables, for a subprocess."""
    return {name: value for name, value in os.environ.items() if "proxy" not in name.lower()}


def plain(text: str) -> str:
    """`text` without terminal escape sequences (colours, cursor moves)."""
    return _ANSI.sub("", text)


@pytest.fixture(autouse=True)
def _no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture
def cli(capsysbinary: pytest.CaptureFixture[bytes]) -> Callable[..., Result]:
    """`cli("get", url, ...)`: run the command line in this process (argparse's usage errors
    give their exit code too)."""

    def run(*argv: str) -> Result:
        try:
            code = main(list(argv))
        except SystemExit as exited:
            code = int(exited.code or 0)
        captured = capsysbinary.readouterr()
        return Result(code, captured.out, captured.err.decode())

    return run


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """`terminal("stdout", "stderr")`: make those streams look like terminals to aioreq."""
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.delenv("NO_COLOR", raising=False)

    def force(*names: str) -> None:
        def is_terminal(stream: IO[Any]) -> bool:
            return any(stream is getattr(sys, name) for name in names)

        monkeypatch.setattr(_output, "is_terminal", is_terminal)

    return force


@pytest.fixture
def closed_port() -> int:
    """A loopback port where nothing listens (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
