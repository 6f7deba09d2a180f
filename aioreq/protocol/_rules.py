"""The HTTP/1.1 grammar of RFC 9110 and RFC 9112, compiled once.

Each pattern is written from the ABNF it names. They are applied to whole buffers (a whole header
section, a whole start line) so that the per-byte work happens inside the regex engine, not in a
Python loop: that is where the parser's speed comes from.
"""

from __future__ import annotations

import re

# RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_"
#                          / "`" / "|" / "~" / DIGIT / ALPHA
TCHAR = rb"[-!#$%&'*+.^_`|~0-9A-Za-z]"
TOKEN = TCHAR + rb"+"
# RFC 9110 §5.5: field-vchar = VCHAR / obs-text
FIELD_VCHAR = rb"[\x21-\x7e\x80-\xff]"
# RFC 9110 §5.6.4: quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE
QUOTED_STRING = rb'"(?:[\t !\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t\x20-\x7e\x80-\xff])*"'

token_re = re.compile(TOKEN)

# One field line, matched alone with fullmatch() (RFC 9112 §5):
#   field-line = field-name ":" OWS field-value OWS
#   field-value = *field-content
#   field-content = field-vchar [ 1*( SP / HTAB / field-vchar ) field-vchar ]
# The value cannot hold CR or LF. A line that does not match (obs-fold, a bare CR or LF, a bad
# name or value) sends its section to the slow path, which names the fault. The leading
# whitespace is taken whole, as an atomic group would take it (a lookahead and its
# back-reference: Python 3.10 has neither atomic groups nor possessive quantifiers), so a line
# of thousands of spaces cannot make the engine try every split of them between it and the
# value. A value that ends in whitespace fails the lookbehind and is stripped on the slow path
# (rare on the wire, and faster than a pattern that excludes trailing whitespace itself).
# Groups: 1 the name, 3 the value. `_fields.split_fields` checks each distinct line with it once.
field_line_re = re.compile(rb"(" + TCHAR + rb"+):(?=([ \t]*))\2([\t\x20-\x7e\x80-\xff]*)(?<![ \t])")
field_value_re = re.compile(rb"(?:" + FIELD_VCHAR + rb"+(?:[ \t]+" + FIELD_VCHAR + rb"+)*)?")

# RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ]
#   reason-phrase = 1*( HTAB / SP / VCHAR / obs-text )
# The SP before an absent reason phrase is often missing in the wild; accepting its absence
# is unambiguous, so we do.
status_line_re = re.compile(rb"HTTP/(1\.[0-9]) ([0-9]{3})(?: ([\t\x20-\x7e\x80-\xff]*))?")

# RFC 9112 §3: request-line = method SP request-target SP HTTP-version
# The request-target is checked against its four forms after this match.
# A well-formed HTTP-version of another major version (RFC 9112 §2.3: "HTTP/" DIGIT "." DIGIT).
other_version_re = re.compile(rb"HTTP/[02-9]\.[0-9]")
version_re = re.compile(rb"HTTP/[0-9]\.[0-9]")

request_line_re = re.compile(rb"(" + TOKEN + rb") ([\x21-\x7e]+) HTTP/(1\.[0-9])")

# RFC 9112 §3.2: origin-form = absolute-path [ "?" query ]; absolute-form = absolute-URI
# (RFC 3986 §4.3: scheme ":" hier-part); authority-form = uri-host ":" port; asterisk-form = "*"
absolute_form_re = re.compile(rb"[A-Za-z][A-Za-z0-9+.-]*:[\x21-\x7e]*")
# RFC 9110 §7.2: Host = uri-host [ ":" port ]; uri-host = IP-literal / IPv4address / reg-name
HOST = rb"(?:\[[0-9A-Fa-f:.]+(?:%25[-._~0-9A-Za-z%]+)?\]|[-._~0-9A-Za-z!$&'()*+,;=%]*)"
host_re = re.compile(HOST + rb"(?::[0-9]*)?")
authority_form_re = re.compile(HOST + rb":[0-9]+")

# RFC 9112 §7.1: chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
#   chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
#   chunk-ext-val = token / quoted-string
# Whitespace after the size with no extension is accepted: it cannot change where the chunk ends.
chunk_line_re = re.compile(
    rb"([0-9A-Fa-f]+)((?:[ \t]*;[ \t]*"
    + TOKEN
    + rb"(?:[ \t]*=[ \t]*(?:"
    + TOKEN
    + rb"|"
    + QUOTED_STRING
    + rb"))?)*)[ \t]*"
)

# What an outgoing message may carry (the serializer refuses anything else).
outgoing_target_re = re.compile(rb"[\x21-\x7e\x80-\xff]+")
outgoing_reason_re = re.compile(rb"[\t\x20-\x7e\x80-\xff]*")

# RFC 9110 §15: the standard reason phrases.
REASONS = {
    100: b"Continue", 101: b"Switching Protocols", 103: b"Early Hints",
    200: b"OK", 201: b"Created", 202: b"Accepted", 203: b"Non-Authoritative Information",
    204: b"No Content", 205: b"Reset Content", 206: b"Partial Content",
    300: b"Multiple Choices", 301: b"Moved Permanently", 302: b"Found", 303: b"See Other",
    304: b"Not Modified", 307: b"Temporary Redirect", 308: b"Permanent Redirect",
    400: b"Bad Request", 401: b"Unauthorized", 403: b"Forbidden", 404: b"Not Found",
    405: b"Method Not Allowed", 406: b"Not Acceptable", 408: b"Request Timeout",
    409: b"Conflict", 410: b"Gone", 411: b"Length Required", 412: b"Precondition Failed",
    413: b"Content Too Large", 414: b"URI Too Long", 415: b"Unsupported Media Type",
    416: b"Range Not Satisfiable", 417: b"Expectation Failed", 421: b"Misdirected Request",
    422: b"Unprocessable Content", 425: b"Too Early", 426: b"Upgrade Required",
    428: b"Precondition Required", 429: b"Too Many Requests",
    431: b"Request Header Fields Too Large", 451: b"Unavailable For Legal Reasons",
    500: b"Internal Server Error", 501: b"Not Implemented", 502: b"Bad Gateway",
    503: b"Service Unavailable", 504: b"Gateway Timeout", 505: b"HTTP Version Not Supported",
}  # fmt: skip

# The status lines nearly every server sends, mapped to what the grammar would make of them:
# a dict lookup instead of a match, groups() and int() on the client's hottest path.
common_status_lines = {
    b"HTTP/%b %d %b" % (version, code, reason): (version, code, reason)
    for version in (b"1.1", b"1.0")
    for code, reason in REASONS.items()
}
