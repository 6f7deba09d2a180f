"""Property (a): whatever bytes arrive, split however, the parsers only return events or raise
RemoteProtocolError, and they return.

Inputs are random bytes and valid messages corrupted by a few edits (those get much further into
the parser than random bytes do), fed to parsers with default and with tiny limits.
`parse_requests`/`parse_responses` catch RemoteProtocolError only, so any other exception
(IndexError, ValueError, UnicodeError, LocalProtocolError...) fails the test; they also check that
the events come in a well-formed order and that a failed parser stays failed, and a watchdog
turns a hang into a failure.
"""

from __future__ import annotations

from _prop_support import LIMITS, parse_requests, parse_responses
from hypothesis import given
from hypothesis import strategies as st

from pytest_aioreq import strategies as hs

METHODS = st.sampled_from([b"GET", b"HEAD", b"CONNECT", b"POST"])
SOME_BYTES = st.one_of(
    st.binary(max_size=200),
    # Random bytes behind a plausible start, so that they reach the fields and the body.
    st.binary(max_size=120).map(lambda tail: b"HTTP/1.1 200 OK\r\n" + tail),
    st.binary(max_size=120).map(lambda tail: b"POST / HTTP/1.1\r\nHost: a\r\n" + tail),
)


@given(data=SOME_BYTES, method=METHODS, limits=LIMITS, choices=st.data())
def test_response_parser_survives_any_bytes(
    data: bytes, method: bytes, limits: dict[str, int], choices: st.DataObject
) -> None:
    """Any bytes, any split, any limits: ResponseParser yields events or RemoteProtocolError."""
    reads = choices.draw(hs.splits(data))
    outcome = parse_responses(reads, method, reuse=True, limits=limits)
    assert sum(len(m.body) for m in outcome.messages) <= len(data)


@given(data=SOME_BYTES, limits=LIMITS, choices=st.data())
def test_request_parser_survives_any_bytes(
    data: bytes, limits: dict[str, int], choices: st.DataObject
) -> None:
    """Any bytes, any split, any limits: RequestParser yields events or RemoteProtocolError."""
    reads = choices.draw(hs.splits(data))
    outcome = parse_requests(reads, limits=limits)
    assert sum(len(m.body) for m in outcome.messages) <= len(data)


@given(case=hs.responses(), limits=LIMITS, choices=st.data())
def test_response_parser_survives_corrupted_responses(
    case: hs.ResponseCase, limits: dict[str, int], choices: st.DataObject
) -> None:
    """A valid response with bytes flipped, inserted or deleted, split any way, fed with any
    limits: ResponseParser yields well-ordered events or raises RemoteProtocolError."""
    data = choices.draw(hs.mutations(case.data))
    reads = choices.draw(hs.splits(data))
    outcome = parse_responses(reads, case.request_method, reuse=True, limits=limits)
    assert sum(len(m.body) for m in outcome.messages) <= len(data)


@given(case=hs.requests(), limits=LIMITS, choices=st.data())
def test_request_parser_survives_corrupted_requests(
    case: hs.RequestCase, limits: dict[str, int], choices: st.DataObject
) -> None:
    """A valid request with bytes flipped, inserted or deleted (and so sometimes two requests,
    pipelined), split any way: RequestParser yields well-ordered events or RemoteProtocolError."""
    data = choices.draw(hs.mutations(case.data))
    reads = choices.draw(hs.splits(data))
    outcome = parse_requests(reads, limits=limits)
    assert sum(len(m.body) for m in outcome.messages) <= len(data)
