"""Hypothesis strategies that draw HTTP/1.1 messages, valid and broken, to fuzz parsers and clients.

Each valid message comes with what a correct parser must make of it, stated with the event types of
`aioreq.protocol`; each broken one comes with the reason a strict parser must reject it.

* Building blocks: `tokens`, `field_names`, `field_values`, `header_lists`.
* Valid messages: `responses` draws a `ResponseCase` (client role: the wire bytes, possibly with
  1xx interim responses first, the method of the request they answer, and the expected heads,
  body, trailers and persistence); `requests` draws a `RequestCase` (server role). Together they
  cover every framing of RFC 9112 §6: Content-Length (also repeated and listed), chunked with
  extensions and trailers, close-delimited, no body (HEAD, 204, 304), and switching protocols.
* Reads: `splits` cuts a byte string into the reads a socket might deliver (empty reads and
  one-byte reads included); `mutations` corrupts a byte string a little.
* Broken messages: `malformed_responses` and `malformed_requests` draw `Malformed` pairs of bytes
  and a reason. Feeding the bytes and then the end of the stream must fail. Where RFC 9110/9112
  let a recipient repair the fault instead of rejecting it (bare LF as a line end, obs-fold in a
  request, whitespace before the colon in a response, Transfer-Encoding with Content-Length), the
  reason says so: a strict parser rejects those too.

Sizes are small by default so that a thousand examples run in about a second.

Example::

    from hypothesis import given, strategies as st
    from pytest_aioreq import strategies as hs

    @given(case=hs.responses(), data=st.data())
    def test_my_parser_reads_every_valid_response(case, data):
        reads = data.draw(hs.splits(case.data))
        response = my_parse_response(reads, method=case.request_method)
        assert response.status == case.head.status_code
        assert response.body == case.body

    @given(bad=hs.malformed_requests(), data=st.data())
    def test_my_server_rejects_broken_requests(bad, data):
        with pytest.raises(MyProtocolError):
            my_parse_request(data.draw(hs.splits(bad.data)))
"""


# How this module draws quickly: strategies are built once, at import, and the helpers that
# assemble a message are plain functions that take `draw`. Building a strategy inside a draw
# makes hypothesis validate it again each time, which costs more than the drawing. Text over a
# restricted alphabet is one `binary` draw mapped through a translation table, not one draw per
# character.

from ._blocks import CONTROL_FIELDS, field_names, field_values, header_lists, tokens
from ._malformed import Malformed, malformed_requests, malformed_responses
from ._reads import mutations, splits
from ._valid import RequestCase, ResponseCase, requests, responses

__all__ = [
    "CONTROL_FIELDS",
    "Malformed",
    "RequestCase",
    "ResponseCase",
    "field_names",
    "field_values",
    "header_lists",
    "malformed_requests",
    "malformed_responses",
    "mutations",
    "requests",
    "responses",
    "splits",
    "tokens",
]
