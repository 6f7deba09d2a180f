"""`_LoopThread`: what `FakeServer` and `FakeProxy` share, a server on its own thread and loop.

Why a thread: the test's client may be synchronous (requests, urllib, http.client) or run on
any event loop pytest-asyncio gives it. A server on its own thread serves all of them alike, and
no event loop of the test ever has to run for it to answer.

The base class owns the thread, its event loop and the server object; a subclass says how its
server opens and closes (`_open`, `_close`), and keeps its own `start()` and `stop()`, which call
`_start()` and `_stop()`.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, Generic, Protocol, TypeVar

_T = TypeVar("_T")
_S = TypeVar("_S")  # the server object, as `_open` returns it
_Self = TypeVar("_Self", bound="_LoopThread[Any]")
_START_TIMEOUT = 10.0
_CALL_TIMEOUT = 10.0


class _Described(Protocol):
    """A record of the request log: it can describe itself in a line."""

    def describe(self) -> str: ...


class _LoopThread(Generic[_S]):
    """Runs a server on a daemon thread with an event loop of its own.

    Args:
        what: "server" or "proxy": names the thread and goes into errors ("the fake proxy is not
            running").
        on_error: called with each ERROR record that `aioreq.server` logs on the thread while it
            runs; None ignores them.
    """

    def __init__(
        self, what: str, *, on_error: Callable[[logging.LogRecord], None] | None = None
    ) -> None:
        self._what = what
        self._on_error = on_error
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: _S | None = None
        self._log_handler: logging.Handler | None = None

    async def _open(self) -> _S:
        """Start the server (on the thread's loop); an exception is raised by `start()`."""
        raise NotImplementedError

    async def _close(self, server: _S) -> None:
        """Close the server and every connection at once (on the thread's loop)."""
        raise NotImplementedError

    def _start(self) -> None:
        """Start the thread; returns once `_open()` is done (at once if it runs already).

        Raises:
            RuntimeError: `_open()` took longer than 10 seconds.
            BaseException: whatever `_open()` raised.
        """
        if self._thread is not None:
            return
        loop = asyncio.new_event_loop()
        started: list[BaseException | None] = []
        ready = threading.Event()
        thread = threading.Thread(
            target=self._run,
            args=(loop, ready, started),
            name=f"pytest_aioreq {self._what}",
            daemon=True,
        )
        thread.start()
        if not ready.wait(_START_TIMEOUT):
            raise RuntimeError(
                f"the fake {self._what} did not start within {_START_TIMEOUT:g} seconds"
            )
        if started and started[0] is not None:
            thread.join()
            loop.close()
            raise started[0]
        self._loop = loop
        self._thread = thread
        if self._on_error is not None:
            # What aioreq.server logs as an error on this thread (a response it could not send,
            # a streamed body that failed) is a problem of the test, like a handler error.
            self._log_handler = _ThreadErrors(thread.ident, self._on_error)
            logging.getLogger("aioreq.server").addHandler(self._log_handler)

    def _run(
        self,
        loop: asyncio.AbstractEventLoop,
        ready: threading.Event,
        started: list[BaseException | None],
    ) -> None:
        asyncio.set_event_loop(loop)
        try:
            server = self._server = loop.run_until_complete(self._open())
        except BaseException as exc:  # handed to the thread that called start()
            started.append(exc)
            ready.set()
            return
        started.append(None)
        ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(self._close(server))
            loop.run_until_complete(loop.shutdown_asyncgens())
            asyncio.set_event_loop(None)

    def _stop(self) -> None:
        """Stop the loop, close the server and join the thread (nothing if it is not running)."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(_CALL_TIMEOUT)
        loop.close()
        if self._log_handler is not None:
            logging.getLogger("aioreq.server").removeHandler(self._log_handler)
            self._log_handler = None
        self._loop = self._thread = None

    def __enter__(self: _Self) -> _Self:
        self._start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop()

    def _call(self, coro: Coroutine[Any, Any, _T]) -> _T:
        """Run `coro` on the thread's loop and wait for its result."""
        if self._loop is None:
            coro.close()
            raise RuntimeError(f"the fake {self._what} is not running")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(_CALL_TIMEOUT)

    @property
    def _running(self) -> _S:
        if self._server is None or self._thread is None:
            raise RuntimeError(f"the fake {self._what} is not running: call start()")
        return self._server

    # -- what went wrong (a subclass says what its problems are and what it received) ------------

    def problems(self) -> list[str]:
        """What went wrong, one line each (the subclass knows)."""
        raise NotImplementedError

    @property
    def requests(self) -> Sequence[_Described]:
        """What arrived, in order (the subclass keeps it)."""
        raise NotImplementedError

    def check(self) -> None:
        """Raise AssertionError listing what went wrong and every request that arrived.

        Raises:
            AssertionError: `problems()` is not empty.
        """
        problems = self.problems()
        if problems:
            raise AssertionError(self.report(problems))

    def report(self, problems: list[str] | None = None) -> str:
        """A readable account of the problems and of the request log."""
        problems = self.problems() if problems is None else problems
        lines = [f"pytest_aioreq: the fake {self._what} saw problems:"]
        lines += [f"  - {problem}" for problem in problems]
        log = self.requests
        lines.append(f"requests that arrived ({len(log)}):")
        lines += [f"  {n}. {record.describe()}" for n, record in enumerate(log, 1)]
        if not log:
            lines.append("  (none)")
        return "\n".join(lines)


class _ThreadErrors(logging.Handler):
    """Hands ERROR records logged on one thread to a callback."""

    def __init__(self, thread: int | None, record: Callable[[logging.LogRecord], None]) -> None:
        super().__init__(logging.ERROR)
        self._thread = thread
        self._record = record

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self._thread:
            self._record(record)
