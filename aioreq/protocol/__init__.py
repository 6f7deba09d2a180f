"""Sans-IO HTTP/1.1: bytes in, events out; messages in, bytes out.

Nothing here touches asyncio, sockets or ssl, so the parsers run (and are fuzzed and measured)
without an event loop. The client's connections and the server drive them over real streams.

Client role::

    wire = encode_request_head(b"GET", b"/", [(b"Host", b"example.org")])
    parser = ResponseParser()           # expects the response to a GET
    for event in parser.feed(received):
        ...                             # ResponseHead, then body bytes, then EndOfMessage
    parser.keep_alive                   # may the connection be reused?

Server role::

    parser = RequestParser(max_body_size=10 * 2**20)
    events = parser.feed(received)      # RequestHead, body bytes, EndOfMessage
    ...answer with encode_response_head(...) and BodyWriter...
    events = parser.next_request()      # pipelined requests that already arrived

Malformed input raises `aioreq.RemoteProtocolError` (with `.status_hint` for a server's answer);
what may not be sent raises `aioreq.LocalProtocolError`.
"""

from ._events import EndOfMessage, Event, Fields, RequestHead, ResponseHead
from ._parser import (
    DEFAULT_MAX_CHUNK_LINE_SIZE,
    DEFAULT_MAX_HEADER_COUNT,
    DEFAULT_MAX_HEADER_SIZE,
    DEFAULT_MAX_LINE_SIZE,
)
from ._request import RequestParser
from ._response import ResponseParser
from ._writer import (
    BodyWriter,
    encode_chunk,
    encode_last_chunk,
    encode_request,
    encode_request_head,
    encode_response_head,
    reason_phrase,
)

__all__ = [
    "DEFAULT_MAX_CHUNK_LINE_SIZE",
    "DEFAULT_MAX_HEADER_COUNT",
    "DEFAULT_MAX_HEADER_SIZE",
    "DEFAULT_MAX_LINE_SIZE",
    "BodyWriter",
    "EndOfMessage",
    "Event",
    "Fields",
    "RequestHead",
    "RequestParser",
    "ResponseHead",
    "ResponseParser",
    "encode_chunk",
    "encode_last_chunk",
    "encode_request",
    "encode_request_head",
    "encode_response_head",
    "reason_phrase",
]
