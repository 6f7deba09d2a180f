"""Every ```python block of README.md and docs/*.md runs, as a user would run it.

A block is one of two kinds, told apart by what it holds:

- a test file: it defines `test_` functions at its top level. All of them run together, each
  block a file, through pytest with the plugin loaded (`-p pytest_aioreq`) in a subprocess, with
  warnings as errors; every test must pass (none failed, skipped or missing).
- a script: anything else. It runs alone in a subprocess (`python -W error`) within a time
  limit, and must exit 0 with nothing on stderr (no warning, no leaked socket's ResourceWarning,
  no traceback). A script that defines functions must also run something at its top level: a
  block that only defines `async def main()` would pass here without doing anything.

So no block slips through: each either passes as one of these or fails a test that names it.
Both kinds run under an audit hook that refuses connections and name lookups off the loopback
(Unix sockets are fine), so an example that would reach the internet fails here, not on a
reader's machine. Other fenced blocks (```sh, ```console, ```text, ```toml) are not run; a
Python block must be fenced as ```python, not ```py or ```pycon, so that it is run.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*)$")
PYTHON_ALIASES = frozenset(("python", "py", "python3", "py3", "pycon", "ipython"))
SCRIPT_TIMEOUT = 60.0
#: The pages whose examples are the point of the page: each must keep some.
EXAMPLE_PAGES = ("guide", "migrating", "advanced", "plugin", "strategies")

#: Installed in every run (the test files' conftest, the scripts' runner) before the example.
LOOPBACK_ONLY = """\
import ipaddress
import socket
import sys


def _on_the_loopback(host):
    if isinstance(host, bytes):
        host = host.decode()
    if host in (None, "", "localhost"):
        return True
    try:
        return ipaddress.ip_address(host.partition("%")[0]).is_loopback
    except ValueError:
        return False


def _loopback_only(event, args):
    if event == "socket.getaddrinfo":
        host = args[0]
    elif event in ("socket.connect", "socket.sendto"):
        if args[0].family == socket.AF_UNIX:
            return
        host = args[1][0]
    else:
        return
    if not _on_the_loopback(host):
        raise PermissionError(f"the docs' examples stay on the loopback, not {host!r}")


sys.addaudithook(_loopback_only)
"""


@dataclass(frozen=True)
class Block:
    """One ```python block (or a block fenced as another name of Python)."""

    page: str
    number: int
    line: int
    language: str
    source: str

    @property
    def name(self) -> str:
        return f"{self.page}_{self.number}"

    def tests(self) -> list[str]:
        """The names of the test functions at the block's top level (none if it does not parse:
        it is then run as a script, which reports the syntax error)."""
        try:
            top = ast.parse(self.source).body
        except SyntaxError:
            return []
        return [
            node.name
            for node in top
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.name.startswith("test_")
        ]


def _closes(line: str, fence: str) -> bool:
    """Whether `line` closes a block opened by `fence`: the same character, at least as many."""
    mark = line.strip()
    return len(mark) >= len(fence) and mark == fence[0] * len(mark)


def _python_blocks(page: Path) -> list[Block]:
    """The Python blocks of a Markdown page (CommonMark fences, indented up to 3 spaces)."""
    blocks: list[Block] = []
    lines = page.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        index += 1
        if opening is None:
            continue
        fence, indent = opening["fence"], len(opening["indent"])
        start = index
        while index < len(lines) and not _closes(lines[index], fence):
            index += 1
        body = [
            line[min(indent, len(line) - len(line.lstrip(" "))) :] for line in lines[start:index]
        ]
        index += 1
        words = opening["info"].split()
        language = words[0].lower() if words else ""
        if language in PYTHON_ALIASES:
            source = "\n".join(body) + "\n"
            blocks.append(Block(page.stem, len(blocks) + 1, start, language, source))
    return blocks


BLOCKS = [block for page in PAGES for block in _python_blocks(page)]
TEST_FILES = [block for block in BLOCKS if block.tests()]
SCRIPTS = [block for block in BLOCKS if not block.tests()]


def _where(block: Block) -> str:
    return f"{block.page}.md, line {block.line}"


@pytest.mark.parametrize("block", BLOCKS, ids=[block.name for block in BLOCKS])
def test_each_python_block_is_a_test_file_or_a_script(block: Block) -> None:
    assert block.language == "python", f"{_where(block)}: fence it as ```python so it is run"
    if block.tests():
        return
    try:
        top = ast.parse(block.source).body
    except SyntaxError as exc:
        pytest.fail(f"{_where(block)}: {exc}")
    definitions = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    defines = [node for node in top if isinstance(node, definitions)]
    runs = [
        node
        for node in top
        if not isinstance(node, (*definitions, ast.Import, ast.ImportFrom))
        and not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))
    ]
    assert runs or not defines, (
        f"{_where(block)}: a script that only defines {', '.join(d.name for d in defines)} "
        "runs nothing; call it (asyncio.run(main())) or write the block as a test file"
    )


@pytest.mark.parametrize("block", SCRIPTS, ids=[block.name for block in SCRIPTS])
def test_each_script_runs(block: Block, tmp_path: Path) -> None:
    script = tmp_path / f"{block.name}.py"
    script.write_text(block.source, encoding="utf-8")
    runner = LOOPBACK_ONLY + "\nimport runpy\nrunpy.run_path(sys.argv[1], run_name='__main__')\n"
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", runner, str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=SCRIPT_TIMEOUT,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, ""), f"{_where(block)}:\n{done.stderr}"


def test_every_test_file_in_the_docs_passes(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(LOOPBACK_ONLY)
    pytester.makepyfile(**{f"test_{block.name}": block.source for block in TEST_FILES})
    result = pytester.runpytest_subprocess(
        "-p",
        "pytest_aioreq",
        "-p",
        "no:cacheprovider",
        "-o",
        "asyncio_default_fixture_loop_scope=function",
        "--strict-markers",
        "-W",
        "error",
        "-v",
        timeout=600,
    )
    output = result.stdout.str()
    outcomes: dict[tuple[str, str], set[str]] = {}
    for module, test, outcome in re.findall(
        r"^test_(\w+)\.py::(\w+)(?:\[.*?\])? (PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS)",
        output,
        re.M,
    ):
        outcomes.setdefault((module, test), set()).add(outcome)
    expected = {(block.name, test) for block in TEST_FILES for test in block.tests()}
    not_passed = sorted(
        f"{module}::{test} {'/'.join(sorted(outcomes.get((module, test), {'NOT RUN'})))}"
        for module, test in expected | set(outcomes)
        if outcomes.get((module, test)) != {"PASSED"}
    )
    assert not not_passed, "\n".join(not_passed) + "\n\n" + output


def test_the_pages_about_examples_have_them() -> None:
    pages = {block.page for block in TEST_FILES}
    assert set(EXAMPLE_PAGES) <= pages, f"no test file on {set(EXAMPLE_PAGES) - pages}"


def test_the_fences_are_read_as_markdown_reads_them(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "```sh\npython x.py\n```\n"
        "  ```python\n  print(1)\n\n  ```\n"
        "````py\n```python\nnot a fence\n```\n````\n"
        "~~~pycon\n>>> 1\n~~~\n",
        encoding="utf-8",
    )
    blocks = _python_blocks(page)
    assert [(b.line, b.language, b.source) for b in blocks] == [
        (4, "python", "print(1)\n\n"),
        (8, "py", "```python\nnot a fence\n```\n"),
        (13, "pycon", ">>> 1\n"),
    ]


def _text(*pages: str) -> str:
    return "\n".join((ROOT / "docs" / page).read_text(encoding="utf-8") for page in pages)


def test_every_public_name_is_documented() -> None:
    """Each public name of aioreq, each fixture, endpoint and fault of the plugin, and each
    strategy has its place in the docs: a name added without a word there fails here."""
    import aioreq
    import pytest_aioreq
    from pytest_aioreq import strategies
    from pytest_aioreq.fakeserver import _endpoints, faults

    client = _text("guide.md", "advanced.md")
    missing = [name for name in aioreq.__all__ if not name.startswith("_") and name not in client]
    plugin = _text("plugin.md")
    fixtures = [name for name in pytest_aioreq.__all__ if name.startswith("aioreq_")]
    # The session-scoped twins share one row of the fixture table.
    missing += [n for n in fixtures if n.removesuffix("_session") not in plugin]
    missing += [f"faults.{n}" for n in faults.__all__ if n.islower() and f"{n}(" not in plugin]
    paths = [*_endpoints._EXACT, *(prefix for prefix, _ in _endpoints._PREFIXED)]
    missing += [path for path in paths if path.rstrip("/") not in plugin]
    missing += [name for name in strategies.__all__ if name not in _text("strategies.md")]
    assert not missing, f"not in the docs: {missing}"
