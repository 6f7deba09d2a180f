"""Property (f): every valid message the strategies draw parses to exactly what they expect.

The head (fields as received, values stripped of surrounding whitespace), body, trailers,
persistence, switch and the bytes left after a switch must all match, and the end of the stream
must finish a close-delimited body and change nothing after any other.
"""

from __future__ import annotations

from typing import Any

from _prop_support import parse_requests
from hypothesis import assume, example, given
from hypothesis import strategies as st

from aioreq.protocol import RequestParser, ResponseHead, ResponseParser
from pytest_aioreq import strategies as hs


def _coalesced(events: list[object]) -> list[object]:
    out: list[object] = []
    for event in events:
        if isinstance(event, bytes) and out and isinstance(out[-1], bytes):
            out[-1] += event
        else:
            out.append(event)
    return out


# RFC 9110 §9.3.6: any 2xx to CONNECT, 204 included, turns the connection into a tunnel.
CONNECT_204 = hs.ResponseCase(
    data=b"HTTP/1.1 204 No Content\r\n\r\n\x16\x03\x01",
    request_method=b"CONNECT",
    interim=[],
    head=ResponseHead(204, b"No Content", b"1.1", []),
    body=b"",
    trailers=[],
    needs_eof=False,
    keep_alive=False,
    switched=True,
    tunnel_data=b"\x16\x03\x01",
)


@given(case=hs.responses())
@example(case=CONNECT_204)
def test_valid_response_parses_as_expected(case: hs.ResponseCase) -> None:
    """A valid response gives the expected interim heads, head, body, trailers, keep_alive,
    switch and tunnel bytes."""
    parser = ResponseParser()
    parser.start_response(case.request_method)
    events = parser.feed(case.data)
    assert parser.complete != case.needs_eof
    events += parser.feed_eof()
    assert _coalesced(events) == case.events
    assert parser.keep_alive == case.keep_alive
    assert parser.switched == case.switched
    assert parser.trailing_data == case.tunnel_data


@given(case=hs.requests())
def test_valid_request_parses_as_expected(case: hs.RequestCase) -> None:
    """A valid request gives the expected head, expect_continue, body, trailers and keep_alive,
    and leaves the bytes after a CONNECT unparsed."""
    parser = RequestParser()
    events = parser.feed(case.data)
    assert parser.complete
    assert parser.trailing_data == case.tunnel_data
    if not case.tunnel_data:
        events += parser.feed_eof()
    assert _coalesced(events) == case.events
    assert parser.keep_alive == case.keep_alive


def _persistent_prefix(cases: list[Any]) -> list[Any]:
    """The cases up to the first that does not leave the connection reusable, included."""
    for at, case in enumerate(cases):
        if not case.keep_alive:
            return cases[: at + 1]
    return cases


@given(cases=st.lists(hs.requests(), min_size=2, max_size=3))
def test_pipelined_requests_parse_one_after_the_other(cases: list[hs.RequestCase]) -> None:
    """Requests sent back to back on a persistent connection come out one after the other,
    each as it would alone."""
    # A server answers a CONNECT before it reads on: the bytes behind it may be the tunnel's.
    cases = _persistent_prefix([c for c in cases if c.head.method != b"CONNECT"])
    assume(cases)
    outcome = parse_requests([b"".join(case.data for case in cases)], eof=False)
    assert not outcome.rejected, outcome.error
    assert [m.heads for m in outcome.messages] == [[case.head] for case in cases]
    assert [m.body for m in outcome.messages] == [case.body for case in cases]
    assert [m.trailers for m in outcome.messages] == [case.trailers for case in cases]
    assert outcome.keep_alive == cases[-1].keep_alive


@given(cases=st.lists(hs.responses(), min_size=2, max_size=3))
def test_reused_connection_parses_the_next_response(cases: list[hs.ResponseCase]) -> None:
    """After each persistent response, start_response() parses the next one like a new parser
    would."""
    parser = ResponseParser()
    for case in _persistent_prefix(cases):
        parser.start_response(case.request_method)
        events = parser.feed(case.data)
        if case.needs_eof:
            events += parser.feed_eof()
        assert _coalesced(events) == case.events
        assert parser.keep_alive == case.keep_alive
        assert parser.switched == case.switched
