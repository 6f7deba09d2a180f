"""What the property tests share: drive a parser through reads and sum up what it made of them.

`Outcome` holds what a user of the parser would notice (heads, the joined body of each message,
trailers, persistence, a switch, leftover bytes, and whether it failed), so that two parses can
be compared with `==` however their body bytes were cut into events.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from hypothesis import strategies as st

from aioreq import RemoteProtocolError
from aioreq.protocol import (
    EndOfMessage,
    Event,
    Fields,
    RequestHead,
    RequestParser,
    ResponseHead,
    ResponseParser,
)

#: Small limits, so that fuzzing reaches every limit check; None keeps the parser's default.
LIMITS = st.fixed_dictionaries(
    {},
    optional={
        "max_line_size": st.integers(1, 64),
        "max_header_size": st.integers(1, 160),
        "max_header_count": st.integers(0, 6),
        "max_chunk_line_size": st.integers(1, 24),
        "max_body_size": st.integers(0, 64),
    },
)


#: Cut points for `cut`: plain integers, so that a failing split can be written in @example.
CUTS = st.lists(st.integers(0, 2**16), max_size=12)


def cut(data: bytes, points: Sequence[int]) -> list[bytes]:
    """`data` split into reads at `points` (each taken modulo len(data) + 1)."""
    bounds = sorted(point % (len(data) + 1) for point in points)
    return [data[start:end] for start, end in zip([0, *bounds], [*bounds, len(data)], strict=True)]


class ParserHang(AssertionError):
    """The parser did not return within the watchdog's time."""


@contextlib.contextmanager
def watchdog(seconds: float = 5.0) -> Iterator[None]:
    """Fail with ParserHang if the block runs longer than `seconds` (POSIX main thread only)."""
    main = threading.current_thread() is threading.main_thread()
    if not hasattr(signal, "setitimer") or not main:
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise ParserHang(f"the parser ran for more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class Message:
    """One message as a parser delivered it: its heads (1xx first), joined body, trailers."""

    heads: list[RequestHead | ResponseHead] = field(default_factory=list)
    body: bytes = b""
    trailers: Fields | None = None  # None until EndOfMessage arrived


@dataclass
class Outcome:
    """Everything a parse produced, in a form that does not depend on how the body was cut."""

    messages: list[Message]
    keep_alive: bool
    switched: bool
    trailing_data: bytes
    error: str | None

    @property
    def rejected(self) -> bool:
        return self.error is not None


def messages_of(events: Sequence[Event], *, response: bool) -> list[Message]:
    """Group events into messages, checking that they come in a well-formed order.

    A response is `(1xx head)* head bytes* EndOfMessage` (101 ends with its head, like a final
    response); a request is `head bytes* EndOfMessage`.
    """
    messages: list[Message] = []
    in_body = False
    for event in events:
        if isinstance(event, (RequestHead, ResponseHead)):
            assert not in_body, f"a head inside a message: {events!r}"
            assert isinstance(event, ResponseHead) == response, f"wrong head type: {event!r}"
            if not messages or messages[-1].trailers is not None:
                messages.append(Message())
            messages[-1].heads.append(event)
            interim = isinstance(event, ResponseHead) and 100 <= event.status_code < 200
            in_body = not interim or event.status_code == 101
        elif isinstance(event, bytes):
            assert in_body, f"body bytes outside a body: {events!r}"
            messages[-1].body += event
        elif isinstance(event, EndOfMessage):
            assert in_body, f"EndOfMessage without a head: {events!r}"
            # A message without trailers may share one EndOfMessage whose trailers are ().
            assert isinstance(event.trailers, (list, tuple))
            messages[-1].trailers = list(event.trailers)
            in_body = False
        else:
            raise AssertionError(f"not an event: {event!r}")
    return messages


def parse_responses(
    reads: Sequence[bytes],
    method: bytes = b"GET",
    *,
    eof: bool = True,
    reuse: bool = False,
    limits: dict[str, int] | None = None,
) -> Outcome:
    """Feed reads to a ResponseParser (then the end of the stream, if `eof`).

    With `reuse`, a response that leaves the connection reusable is followed by
    `start_response(method)`, so that later reads are parsed as the next response.
    Only RemoteProtocolError is caught: any other exception fails the test.
    """
    parser = ResponseParser(**(limits or {}))
    parser.start_response(method)
    events: list[Event] = []
    error = None
    with watchdog():
        try:
            for data in reads:
                events += parser.feed(data)
                if reuse and parser.complete and parser.keep_alive and not parser.switched:
                    parser.start_response(method)
            if eof:
                events += parser.feed_eof()
        except RemoteProtocolError as exc:
            error = str(exc)
            _assert_dead(parser)
    return Outcome(
        messages_of(events, response=True),
        parser.keep_alive,
        parser.switched,
        parser.trailing_data,
        error,
    )


def parse_requests(
    reads: Sequence[bytes],
    *,
    eof: bool = True,
    pipelined: bool = True,
    limits: dict[str, int] | None = None,
) -> Outcome:
    """Feed reads to a RequestParser (then the end of the stream, if `eof`).

    With `pipelined`, each request that leaves the connection open (and is not a CONNECT) is
    followed by `next_request()`, which parses the requests that already arrived behind it.
    """
    parser = RequestParser(**(limits or {}))
    events: list[Event] = []
    error = None
    budget = sum(map(len, reads)) + 2  # each request takes at least one byte

    def another() -> bool:
        # After CONNECT a server answers first: the bytes behind it may be the tunnel's.
        last = next((e for e in reversed(events) if isinstance(e, RequestHead)), None)
        tunnel = last is not None and last.method == b"CONNECT"
        return parser.complete and parser.keep_alive and not parser.switched and not tunnel

    with watchdog():
        try:
            for data in reads:
                events += parser.feed(data)
                while pipelined and another():
                    budget -= 1
                    assert budget >= 0, "next_request() keeps finding requests in no bytes"
                    events += parser.next_request()
            if eof:
                events += parser.feed_eof()
        except RemoteProtocolError as exc:
            error = str(exc)
            _assert_dead(parser)
    return Outcome(
        messages_of(events, response=False),
        parser.keep_alive,
        parser.switched,
        parser.trailing_data,
        error,
    )


def _assert_dead(parser: RequestParser | ResponseParser) -> None:
    """After a RemoteProtocolError the parser refuses more input, with the same error type."""
    assert not parser.keep_alive
    for call in (lambda: parser.feed(b"x"), parser.feed_eof):
        try:
            call()
        except RemoteProtocolError:
            continue
        raise AssertionError("a failed parser accepted more input")


def normalized_fields(fields: Fields) -> Fields:
    """Fields as h11 reports them: lowercase names, one Content-Length, lowercase codings.

    h11 folds repeated or listed Content-Length values into one field holding one value, and
    lowercases Transfer-Encoding; aioreq reports the fields as received.
    """
    out: Fields = []
    seen_length = False
    for name, value in fields:
        lname = name.lower()
        if lname == b"content-length":
            if seen_length:
                continue
            seen_length = True
            value = value.split(b",")[0].strip(b" \t")
        elif lname == b"transfer-encoding":
            value = value.lower()
        out.append((lname, value))
    return out
