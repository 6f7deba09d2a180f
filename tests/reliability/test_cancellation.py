"""The cancellation storm: thousands of requests cancelled at chosen moments of their life, after
which the pool must hold nothing, lend only usable connections, and leave no socket behind.

Each request gets a plan: the phase it should be cancelled in, and a random delay within that
phase. The moment a phase begins is known from the client's own `trace` events (a context
variable tells the trace function which request it runs for), or, for the two phases no event
marks -- waiting for a pool slot and opening the connection -- from the coroutine the request is
suspended in (`ConnectionPool.acquire` waiting on its queue, or a coroutine of aioreq below it).
The phase a cancellation actually landed in is observed the same way at the moment of
`task.cancel()`, counted, and each phase must have been hit:

==================  ===================================================================
before connect      cancelled before the task first ran
slot                queued in `ConnectionPool.acquire` behind `max_connections`
handover            the same, cancelled after a connection (or a freed slot) was handed
                    to it and before its task ran again to take it (from the trace
                    event of another request, in between)
connecting          inside the connector, every request on a new connection to
                    "localhost" (a name to resolve first, then the TCP handshake)
tls                 between `connection_created` and `tls_done`: the TLS handshake
sending             the request body going out (an async iterable, in pauses)
head                request sent, the head of the response not yet whole (a delayed
                    answer, or one written a byte at a time)
body                `client.get`: the head arrived, the body trickling in
stream              `client.stream`: inside `async for` over the body (a trickle, or
                    2 MiB flowing as fast as it can)
==================  ===================================================================

A last kind, "random", cancels requests of a client without a trace function (the path most
users take: connect and TLS in one call of the event loop) after a delay drawn from 0 to 20 ms,
wherever that lands.

After the storm: no request failed with anything but `CancelledError`; every pool has as many
connections as idle ones, no waiter, and per-origin counts that add up; every idle connection
serves a request without a new one being opened; a batch of ordinary requests succeeds; after
`aclose()` the process has the file descriptors it had before (the fake servers run in this
process, so their side of every connection counts too), and a garbage collection finds no
unclosed socket or transport (`ResourceWarning`).

A request whose `task.cancel()` was accepted must not return a response all the same
(`LostCancellation`). Before Python 3.12 `asyncio.wait_for` drops a cancel that lands after the
future it awaits is done and before the task runs again; this suite found it in the pool's
hand-over and in the TLS handshake, where the request's task no longer awaits it.

The storm runs every phase on both loops. On asyncio's default loop a cancellation that landed
in a TCP connect used to leak the socket (asyncio's staggered race of addresses drops a socket
that has just connected when it is cancelled); `aioreq.streams` now lets such a connect end by
itself and closes what it brings.

The random seed is printed and put in every failure message; `AIOREQ_STORM_SEED=<seed>` replays
the same plans (the timing of a real network stack is not replayed). Sizes: 2,000 requests by
default, 10,000 with `AIOREQ_LONG=1`.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import inspect
import os
import random
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from types import CodeType
from typing import Any

import pytest

import aioreq
from aioreq.pool import ConnectionPool
from pytest_aioreq import FakeServer
from pytest_aioreq.fakeserver import faults

from ._leaks import fds_settle, open_fds, unclosed_resources
from ._scale import scaled

pytestmark = pytest.mark.skipif(
    not os.path.isdir("/proc/self/fd"), reason="counts file descriptors in /proc/self/fd"
)

#: The share of the storm's requests planned for each phase.
PLAN = {
    "before connect": 0.08,
    "slot": 0.08,
    "handover": 0.08,
    "connecting": 0.10,
    "tls": 0.12,
    "sending": 0.10,
    "head": 0.12,
    "body": 0.10,
    "stream": 0.12,
    "random": 0.08,
}

_AIOREQ = os.path.dirname(aioreq.__file__)
_ACQUIRE: CodeType = ConnectionPool.acquire.__code__
_SLOW_HEAD = "/slow-head"
_DRIP = "/drip?numbytes=10&duration=0.04"
_BIG = 2 << 20


class Leak(AssertionError):
    """File descriptors or unclosed resources outlived the clients."""


class LostCancellation(AssertionError):
    """`task.cancel()` was accepted, and the task finished with a result all the same."""


# -- seeing where a request is ----------------------------------------------------------------


@dataclass
class Life:
    """What one request has been through: the trace events it emitted so far."""

    stream: bool = False
    events: list[str] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    #: Called from the trace function at this event (a cancel counted from the event itself).
    at_event: tuple[str, Callable[[], None]] | None = None

    def note(self, event: str) -> None:
        self.events.append(event)
        self.changed.set()
        if self.at_event is not None and self.at_event[0] == event:
            self.at_event[1]()


_LIFE: ContextVar[Life | None] = ContextVar("aioreq_storm_life", default=None)


def _suspended_in(task: asyncio.Task[Any]) -> list[Any]:
    """Each coroutine (or async generator) in the chain `task` is suspended in, outermost
    first."""
    chain = []
    awaited: Any = task.get_coro()
    while getattr(awaited, "cr_code", None) or getattr(awaited, "ag_code", None):
        chain.append(awaited)
        awaited = getattr(awaited, "cr_await", None) or getattr(awaited, "ag_await", None)
    return chain


def _code(awaitable: Any) -> CodeType:
    code: CodeType = getattr(awaitable, "cr_code", None) or awaitable.ag_code
    return code


def handed_over(task: asyncio.Task[Any]) -> bool:
    """Whether `task` still waits in `ConnectionPool.acquire`'s queue while a connection (or a
    slot) has just been handed to it: its waiter's future is done, the task has not run since
    (it would be opening a connection below `acquire` if it had been handed a slot)."""
    chain = _suspended_in(task)
    codes = [_code(awaited) for awaited in chain]
    if _ACQUIRE not in codes:
        return False
    at = codes.index(_ACQUIRE)
    below = codes[at + 1 :]
    if below and below[0].co_filename.startswith(_AIOREQ):
        return False  # already opening the connection it was given a slot for
    frame = chain[at].cr_frame
    waiter = frame.f_locals.get("waiter") if frame is not None else None
    return waiter is not None and waiter.future.done()


def phase_of(task: asyncio.Task[Any], life: Life) -> str:
    """The phase `task` is in now (see the module's docstring)."""
    if task.done():
        return "finished"
    if life.events:
        last = life.events[-1]
        if last == "connection_created":
            return "tls"
        if last in ("tls_done", "connection_acquired"):
            return "sending"
        if last == "request_sent":
            return "head"
        if last == "response_headers":
            return "stream" if life.stream else "body"
        return "finished"
    coro = task.get_coro()
    if inspect.iscoroutine(coro) and inspect.getcoroutinestate(coro) == "CORO_CREATED":
        return "before connect"
    codes = [_code(awaited) for awaited in _suspended_in(task)]
    if _ACQUIRE in codes:
        below = codes[codes.index(_ACQUIRE) + 1 :]
        if below and below[0].co_filename.startswith(_AIOREQ):
            return "connecting"
        return "slot"
    return "before connect"


# -- leaks ------------------------------------------------------------------------------------


def fd_table() -> dict[str, str]:
    """What each open file descriptor is (`socket:[inode]`, `anon_inode:[eventpoll]`...)."""
    table = {}
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            table[fd] = os.readlink(f"/proc/self/fd/{fd}")
    return table


def _tcp_sockets() -> dict[str, str]:
    """inode -> "local -> remote STATE" for this host's TCP sockets (IPv4 and IPv6)."""
    states = {"01": "ESTABLISHED", "06": "TIME_WAIT", "07": "CLOSE", "08": "CLOSE_WAIT"}
    found = {}
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(name) as table:
            for line in list(table)[1:]:
                parts = line.split()
                local, remote, state, inode = parts[1], parts[2], parts[3], parts[9]
                mine, theirs = (int(end.rpartition(":")[2], 16) for end in (local, remote))
                found[inode] = f"port {mine} -> {theirs} {states.get(state, state)}"
    return found


def new_fds(before: dict[str, str]) -> list[str]:
    """The file descriptors open now that were not in `before`, described."""
    tcp = _tcp_sockets()
    described = []
    for fd, target in sorted(fd_table().items()):
        if before.get(fd) != target:
            inode = target.partition("[")[2].rstrip("]")
            described.append(f"fd {fd}: {target} {tcp.get(inode, '')}".rstrip())
    return described


async def warm_up(*servers: FakeServer) -> None:
    """One request to each server, so that what an event loop opens once, on first use (uvloop
    holds /dev/null open from its first stream on, to handle EMFILE), is in the baseline."""
    for server in servers:
        context = server.client_ssl_context() if server.ca is not None else True
        async with aioreq.Client(verify=context) as client:
            await client.get(server.url_for("/status/204"))
        server.drop_connections()


def run_on(loop_name: str, main: Callable[[], Awaitable[None]]) -> None:
    async def wrapped() -> None:
        await main()

    if loop_name == "uvloop":
        uvloop = pytest.importorskip("uvloop")
        uvloop.run(wrapped())
    else:
        asyncio.run(wrapped())


# -- the storm --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """One request of the storm: what it asks for, and when it is cancelled.

    Attributes:
        phase: the phase it is meant to be cancelled in.
        url: what it requests.
        trigger: the trace event that begins the phase (None: the phase has none).
        delay: the cancel comes this many seconds after the phase began,
        turns: and then after this many more turns of the event loop.
        exact: count the turns from the trigger's trace event itself, not from when this
            storm's task has seen it (a few turns later): for a phase of a few turns only.
    """

    phase: str
    url: str
    trigger: str | None = None
    delay: float = 0.0
    turns: int = 0
    exact: bool = False


@dataclass
class Storm:
    """The clients of one storm, its random draws, and what it counted.

    Four clients share the storm: `traced` (plain HTTP, a pool of 16), `secure` (HTTPS, a
    pool of 8) and `fresh` (a new connection to "localhost" for each request, in a pool large
    enough that none waits) report their steps to `trace`; `untraced` (either server, a pool
    of 6) takes the path without a trace function, where connect and TLS are one call of the
    loop.
    """

    plain: FakeServer
    tls: FakeServer
    rng: random.Random
    seed: int
    phases: tuple[str, ...]
    traced: aioreq.Client = field(init=False)
    secure: aioreq.Client = field(init=False)
    fresh: aioreq.Client = field(init=False)
    untraced: aioreq.Client = field(init=False)
    planned: Counter[str] = field(default_factory=Counter)
    landed: Counter[str] = field(default_factory=Counter)
    completed: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    #: Requests that finished with a result although `task.cancel()` had been accepted.
    lost: Counter[str] = field(default_factory=Counter)
    cancelled: set[asyncio.Task[int]] = field(default_factory=set)
    #: Requests waiting for a slot, to be cancelled the moment a connection is handed to them.
    at_handover: dict[asyncio.Task[int], Life] = field(default_factory=dict)

    def __post_init__(self) -> None:
        context = self.tls.client_ssl_context()
        self.traced = aioreq.Client(limits=aioreq.Limits(max_connections=16), trace=self.trace)
        self.secure = aioreq.Client(
            verify=context, limits=aioreq.Limits(max_connections=8), trace=self.trace
        )
        self.fresh = aioreq.Client(limits=aioreq.Limits(max_connections=100), trace=self.trace)
        self.untraced = aioreq.Client(verify=context, limits=aioreq.Limits(max_connections=6))
        self._watch_pool(self.traced)

    @property
    def clients(self) -> tuple[aioreq.Client, ...]:
        return self.traced, self.secure, self.fresh, self.untraced

    def trace(self, event: str, info: dict[str, Any]) -> None:
        """The traced clients' trace function: runs in the task of the request it reports on."""
        life = _LIFE.get()
        if life is not None:
            life.note(event)
        self._cancel_handed_over()

    def _cancel_handed_over(self) -> None:
        """Cancel the waiters of `at_handover` that a connection or a slot was just handed to.

        A waiter's task runs a turn of the loop after the pool handed it what it waited for:
        the pool's `release` and `_free` (watched, see `_watch_pool`) and any trace event of
        another request in between find it handed over and not yet running, and the cancel
        lands between the two."""
        if self.at_handover:
            for task in [task for task in self.at_handover if handed_over(task)]:
                del self.at_handover[task]
                self.landed["handover"] += 1
                self._cancel_now(task)

    def _watch_pool(self, client: aioreq.Client) -> None:
        """Look for handed-over waiters each time `client`'s pool gives a connection or a slot."""
        pool = client._pool
        for name in ("release", "_free"):
            handing = getattr(pool, name)

            def watched(*args: Any, handing: Callable[..., None] = handing, **kw: Any) -> None:
                handing(*args, **kw)
                self._cancel_handed_over()

            setattr(pool, name, watched)

    def where(self) -> str:
        return f"seed {self.seed} (AIOREQ_STORM_SEED={self.seed} replays the plans)"

    # -- one request --------------------------------------------------------------------------

    def plan(self, phase: str) -> Plan:
        """What to request for `phase`, and when to cancel it (all drawn here, in order, so
        that a seed gives the same plans)."""
        rng = self.rng
        if phase == "head":
            if rng.random() < 0.3:
                slow = self.plain.url_for(_SLOW_HEAD)
                return Plan(phase, slow, "request_sent", rng.uniform(0.0, 0.05))
            delayed = self.plain.url_for("/delay/0.03")
            return Plan(phase, delayed, "request_sent", rng.uniform(0.0, 0.03))
        if phase in ("body", "stream"):
            if phase == "stream" and rng.random() < 0.4:
                # A body flowing as fast as it can: cancel after a few chunks.
                big = self.plain.url_for(f"/bytes/{_BIG}")
                return Plan(phase, big, "response_headers", turns=rng.randrange(12))
            drip = self.plain.url_for(_DRIP)
            return Plan(phase, drip, "response_headers", rng.uniform(0.0, 0.035))
        if phase == "random":
            server = self.tls if rng.random() < 0.5 else self.plain
            path = rng.choice(("/status/204", _DRIP, "/delay/0.01", "/bytes/65536"))
            return Plan(phase, server.url_for(path), delay=rng.uniform(0.0, 0.02))
        if phase == "connecting":
            url = f"http://localhost:{self.plain.port}/status/204"
            return Plan(phase, url, turns=rng.randrange(3))
        if phase == "tls":
            url = self.tls.url_for("/status/204")
            return Plan(phase, url, "connection_created", turns=rng.randrange(6), exact=True)
        url = self.plain.url_for("/status/204")
        if phase == "sending":
            return Plan(phase, url, "connection_acquired", rng.uniform(0.0, 0.006))
        if phase == "slot":
            return Plan(phase, url, delay=rng.uniform(0.0, 0.002))
        return Plan(phase, url)  # "before connect", "handover"

    async def _request(self, plan: Plan, life: Life) -> int:
        _LIFE.set(life)
        close = {"Connection": "close"}  # a new connection for every request
        phase, url = plan.phase, plan.url
        if phase == "connecting":
            response = await self.fresh.get(url, headers=close)
        elif phase == "tls":
            response = await self.secure.get(url, headers=close)
        elif phase == "sending":
            response = await self.traced.post(url, content=_paced())
        elif phase == "stream":
            async with self.traced.stream("GET", url) as streamed:
                async for _ in streamed.iter_raw():
                    await asyncio.sleep(0)
            return streamed.status
        elif phase == "random":
            response = await self.untraced.get(url)
        else:
            response = await self.traced.get(url)
        return response.status

    async def _cancel(self, task: asyncio.Task[int], life: Life, plan: Plan) -> None:
        """Cancel `task` at a random moment of the phase it is planned for."""
        phase = plan.phase
        if phase in ("slot", "handover", "connecting"):
            # No event marks these: look at the task on every turn of the loop (each begins
            # within a few turns), then less often (a loop spinning on `sleep(0)` holds the GIL
            # against the fake servers' thread).
            wanted = "connecting" if phase == "connecting" else "slot"
            for turn in range(2_000):
                now = phase_of(task, life)
                if now == wanted or now == "finished" or life.events:
                    break
                await asyncio.sleep(0 if turn < 50 else 0.001)
            if phase == "handover" and phase_of(task, life) == "slot":
                self.at_handover[task] = life
                await asyncio.wait([task], timeout=2.0)
                if self.at_handover.pop(task, None) is None:
                    return  # cancelled by `trace` at the hand-over
        elif plan.exact:
            assert plan.trigger is not None
            cancelled = asyncio.get_running_loop().create_future()
            life.at_event = (
                plan.trigger,
                lambda: self._cancel_in(plan.turns, task, life, cancelled),
            )
            await asyncio.wait([task, cancelled], return_when=asyncio.FIRST_COMPLETED)
            if not cancelled.done():  # the request never reached the trigger
                life.at_event = None
                self.landed[phase_of(task, life)] += 1
            return
        elif plan.trigger is not None:
            while plan.trigger not in life.events and not task.done():
                life.changed.clear()
                waiting = asyncio.ensure_future(life.changed.wait())
                await asyncio.wait((waiting, task), return_when=asyncio.FIRST_COMPLETED)
                waiting.cancel()
        if plan.delay:
            await asyncio.sleep(plan.delay)
        for _ in range(plan.turns):
            await asyncio.sleep(0)
        self.landed[phase_of(task, life)] += 1
        self._cancel_now(task)

    def _cancel_in(
        self, turns: int, task: asyncio.Task[int], life: Life, cancelled: asyncio.Future[None]
    ) -> None:
        """Cancel `task` after `turns` turns of the loop (called from its trace function)."""
        if turns:
            loop = asyncio.get_running_loop()
            loop.call_soon(self._cancel_in, turns - 1, task, life, cancelled)
            return
        self.landed[phase_of(task, life)] += 1
        self._cancel_now(task)
        cancelled.set_result(None)

    def _cancel_now(self, task: asyncio.Task[int]) -> None:
        if task.cancel():
            self.cancelled.add(task)

    async def one(self, phase: str) -> None:
        plan = self.plan(phase)
        life = Life(stream=phase == "stream")
        task = asyncio.ensure_future(self._request(plan, life))
        await self._cancel(task, life, plan)
        try:
            status = await task
        except asyncio.CancelledError:
            if task.cancelled():
                return
            raise  # this task itself was cancelled
        except Exception as exc:
            self.errors.append(f"{phase} {plan.url}: {type(exc).__name__}: {exc}")
            return
        finally:
            accepted = task in self.cancelled
            self.cancelled.discard(task)
        if accepted:
            self.lost[phase] += 1
        self.completed[phase] += 1
        if status not in (200, 204):
            self.errors.append(f"{phase} {plan.url}: status {status}")

    async def run(self, count: int, concurrency: int) -> None:
        phases = list(self.phases)
        weights = [PLAN[phase] for phase in phases]
        plans = self.rng.choices(phases, weights, k=count)
        self.planned.update(plans)
        queue = iter(plans)

        async def worker() -> None:
            for phase in queue:
                await self.one(phase)

        await asyncio.gather(*(worker() for _ in range(concurrency)))

    # -- afterwards ---------------------------------------------------------------------------

    def check_pools(self) -> None:
        for client in self.clients:
            pool = client._pool
            assert pool.connection_count == pool.idle_count, f"{pool!r} holds slots; {self.where()}"
            assert not pool._waiters, f"{pool!r} still has waiters; {self.where()}"
            assert sum(pool._per_origin.values()) == pool.connection_count, (
                f"per-origin counts {pool._per_origin} against {pool!r}; {self.where()}"
            )
            limit = pool._limits.max_connections
            assert limit is None or pool.connection_count <= limit

    async def check_idle_connections_serve(self) -> None:
        """Each idle connection of the traced clients carries a request, none is opened."""
        pairs = ((self.traced, self.plain), (self.secure, self.tls), (self.fresh, self.plain))
        for client, server in pairs:
            idle = client._pool.idle_count
            lives = [Life() for _ in range(idle)]
            url = server.url_for("/status/204")
            statuses = await asyncio.gather(*(_get_status(client, url, life) for life in lives))
            assert statuses == [204] * idle
            opened = [life for life in lives if "connection_created" in life.events]
            assert not opened, f"{len(opened)} of {idle} idle connections were unusable"

    async def check_ordinary_requests(self) -> None:
        paths = ["/status/204", "/bytes/16384", "/chunked?chunks=3&size=100", "/gzip", _DRIP]
        for client in self.clients:
            for server in (self.plain, self.tls):
                if client in (self.traced, self.fresh) and server is self.tls:
                    continue  # these clients do not trust the TLS server's CA
                responses = await asyncio.gather(
                    *(client.get(server.url_for(path)) for path in paths * 4)
                )
                assert [r.status for r in responses] == [204, 200, 200, 200, 200] * 4
                assert responses[1].body == bytes(i % 256 for i in range(16384))
                assert responses[3].json() == {"encoding": "gzip", "ok": True}

    async def aclose(self) -> None:
        for client in self.clients:
            await client.aclose()
            assert client._pool.connection_count == 0


async def _get_status(client: aioreq.Client, url: str, life: Life) -> int:
    _LIFE.set(life)
    return (await client.get(url)).status


async def _paced() -> AsyncIterator[bytes]:
    for _ in range(4):
        yield b"x" * 1024
        await asyncio.sleep(0.002)


def _seed() -> int:
    given = os.environ.get("AIOREQ_STORM_SEED")
    return int(given) if given else random.randrange(2**32)


def storm(plain: FakeServer, tls: FakeServer, loop_name: str, phases: tuple[str, ...]) -> None:
    """Run a storm on `loop_name` with the given phases, and check everything after it."""
    plain.expect("GET", _SLOW_HEAD).respond(text="ok", fault=faults.byte_by_byte(0.0005))
    seed = _seed()
    print(f"cancellation storm: {seed=} loop={loop_name} phases={phases}")
    count = scaled(2000, 10_000)

    async def main() -> None:
        await warm_up(plain, tls)
        baseline = open_fds()
        table = fd_table()
        with unclosed_resources() as unclosed:
            state = Storm(plain, tls, random.Random(seed), seed, phases)
            try:
                await state.run(count, concurrency=64)
                print(f"planned {dict(state.planned)}")
                print(f"landed in {dict(state.landed)}; completed {dict(state.completed)}")
                print(f"completed although cancel() was accepted: {dict(state.lost)}")
                assert not state.errors, f"{state.errors[:10]}; {state.where()}"
                if state.lost:
                    raise LostCancellation(f"{dict(state.lost)}; {state.where()}")
                for phase in phases:
                    if phase != "random":
                        # Most cancellations land in the phase they aimed at; each phase is
                        # hit a fair number of times whatever the machine's speed.
                        assert state.landed[phase] >= state.planned[phase] // 3, (
                            f"{phase}: {state.landed[phase]} of {state.planned[phase]}"
                            f" landed there ({dict(state.landed)}); {state.where()}"
                        )
                state.check_pools()
                await state.check_idle_connections_serve()
                await state.check_ordinary_requests()
                state.check_pools()
                await state.check_idle_connections_serve()
            finally:
                await state.aclose()
            # The servers close their side when they see the clients' FIN.
            gc.collect()  # a leak found already need not wait for the servers
            after = open_fds() if unclosed else await fds_settle(baseline)
            left = new_fds(table)
        if after != baseline or unclosed:
            raise Leak(
                f"{after - baseline} file descriptor(s) left open {left[:5]},"
                f" {len(unclosed)} unclosed: {unclosed[:3]}; {state.where()}"
            )

    run_on(loop_name, main)


ALL = tuple(PLAN)


@pytest.mark.parametrize(
    ("loop_name", "phases"),
    [
        pytest.param("uvloop", ALL, id="uvloop-every-phase"),
        pytest.param("asyncio", ALL, id="asyncio-every-phase"),
    ],
)
def test_cancellation_storm_leaks_nothing(
    aioreq_server: FakeServer, aioreq_tls_server: FakeServer, loop_name: str, phases: tuple[str]
) -> None:
    """Thousands of requests cancelled in every phase of their life: the pools hold nothing,
    lend only usable connections, and every socket is closed (see the module's docstring)."""
    storm(aioreq_server, aioreq_tls_server, loop_name, phases)


@pytest.mark.parametrize(
    "loop_name",
    [
        "uvloop",
        "asyncio",
    ],
)
def test_a_request_cancelled_while_connecting_leaks_no_socket(
    aioreq_server: FakeServer, loop_name: str
) -> None:
    """The reproducer of the bug: 300 requests, each on a new connection, each cancelled after
    0 to 5 turns of the event loop (while the TCP connection is being opened)."""
    seed = _seed()
    rng = random.Random(seed)
    url = aioreq_server.url_for("/status/204")

    async def main() -> None:
        await warm_up(aioreq_server)
        baseline = open_fds()
        table = fd_table()
        with unclosed_resources() as unclosed:
            async with aioreq.Client() as client:
                for _ in range(scaled(300, 3000)):
                    task = asyncio.ensure_future(client.get(url, headers={"Connection": "close"}))
                    for _ in range(rng.randrange(6)):
                        await asyncio.sleep(0)
                    task.cancel()
                    await asyncio.gather(task, return_exceptions=True)
                pool = client._pool
                assert pool.connection_count == pool.idle_count == 0
                assert (await client.get(url)).status == 204
            gc.collect()  # a leak found already need not wait for the servers
            after = open_fds() if unclosed else await fds_settle(baseline)
            left = new_fds(table)
        if after != baseline or unclosed:
            raise Leak(
                f"seed {seed}: {after - baseline} file descriptor(s) left open {left[:4]},"
                f" {len(unclosed)} unclosed: {unclosed[:2]}"
            )

    run_on(loop_name, main)


def test_a_request_cancelled_as_a_connection_is_handed_to_it_is_cancelled(
    aioreq_server: FakeServer,
) -> None:
    """A pool of one: a second request waits for the first's connection, and is cancelled
    just after the connection was handed to it, before it runs again (from the trace event
    that follows `pool.release()`). It must raise CancelledError, and the connection must go
    back to the pool (asyncio.wait_for on Python 3.11 dropped such a cancellation)."""
    url = aioreq_server.url_for("/status/204")
    handed: list[asyncio.Task[aioreq.Response]] = []

    def trace(event: str, info: dict[str, Any]) -> None:
        if event == "response_done" and handed:
            handed.pop().cancel()

    async def main() -> None:
        lost = 0
        limits = aioreq.Limits(max_connections=1)
        async with aioreq.Client(limits=limits, trace=trace) as client:
            for _ in range(50):
                holder = asyncio.ensure_future(client.get(url))
                await asyncio.sleep(0)
                waiter = asyncio.ensure_future(client.get(url))
                await asyncio.sleep(0)  # now queued behind the holder
                handed.append(waiter)
                first, second = await asyncio.gather(holder, waiter, return_exceptions=True)
                assert isinstance(first, aioreq.Response)
                lost += not isinstance(second, asyncio.CancelledError)
                pool = client._pool
                assert pool.connection_count == pool.idle_count == 1, repr(pool)
            assert (await client.get(url)).status == 204
        if lost:
            raise LostCancellation(f"{lost} of 50 cancelled requests completed")

    run_on("asyncio", main)
