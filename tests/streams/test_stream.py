"""`Stream` over a real loopback connection: reads, writes, flow control, errors and closing.

The far end is a raw socket (`Peer`), so every byte the stream reads was really sent through the
kernel. A few tests hand data to the stream's protocol directly, as the transport does, to pin
down an ordering that the kernel would otherwise merge into one read.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable

import pytest

from aioreq import (
    IncompleteReadError,
    LimitOverrunError,
    ReadError,
    ReadTimeout,
    WriteError,
    WriteTimeout,
)
from aioreq.streams import Stream

from ._support import (
    RECV_SIZE,
    MiB,
    assert_closed_by_peer,
    eventually,
    random_bytes,
)
from .conftest import Connection

pytestmark = pytest.mark.asyncio

Read = Callable[[Stream], Awaitable[bytes]]

#: How much a stream may hold unread while its sender is held back: well under the ~1 MiB the
#: brief allows, plus one `recv` of the transport that can land on top of the high-water mark.
UNREAD_BOUND = 1 * MiB + RECV_SIZE


def shrink_send_buffer(stream: Stream) -> None:
    """A small kernel send buffer: the transport's own buffer fills (and pauses) sooner."""
    stream.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 * 1024)


async def wait_for_reader(stream: Stream) -> None:
    """Let a read started in another task reach its wait."""
    await eventually(lambda: stream._protocol._reader is not None)


async def write_until_error(stream: Stream) -> WriteError:
    """Keep writing a little until a write fails; fail the test if none does within a second."""
    for _ in range(200):
        try:
            await stream.write_all(b"x" * 1024, timeout=1.0)
        except WriteError as exc:
            return exc
        await asyncio.sleep(0.005)
    raise AssertionError("writing never failed")


# --- read_some -----------------------------------------------------------------------------------


async def test_read_some_returns_the_bytes_that_arrived(conn: Connection) -> None:
    await conn.peer.send(b"hello")
    assert await conn.stream.read_some(timeout=1) == b"hello"


async def test_read_some_wakes_a_waiting_reader_when_bytes_arrive(conn: Connection) -> None:
    reader = asyncio.create_task(conn.stream.read_some(timeout=1))
    await wait_for_reader(conn.stream)
    await conn.peer.send(b"late")
    assert await reader == b"late"


async def test_a_waiting_reader_runs_on_inside_the_transports_callback(conn: Connection) -> None:
    """Bytes handed to a task waiting for them let it run on at once, in the transport's
    callback, rather than in the next iteration of the loop (one poll of the selector less)."""
    progress: list[str] = []

    async def reader() -> None:
        progress.append(bytes(await conn.stream.read_some(timeout=1)).decode())

    task = asyncio.create_task(reader())
    await wait_for_reader(conn.stream)
    protocol = conn.stream._protocol
    loop = asyncio.get_running_loop()
    seen: list[list[str]] = []

    def callback() -> None:  # as a transport calls it: from the loop, no task running
        protocol.data_received(b"now")
        seen.append(list(progress))

    loop.call_soon(callback)
    await task
    assert seen == [["now"]]


async def test_a_reader_is_woken_the_usual_way_from_inside_a_task(conn: Connection) -> None:
    """Called while a task runs (never the case for a transport, but possible for a caller),
    the hand-over falls back to set_result: the reader runs later, as asyncio would have it."""
    progress: list[str] = []

    async def reader() -> None:
        progress.append(bytes(await conn.stream.read_some(timeout=1)).decode())

    task = asyncio.create_task(reader())
    await wait_for_reader(conn.stream)
    conn.stream._protocol.data_received(b"later")
    assert progress == []
    await task
    assert progress == ["later"]


async def test_read_some_respects_max_bytes_and_keeps_the_rest_in_order(
    conn: Connection,
) -> None:
    """The bytes beyond max_bytes come first in the next reads, before bytes sent later."""
    stream = conn.stream
    await conn.peer.send(b"0123456789")
    await eventually(lambda: len(stream._protocol._buf) == 10)
    assert await stream.read_some(4) == b"0123"
    await conn.peer.send(b"abcdefghij")
    await eventually(lambda: len(stream._protocol._buf) == 16)
    assert await stream.read_some(4) == b"4567"
    rest = bytearray()
    while len(rest) < 12:
        chunk = await stream.read_some(5, timeout=1)
        assert 1 <= len(chunk) <= 5
        rest += chunk
    assert rest == b"89abcdefghij"


async def test_read_some_split_of_a_handed_over_chunk_goes_before_later_bytes(
    conn: Connection,
) -> None:
    """A waiting reader is handed a chunk larger than max_bytes while more bytes arrive."""
    stream = conn.stream
    reader = asyncio.create_task(stream.read_some(4))
    await wait_for_reader(stream)
    # Two reads of the transport before the reader task runs again.
    stream._protocol.data_received(b"0123456789")
    stream._protocol.data_received(b"abc")
    assert await reader == b"0123"
    assert await stream.read_some() == b"456789abc"


async def test_read_some_returns_empty_bytes_at_eof_once_the_buffer_is_drained(
    conn: Connection,
) -> None:
    stream = conn.stream
    await conn.peer.send(b"tail")
    conn.peer.shutdown_write()
    await eventually(lambda: stream._protocol._eof)
    at_eof_before = stream.at_eof  # False: "tail" is still unread
    assert await stream.read_some() == b"tail"
    assert (at_eof_before, stream.at_eof) == (False, True)
    assert await stream.read_some() == b""
    assert await stream.read_some(timeout=0.05) == b""


async def test_read_some_timeout_raises_read_timeout_a_builtin_timeout_error(
    conn: Connection,
) -> None:
    loop = asyncio.get_running_loop()
    start = loop.time()
    with pytest.raises(ReadTimeout, match=r"0\.05 seconds") as info:
        await conn.stream.read_some(timeout=0.05)
    assert loop.time() - start >= 0.04
    assert isinstance(info.value, TimeoutError)
    # The stream is still usable after a timeout.
    await conn.peer.send(b"after")
    assert await conn.stream.read_some(timeout=1) == b"after"


# The read timeout is one lazily re-armed timer per connection, not one per read: these pin that
# each read still gets exactly its own timeout, whatever the reads before it asked for.


async def test_a_shorter_timeout_after_a_longer_one_expires_on_time(conn: Connection) -> None:
    await conn.peer.send(b"first")
    assert await conn.stream.read_some(timeout=30) == b"first"  # arms a timer for 30 s
    loop = asyncio.get_running_loop()
    start = loop.time()
    with pytest.raises(ReadTimeout):
        await conn.stream.read_some(timeout=0.05)
    assert 0.04 <= loop.time() - start < 1


async def test_a_timer_left_by_an_earlier_read_does_not_cut_a_later_one_short(
    conn: Connection,
) -> None:
    # The first read arms a timer for 0.1 s and ends at once; the second, begun right after,
    # has 0.4 s. When the first timer fires it must re-arm for the second read's deadline.
    await conn.peer.send(b"first")
    assert await conn.stream.read_some(timeout=0.1) == b"first"
    loop = asyncio.get_running_loop()
    start = loop.time()
    with pytest.raises(ReadTimeout):
        await conn.stream.read_some(timeout=0.4)
    assert loop.time() - start >= 0.38


async def test_a_read_without_timeout_is_not_ended_by_an_earlier_reads_timer(
    conn: Connection,
) -> None:
    await conn.peer.send(b"first")
    assert await conn.stream.read_some(timeout=0.05) == b"first"
    reading = asyncio.ensure_future(conn.stream.read_some())
    await asyncio.sleep(0.15)  # past the first read's deadline
    assert not reading.done()
    await conn.peer.send(b"late")
    assert await reading == b"late"


async def test_each_of_many_reads_gets_its_full_timeout(conn: Connection) -> None:
    # Reads that each wait a little, under one timeout shorter than their sum.
    for _ in range(6):
        waiting = asyncio.ensure_future(conn.stream.read_some(timeout=0.15))
        await asyncio.sleep(0.05)
        await conn.peer.send(b"x")
        assert await waiting == b"x"


async def test_read_some_after_the_peer_resets_raises_read_error(conn: Connection) -> None:
    conn.peer.reset()
    with pytest.raises(ReadError, match="reset") as info:
        await conn.stream.read_some(timeout=1)
    assert isinstance(info.value.__cause__, ConnectionResetError)


@pytest.mark.parametrize(
    "read",
    [
        pytest.param(lambda s: s.read_some(), id="read_some"),
        pytest.param(lambda s: s.read_until(b"\n"), id="read_until"),
        pytest.param(lambda s: s.read_exactly(5), id="read_exactly"),
    ],
)
async def test_reading_after_our_own_aclose_raises_read_error(conn: Connection, read: Read) -> None:
    """Not b"" and not IncompleteReadError: the caller closed the stream, and is told so."""
    await conn.stream.aclose()
    with pytest.raises(ReadError, match="closed by this side") as info:
        await read(conn.stream)
    assert not isinstance(info.value, IncompleteReadError)


async def test_a_waiting_reader_gets_read_error_when_another_task_closes_the_stream(
    conn: Connection,
) -> None:
    reader = asyncio.create_task(conn.stream.read_some(timeout=1))
    await wait_for_reader(conn.stream)
    await conn.stream.aclose()
    with pytest.raises(ReadError, match="closed by this side"):
        await reader


# --- read_until ----------------------------------------------------------------------------------


async def test_read_until_returns_each_line_with_its_delimiter(conn: Connection) -> None:
    await conn.peer.send(b"one\ntwo\nthree")
    assert await conn.stream.read_until(b"\n", timeout=1) == b"one\n"
    assert await conn.stream.read_until(b"\n", timeout=1) == b"two\n"
    assert await conn.stream.read_some() == b"three"


@pytest.mark.parametrize("split", [1, 2, 3], ids=lambda n: f"after-{n}-delimiter-bytes")
async def test_read_until_finds_a_delimiter_split_across_writes(
    conn: Connection, split: int
) -> None:
    head = b"GET / HTTP/1.1\r\nHost: x"
    delimiter = b"\r\n\r\n"
    sender = asyncio.create_task(
        conn.peer.send_in_pieces(
            head[:5], head[5:] + delimiter[:split], delimiter[split:] + b"body"
        )
    )
    assert await conn.stream.read_until(delimiter, timeout=1) == head + delimiter
    await sender
    assert await conn.stream.read_exactly(4, timeout=1) == b"body"


async def test_read_until_handed_over_chunk_goes_before_later_bytes(conn: Connection) -> None:
    stream = conn.stream
    reader = asyncio.create_task(stream.read_until(b"\n"))
    await wait_for_reader(stream)
    stream._protocol.data_received(b"ab")
    stream._protocol.data_received(b"c\nd")
    assert await reader == b"abc\n"
    assert await stream.read_some() == b"d"


@pytest.mark.parametrize(
    ("limit", "overruns"),
    [(6, False), (5, True)],
    ids=["delimiter-ends-at-the-limit", "delimiter-ends-past-the-limit"],
)
async def test_read_until_limit_counts_the_delimiter(
    conn: Connection, limit: int, overruns: bool
) -> None:
    await conn.peer.send(b"abcd\r\n")
    await eventually(lambda: len(conn.stream._protocol._buf) == 6)
    if overruns:
        with pytest.raises(LimitOverrunError):
            await conn.stream.read_until(b"\r\n", limit=limit)
    else:
        assert await conn.stream.read_until(b"\r\n", limit=limit) == b"abcd\r\n"


async def test_read_until_limit_overrun_leaves_the_bytes_readable(conn: Connection) -> None:
    payload = b"x" * 100
    await conn.peer.send(payload)
    with pytest.raises(LimitOverrunError, match="limit of 64 bytes") as info:
        await conn.stream.read_until(b"\n", limit=64, timeout=1)
    assert isinstance(info.value, ReadError)
    await conn.peer.send(b"\n")
    assert await conn.stream.read_until(b"\n", limit=1000, timeout=1) == payload + b"\n"


async def test_read_until_eof_before_the_delimiter_raises_with_the_partial_bytes(
    conn: Connection,
) -> None:
    await conn.peer.send(b"no newline")
    conn.peer.shutdown_write()
    with pytest.raises(IncompleteReadError) as info:
        await conn.stream.read_until(b"\n", timeout=1)
    assert info.value.partial == b"no newline"
    assert info.value.expected is None
    assert conn.stream.at_eof


async def test_read_until_timeout_keeps_what_arrived(conn: Connection) -> None:
    await conn.peer.send(b"abc")
    with pytest.raises(ReadTimeout):
        await conn.stream.read_until(b"\n", timeout=0.05)
    await conn.peer.send(b"def\n")
    assert await conn.stream.read_until(b"\n", timeout=1) == b"abcdef\n"


async def test_read_until_refuses_an_empty_delimiter(conn: Connection) -> None:
    with pytest.raises(ValueError, match="delimiter"):
        await conn.stream.read_until(b"")


# --- read_exactly --------------------------------------------------------------------------------


async def test_read_exactly_collects_many_small_writes(conn: Connection) -> None:
    pieces = [bytes([65 + i]) * 3 for i in range(20)]
    sender = asyncio.create_task(conn.peer.send_in_pieces(*pieces, pause=0.002))
    assert await conn.stream.read_exactly(60, timeout=1) == b"".join(pieces)
    await sender


async def test_read_exactly_leaves_the_bytes_beyond_n_buffered(conn: Connection) -> None:
    await conn.peer.send(b"0123456789")
    assert await conn.stream.read_exactly(3, timeout=1) == b"012"
    assert await conn.stream.read_exactly(7, timeout=1) == b"3456789"


async def test_read_exactly_handed_over_chunk_goes_before_later_bytes(conn: Connection) -> None:
    stream = conn.stream
    reader = asyncio.create_task(stream.read_exactly(5))
    await wait_for_reader(stream)
    stream._protocol.data_received(b"01")
    stream._protocol.data_received(b"234567")
    assert await reader == b"01234"
    assert await stream.read_some() == b"567"


async def test_read_exactly_eof_raises_with_partial_and_expected(conn: Connection) -> None:
    await conn.peer.send(b"short")
    conn.peer.shutdown_write()
    with pytest.raises(IncompleteReadError, match="5 of 8 bytes") as info:
        await conn.stream.read_exactly(8, timeout=1)
    assert info.value.partial == b"short"
    assert info.value.expected == 8


async def test_read_exactly_zero_returns_empty_bytes_without_waiting(conn: Connection) -> None:
    assert await conn.stream.read_exactly(0, timeout=0.01) == b""


async def test_read_exactly_refuses_a_negative_count(conn: Connection) -> None:
    with pytest.raises(ValueError, match="-1"):
        await conn.stream.read_exactly(-1)


async def test_read_exactly_timeout_covers_the_whole_read_and_keeps_the_bytes(
    conn: Connection,
) -> None:
    await conn.peer.send(b"abc")
    with pytest.raises(ReadTimeout):
        await conn.stream.read_exactly(6, timeout=0.05)
    await conn.peer.send(b"def")
    assert await conn.stream.read_exactly(6, timeout=1) == b"abcdef"


async def test_read_exactly_timeout_message_names_the_callers_timeout(conn: Connection) -> None:
    async def send_later() -> None:
        await asyncio.sleep(0.03)
        await conn.peer.send(b"abc")

    sender = asyncio.create_task(send_later())
    with pytest.raises(ReadTimeout, match=r"within 0\.1 seconds"):
        await conn.stream.read_exactly(6, timeout=0.1)
    await sender


# --- several readers, unread ---------------------------------------------------------------------


async def test_a_second_concurrent_reader_raises_runtime_error(conn: Connection) -> None:
    first = asyncio.create_task(conn.stream.read_some(timeout=1))
    await wait_for_reader(conn.stream)
    with pytest.raises(RuntimeError, match="another task is already reading"):
        await conn.stream.read_until(b"\n")
    # The first reader is unaffected.
    await conn.peer.send(b"data")
    assert await first == b"data"


async def test_unread_puts_bytes_back_in_front(conn: Connection) -> None:
    await conn.peer.send(b"abcdef")
    assert await conn.stream.read_exactly(3, timeout=1) == b"abc"
    conn.stream.unread(b"abc")
    assert await conn.stream.read_exactly(6, timeout=1) == b"abcdef"


async def test_unread_at_eof_makes_the_bytes_readable_again(conn: Connection) -> None:
    conn.peer.shutdown_write()
    assert await conn.stream.read_some(timeout=1) == b""
    conn.stream.unread(b"again\n")
    assert not conn.stream.at_eof
    assert await conn.stream.read_until(b"\n") == b"again\n"
    assert conn.stream.at_eof


# --- push mode (set_receiver) --------------------------------------------------------------------


async def test_set_receiver_delivers_buffered_bytes_at_once_then_each_read(
    conn: Connection,
) -> None:
    stream = conn.stream
    await conn.peer.send(b"early")
    await eventually(lambda: len(stream._protocol._buf) == 5)
    received: list[bytes] = []
    stream.set_receiver(received.append)
    assert received == [b"early"]
    await conn.peer.send(b"later")
    await eventually(lambda: len(received) == 2)
    assert received == [b"early", b"later"]


async def test_set_receiver_signals_the_peer_closing_once_with_empty_bytes(
    conn: Connection,
) -> None:
    received: list[bytes] = []
    conn.stream.set_receiver(received.append)
    await conn.peer.send(b"last")
    conn.peer.close()
    await eventually(lambda: conn.stream._protocol._eof)
    assert b"".join(received) == b"last"
    assert received[-1] == b""
    assert received.count(b"") == 1


async def test_set_receiver_at_eof_signals_the_close_at_once(conn: Connection) -> None:
    conn.peer.shutdown_write()
    assert await conn.stream.read_some(timeout=1) == b""
    received: list[bytes] = []
    conn.stream.set_receiver(received.append)
    assert received == [b""]


async def test_set_receiver_after_data_and_eof_arrived_gets_both(conn: Connection) -> None:
    await conn.peer.send(b"bye")
    conn.peer.close()
    await eventually(lambda: conn.stream._protocol._eof)
    received: list[bytes] = []
    conn.stream.set_receiver(received.append)
    await asyncio.sleep(0.01)
    assert received == [b"bye", b""]


async def test_set_receiver_none_returns_to_pull_mode(conn: Connection) -> None:
    received: list[bytes] = []
    conn.stream.set_receiver(received.append)
    await conn.peer.send(b"pushed")
    await eventually(lambda: received == [b"pushed"])
    conn.stream.set_receiver(None)
    await conn.peer.send(b"pulled")
    assert await conn.stream.read_some(timeout=1) == b"pulled"
    assert received == [b"pushed"]


# --- cancellation --------------------------------------------------------------------------------


async def test_cancelled_read_loses_no_data_that_arrives_afterwards(conn: Connection) -> None:
    reader = asyncio.create_task(conn.stream.read_some())
    await wait_for_reader(conn.stream)
    reader.cancel()
    await conn.peer.send(b"kept")
    with pytest.raises(asyncio.CancelledError):
        await reader
    assert await conn.stream.read_some(timeout=1) == b"kept"


async def test_cancelled_read_until_keeps_the_partial_line(conn: Connection) -> None:
    await conn.peer.send(b"par")
    reader = asyncio.create_task(conn.stream.read_until(b"\n"))
    await wait_for_reader(conn.stream)
    reader.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reader
    await conn.peer.send(b"tial\n")
    assert await conn.stream.read_until(b"\n", timeout=1) == b"partial\n"


async def test_cancelling_a_reader_just_after_bytes_were_handed_to_it_loses_nothing(
    conn: Connection,
) -> None:
    """The race of `asyncio.wait_for(stream.read_some(), t)` whose timeout fires as data lands.

    The poller sees the hand-over (the protocol clears `_reader`) and cancels the reader in the
    same loop iteration, before the reader task has run again.
    """
    stream = conn.stream
    reader = asyncio.create_task(stream.read_some())
    await wait_for_reader(stream)
    await conn.peer.send(b"precious")
    # Poll on every loop iteration (an Event or a timed sleep would come too late): the
    # hand-over clears `_reader`, and the reader task only runs on the next iteration.
    while stream._protocol._reader is not None:  # noqa: ASYNC110
        await asyncio.sleep(0)
    reader.cancel()
    try:
        got = await reader
    except asyncio.CancelledError:
        got = b""
    if not got:
        got = await stream.read_some(timeout=0.2)
    assert got == b"precious"


# --- flow control: writing -----------------------------------------------------------------------


async def test_write_all_times_out_when_the_peer_does_not_read(conn: Connection) -> None:
    loop = asyncio.get_running_loop()
    shrink_send_buffer(conn.stream)
    start = loop.time()
    with pytest.raises(WriteTimeout, match=r"0\.2 seconds") as info:
        await conn.stream.write_all(random_bytes(8 * MiB), timeout=0.2)
    assert 0.15 <= loop.time() - start < 0.5
    assert isinstance(info.value, TimeoutError)


async def test_write_all_waits_for_a_slow_peer_and_delivers_every_byte(
    conn: Connection,
) -> None:
    shrink_send_buffer(conn.stream)
    data = random_bytes(8 * MiB)
    writer = asyncio.create_task(conn.stream.write_all(data))
    await asyncio.sleep(0.05)
    assert not writer.done(), "write_all returned while the peer had not read anything"
    assert conn.stream.write_paused
    received = await conn.peer.recv_exactly(len(data))
    await asyncio.wait_for(writer, 1)
    assert received == data
    assert not conn.stream.write_paused


async def test_drain_after_write_nowait_times_out_when_the_peer_does_not_read(
    conn: Connection,
) -> None:
    shrink_send_buffer(conn.stream)
    conn.stream.write_nowait(random_bytes(8 * MiB))
    with pytest.raises(WriteTimeout):
        await conn.stream.drain(timeout=0.05)


async def test_two_tasks_blocked_in_write_all_both_finish_when_the_peer_reads(
    conn: Connection,
) -> None:
    shrink_send_buffer(conn.stream)
    first, second = random_bytes(4 * MiB), random_bytes(4 * MiB)
    writers = [
        asyncio.create_task(conn.stream.write_all(first)),
        asyncio.create_task(conn.stream.write_all(second)),
    ]
    await asyncio.sleep(0.02)
    received = await conn.peer.recv_exactly(len(first) + len(second))
    assert received == first + second
    _, pending = await asyncio.wait(writers, timeout=0.2)
    for task in pending:
        task.cancel()
    await asyncio.gather(*writers, return_exceptions=True)
    assert not pending, "a writer stayed blocked after the peer read everything"


# --- flow control: reading -----------------------------------------------------------------------


async def test_unread_input_stays_bounded_while_the_sender_is_held_back(
    conn: Connection,
) -> None:
    """TCP pushes back on the sender instead of the stream buffering everything."""
    data = random_bytes(16 * MiB)
    sender = asyncio.create_task(conn.peer.send(data))
    await asyncio.sleep(0.1)
    assert not sender.done(), "the sender was not held back"
    assert len(conn.stream._protocol._buf) < UNREAD_BOUND
    received = bytearray()
    largest = 0
    while len(received) < len(data):
        largest = max(largest, len(conn.stream._protocol._buf))
        received += await conn.stream.read_some(timeout=1)
    await asyncio.wait_for(sender, 1)
    assert largest < UNREAD_BOUND
    assert received == data


async def test_read_exactly_of_more_than_the_high_water_mark(conn: Connection) -> None:
    data = random_bytes(1 * MiB)
    sender = asyncio.create_task(conn.peer.send(data))
    try:
        assert await conn.stream.read_exactly(len(data), timeout=0.3) == data
    finally:
        sender.cancel()
        await asyncio.gather(sender, return_exceptions=True)


async def test_read_until_with_a_limit_above_the_high_water_mark(conn: Connection) -> None:
    line = random_bytes(512 * 1024).replace(b"\n", b"-") + b"\n"
    sender = asyncio.create_task(conn.peer.send(line))
    try:
        assert await conn.stream.read_until(b"\n", limit=MiB, timeout=0.3) == line
    finally:
        sender.cancel()
        await asyncio.gather(sender, return_exceptions=True)


# --- write errors --------------------------------------------------------------------------------


async def test_writing_after_aclose_raises_write_error(conn: Connection) -> None:
    await conn.stream.aclose()
    with pytest.raises(WriteError, match="closed"):
        await conn.stream.write_all(b"late")
    with pytest.raises(WriteError, match="closed"):
        conn.stream.write_nowait(b"late")


async def test_writing_after_the_peer_resets_eventually_raises_write_error(
    conn: Connection,
) -> None:
    conn.peer.reset()
    error = await write_until_error(conn.stream)
    assert isinstance(error.__cause__, ConnectionError)


async def test_writing_after_the_peer_half_closed_still_reaches_it(conn: Connection) -> None:
    """A client may shut its sending side once the request is out and still read the answer."""
    conn.peer.shutdown_write()
    assert await conn.stream.read_some(timeout=1) == b""
    await conn.stream.write_all(b"the answer")
    await conn.stream.aclose()
    assert await conn.peer.recv_until_eof() == b"the answer"


async def test_writing_after_the_peer_closed_raises_write_error_eventually(
    conn: Connection,
) -> None:
    """A fully closed peer answers the first write with a reset; writes then fail."""
    conn.peer.close()
    assert await conn.stream.read_some(timeout=1) == b""

    async def keep_writing() -> None:
        for _ in range(100):
            await conn.stream.write_all(b"anyone there?")
            await asyncio.sleep(0.01)

    with pytest.raises(WriteError):
        await keep_writing()


# --- closing -------------------------------------------------------------------------------------


async def test_aclose_is_idempotent(conn: Connection) -> None:
    await conn.stream.aclose()
    assert conn.stream.is_closing
    await asyncio.wait_for(conn.stream.aclose(), 0.1)
    assert await conn.peer.recv_until_eof() == b""


async def test_aclose_delivers_buffered_output_before_closing(conn: Connection) -> None:
    data = random_bytes(2 * MiB)
    conn.stream.write_nowait(data)
    closing = asyncio.create_task(conn.stream.aclose())
    assert await conn.peer.recv_until_eof() == data
    await asyncio.wait_for(closing, 1)


async def test_async_with_closes_the_stream(conn: Connection) -> None:
    async with conn.stream as stream:
        assert stream is conn.stream
        await stream.write_all(b"bye")
    assert conn.stream.is_closing
    assert await conn.peer.recv_until_eof() == b"bye"


async def test_abort_closes_at_once_and_later_io_fails(conn: Connection) -> None:
    conn.stream.abort()
    assert conn.stream.is_closing
    assert await conn.peer.recv_until_eof() == b""
    with pytest.raises(ReadError):
        await conn.stream.read_some(timeout=1)
    with pytest.raises(WriteError):
        await conn.stream.write_all(b"x")


async def test_send_eof_half_closes_and_the_reply_can_still_be_read(conn: Connection) -> None:
    await conn.stream.write_all(b"request")
    await conn.stream.send_eof()
    assert await conn.peer.recv_until_eof() == b"request"
    await conn.peer.send(b"reply")
    assert await conn.stream.read_some(timeout=1) == b"reply"


async def test_the_peer_closing_is_seen_through_at_eof(conn: Connection) -> None:
    stream = conn.stream
    assert (stream.is_closing, stream.at_eof) == (False, False)
    await conn.peer.send(b"x")
    conn.peer.close()
    await eventually(lambda: stream._protocol._eof)
    at_eof_before = stream.at_eof  # False: "x" is still unread
    assert await stream.read_some() == b"x"
    assert (at_eof_before, stream.at_eof) == (False, True)
    await assert_closed_by_peer(stream)


# --- facts about the connection ------------------------------------------------------------------


async def test_addresses_and_extra_info_describe_the_connection(conn: Connection) -> None:
    stream, sock = conn.stream, conn.peer.sock
    assert stream.peername == sock.getsockname()
    assert stream.sockname == sock.getpeername()
    assert stream.get_extra_info("socket").getsockname() == stream.sockname
    assert stream.get_extra_info("peername") == stream.peername
    assert stream.get_extra_info("no-such-thing", "default") == "default"
    assert stream.ssl_object is None
    assert stream.transport.get_extra_info("peername") == stream.peername


async def test_repr_shows_the_addresses_and_the_state(conn: Connection) -> None:
    stream = conn.stream
    assert repr(stream) == f"<Stream {stream.sockname!r} -> {stream.peername!r} open>"
    await stream.aclose()
    assert repr(stream).endswith(" closed>")
    assert "TLS" not in repr(stream)


async def test_clean_until_bytes_wait_the_peer_closes_or_we_close(conn: Connection) -> None:
    stream = conn.stream
    assert stream.clean
    await conn.peer.send(b"unasked")
    await asyncio.sleep(0.05)
    assert not stream.clean  # bytes wait unread
    assert await stream.read_some() == b"unasked"
    assert stream.clean
    conn.peer.close()
    assert await stream.read_some(timeout=1) == b""
    assert not stream.clean  # the peer closed
