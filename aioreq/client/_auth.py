"""Authentication: `Auth` flows (Basic, Bearer, Digest), netrc, and the driver the client runs
them with. The WWW-Authenticate challenges the Digest flow answers are read by `_challenges`.

A flow is httpx's design, which users know: a generator that yields the request to send, is sent
the response, and may yield another request (answering a challenge); when it ends, the last
response is the result. `authenticate` drives one, keeping the responses it answered in the
final response's `history`. A flow never mutates the caller's request: it yields a copy with
the field set.

Digest (RFC 7616) is the one with rules to choose between:

- Challenges are parsed by the grammar of RFC 9110 §11 (`_challenges`): a challenge that does
  not parse, or repeats a parameter, is dropped with the rest of its field; nothing a server
  sends makes the parser raise.
- Of several Digest challenges the first one we can answer is taken, as RFC 7616 §3.7 asks:
  the server lists them "in order of preference", and the client "SHOULD use the first
  challenge it supports, unless a local policy dictates otherwise". We have no such policy:
  a server preferring MD5 over SHA-256 gets MD5.
- qop "auth" is used when offered; "auth-int" only when it is the only one offered and the body
  is bytes (a stream cannot be hashed before it is sent). Without qop, the RFC 2069 form
  (no nc, no cnonce). A "-sess" algorithm without qop cannot be answered (its A1 needs a cnonce
  that RFC 2069 does not send), so such a challenge is skipped.
- Strings are hashed as UTF-8, the only charset RFC 7616 §4 defines.
- Once challenged, later requests to the same origin through the same `DigestAuth` send
  credentials at once, with the cached nonce and nc + 1 (RFC 7616 §3.4: nc "is the
  hexadecimal count of the number of requests (including the current request) that the client
  has sent with the nonce value in this request") and a new cnonce each -- except with a
  "-sess" algorithm, where the cnonce of the first request is kept for the life of the nonce.
  RFC 2617 §3.2.2.2 says A1 "is calculated only once - on the first request by the client
  following receipt of a WWW-Authenticate challenge from the server. It uses the server nonce
  from that challenge, and the first client nonce value", while many servers (and clients:
  requests) compute it from the cnonce of each request; a constant cnonce satisfies both.
- A 401 to credentials computed from a challenge of this flow ends the flow unless it says
  stale=true, which is answered once (RFC 7616 §3.3: the client "may wish to simply retry the
  request with a new encrypted response"). A 401 to credentials sent ahead from the cache is
  answered once whatever it says: the cached nonce may simply have expired on a server that
  does not send stale. So a request is sent three times at most.
"""

from __future__ import annotations

import base64
import hashlib
import netrc
import os
import re
import secrets
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from dataclasses import dataclass
from urllib.parse import quote

from ._challenges import Challenge, parse_challenges
from ._models import Request, Response

__all__ = [
    "Auth",
    "AuthLike",
    "BasicAuth",
    "BearerAuth",
    "DigestAuth",
    "authenticate",
    "check_credentials",
    "coerce_auth",
    "has_netrc",
    "netrc_auth",
]

# RFC 7617 §2 and RFC 5234 Appendix B.1: CTL = %x00-1F / %x7F.
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
# RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
_B64TOKEN_RE = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
# What can go in a quoted-string as it is (after escaping '"' and '\').
_QUOTABLE_RE = re.compile(r"[\t\x20-\x7e]*")
# RFC 5987 §3.2.1 attr-char, less what `quote` always keeps (letters, digits, "_.-~").
_ATTR_CHAR_SAFE = "!#$&+^`|"

# RFC 7616 §3.3 algorithm names (the "-sess" variants are these plus the suffix) → hashlib.
_HASHES = {"MD5": "md5", "SHA-256": "sha256"}
if "sha512_256" in hashlib.algorithms_available:
    _HASHES["SHA-512-256"] = "sha512_256"


def _copy_with(request: Request, name: str, value: str) -> Request:
    """A copy of `request` with the field `name` set to `value` (the request is not changed)."""
    headers = request.headers.copy()
    headers[name] = value
    return request.with_headers(headers)


class Auth:
    """Base of auth flows (httpx's design, which users know).

    A subclass writes `auth_flow` (or `async_auth_flow` when it must await something): it
    yields the request to send and is sent the response with `gen.send(response)`; yielding
    another request sends that one too; when it ends, the last response is the result.

    Attributes:
        requires_response_body: whether the driver reads the body of each response before
            handing it to the flow (a flow that looks at a body sets it).
    """

    __slots__ = ()

    requires_response_body: bool = False

    def auth_flow(self, request: Request) -> Generator[Request, Response, None]:
        """The flow: send `request` as it is.

        Args:
            request: the request the client is about to send (a flow does not change it: it
                yields a copy).
        """
        yield request

    async def async_auth_flow(self, request: Request) -> AsyncGenerator[Request, Response]:
        """The flow the driver runs: `auth_flow`, unless a subclass overrides this one.

        Args:
            request: the request the client is about to send.
        """
        flow = self.auth_flow(request)
        try:
            try:
                outgoing = next(flow)
            except StopIteration:
                return
            while True:
                response = yield outgoing
                try:
                    outgoing = flow.send(response)
                except StopIteration:
                    return
        finally:
            flow.close()


class BasicAuth(Auth):
    """`Authorization: Basic base64(username:password)` (RFC 7617), the text as UTF-8.

    Args:
        username: the user-id; it cannot contain ":".
        password: the password.

    Raises:
        TypeError: a username or password that is not a str.
        ValueError: a username with ":", or a control character in either.
    """

    __slots__ = ("_value",)

    def __init__(self, username: str, password: str) -> None:
        check_credentials(username, password)
        # RFC 7617 §2: "Furthermore, a user-id containing a colon character is invalid." The
        # server splits at the first colon, so it would read another user.
        if ":" in username:
            raise ValueError(
                f"the username {username!r} contains ':', which Basic authentication cannot "
                "carry (RFC 7617 §2: a user-id containing a colon character is invalid)"
            )
        # RFC 7617 §2.1: with charset="UTF-8" the user-id and password are encoded as UTF-8;
        # servers that announce nothing take UTF-8 too nowadays (what browsers send).
        token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
        self._value = "Basic " + token

    def auth_flow(self, request: Request) -> Generator[Request, Response, None]:
        """Send the request once, with the Authorization field."""
        yield _copy_with(request, "Authorization", self._value)


class BearerAuth(Auth):
    """`Authorization: Bearer <token>` (RFC 6750 §2.1).

    Args:
        token: the token: letters, digits and "-._~+/", then "=" padding (b64token).

    Raises:
        TypeError: a token that is not a str.
        ValueError: a token that is not a b64token.
    """

    __slots__ = ("_value",)

    def __init__(self, token: str) -> None:
        if not isinstance(token, str):
            raise TypeError(f"a bearer token is a str, not {type(token).__name__}")
        # RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token
        if _B64TOKEN_RE.fullmatch(token) is None:
            raise ValueError(
                f"the bearer token {token!r} is not a b64token (RFC 6750 §2.1: letters, "
                "digits and -._~+/ followed by optional '=' padding)"
            )
        self._value = "Bearer " + token

    def auth_flow(self, request: Request) -> Generator[Request, Response, None]:
        """Send the request once, with the Authorization field."""
        yield _copy_with(request, "Authorization", self._value)


class _FunctionAuth(Auth):
    """A plain callable as auth: `func(request) -> Request`, given a copy of the request."""

    __slots__ = ("_func",)

    def __init__(self, func: Callable[[Request], Request]) -> None:
        self._func = func

    def auth_flow(self, request: Request) -> Generator[Request, Response, None]:
        """Send what the function makes of (a copy of) the request."""
        copy = request.with_headers(request.headers.copy())
        result = self._func(copy)
        if not isinstance(result, Request):
            raise TypeError(
                f"the auth function {self._func!r} returned {type(result).__name__}, not a Request"
            )
        yield result


def check_credentials(username: object, password: object) -> None:
    """TypeError unless both are str; ValueError when either holds a control character."""
    for what, value in (("username", username), ("password", password)):
        if not isinstance(value, str):
            raise TypeError(f"the {what} is a str, not {type(value).__name__}")
        # RFC 7617 §2: "The user-id and password MUST NOT contain any control characters".
        # A CR or LF would also end the header field the credentials travel in.
        match = _CONTROL_RE.search(value)
        if match is not None:
            raise ValueError(
                f"the {what} contains the control character {match.group()!r}, which "
                "credentials cannot hold"
            )


# -- digest -----------------------------------------------------------------------------------


def _new_cnonce() -> str:
    """A fresh client nonce: 128 random bits as hex (ASCII, as RFC 7616 §3.4 requires)."""
    return secrets.token_hex(16)


def _hash(algorithm: str, *parts: str | bytes) -> str:
    """The lowercase hex digest of the parts joined with ":" (str parts as UTF-8)."""
    data = b":".join(part if isinstance(part, bytes) else part.encode() for part in parts)
    return hashlib.new(algorithm, data).hexdigest()


def _quoted(value: str) -> str:
    """`value` as a quoted-string (RFC 9110 §5.6.4)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _is_true(value: str | None) -> bool:
    return value is not None and value.lower() == "true"


@dataclass
class _Digest:
    """A Digest challenge we can answer, and what answering it needs to remember."""

    realm: str
    nonce: str
    opaque: str | None
    algorithm: str | None  # as the challenge spelled it; None when it named none (MD5)
    hash_name: str
    session: bool
    qops: frozenset[str] | None  # None: no qop, the RFC 2069 form
    userhash: bool
    stale: bool
    nonce_count: int = 0
    session_cnonce: str | None = None

    @classmethod
    def parse(cls, challenge: Challenge) -> _Digest | None:
        """The challenge, when it is a Digest challenge we support; else None."""
        params = challenge.params
        realm, nonce = params.get("realm"), params.get("nonce")
        if challenge.scheme != "digest" or realm is None or not nonce:
            return None
        # RFC 7616 §3.3, algorithm: "If this is not present, it is assumed to be "MD5". If
        # the algorithm is not understood, the challenge SHOULD be ignored (and a different
        # one used, if there is more than one)."
        algorithm = params.get("algorithm")
        name = (algorithm or "MD5").upper()
        session = name.endswith("-SESS")
        hash_name = _HASHES.get(name[: -len("-SESS")] if session else name)
        if hash_name is None:
            return None
        qops: frozenset[str] | None = None
        if "qop" in params:
            qops = frozenset(
                item.strip().lower() for item in params["qop"].split(",") if item.strip()
            )
            if not qops & {"auth", "auth-int"}:
                return None
        elif session:
            return None
        return cls(
            realm=realm,
            nonce=nonce,
            opaque=params.get("opaque"),
            algorithm=algorithm,
            hash_name=hash_name,
            session=session,
            qops=qops,
            userhash=_is_true(params.get("userhash")),
            stale=_is_true(params.get("stale")),
        )

    def qop_for(self, request: Request) -> str | None:
        """The qop to answer `request` with ("" for none); None when it cannot be answered."""
        if self.qops is None:
            return ""
        if "auth" in self.qops:
            return "auth"
        if isinstance(request.content, bytes):
            return "auth-int"
        return None


class DigestAuth(Auth):
    """HTTP Digest authentication (RFC 7616; RFC 2617 and RFC 2069 servers too).

    Algorithms MD5, SHA-256 and (where hashlib has it) SHA-512-256, each with its "-sess"
    variant; qop "auth" and "auth-int". After the first challenge from an origin, later
    requests to it send credentials at once (nc counting up). The state is shared by the
    requests that run concurrently through this object on one event loop.

    Args:
        username: the user's name (sent hashed with userhash=true when the server asks, and as
            username* when it is not ASCII).
        password: the password (never sent).

    Raises:
        TypeError: a username or password that is not a str.
        ValueError: a control character in either.
    """

    __slots__ = ("_password", "_states", "_username")

    def __init__(self, username: str, password: str) -> None:
        check_credentials(username, password)
        self._username = username
        self._password = password
        # The challenge answered last, per origin: credentials for one host never go to another.
        self._states: dict[tuple[str, str, int], _Digest] = {}

    def auth_flow(self, request: Request) -> Generator[Request, Response, None]:
        """Send the request; answer a Digest challenge; answer a stale one once more."""
        origin = request.url.origin
        state = self._states.get(origin)
        authorization = self._authorization(state, request) if state is not None else None
        if authorization is not None:
            response = yield _copy_with(request, "Authorization", authorization)
        else:
            response = yield request
        answered = False  # credentials from a challenge of this flow were sent
        stale_retried = False
        while response.status == 401:
            state = self._choose(response, request)
            if state is None:
                return
            if answered:
                # RFC 7616 §3.3, stale: "If stale is false, or anything other than true, or
                # the stale parameter is not present, the username and/or password are
                # invalid" -- and we have no others. A stale one is answered once, so a server
                # saying stale for ever cannot make us loop.
                if not state.stale or stale_retried:
                    return
                stale_retried = True
            if not request.replayable:
                return  # its body went with the first request
            previous = self._states.get(origin)
            if previous is not None and (previous.nonce, previous.hash_name) == (
                state.nonce,
                state.hash_name,
            ):
                # The same nonce again: keep counting, as the server does (RFC 7616 §3.4).
                state.nonce_count = previous.nonce_count
                state.session_cnonce = previous.session_cnonce
            self._states[origin] = state
            authorization = self._authorization(state, request)
            if authorization is None:
                return
            answered = True
            response = yield _copy_with(request, "Authorization", authorization)

    def _choose(self, response: Response, request: Request) -> _Digest | None:
        """The first Digest challenge of `response` that can answer `request` (RFC 7616 §3.7:
        the client "SHOULD use the first challenge it supports")."""
        for challenge in parse_challenges(response.headers.get_all("www-authenticate")):
            state = _Digest.parse(challenge)
            if state is not None and state.qop_for(request) is not None:
                return state
        return None

    def _authorization(self, state: _Digest, request: Request) -> str | None:
        """The Authorization value for `request` under `state` (counting one more use of its
        nonce); None when `request` cannot be answered (auth-int only, and a stream body)."""
        qop = state.qop_for(request)
        if qop is None:
            return None
        algorithm, realm, nonce = state.hash_name, state.realm, state.nonce
        # RFC 7616 §3.4.2: A1 = unq(username) ":" unq(realm) ":" passwd, and for a "-sess"
        # algorithm H(that) ":" unq(nonce-prime) ":" unq(cnonce-prime).
        ha1 = _hash(algorithm, self._username, realm, self._password)
        cnonce = ""
        if qop:
            state.nonce_count += 1
            if state.session:
                if state.session_cnonce is None:
                    state.session_cnonce = _new_cnonce()
                cnonce = state.session_cnonce
                ha1 = _hash(algorithm, ha1, nonce, cnonce)
            else:
                cnonce = _new_cnonce()
        # RFC 7616 §3.4.3: A2 = Method ":" request-uri, and with auth-int
        # Method ":" request-uri ":" H(entity-body). The uri is the request-target as sent.
        target = request.url.target
        if qop == "auth-int":
            assert isinstance(request.content, bytes)  # qop_for chose auth-int for bytes only
            ha2 = _hash(algorithm, request.method, target, _hash(algorithm, request.content))
        else:
            ha2 = _hash(algorithm, request.method, target)
        nc = f"{state.nonce_count:08x}"
        if qop:
            # RFC 7616 §3.4.1: response = KD(H(A1), unq(nonce) ":" nc ":" unq(cnonce) ":"
            # unq(qop) ":" H(A2)), KD(secret, data) = H(concat(secret, ":", data)).
            response = _hash(algorithm, ha1, nonce, nc, cnonce, qop, ha2)
        else:
            response = _hash(algorithm, ha1, nonce, ha2)  # RFC 2069 §2.1.2
        # RFC 7616 §3.4: "a sender MUST only generate the quoted string syntax values for the
        # following parameters: username, realm, nonce, uri, response, cnonce, and opaque"
        # and "MUST NOT generate the quoted string syntax values for the following
        # parameters: algorithm, qop, and nc".
        parts = [self._username_param(state), "realm=" + _quoted(realm)]
        parts.append("uri=" + _quoted(target.decode("latin-1")))
        if state.algorithm is not None:
            parts.append("algorithm=" + state.algorithm)
        parts.append("nonce=" + _quoted(nonce))
        if qop:
            parts += [f"nc={nc}", "cnonce=" + _quoted(cnonce), "qop=" + qop]
        parts.append("response=" + _quoted(response))
        if state.opaque is not None:
            parts.append("opaque=" + _quoted(state.opaque))
        if state.userhash:
            parts.append("userhash=true")
        return "Digest " + ", ".join(parts)

    def _username_param(self, state: _Digest) -> str:
        username = self._username
        if state.userhash:
            # RFC 7616 §3.4.4: "username = H( unq(username) ":" unq(realm) )".
            return "username=" + _quoted(_hash(state.hash_name, username, state.realm))
        if _QUOTABLE_RE.fullmatch(username) is not None:
            return "username=" + _quoted(username)
        # RFC 7616 §3.4: "If the userhash parameter value is set "false" and the username
        # contains characters not allowed inside the ABNF quoted-string production, the
        # user's name can be sent with this parameter, using the extended notation defined in
        # [RFC5987]." (§4 lists non-ASCII names among those.)
        return "username*=UTF-8''" + quote(username, safe=_ATTR_CHAR_SAFE)

    def __repr__(self) -> str:
        return f"DigestAuth({self._username!r}, '***')"


# -- driving a flow ---------------------------------------------------------------------------


async def authenticate(
    auth: Auth, request: Request, send: Callable[[Request], Awaitable[Response]]
) -> Response:
    """Run the flow of `auth` for `request`, sending what it yields with `send`.

    Each response the flow answers with another request is closed and goes into the final
    response's `history` (after the responses of its own history, in the order they came).

    Args:
        auth: the auth.
        request: the request as the caller made it (the flow sends copies).
        send: sends one request and returns its response (redirects and all).

    Returns:
        The last response: the one the flow ended on.

    Raises:
        RuntimeError: the flow yielded no request.
        Exception: whatever `send` or the flow raises (the last response is closed first).
    """
    flow = auth.async_auth_flow(request)
    response: Response | None = None
    history: list[Response] = []
    try:
        try:
            outgoing = await flow.__anext__()
        except StopAsyncIteration:
            raise RuntimeError(
                f"the auth flow of {type(auth).__name__} ended without yielding a request"
            ) from None
        while True:
            response = await send(outgoing)
            if auth.requires_response_body:
                await response.aread()
            try:
                outgoing = await flow.asend(response)
            except StopAsyncIteration:
                response.history = history + response.history
                return response
            await response.aclose()
            history.extend(response.history)
            history.append(response)
    except BaseException:
        if response is not None:
            await response.aclose()
        raise
    finally:
        await flow.aclose()


AuthLike = Auth | tuple[str, str] | Callable[[Request], Request] | None
"""What `auth=` takes: an `Auth`, a (username, password) pair for Basic, a function that
returns the request to send, or None."""


def coerce_auth(value: object) -> Auth | None:
    """The `Auth` that `auth=` stands for.

    Args:
        value: None, an `Auth`, a (username, password) tuple (Basic), or a callable taking and
            returning a `Request`.

    Returns:
        The auth, or None for None.

    Raises:
        TypeError: any other value, or a tuple that is not a pair of str.
        ValueError: a pair that Basic authentication refuses (see `BasicAuth`).
    """
    if value is None:
        return None
    if isinstance(value, Auth):
        return value
    if isinstance(value, tuple):
        if len(value) != 2:
            raise TypeError(
                f"auth as a tuple is (username, password), not a tuple of {len(value)} items"
            )
        return BasicAuth(value[0], value[1])
    if callable(value):
        return _FunctionAuth(value)
    raise TypeError(
        "auth must be an aioreq.Auth, a (username, password) tuple or a function taking and "
        f"returning a Request, not {type(value).__name__}"
    )


def netrc_auth(host: str, *, file: str | None = None) -> BasicAuth | None:
    """Basic credentials for `host` from a .netrc file.

    Args:
        host: the host name, as in the URL.
        file: the file; by default the one the NETRC environment variable names, else
            ~/.netrc.

    Returns:
        BasicAuth from the entry's login and password (the "default" entry when `host` has
        none); None when there is no entry with a login, or the file is missing, unreadable or
        does not parse.
    """
    path = file or _netrc_path()
    try:
        entry = netrc.netrc(path).authenticators(host)
    except (OSError, netrc.NetrcParseError, UnicodeError, ValueError):
        return None
    if entry is None:
        return None
    login, _, password = entry
    if not login:
        return None
    try:
        return BasicAuth(login, password or "")
    except (TypeError, ValueError):
        return None


def has_netrc() -> bool:
    """Whether there is a .netrc file to read credentials from (see `netrc_auth`)."""
    return os.path.isfile(_netrc_path())


def _netrc_path() -> str:
    """The .netrc file: the one the NETRC environment variable names, else ~/.netrc."""
    return os.environ.get("NETRC") or os.path.join(os.path.expanduser("~"), ".netrc")
