"""Shared helpers of the protocol tests: build messages, feed them whole or a byte at a time.

Every parser test goes through `feed_all`, so the same table checks both the one-read path and
the path where each byte is its own read (where partial heads and framing lines are buffered).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import pytest

from aioreq import RemoteProtocolError
from aioreq.protocol import EndOfMessage, RequestHead, RequestParser, ResponseHead, ResponseParser

Parser = RequestParser | ResponseParser

#: How the bytes of a message are handed to `feed`: in one read, or one byte per read.
MODES = ["whole", "bytewise"]


def msg(start_line: bytes, *fields: bytes, body: bytes = b"") -> bytes:
    """A message: start line, field lines (each `b"Name: value"`), empty line, body."""
    return b"".join(line + b"\r\n" for line in (start_line, *fields)) + b"\r\n" + body


def reads(data: bytes, mode: str) -> Iterator[bytes]:
    """Split data into the reads of one feeding mode."""
    if mode == "whole":
        yield data
    elif mode == "bytewise":
        for i in range(len(data)):
            yield data[i : i + 1]
    else:  # pragma: no cover - a typo in a test table
        raise ValueError(mode)


def collapse(events: Iterable[object]) -> list[object]:
    """Join consecutive body pieces, so events can be compared however the input was split.

    Also checks that body data is `bytes`. Empty pieces are dropped here; that none is returned
    at all is checked on its own (test_framing), so that one fault fails one test.
    """
    out: list[object] = []
    for event in events:
        if isinstance(event, bytes | bytearray | memoryview):
            assert type(event) is bytes, f"body data must be bytes, got {type(event).__name__}"
            if not event:
                continue
            if out and type(out[-1]) is bytes:
                out[-1] += event
                continue
        out.append(event)
    return out


def feed_all(
    parser: Parser, data: bytes, mode: str = "whole", *, eof: bool = False
) -> list[object]:
    """Feed data in the reads of `mode` (then the close, if `eof`); return the joined events."""
    events: list[object] = []
    for piece in reads(data, mode):
        events += parser.feed(piece)
    if eof:
        events += parser.feed_eof()
    return collapse(events)


def body_of(events: list[object]) -> bytes:
    """All body bytes among the events."""
    return b"".join(e for e in events if isinstance(e, bytes))


def heads(events: list[object]) -> list[RequestHead | ResponseHead]:
    return [e for e in events if isinstance(e, RequestHead | ResponseHead)]


def ends(events: list[object]) -> list[EndOfMessage]:
    return [e for e in events if isinstance(e, EndOfMessage)]


def rejection(
    factory: Callable[[], Parser], data: bytes, mode: str, *, eof: bool = False
) -> RemoteProtocolError:
    """Feed data that must be refused and return the error (fails the test if it is accepted)."""
    parser = factory()
    with pytest.raises(RemoteProtocolError) as info:
        feed_all(parser, data, mode, eof=eof)
    # The parser is dead after an error: it must say so again rather than parse on.
    with pytest.raises(RemoteProtocolError):
        parser.feed(b"\r\n\r\n")
    return info.value


def assert_rejected(
    factory: Callable[[], Parser],
    data: bytes,
    fragments: tuple[str, ...],
    status_hint: int,
) -> None:
    """The input is refused the same way whether it arrives in one read or a byte per read.

    Each fragment (compared case-insensitively) must appear in the message: what was wrong and
    the offending value.
    """
    for mode in MODES:
        error = rejection(factory, data, mode)
        message = str(error)
        for fragment in fragments:
            assert fragment.lower() in message.lower(), (
                f"{mode}: {fragment!r} not in the message {message!r}"
            )
        assert error.status_hint == status_hint, f"{mode}: status_hint of {message!r}"


def response_events(
    data: bytes, mode: str = "whole", *, method: bytes = b"GET", eof: bool = False, **limits: int
) -> tuple[list[object], ResponseParser]:
    """Parse a response to `method`; return the joined events and the parser."""
    parser = ResponseParser(**limits)
    parser.start_response(method)
    return feed_all(parser, data, mode, eof=eof), parser


def request_events(
    data: bytes, mode: str = "whole", *, eof: bool = False, **limits: int
) -> tuple[list[object], RequestParser]:
    """Parse requests; return the joined events and the parser."""
    parser = RequestParser(**limits)
    return feed_all(parser, data, mode, eof=eof), parser


def all_splits(data: bytes) -> Iterator[list[bytes]]:
    """Every way to cut data into two reads, and one read per byte."""
    for i in range(len(data) + 1):
        yield [data[:i], data[i:]]
    yield [data[i : i + 1] for i in range(len(data))]


def feed_pieces(parser: Parser, pieces: list[bytes], *, eof: bool = False) -> list[object]:
    events: list[object] = []
    for piece in pieces:
        events += parser.feed(piece)
    if eof:
        events += parser.feed_eof()
    return collapse(events)
