"""Helpers the benchmark scripts share (they are run as scripts: `python benchmarks/x.py`,
so this sibling module is importable as `_common`)."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import os
import platform
import signal
import statistics
import subprocess
import sys
from collections.abc import Callable, Coroutine, Sequence
from importlib import metadata
from typing import Any, TypeVar

T = TypeVar("T")


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def source_state() -> str | None:
    """The commit of the checkout this script is in, and whether aioreq/ has uncommitted edits."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        head = subprocess.run(
            ["git", "-C", root, "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", root, "status", "--porcelain", "--", "aioreq"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return f"commit {head}" + (", aioreq/ with uncommitted changes" if dirty else "")


def _parent_death_signal() -> Callable[[], None]:
    """In a child: ask Linux to SIGTERM it if this process dies without stopping it."""
    libc_name = ctypes.util.find_library("c")
    if not sys.platform.startswith("linux") or libc_name is None:
        return lambda: None
    libc = ctypes.CDLL(libc_name, use_errno=True)
    pr_set_pdeathsig = 1

    def arm() -> None:
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)

    return arm


_ARM_PARENT_DEATH = _parent_death_signal()


def child_setup(cpu: int | None, *, arm: bool = True) -> Callable[[], None]:
    """A `preexec_fn`: pin the child to `cpu` (if given) and, with `arm`, have it SIGTERMed
    when this process dies."""

    def setup() -> None:
        if arm:
            _ARM_PARENT_DEATH()
        if cpu is not None:
            os.sched_setaffinity(0, {cpu})

    return setup


def choose_cpus(pin: bool, server: str, measurer: str) -> tuple[int | None, int | None, str]:
    """(server CPU, measuring CPU, a description): the first two allowed CPUs, with this script
    moved to the second; `server` and `measurer` name what runs on each in the description."""
    if not pin:
        return None, None, "not pinned (--no-pin)"
    if not hasattr(os, "sched_setaffinity"):
        return None, None, "not pinned (no sched_setaffinity on this platform)"
    allowed = sorted(os.sched_getaffinity(0))
    if len(allowed) < 2:
        return None, None, f"not pinned (only CPU {allowed} available)"
    server_cpu, measuring_cpu = allowed[0], allowed[1]
    os.sched_setaffinity(0, {measuring_cpu})  # this script sits off the server's CPU
    description = f"{server} on CPU {server_cpu}, {measurer} on CPU {measuring_cpu}"
    return server_cpu, measuring_cpu, description


def _median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _no_nan(value: Any) -> Any:
    """The report with NaN (no figure) as null, so that the JSON is strict."""
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, dict):
        return {key: _no_nan(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_no_nan(item) for item in value]
    return value


def machine(versions: dict[str, str | None], *, source: bool = True) -> dict[str, Any]:
    """What the figures were measured on: Python, platform, CPU model, package versions, and
    (with `source`) the commit of this checkout."""
    cpu = platform.processor()
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.partition(":")[2].strip()
                break
    found: dict[str, Any] = {
        "python": f"{platform.python_implementation()} {sys.version}",
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "versions": versions,
    }
    if source:
        found["source"] = source_state()
    return found


def print_machine(info: dict[str, Any]) -> None:
    """The python, machine, packages (and source) lines that head every report."""
    print(f"python    {info['python'].splitlines()[0]}")
    print(f"machine   {info['platform']}, {info['cpu']}, {info['cpu_count']} CPUs")
    versions = ", ".join(f"{name} {version}" for name, version in info["versions"].items())
    print(f"packages  {versions}")
    if info.get("source"):
        print(f"source    {info['source']}")


def run_on_loop(loop_name: str, main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run `main()` on a new event loop: asyncio's default one, or "uvloop"."""
    if loop_name == "uvloop":
        import uvloop

        if sys.version_info >= (3, 11):
            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                return runner.run(main())
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return asyncio.run(main())


def terminate(process: subprocess.Popen[Any], timeout: float) -> str | None:
    """SIGTERM `process`, then SIGKILL after `timeout` seconds; what went wrong, if anything."""
    problem = None
    try:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                problem = f"the server did not stop within {timeout} s of SIGTERM; killed"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    if problem is None and process.returncode not in (0, -signal.SIGTERM, -signal.SIGKILL):
        problem = f"the server exited with status {process.returncode}"
    return problem
