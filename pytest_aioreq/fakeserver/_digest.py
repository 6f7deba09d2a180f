"""The `/digest-auth/{qop}/{user}/{password}/{algorithm}/{stale_after}` endpoint: a server
side of HTTP Digest authentication (RFC 7616), in httpbin's shape.

What it answers is in the endpoint table of `_endpoints` (which routes it). It checks the
response hash, the uri, the realm, the algorithm, the qop and that ``nc`` grows; it remembers the
nonces it issued (1024 at most, the oldest forgotten first) in state shared by every fake server,
hence behind a lock, as each server runs on its own thread. A nonce forgotten, or used
``stale_after`` times, gets a new challenge with ``stale=TRUE``.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from urllib.parse import unquote

from aioreq.server import Response

from ._expect import Reply
from ._log import RecordedRequest
from ._params import Invalid, integer, tail

__all__ = ["digest_auth"]

# The algorithms the endpoint offers (upper-cased name → as announced, hashlib name).
_DIGEST_ALGORITHMS = {
    "MD5": ("MD5", "md5"),
    "MD5-SESS": ("MD5-sess", "md5"),
    "SHA-256": ("SHA-256", "sha256"),
    "SHA-256-SESS": ("SHA-256-sess", "sha256"),
}
_DIGEST_REALM = "pytest_aioreq"
_DIGEST_NONCES = 1024
_NC = re.compile(r"[0-9a-fA-F]{8}")
# RFC 9110 §11.2: auth-param = token BWS "=" BWS ( token / quoted-string ), comma-separated.
_AUTH_PARAM = re.compile(
    r'[ \t]*([!#$%&\'*+\-.^_`|~0-9A-Za-z]+)[ \t]*=[ \t]*("(?:[^"\\]|\\.)*"|[^\s,"]*)[ \t]*(,|$)'
)


@dataclass
class _Nonce:
    """What the digest endpoint remembers of a nonce it issued."""

    opaque: str
    last_nc: int = 0
    uses: int = 0


# Shared by every fake server, and each serves on its own thread: hence the lock. Bounded, the
# oldest nonce dropped first (a client using it then is told stale=TRUE).
_nonces: OrderedDict[str, _Nonce] = OrderedDict()
_nonces_lock = threading.Lock()


def digest_auth(request: RecordedRequest) -> Reply:
    parts = tail(request, "/digest-auth/").split("/")
    if not 3 <= len(parts) <= 5:
        raise Invalid(
            "the path must be /digest-auth/{qop}/{user}/{password}, then optionally "
            "/{algorithm} and /{stale_after}"
        )
    qop, user, password = parts[:3]
    if qop not in ("auth", "auth-int"):
        raise Invalid(f"qop must be auth or auth-int, not {qop!r}")
    name = parts[3] if len(parts) > 3 else "MD5"
    if name.upper() not in _DIGEST_ALGORITHMS:
        raise Invalid(f"the algorithm must be MD5, MD5-sess, SHA-256 or SHA-256-sess, not {name!r}")
    algorithm, hash_name = _DIGEST_ALGORITHMS[name.upper()]
    stale_text = parts[4] if len(parts) > 4 else "never"
    stale_after = None if stale_text == "never" else integer(stale_text, "stale_after", 1, 10**9)
    params = _digest_params(request.header("authorization"))
    stale = False
    if params is not None:
        expected = _digest_expected(request, params, user, password, qop, algorithm, hash_name)
        if expected is not None and secrets.compare_digest(
            expected.encode(), params["response"].encode()
        ):
            verdict = _use_nonce(params, stale_after)
            if verdict == "ok":
                return Response(json={"authenticated": True, "user": user})
            stale = verdict == "stale"
    nonce, opaque = secrets.token_hex(16), secrets.token_hex(16)
    with _nonces_lock:
        _nonces[nonce] = _Nonce(opaque)
        if len(_nonces) > _DIGEST_NONCES:
            _nonces.popitem(last=False)
    challenge = (
        f'Digest realm="{_DIGEST_REALM}", qop="{qop}", nonce="{nonce}", opaque="{opaque}", '
        f"algorithm={algorithm}" + (", stale=TRUE" if stale else "")
    )
    return Response(401, headers=[("WWW-Authenticate", challenge)], json={"authenticated": False})


def _digest_params(authorization: str | None) -> dict[str, str] | None:
    """The parameters of a Digest Authorization field (names lowercased, values unquoted),
    or None when it is no Digest field, repeats a parameter or does not parse."""
    if authorization is None:
        return None
    scheme, _, rest = authorization.strip().partition(" ")
    if scheme.lower() != "digest":
        return None
    params: dict[str, str] = {}
    pos = 0
    while pos < len(rest):
        match = _AUTH_PARAM.match(rest, pos)
        if match is None or match.end() == pos:
            return None
        name, value = match.group(1).lower(), match.group(2)
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        if name in params:
            return None
        params[name] = value
        pos = match.end()
    return params


def _digest_hash(hash_name: str, *parts: str | bytes) -> str:
    data = b":".join(part if isinstance(part, bytes) else part.encode() for part in parts)
    return hashlib.new(hash_name, data).hexdigest()


def _digest_expected(
    request: RecordedRequest,
    params: dict[str, str],
    user: str,
    password: str,
    qop: str,
    algorithm: str,
    hash_name: str,
) -> str | None:
    """The response hash credentials `params` must carry, or None when they are not for this
    endpoint (another user, realm, uri, algorithm or qop) or lack a parameter."""
    if "username*" in params:
        charset, _, encoded = params["username*"].partition("'")
        _, _, encoded = encoded.partition("'")
        try:
            given = unquote(encoded, errors="strict") if charset.lower() == "utf-8" else None
        except UnicodeDecodeError:
            given = None
    elif params.get("userhash", "").lower() == "true":
        given = (
            user if params.get("username") == _digest_hash(hash_name, user, _DIGEST_REALM) else None
        )
    else:
        given = params.get("username")
    nonce, cnonce, nc = params.get("nonce"), params.get("cnonce"), params.get("nc", "")
    if (
        given != user
        or params.get("realm") != _DIGEST_REALM
        or params.get("uri") != request.target
        or params.get("algorithm", "MD5").upper() != algorithm.upper()
        or params.get("qop", "").lower() != qop
        or _NC.fullmatch(nc) is None
        or not nonce
        or not cnonce
        or "response" not in params
    ):
        return None
    ha1 = _digest_hash(hash_name, user, _DIGEST_REALM, password)
    if algorithm.endswith("-sess"):
        ha1 = _digest_hash(hash_name, ha1, nonce, cnonce)
    if qop == "auth-int":
        ha2 = _digest_hash(
            hash_name, request.method, request.target, _digest_hash(hash_name, request.body)
        )
    else:
        ha2 = _digest_hash(hash_name, request.method, request.target)
    return _digest_hash(hash_name, ha1, nonce, nc, cnonce, qop, ha2)


def _use_nonce(params: dict[str, str], stale_after: int | None) -> str:
    """Count one use of the nonce of valid credentials: "ok", "stale" (a nonce used
    `stale_after` times, or forgotten), or "refused" (another opaque, an nc not above the
    last one: a replay)."""
    nc = int(params["nc"], 16)
    with _nonces_lock:
        state = _nonces.get(params["nonce"])
        # RFC 2617 §3.2.1: "The server should only set stale to TRUE if it receives a request
        # for which the nonce is invalid but with a valid digest for that nonce".
        if state is None:
            return "stale"
        # RFC 2617 §3.2.2, nc: the server detects "request replays by maintaining its own copy
        # of this count - if the same nc-value is seen twice, then the request is a replay."
        if params.get("opaque") != state.opaque or nc <= state.last_nc:
            return "refused"
        if stale_after is not None and state.uses >= stale_after:
            del _nonces[params["nonce"]]
            return "stale"
        state.last_nc = nc
        state.uses += 1
        return "ok"
