"""What the `aioreq_server` fixture costs a test: setup plus teardown, in milliseconds.

The session-scoped server starts once; each test then pays the function-scoped part: clearing
the server before the test, and after it dropping the connections still open and checking for
problems. This script runs a generated test file in-process with pytest and times the setup and
teardown phases of every test (perf_counter around pytest's own hooks), for:

* `bare`: tests that use no fixture (pytest's own cost per test, the baseline);
* `idle`: tests that take `aioreq_server` and make no request;
* `one request`: tests that make one request with `http.client`, leaving its kept-alive
  connection for teardown to drop.

It prints the median, 95th percentile and maximum of setup + teardown per test, and the
fixture's share (the median minus the bare median). The target of issue 4 is <= 5 ms.

Run it with::

    python benchmarks/fixture_overhead.py [--tests 300]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import textwrap
import time
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

SOURCES = {
    "bare": """
        def test_bare_{n}():
            pass
    """,
    "idle": """
        def test_idle_{n}(aioreq_server):
            pass
    """,
    "one request": """
        def test_request_{n}(aioreq_server):
            server = aioreq_server
            connection = http.client.HTTPConnection(server.host, server.port, timeout=5)
            connection.request("GET", "/status/204")
            assert connection.getresponse().status == 204
    """,
}


class Timer:
    """A pytest plugin that records how long setup and teardown of each test take."""

    def __init__(self) -> None:
        self.costs: dict[str, float] = {}

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Generator[None, Any, Any]:
        start = time.perf_counter()
        try:
            return (yield)
        finally:
            self.costs[item.nodeid] = time.perf_counter() - start

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> Generator[None, Any, Any]:
        start = time.perf_counter()
        try:
            return (yield)
        finally:
            self.costs[item.nodeid] += time.perf_counter() - start


def measure(kind: str, tests: int, directory: Path) -> list[float]:
    body = "import http.client\n" + "".join(
        textwrap.dedent(SOURCES[kind]).format(n=n) for n in range(tests)
    )
    path = directory / f"test_{kind.replace(' ', '_')}.py"
    path.write_text(body)
    timer = Timer()
    code = pytest.main(
        [str(path), "-q", "-p", "pytest_aioreq", "-p", "no:cacheprovider", "--no-header"],
        plugins=[timer],
    )
    if code != 0:
        raise SystemExit(f"the {kind} tests failed (exit {code})")
    costs = list(timer.costs.values())
    return [cost * 1000 for cost in costs[1:]]  # the first test also starts the session server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tests", type=int, default=300, help="tests per kind (default 300)")
    args = parser.parse_args(argv)
    results: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as directory:
        for kind in SOURCES:
            results[kind] = measure(kind, args.tests, Path(directory))
    bare = statistics.median(results["bare"])
    python = sys.version.split()[0]
    print(f"\naioreq_server fixture overhead, {args.tests} tests per kind, Python {python}")
    print(f"  {'kind':<12} {'median ms':>10} {'p95 ms':>8} {'max ms':>8} {'fixture ms':>11}")
    for kind, costs in results.items():
        costs.sort()
        p95 = costs[int(len(costs) * 0.95)]
        median = statistics.median(costs)
        share = "" if kind == "bare" else f"{median - bare:.3f}"
        print(f"  {kind:<12} {median:>10.3f} {p95:>8.3f} {costs[-1]:>8.3f} {share:>11}")
    print("  (setup + teardown per test; 'fixture' = the median minus the bare median)")
    print("  target of issue 4: <= 5 ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
