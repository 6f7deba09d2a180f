"""Property (c): what the serializers write, the parsers read back unchanged.

Heads come from the valid-message strategies (with their framing fields replaced by the ones
the test chooses), bodies are sent in pieces through `BodyWriter`, framed by Content-Length,
chunked with trailers, or (responses) by the close. Parsing the result must give back the very
method, target, status, reason, version, fields, body and trailers that were written.
"""

from __future__ import annotations

from _prop_support import parse_requests, parse_responses
from hypothesis import assume, given
from hypothesis import strategies as st

from aioreq.protocol import (
    BodyWriter,
    Fields,
    RequestHead,
    ResponseHead,
    encode_request,
    encode_request_head,
    encode_response_head,
    reason_phrase,
)
from pytest_aioreq import strategies as hs

FRAMING = {b"content-length", b"transfer-encoding"}
PIECES = st.lists(st.binary(max_size=40), max_size=4)
FRAMINGS = ["length", "chunked"]


def _sendable(version: bytes) -> bytes:
    """The version the serializers write for a drawn one: they speak only HTTP/1.0 and 1.1."""
    return version if version in (b"1.0", b"1.1") else b"1.1"


def _without_framing(fields: Fields) -> Fields:
    return [(name, value) for name, value in fields if name.lower() not in FRAMING]


def _framed(choices: st.DataObject, fields: Fields, pieces: list[bytes], framing: str) -> Fields:
    """`fields` with the field that announces `framing` ("length" or "chunked") put anywhere."""
    if framing == "length":
        field = (b"Content-Length", b"%d" % sum(map(len, pieces)))
    else:
        field = (b"Transfer-Encoding", b"chunked")
    at = choices.draw(st.integers(0, len(fields)))
    return [*fields[:at], field, *fields[at:]]


def _write_body(fields: Fields, pieces: list[bytes], trailers: Fields, **kwargs: bool) -> bytes:
    writer = BodyWriter(fields, **kwargs)
    return b"".join(writer.write(piece) for piece in pieces) + writer.end(trailers)


@given(case=hs.requests(), pieces=PIECES, trailers=hs.header_lists(max_size=3), choices=st.data())
def test_request_round_trips(
    case: hs.RequestCase, pieces: list[bytes], trailers: Fields, choices: st.DataObject
) -> None:
    """encode_request_head + BodyWriter, then RequestParser, gives back what was written."""
    head = case.head
    version = _sendable(head.http_version)
    fields = _without_framing(head.headers)
    if head.method == b"CONNECT":
        pieces, trailers = [], []  # CONNECT has no body; its tunnel is not HTTP
    else:
        framing = choices.draw(st.sampled_from(["length"] if version == b"1.0" else FRAMINGS))
        fields = _framed(choices, fields, pieces, framing)
        if framing != "chunked":
            trailers = []
    wire = encode_request_head(head.method, head.target, fields, http_version=version)
    wire += _write_body(fields, pieces, trailers)

    outcome = parse_requests(choices.draw(hs.splits(wire)), eof=False)

    assert not outcome.rejected, outcome.error
    (message,) = outcome.messages
    sent = RequestHead(head.method, head.target, version, fields, head.expect_continue)
    assert message.heads == [sent]
    assert message.body == b"".join(pieces)
    assert message.trailers == trailers


@given(case=hs.requests(), body=st.binary(max_size=40))
def test_whole_request_round_trips(case: hs.RequestCase, body: bytes) -> None:
    """encode_request (which adds Content-Length when needed) then RequestParser gives back the
    method, target, fields and body."""
    head = case.head
    assume(head.method != b"CONNECT")  # CONNECT has no body: its tunnel is not HTTP
    fields = _without_framing(head.headers)
    if not any(name.lower() == b"host" for name, _ in fields):
        fields.append((b"Host", b"example.org"))  # encode_request writes HTTP/1.1
    wire = encode_request(head.method, head.target, fields, body)

    outcome = parse_requests([wire], eof=False)

    assert not outcome.rejected, outcome.error
    (message,) = outcome.messages
    (parsed,) = message.heads
    assert isinstance(parsed, RequestHead)
    assert (parsed.method, parsed.target) == (head.method, head.target)
    sent_length = [v for n, v in parsed.headers if n == b"Content-Length"]
    assert parsed.headers == fields + [(b"Content-Length", v) for v in sent_length]
    assert sent_length in ([], [b"%d" % len(body)])
    assert message.body == body


@given(
    case=hs.responses(),
    pieces=PIECES,
    trailers=hs.header_lists(max_size=3),
    default_reason=st.booleans(),
    choices=st.data(),
)
def test_response_round_trips(
    case: hs.ResponseCase,
    pieces: list[bytes],
    trailers: Fields,
    default_reason: bool,
    choices: st.DataObject,
) -> None:
    """encode_response_head + BodyWriter, then ResponseParser, gives back what was written,
    1xx interim responses included."""
    final = case.head
    version = _sendable(final.http_version)
    fields = _without_framing(final.headers)
    until_close = False
    bodiless = case.switched or case.request_method == b"HEAD" or final.status_code in (204, 304)
    if bodiless:
        pieces, trailers = [], []
    else:
        framing = choices.draw(st.sampled_from([*FRAMINGS, "close"]))
        if framing == "chunked" and version == b"1.0":
            framing = "close"  # RFC 9112 §6.1: no Transfer-Encoding in HTTP/1.0
        if framing == "close":
            until_close = True
        else:
            fields = _framed(choices, fields, pieces, framing)
        if framing != "chunked":
            trailers = []
    reason = None if default_reason else final.reason
    interim = [ResponseHead(h.status_code, h.reason, version, h.headers) for h in case.interim]
    wire = b"".join(
        encode_response_head(h.status_code, h.headers, reason=h.reason, http_version=version)
        for h in interim
    )
    wire += encode_response_head(final.status_code, fields, reason=reason, http_version=version)
    wire += _write_body(fields, pieces, trailers, until_close=until_close)

    outcome = parse_responses(choices.draw(hs.splits(wire)), case.request_method)

    assert not outcome.rejected, outcome.error
    (message,) = outcome.messages
    expected_reason = reason_phrase(final.status_code) if reason is None else reason
    sent = ResponseHead(final.status_code, expected_reason, version, fields)
    assert message.heads == [*interim, sent]
    assert message.body == b"".join(pieces)
    assert message.trailers == trailers
