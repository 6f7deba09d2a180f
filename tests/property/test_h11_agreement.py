"""Property (d): on every valid message the strategies draw, aioreq's parsers agree with h11's.

Compared: status code, reason and version (or method, target and version), the fields with
lowercased names, the body, the trailers, a switch of protocols and the bytes after it,
`Expect: 100-continue`, the bytes left unparsed after CONNECT, and persistence for HTTP/1.1 and
later (h11 never keeps an HTTP/1.0 connection alive, so persistence is compared only there, and
not after a close-delimited body). Fields are put in h11's shape first: h11 folds repeated or
listed Content-Length values into one field and lowercases Transfer-Encoding
(`normalized_fields`).

Where h11 is stricter than RFC 9112, the drawn space is narrowed: the strategies are asked for
chunk extensions without whitespace, because h11's chunk-header pattern allows none before ";"
although RFC 9112 §7.1.1 allows BWS there. Nothing else is left out.
"""

from __future__ import annotations

from typing import Any

import h11
from _prop_support import normalized_fields, parse_requests, parse_responses
from hypothesis import given

from aioreq.protocol import RequestHead, ResponseHead
from pytest_aioreq import strategies as hs


def _h11_events(conn: h11.Connection, *, eof: bool) -> list[Any]:
    events = []
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA and eof:
            conn.receive_data(b"")
            eof = False
            continue
        if event in (h11.NEED_DATA, h11.PAUSED) or isinstance(event, h11.ConnectionClosed):
            return events
        events.append(event)
        if isinstance(event, h11.EndOfMessage):
            return events


def _response_head(event: Any) -> tuple[Any, ...]:
    return (event.status_code, event.reason, event.http_version, list(event.headers))


@given(case=hs.responses(chunk_ext_whitespace=False))
def test_response_parse_agrees_with_h11(case: hs.ResponseCase) -> None:
    """aioreq's ResponseParser and h11 read every valid response alike."""
    conn = h11.Connection(h11.CLIENT)
    request_fields = [(b"Host", b"example.org")]
    if case.head.status_code == 101:
        request_fields += [(b"Upgrade", b"websocket"), (b"Connection", b"upgrade")]
    target = b"example.org:443" if case.request_method == b"CONNECT" else b"/"
    conn.send(h11.Request(method=case.request_method, target=target, headers=request_fields))
    conn.send(h11.EndOfMessage())
    conn.receive_data(case.data)
    theirs = _h11_events(conn, eof=case.needs_eof)

    ours = parse_responses([case.data], case.request_method, eof=case.needs_eof)

    assert not ours.rejected, ours.error
    (message,) = ours.messages
    heads = [e for e in theirs if isinstance(e, (h11.InformationalResponse, h11.Response))]
    assert [
        (h.status_code, h.reason, h.http_version, normalized_fields(h.headers))
        for h in message.heads
        if isinstance(h, ResponseHead)
    ] == [_response_head(e) for e in heads]
    assert message.body == b"".join(bytes(e.data) for e in theirs if isinstance(e, h11.Data))
    switched = conn.their_state is h11.SWITCHED_PROTOCOL
    assert ours.switched == switched
    if switched:
        assert ours.trailing_data == conn.trailing_data[0]
    else:
        (end,) = [e for e in theirs if isinstance(e, h11.EndOfMessage)]
        assert normalized_fields(message.trailers or []) == list(end.headers)
    if case.head.http_version != b"1.0" and not switched and not case.needs_eof:
        # After a close-delimited body h11 reports DONE though the connection is closed.
        assert ours.keep_alive == (conn.their_state is h11.DONE)


@given(case=hs.requests(chunk_ext_whitespace=False))
def test_request_parse_agrees_with_h11(case: hs.RequestCase) -> None:
    """aioreq's RequestParser and h11 read every valid request alike."""
    conn = h11.Connection(h11.SERVER)
    conn.receive_data(case.data)
    request = conn.next_event()
    assert isinstance(request, h11.Request)
    waiting_for_100 = conn.they_are_waiting_for_100_continue
    theirs = _h11_events(conn, eof=False)

    ours = parse_requests([case.data], eof=False)

    assert not ours.rejected, ours.error
    (message,) = ours.messages
    (head,) = message.heads
    assert isinstance(head, RequestHead)
    assert (head.method, head.target, head.http_version) == (
        request.method,
        request.target,
        request.http_version,
    )
    assert normalized_fields(head.headers) == list(request.headers)
    assert head.expect_continue == waiting_for_100
    assert message.body == b"".join(bytes(e.data) for e in theirs if isinstance(e, h11.Data))
    (end,) = [e for e in theirs if isinstance(e, h11.EndOfMessage)]
    assert normalized_fields(message.trailers or []) == list(end.headers)
    assert ours.trailing_data == conn.trailing_data[0]
    if head.method == b"CONNECT":
        # h11 pauses until the server answers; the request says nothing yet about the tunnel.
        assert conn.their_state is h11.MIGHT_SWITCH_PROTOCOL
    elif head.http_version != b"1.0":
        assert ours.keep_alive == (conn.their_state is h11.DONE)
