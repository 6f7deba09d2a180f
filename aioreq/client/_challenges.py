"""The WWW-Authenticate challenge parser: the field values a 401 carries, as `Challenge`s.

A client answering a challenge (Digest, say) needs its scheme and parameters; this module reads
them from the field values, by the grammar of RFC 9110 §11:

    WWW-Authenticate = #challenge                                      (§11.6.1)
    challenge        = auth-scheme [ 1*SP ( token68 / #auth-param ) ]  (§11.3)
    auth-param       = token BWS "=" BWS ( token / quoted-string )      (§11.2)
    token68          = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="

So one field may hold several challenges, and several fields may each hold some; their order is
kept. Values are tokens or quoted-strings with backslash escapes (unquoted and unescaped here);
scheme and parameter names are case-insensitive (lowercased here). Empty list elements are
skipped ("a recipient MUST accept empty list elements", §5.6.1), and a tab where 1*SP is asked
for is taken too.

Malformed input never raises: what a server sends is not the caller's bug. A challenge that
does not parse, or repeats a parameter ("Each parameter name MUST only occur once per
challenge", §11.2), is dropped with the rest of its field; the challenges before it in that
field, and those of the other fields, are kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = ["Challenge", "parse_challenges"]

# RFC 9110 §5.6.2 token, §11.2 token68, §5.6.4 quoted-string (qdtext / quoted-pair: any
# character but the controls other than HTAB; obs-text is what decoding made of bytes >= 0x80).
_TOKEN_RE = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_TOKEN68_RE = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
_QUOTED_RE = re.compile(r'"((?:[^"\\\x00-\x08\x0a-\x1f\x7f]|\\[^\x00-\x08\x0a-\x1f\x7f])*)"')
_QUOTED_PAIR_RE = re.compile(r"\\(.)")
_OWS_RE = re.compile(r"[ \t]*")
_SEPARATORS_RE = re.compile(r"[ \t,]*")


@dataclass
class Challenge:
    """One challenge of a WWW-Authenticate field (RFC 9110 §11.3).

    Attributes:
        scheme: the auth-scheme, lowercased ("digest").
        params: the auth-params, names lowercased, quoted-strings unquoted and unescaped.
        token68: the token68 form of the credentials' data, when the challenge has that form.
    """

    scheme: str
    params: dict[str, str] = field(default_factory=dict)
    token68: str | None = None


def parse_challenges(fields: Iterable[str]) -> list[Challenge]:
    """Every challenge of the given WWW-Authenticate field values, in order.

    RFC 9110 §11.6.1: WWW-Authenticate = #challenge, and §11.3:
    challenge = auth-scheme [ 1*SP ( token68 / #auth-param ) ]. A field that stops following
    the grammar loses the challenge being read and the rest of it; what came before is kept.

    Args:
        fields: the values of the fields, one per field line.

    Returns:
        The challenges that parsed (never raises on what a server sent).
    """
    challenges: list[Challenge] = []
    for value in fields:
        challenges.extend(_parse_field(value))
    return challenges


def _parse_field(text: str) -> list[Challenge]:
    found: list[Challenge] = []
    current: Challenge | None = None
    end = len(text)
    pos = 0
    while True:
        # RFC 9110 §5.6.1: "a recipient MUST accept empty list elements".
        pos = _skip(_SEPARATORS_RE, text, pos)
        if pos == end:
            break
        param = _read_param(text, pos)
        if param is not None:
            if current is None or current.token68 is not None or param[0] in current.params:
                return found
            current.params[param[0]] = param[1]
            pos = param[2]
        else:
            scheme = _TOKEN_RE.match(text, pos)
            if scheme is None:
                return found
            if current is not None:
                found.append(current)
            current = Challenge(scheme.group().lower())
            pos = scheme.end()
            after = _skip(_OWS_RE, text, pos)
            if after > pos and after < end and text[after] != ",":
                token68 = _TOKEN68_RE.match(text, after)
                if token68 is not None and _at_element_end(text, token68.end()):
                    current.token68 = token68.group()
                    pos = token68.end()
                else:
                    param = _read_param(text, after)
                    if param is None:
                        return found
                    current.params[param[0]] = param[1]
                    pos = param[2]
        if not _at_element_end(text, pos):
            return found
    if current is not None:
        found.append(current)
    return found


def _skip(pattern: re.Pattern[str], text: str, pos: int) -> int:
    match = pattern.match(text, pos)
    return match.end() if match is not None else pos


def _at_element_end(text: str, pos: int) -> bool:
    """Whether only optional whitespace stands between `pos` and a "," or the end."""
    pos = _skip(_OWS_RE, text, pos)
    return pos == len(text) or text[pos] == ","


def _read_param(text: str, pos: int) -> tuple[str, str, int] | None:
    """(name lowercased, value, end) of `token BWS "=" BWS ( token / quoted-string )` at pos."""
    name = _TOKEN_RE.match(text, pos)
    if name is None:
        return None
    equals = _skip(_OWS_RE, text, name.end())
    if equals == len(text) or text[equals] != "=":
        return None
    start = _skip(_OWS_RE, text, equals + 1)
    quoted = _QUOTED_RE.match(text, start)
    if quoted is not None:
        return name.group().lower(), _QUOTED_PAIR_RE.sub(r"\1", quoted.group(1)), quoted.end()
    token = _TOKEN_RE.match(text, start)
    if token is not None:
        return name.group().lower(), token.group(), token.end()
    return None
