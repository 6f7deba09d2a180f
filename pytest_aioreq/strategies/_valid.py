"""Valid messages, each with what a correct parser must make of it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hypothesis import strategies as st
from hypothesis.strategies import DrawFn, SearchStrategy

from aioreq.protocol import EndOfMessage, Event, Fields, RequestHead, ResponseHead

from ._blocks import (
    _ANY_METHOD,
    _HEADERS,
    _NO_BODY,
    _PCHAR,
    _SMALL,
    _SUB_DELIMS,
    _TOKENS,
    _TRAILERS,
    _TUNNEL_DATA,
    _UNRESERVED,
    _VERSIONS,
    _announced_only,
    _cased,
    _chunked_framed,
    _close_framed,
    _connection,
    _head,
    _length_framed,
    _over,
    _persistent,
    _place,
    _reason,
    _render,
)

# -- valid responses ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResponseCase:
    """A valid response on the wire and what a client-side parser must make of it.

    Attributes:
        data: every byte the server sends: interim 1xx responses, the final response, and for a
            switched connection the first bytes of the other protocol.
        request_method: the method of the request this answers (it decides whether a body may
            follow: none for HEAD, a tunnel for a 2xx to CONNECT).
        interim: the 1xx responses before the final one, as parsed.
        head: the final response head, as parsed (field values without surrounding whitespace).
        body: the body, with the transfer coding removed.
        trailers: the trailer fields of a chunked body.
        needs_eof: the body is delimited by the close of the connection, so the parser needs to
            be told of it (`feed_eof`) to finish the message.
        keep_alive: whether the connection may carry another request afterwards.
        switched: the response switched protocols (101, or any 2xx to CONNECT).
        tunnel_data: after a switch, the bytes of the other protocol that followed the head.
    """

    data: bytes
    request_method: bytes
    interim: list[ResponseHead]
    head: ResponseHead
    body: bytes
    trailers: Fields
    needs_eof: bool
    keep_alive: bool
    switched: bool
    tunnel_data: bytes

    @property
    def events(self) -> list[Event]:
        """The events of the whole exchange, with the body as one `bytes` event (if any)."""
        events: list[Event] = [*self.interim, self.head]
        if self.body:
            events.append(self.body)
        events.append(EndOfMessage(self.trailers))
        return events


_COMMON_STATUS = st.sampled_from([200, 201, 204, 206, 301, 302, 304, 400, 404, 500, 503])
_SUCCESS_STATUS = st.one_of(st.sampled_from([200, 204, 206]), st.integers(200, 299))
# 1xx but 101, which is final: it switches protocols.
_INTERIM_STATUS = st.one_of(st.sampled_from([100, 103]), st.integers(102, 199))


def _final_status(draw: DrawFn) -> int:
    kind = draw(st.integers(0, 11))
    if kind == 0:
        return 101
    if kind == 1:
        # RFC 9110 §15: codes are three digits; 600-999 belong to no class but are kept.
        return draw(st.integers(600, 999))
    if kind < 7:
        return draw(_COMMON_STATUS)
    return draw(st.integers(200, 599))


def _interim(draw: DrawFn, version: bytes) -> tuple[bytes, ResponseHead]:
    status = draw(_INTERIM_STATUS)
    reason = _reason(draw, status)
    fields = draw(_TRAILERS)
    wire = _head(b"HTTP/%b %d %b" % (version, status, reason), _render(draw, fields))
    return wire, ResponseHead(status, reason, version, fields)


@st.composite
def _response(
    draw: DrawFn,
    ext_whitespace: bool,
    methods: tuple[bytes, ...] | None,
    with_interim: bool,
    switches: bool,
) -> ResponseCase:
    status = _final_status(draw)
    if status == 101 and not switches:
        status = 200
    if status == 101 and (methods is None or b"GET" in methods):
        # RFC 9110 §7.8: an upgrade answers a request that asked for it, in HTTP/1.1 or later.
        method, version = b"GET", draw(st.sampled_from([b"1.1", b"1.2"]))
    else:
        if status == 101:
            status = 200
        method = draw(_ANY_METHOD if methods is None else st.sampled_from(methods))
        version = draw(_VERSIONS)
        if method == b"CONNECT" and switches and draw(st.booleans()):
            status = draw(_SUCCESS_STATUS)
        elif method == b"CONNECT" and not switches and 200 <= status < 300:
            # Any 2xx to CONNECT opens a tunnel: a refusal instead.
            status = draw(st.sampled_from([403, 407, 502]))
    # RFC 9110 §9.3.6: "Any 2xx (Successful) response indicates that the sender (and all
    # inbound proxies) will switch to tunnel mode immediately after the response header section".
    switched = status == 101 or (method == b"CONNECT" and 200 <= status < 300)
    fields = list(draw(_HEADERS))
    tunnel_data = b""
    if status == 101:
        fields.append((_cased(draw, b"Upgrade"), draw(_TOKENS)))
        connection, options = _connection(draw, [_cased(draw, b"upgrade")])
    else:
        connection, options = _connection(draw)
    if switched:
        # RFC 9110 §9.3.6: no Content-Length or Transfer-Encoding in a 2xx to CONNECT.
        framed = _NO_BODY
        tunnel_data = draw(_TUNNEL_DATA)
    elif method == b"HEAD" or status in (204, 304):
        # RFC 9112 §6.3 ¶1: these end with their head, whatever framing fields they carry.
        framed = _announced_only(draw, version, status)
    else:
        # RFC 9112 §6.1: no Transfer-Encoding in HTTP/1.0 (it would be a framing fault).
        kind = draw(st.integers(0, 1 if version == b"1.0" else 2))
        if kind == 2:
            framed = _chunked_framed(draw, ext_whitespace)
        else:
            framed = _length_framed(draw) if kind == 0 else _close_framed(draw)
    fields = _place(draw, fields, connection + framed.fields)
    reason = _reason(draw, status)
    wire = [_head(b"HTTP/%b %d %b" % (version, status, reason), _render(draw, fields))]
    interim: list[ResponseHead] = []
    # RFC 9110 §15.2: no 1xx to an HTTP/1.0 client.
    for _ in range(0 if version == b"1.0" or not with_interim else draw(st.integers(0, 2))):
        interim_wire, interim_head = _interim(draw, version)
        wire.insert(len(interim), interim_wire)
        interim.append(interim_head)
    return ResponseCase(
        data=b"".join([*wire, framed.wire, tunnel_data]),
        request_method=method,
        interim=interim,
        head=ResponseHead(status, reason, version, fields),
        body=framed.body,
        trailers=framed.trailers,
        needs_eof=framed.needs_eof,
        keep_alive=not switched and not framed.needs_eof and _persistent(options, version),
        switched=switched,
        tunnel_data=tunnel_data,
    )


def responses(
    *,
    chunk_ext_whitespace: bool = True,
    methods: Sequence[bytes] | None = None,
    interim: bool = True,
    switches: bool = True,
) -> SearchStrategy[ResponseCase]:
    """Draw valid HTTP/1.x responses together with what a parser must make of them.

    Covered: HTTP/1.0, 1.1 and higher 1.x minor versions; status codes 100-999 with empty,
    standard or random reason phrases; 1xx interim responses before the final one; framing by
    Content-Length (also repeated fields and "n, n" lists, leading zeros), chunked (extensions with
    token and quoted-string values, trailers, hex digits in either case), the close of the
    connection, and none (HEAD, 204, 304 ignore their framing fields); 101 and 2xx-to-CONNECT
    switches; Connection options in any case; random field-name case and whitespace around values.

    Args:
        chunk_ext_whitespace: allow BWS around ";" and "=" in chunk extensions. RFC 9112 §7.1.1
            allows it; some parsers (h11 among them) reject whitespace before ";".
        methods: the request methods the responses answer, e.g. `[b"GET"]` to fuzz a client
            that only sends GET; None draws any (HEAD and CONNECT included).
        interim: allow 1xx interim responses before the final one.
        switches: allow 101 Switching Protocols and 2xx answers to CONNECT.

    Returns:
        A strategy of `ResponseCase`.
    """
    return _response(
        chunk_ext_whitespace, None if methods is None else tuple(methods), interim, switches
    )


# -- valid requests -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestCase:
    """A valid request on the wire and what a server-side parser must make of it.

    Attributes:
        data: every byte the client sends: the request and, after CONNECT, the first bytes of the
            tunnel.
        head: the request head, as parsed (field values without surrounding whitespace).
        body: the body, with the transfer coding removed.
        trailers: the trailer fields of a chunked body.
        keep_alive: whether the request lets the connection persist (RFC 9112 §9.3). For CONNECT
            that holds only if the server refuses the tunnel.
        tunnel_data: the bytes after a CONNECT request. They belong to the tunnel if the server
            answers 2xx (RFC 9110 §9.3.6), so a parser must leave them unparsed until the server
            decides (as `trailing_data`, in aioreq).
    """

    data: bytes
    head: RequestHead
    body: bytes
    trailers: Fields
    keep_alive: bool
    tunnel_data: bytes

    @property
    def events(self) -> list[Event]:
        """The events of the request, with the body as one `bytes` event (if any)."""
        events: list[Event] = [self.head]
        if self.body:
            events.append(self.body)
        events.append(EndOfMessage(self.trailers))
        return events


_PCT_ENCODED = st.integers(0, 255).map(lambda octet: b"%%%02X" % octet)
_SEGMENT = st.one_of(_over(_PCHAR, max_size=8), _PCT_ENCODED)
_QUERY = _over(_PCHAR + b"/?", max_size=12)
_PORT = st.integers(0, 65535).map(lambda port: b"%d" % port)
_REG_NAME = st.one_of(
    st.sampled_from([b"example.org", b"localhost", b"xn--bcher-kva.example"]),
    _over(_UNRESERVED + _SUB_DELIMS, min_size=1, max_size=12),
    _over(_UNRESERVED, max_size=6, lead=b"%41"),
)
_IPV4 = st.tuples(*[st.integers(0, 255)] * 4).map(lambda octets: b"%d.%d.%d.%d" % octets)
_IP_LITERAL = st.sampled_from([b"[::1]", b"[2001:db8::7]", b"[fe80::1:2]", b"[::ffff:10.0.0.1]"])
_URI_HOST = st.one_of(_REG_NAME, _IPV4, _IP_LITERAL)
_SCHEMES = st.sampled_from([b"http", b"https", b"HTTP", b"x-my+s.c"])


def _path(draw: DrawFn) -> bytes:
    path = b"/" + b"/".join(draw(_SEGMENT) for _ in range(draw(_SMALL)))
    if draw(st.booleans()):
        path += b"?" + draw(_QUERY)
    return path


def _host_value(draw: DrawFn) -> bytes:
    # RFC 9110 §7.2: Host = uri-host [ ":" port ], port = *DIGIT; RFC 9112 §3.2: empty when the
    # target URI has no authority.
    kind = draw(st.integers(0, 5))
    if kind == 5:
        return b""
    host = draw(_URI_HOST)
    if kind == 3:
        return host + b":" + draw(_PORT)
    if kind == 4:
        return host + b":"
    return host


def _target(draw: DrawFn, method: bytes) -> bytes:
    # RFC 9112 §3.2: origin-form, absolute-form, authority-form (CONNECT), asterisk-form (OPTIONS).
    if method == b"CONNECT":
        return draw(_URI_HOST) + b":" + draw(_PORT)
    kind = draw(_SMALL)
    if kind == 3 and method == b"OPTIONS":
        return b"*"
    if kind == 2:
        authority = draw(_URI_HOST)
        if draw(st.booleans()):
            authority += b":" + draw(_PORT)
        return draw(_SCHEMES) + b"://" + authority + _path(draw)
    return _path(draw)


@st.composite
def _request(draw: DrawFn, ext_whitespace: bool) -> RequestCase:
    version = draw(_VERSIONS)
    method = draw(_ANY_METHOD)
    target = _target(draw, method)
    controls = []
    if version != b"1.0" or draw(st.booleans()):
        # RFC 9112 §3.2: "A client MUST send a Host header field in all HTTP/1.1 request
        # messages", and exactly one.
        controls.append((_cased(draw, b"Host"), _host_value(draw)))
    expect_continue = False
    if draw(_SMALL) == 0:
        controls.append((_cased(draw, b"Expect"), _cased(draw, b"100-continue")))
        # RFC 9110 §10.1.1: a server MUST ignore a 100-continue expectation from HTTP/1.0.
        expect_continue = version != b"1.0"
    connection, options = _connection(draw)
    tunnel_data = b""
    if method == b"CONNECT":
        framed = _NO_BODY
        tunnel_data = draw(_TUNNEL_DATA)
    else:
        kind = draw(st.integers(0, 1 if version == b"1.0" else 2))
        if kind == 2:
            framed = _chunked_framed(draw, ext_whitespace)
        else:
            framed = _length_framed(draw) if kind == 1 else _NO_BODY
    fields = _place(draw, draw(_HEADERS), controls + connection + framed.fields)
    start = b"%b %b HTTP/%b" % (method, target, version)
    return RequestCase(
        data=_head(start, _render(draw, fields)) + framed.wire + tunnel_data,
        head=RequestHead(method, target, version, fields, expect_continue),
        body=framed.body,
        trailers=framed.trailers,
        keep_alive=_persistent(options, version),
        tunnel_data=tunnel_data,
    )


def requests(*, chunk_ext_whitespace: bool = True) -> SearchStrategy[RequestCase]:
    """Draw valid HTTP/1.x requests together with what a parser must make of them.

    Covered: HTTP/1.0, 1.1 and higher 1.x minor versions; common and random method tokens;
    origin-form, absolute-form, asterisk-form (OPTIONS) and authority-form (CONNECT) targets; one
    Host field for HTTP/1.1 (reg-name, IPv4, IP-literal, with or without port, or empty); no body,
    Content-Length (also repeated and listed) or chunked bodies with extensions and trailers;
    `Expect: 100-continue`; Connection options; CONNECT, sometimes with tunnel bytes after it.

    Args:
        chunk_ext_whitespace: allow BWS around ";" and "=" in chunk extensions (see `responses`).

    Returns:
        A strategy of `RequestCase`.
    """
    return _request(chunk_ext_whitespace)
