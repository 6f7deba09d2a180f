"""Auth flows without a network: Basic, Bearer and Digest driven with constructed responses,
the challenge parser, `coerce_auth`, `netrc_auth` and the `authenticate` driver."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import sys
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Generator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aioreq import Headers
from aioreq.client import _auth
from aioreq.client._auth import (
    Auth,
    BasicAuth,
    BearerAuth,
    DigestAuth,
    authenticate,
    coerce_auth,
    netrc_auth,
)
from aioreq.client._challenges import Challenge, parse_challenges
from aioreq.client._models import Request, Response
from aioreq.client._urls import parse_url

HAS_SHA512_256 = "sha512_256" in hashlib.algorithms_available


def make_request(
    url: str = "http://www.example.org/dir/index.html",
    *,
    method: str = "GET",
    content: bytes | AsyncIterator[bytes] = b"",
    headers: dict[str, str] | None = None,
) -> Request:
    length = len(content) if isinstance(content, bytes) else None
    return Request(method, parse_url(url), Headers(headers or {}), content, length=length)


def make_response(
    request: Request, status: int = 200, *challenges: str, body: bytes = b""
) -> Response:
    fields = [(b"WWW-Authenticate", challenge.encode()) for challenge in challenges]
    return Response(status, b"", "HTTP/1.1", fields, request, body=body)


def header(auth: Auth, request: Request | None = None) -> str:
    """The Authorization field a one-request flow sends."""
    sent = next(auth.auth_flow(request or make_request()))
    return sent.headers["Authorization"]


Server = Callable[[Request], Response]


def drive(auth: Auth, request: Request, server: Server) -> tuple[Response, list[Request]]:
    """Run the synchronous flow against `server`: the last response and the requests sent."""
    flow = auth.auth_flow(request)
    sent = [next(flow)]
    while True:
        response = server(sent[-1])
        try:
            sent.append(flow.send(response))
        except StopIteration:
            return response, sent


def params_of(field: str) -> dict[str, str]:
    """The parameters of an Authorization field we built (our own parser reads it back)."""
    (challenge,) = parse_challenges([field])
    assert challenge.scheme == "digest"
    return challenge.params


def h(name: str, *parts: str | bytes) -> str:
    data = b":".join(p if isinstance(p, bytes) else p.encode() for p in parts)
    return hashlib.new(name, data).hexdigest()


@pytest.fixture
def cnonces(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each cnonce the flows draw: "c1", "c2"..., listed as they are drawn."""
    drawn: list[str] = []
    counter = itertools.count(1)

    def draw() -> str:
        drawn.append(f"c{next(counter)}")
        return drawn[-1]

    monkeypatch.setattr(_auth, "_new_cnonce", draw)
    return drawn


# -- Basic, Bearer ----------------------------------------------------------------------------


def test_basic_rfc7617_example() -> None:
    # RFC 7617 §2: user-id "Aladdin" and password "open sesame".
    assert header(BasicAuth("Aladdin", "open sesame")) == "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="


def test_basic_is_utf8() -> None:
    # RFC 7617 §2.1: user-id "test", password "123" followed by POUND SIGN, as UTF-8.
    assert header(BasicAuth("test", "123\u00a3")) == "Basic dGVzdDoxMjPCow=="


def test_basic_colon_in_password_is_fine() -> None:
    assert header(BasicAuth("a", "b:c")) == "Basic YTpiOmM="


def test_basic_refuses_a_colon_in_the_user() -> None:
    with pytest.raises(ValueError, match="RFC 7617"):
        BasicAuth("a:b", "c")


@pytest.mark.parametrize("bad", ["\r", "\n", "\x00", "\x7f", "\t"])
@pytest.mark.parametrize("where", ["username", "password"])
def test_basic_refuses_control_characters(bad: str, where: str) -> None:
    with pytest.raises(ValueError, match="control character"):
        BasicAuth(
            f"u{bad}" if where == "username" else "u", f"p{bad}" if where == "password" else "p"
        )


def test_basic_refuses_bytes() -> None:
    with pytest.raises(TypeError, match="bytes"):
        BasicAuth(b"u", "p")  # type: ignore[arg-type]


def test_flows_do_not_change_the_callers_request() -> None:
    request = make_request(headers={"X-One": "1"})
    sent = next(BasicAuth("u", "p").auth_flow(request))
    assert sent is not request
    assert "authorization" not in request.headers
    assert sent.headers["X-One"] == "1"
    assert (sent.method, sent.url, sent.content) == (request.method, request.url, request.content)


@pytest.mark.parametrize("token", ["abc", "mF_9.B5f-4.1JqM", "a+/b==", "~-._", "x="])
def test_bearer(token: str) -> None:
    assert header(BearerAuth(token)) == f"Bearer {token}"


@pytest.mark.parametrize("token", ["", "a b", "a=b", "=", "tok\r\n", "t\u00e4", '"t"', "a,b"])
def test_bearer_refuses_what_is_no_b64token(token: str) -> None:
    with pytest.raises(ValueError, match="RFC 6750"):
        BearerAuth(token)


def test_plain_auth_sends_the_request_once() -> None:
    request = make_request()
    response, sent = drive(Auth(), request, lambda r: make_response(r, 401, "Basic"))
    assert sent == [request]
    assert response.status == 401


# -- the challenge parser ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        # RFC 9110 §11.6.1's example: two challenges in one field, an escaped quote.
        (
            ['Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple"'],
            [
                Challenge("newauth", {"realm": "apps", "type": "1", "title": 'Login to "apps"'}),
                Challenge("basic", {"realm": "simple"}),
            ],
        ),
        (
            ['Basic realm="a"', 'Digest realm="b", nonce="n"'],
            [Challenge("basic", {"realm": "a"}), Challenge("digest", {"realm": "b", "nonce": "n"})],
        ),
        (
            ['Digest realm="a, b", nonce="x,y=z", qop="auth,auth-int"'],
            [Challenge("digest", {"realm": "a, b", "nonce": "x,y=z", "qop": "auth,auth-int"})],
        ),
        (
            ["DIGEST REALM=x, NoNcE=y"],
            [Challenge("digest", {"realm": "x", "nonce": "y"})],
        ),
        (
            ['Digest realm = "x" ,nonce=\ty'],
            [Challenge("digest", {"realm": "x", "nonce": "y"})],
        ),
        (
            [', , Basic realm="x" , ,', ""],
            [Challenge("basic", {"realm": "x"})],
        ),
        (
            ["Negotiate abc==, Bearer, NTLM"],
            [Challenge("negotiate", {}, "abc=="), Challenge("bearer"), Challenge("ntlm")],
        ),
        (['Digest realm="a\\\\b\\c"'], [Challenge("digest", {"realm": "a\\bc"})]),
        (['Digest realm=""'], [Challenge("digest", {"realm": ""})]),
        # The grammar cannot tell these from a token68, so neither can we.
        (["Digest realm=, Basic"], [Challenge("digest", {}, "realm="), Challenge("basic")]),
    ],
)
def test_parse_challenges(fields: list[str], expected: list[Challenge]) -> None:
    assert parse_challenges(fields) == expected


@pytest.mark.parametrize(
    ("field", "kept"),
    [
        ('Digest realm="unterminated', []),
        ('Digest realm="x" nonce="y"', []),  # no comma between parameters
        ('Basic realm="a", Digest realm="x", realm="y"', ["basic"]),  # a repeated parameter
        ('realm="x", Basic', []),  # a parameter before any scheme
        ('Basic realm="a", Digest @@@', ["basic"]),
        ("Basic abc, realm=x", []),  # token68 and parameters together
        ('Digest realm="x\x01"', []),  # a control character in a quoted-string
        ('Digest realm=a"b"', []),
        ("Digest realm=;", []),
        ('"', []),
        ("=", []),
        ('Basic realm=x, Digest nonce="', ["basic"]),
    ],
)
def test_parse_challenges_drops_what_is_malformed(field: str, kept: list[str]) -> None:
    assert [c.scheme for c in parse_challenges([field])] == kept


def test_parse_challenges_keeps_other_fields_after_a_malformed_one() -> None:
    challenges = parse_challenges(['Digest realm="x', 'Basic realm="y"'])
    assert challenges == [Challenge("basic", {"realm": "y"})]


@given(st.text(alphabet='Digest Basic realm="\\, =\t\x00é', max_size=60))
def test_parse_challenges_never_raises(field: str) -> None:
    for challenge in parse_challenges([field]):
        assert challenge.scheme == challenge.scheme.lower()


# -- Digest: the RFC's worked examples --------------------------------------------------------

RFC7616_CHALLENGE = (
    'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm={algorithm}, '
    'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", '
    'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"'
)
RFC7616_CNONCE = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"


def answer(
    auth: DigestAuth, challenge: str, request: Request | None = None
) -> tuple[Request, Request]:
    """The first request and the one answering `challenge` to it."""
    flow = auth.auth_flow(request or make_request())
    first = next(flow)
    return first, flow.send(make_response(first, 401, challenge))


def test_digest_rfc7616_sha256_example(monkeypatch: pytest.MonkeyPatch) -> None:
    """RFC 7616 §3.9.1, to the byte (our parameter order is the RFC's)."""
    monkeypatch.setattr(_auth, "_new_cnonce", lambda: RFC7616_CNONCE)
    first, second = answer(
        DigestAuth("Mufasa", "Circle of Life"), RFC7616_CHALLENGE.format(algorithm="SHA-256")
    )
    assert "authorization" not in first.headers
    assert second.headers["Authorization"] == (
        'Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", '
        'algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", '
        'nc=00000001, cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth, '
        'response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1", '
        'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"'
    )


def test_digest_rfc7616_md5_example(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_auth, "_new_cnonce", lambda: RFC7616_CNONCE)
    _, second = answer(
        DigestAuth("Mufasa", "Circle of Life"), RFC7616_CHALLENGE.format(algorithm="MD5")
    )
    params = params_of(second.headers["Authorization"])
    assert params["response"] == "8ca523f5e9506fed4657c9700eebdbec"
    assert params["algorithm"] == "MD5"


def test_digest_rfc2617_example(monkeypatch: pytest.MonkeyPatch) -> None:
    """RFC 2617 §3.5: no algorithm named (MD5), so none is sent back."""
    monkeypatch.setattr(_auth, "_new_cnonce", lambda: "0a4f113b")
    challenge = (
        'Digest realm="testrealm@host.com", qop="auth,auth-int", '
        'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"'
    )
    _, second = answer(DigestAuth("Mufasa", "Circle Of Life"), challenge)
    params = params_of(second.headers["Authorization"])
    assert params["response"] == "6629fae49393a05397450978507c4ef1"
    assert "algorithm" not in params


RFC7616_USERHASH_CHALLENGE = (
    'Digest realm="api@example.org", qop="auth", algorithm=SHA-512-256, '
    'nonce="5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK", '
    'opaque="HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS", charset=UTF-8, userhash=true'
)
# RFC 7616 §3.9.2 with the hashes of erratum 4897: the RFC's were made with a draft
# SHA-512/256, not the final one.
RFC7616_USERHASH = "793263caabb707a56211940d90411ea4a575adeccb7e360aeb624ed06ece9b0b"
RFC7616_USERHASH_RESPONSE = "3798d4131c277846293534c3edc11bd8a5e4cdcbff78b05db9d95eeb1cec68a5"


@pytest.mark.skipif(not HAS_SHA512_256, reason="hashlib has no sha512_256 here")
def test_digest_rfc7616_userhash_example(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        _auth, "_new_cnonce", lambda: "NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v"
    )
    request = make_request("http://api.example.org/doe.json")
    auth = DigestAuth("J\u00e4s\u00f8n Doe", "Secret, or not?")
    _, second = answer(auth, RFC7616_USERHASH_CHALLENGE, request)
    params = params_of(second.headers["Authorization"])
    assert params["username"] == RFC7616_USERHASH
    assert params["userhash"] == "true"
    assert params["response"] == RFC7616_USERHASH_RESPONSE
    assert params["algorithm"] == "SHA-512-256"


@pytest.mark.skipif(not HAS_SHA512_256, reason="hashlib has no sha512_256 here")
def test_digest_username_star_for_a_name_that_is_not_ascii(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """RFC 7616 §3.4 and the same example without userhash: the name goes in username*, and
    the response does not change."""
    monkeypatch.setattr(
        _auth, "_new_cnonce", lambda: "NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v"
    )
    request = make_request("http://api.example.org/doe.json")
    auth = DigestAuth("J\u00e4s\u00f8n Doe", "Secret, or not?")
    challenge = RFC7616_USERHASH_CHALLENGE.replace("userhash=true", "userhash=false")
    _, second = answer(auth, challenge, request)
    field = second.headers["Authorization"]
    assert field.startswith("Digest username*=UTF-8''J%C3%A4s%C3%B8n%20Doe, realm=")
    params = params_of(field)
    assert "username" not in params
    assert "userhash" not in params
    assert params["response"] == RFC7616_USERHASH_RESPONSE


# -- Digest: choices --------------------------------------------------------------------------


def digest(
    nonce: str = "n1",
    *,
    algorithm: str | None = "MD5",
    qop: str | None = "auth",
    extra: str = "",
) -> str:
    parts = ['Digest realm="r"', f'nonce="{nonce}"']
    if algorithm is not None:
        parts.append(f"algorithm={algorithm}")
    if qop is not None:
        parts.append(f'qop="{qop}"')
    return ", ".join(parts) + extra


@pytest.mark.parametrize(
    ("challenges", "chosen"),
    [
        ([digest("a", algorithm="SHA-256"), digest("b", algorithm="MD5")], "SHA-256"),
        # RFC 7616 §3.7: the first one supported, even when a later one is stronger.
        ([digest("a", algorithm="MD5"), digest("b", algorithm="SHA-256")], "MD5"),
        ([digest("a", algorithm="SHA-1"), digest("b", algorithm="sha-256")], "sha-256"),
        (['Basic realm="x"', digest("b", algorithm="MD5-sess")], "MD5-sess"),
        ([digest("a", algorithm="SHA-256-sess", qop=None), digest("b")], "MD5"),
        ([digest("a", qop="auth-conf"), digest("b", algorithm="SHA-256")], "SHA-256"),
    ],
)
def test_digest_chooses_the_first_challenge_it_supports(
    cnonces: list[str], challenges: list[str], chosen: str
) -> None:
    flow = DigestAuth("u", "p").auth_flow(make_request())
    first = next(flow)
    second = flow.send(make_response(first, 401, *challenges))
    assert params_of(second.headers["Authorization"])["algorithm"] == chosen


def test_digest_challenges_in_one_field(cnonces: list[str]) -> None:
    field = 'Basic realm="b", ' + digest("x", algorithm="SHA-256")
    _, second = answer(DigestAuth("u", "p"), field)
    params = params_of(second.headers["Authorization"])
    assert (params["nonce"], params["algorithm"]) == ("x", "SHA-256")


@pytest.mark.parametrize(
    "challenge",
    [
        'Basic realm="x"',
        'Digest realm="x',
        'Digest realm="r"',  # no nonce
        'Digest nonce="n"',  # no realm
        digest(algorithm="SHA-1"),
        digest(algorithm="MD5-sess", qop=None),  # a session key needs a cnonce
        digest(qop="auth-conf"),
        digest(qop=""),
        'Digest realm="r", nonce="n", nonce="m"',
        "Digest",
        "",
    ],
)
def test_digest_gives_up_on_what_it_cannot_answer(challenge: str) -> None:
    request = make_request()
    response, sent = drive(
        DigestAuth("u", "p"), request, lambda r: make_response(r, 401, challenge)
    )
    assert sent == [request]
    assert response.status == 401


def test_digest_rfc2069_without_qop(cnonces: list[str]) -> None:
    _, second = answer(DigestAuth("u", "p"), digest("n", algorithm=None, qop=None))
    params = params_of(second.headers["Authorization"])
    assert set(params) == {"username", "realm", "uri", "nonce", "response"}
    ha1, ha2 = h("md5", "u", "r", "p"), h("md5", "GET", "/dir/index.html")
    assert params["response"] == h("md5", ha1, "n", ha2)
    assert cnonces == []


def test_digest_prefers_auth_to_auth_int(cnonces: list[str]) -> None:
    _, second = answer(DigestAuth("u", "p"), digest(qop="auth-int, auth"))
    assert params_of(second.headers["Authorization"])["qop"] == "auth"


def test_digest_auth_int_hashes_the_body(cnonces: list[str]) -> None:
    request = make_request("http://h/x?y=1", method="POST", content=b"payload")
    _, second = answer(DigestAuth("u", "p"), digest(algorithm="SHA-256", qop="auth-int"), request)
    params = params_of(second.headers["Authorization"])
    assert params["qop"] == "auth-int"
    assert params["uri"] == "/x?y=1"
    ha1 = h("sha256", "u", "r", "p")
    ha2 = h("sha256", "POST", "/x?y=1", h("sha256", b"payload"))
    assert params["response"] == h("sha256", ha1, "n1", "00000001", "c1", "auth-int", ha2)
    assert second.content == b"payload"


def test_digest_auth_int_with_a_stream_gives_up() -> None:
    async def body() -> AsyncIterator[bytes]:
        yield b"x"

    request = make_request(method="POST", content=body())
    challenge = digest(qop="auth-int")
    response, sent = drive(
        DigestAuth("u", "p"), request, lambda r: make_response(r, 401, challenge)
    )
    assert sent == [request]
    assert response.status == 401


def test_digest_does_not_resend_a_stream() -> None:
    async def body() -> AsyncIterator[bytes]:
        yield b"x"

    request = make_request(method="POST", content=body())
    response, sent = drive(DigestAuth("u", "p"), request, lambda r: make_response(r, 401, digest()))
    assert sent == [request]
    assert response.status == 401


def test_digest_session_algorithm(cnonces: list[str]) -> None:
    auth = DigestAuth("u", "p")
    _, second = answer(auth, digest(algorithm="MD5-sess"))
    params = params_of(second.headers["Authorization"])
    ha1 = h("md5", h("md5", "u", "r", "p"), "n1", "c1")
    ha2 = h("md5", "GET", "/dir/index.html")
    assert params["response"] == h("md5", ha1, "n1", "00000001", "c1", "auth", ha2)
    # The session key, and so its cnonce, stays for the life of the nonce.
    later = next(auth.auth_flow(make_request()))
    params = params_of(later.headers["Authorization"])
    assert (params["nc"], params["cnonce"]) == ("00000002", "c1")
    assert params["response"] == h("md5", ha1, "n1", "00000002", "c1", "auth", ha2)


def test_digest_escapes_and_unescapes_quoted_strings(cnonces: list[str]) -> None:
    challenge = 'Digest realm="a\\"b", nonce="n", qop=auth, opaque="o\\\\"'
    _, second = answer(DigestAuth('us"er', "p"), challenge)
    field = second.headers["Authorization"]
    assert 'username="us\\"er", realm="a\\"b"' in field
    assert 'opaque="o\\\\"' in field
    params = params_of(field)
    ha1, ha2 = h("md5", 'us"er', 'a"b', "p"), h("md5", "GET", "/dir/index.html")
    assert params["response"] == h("md5", ha1, "n", "00000001", "c1", "auth", ha2)


def test_digest_without_opaque_sends_none(cnonces: list[str]) -> None:
    _, second = answer(DigestAuth("u", "p"), digest())
    assert "opaque" not in params_of(second.headers["Authorization"])


def test_digest_never_sends_the_password() -> None:
    _, second = answer(DigestAuth("u", "pass-word"), digest())
    assert "pass-word" not in second.headers["Authorization"]
    assert "pass-word" not in repr(DigestAuth("u", "pass-word"))


# -- Digest: counting, stale, and giving up ---------------------------------------------------


def scripted(*steps: tuple[int, str | None]) -> tuple[Server, list[Request]]:
    """A server answering each request with the next (status, challenge) of `steps`."""
    seen: list[Request] = []
    script = iter(steps)

    def server(request: Request) -> Response:
        seen.append(request)
        status, challenge = next(script)
        return make_response(request, status, *([challenge] if challenge else []))

    return server, seen


def test_digest_counts_nonce_uses_across_requests(cnonces: list[str]) -> None:
    auth = DigestAuth("u", "p")
    server, seen = scripted((401, digest("n1")), (200, None), (200, None), (200, None))
    for _ in range(3):
        response, _ = drive(auth, make_request(), server)
        assert response.status == 200
    fields = [r.headers.get("Authorization") for r in seen]
    assert fields[0] is None
    params = [params_of(field) for field in fields[1:] if field is not None]
    assert [p["nc"] for p in params] == ["00000001", "00000002", "00000003"]
    assert [p["cnonce"] for p in params] == ["c1", "c2", "c3"]
    assert {p["nonce"] for p in params} == {"n1"}


@pytest.mark.asyncio
async def test_digest_concurrent_requests_share_the_count(cnonces: list[str]) -> None:
    auth = DigestAuth("u", "p")
    answer(auth, digest("n1"))

    async def send(request: Request) -> Response:
        await asyncio.sleep(0)  # let the other request start before this one is answered
        return make_response(request, 200)

    requests = [make_request() for _ in range(3)]
    finals = await asyncio.gather(*(authenticate(auth, r, send) for r in requests))
    ncs = sorted(params_of(f.request.headers["Authorization"])["nc"] for f in finals)
    assert ncs == ["00000002", "00000003", "00000004"]


def test_digest_sends_nothing_ahead_to_another_origin(cnonces: list[str]) -> None:
    auth = DigestAuth("u", "p")
    answer(auth, digest())
    other = next(auth.auth_flow(make_request("https://elsewhere.example/")))
    assert "authorization" not in other.headers
    same = next(auth.auth_flow(make_request("http://www.example.org/other")))
    assert params_of(same.headers["Authorization"])["uri"] == "/other"


def test_digest_stale_is_retried_once_with_the_new_nonce(cnonces: list[str]) -> None:
    server, _ = scripted(
        (401, digest("n1")), (401, digest("n2", extra=", stale=TRUE")), (200, None)
    )
    response, sent = drive(DigestAuth("u", "p"), make_request(), server)
    assert response.status == 200
    assert len(sent) == 3
    last = params_of(sent[2].headers["Authorization"])
    assert (last["nonce"], last["nc"]) == ("n2", "00000001")


def test_digest_stale_for_ever_does_not_loop(cnonces: list[str]) -> None:
    stale = digest("n", extra=", stale=true")
    server, _ = scripted((401, digest("n1")), (401, stale), (401, stale), (401, stale))
    response, sent = drive(DigestAuth("u", "p"), make_request(), server)
    assert response.status == 401
    assert len(sent) == 3


@pytest.mark.parametrize("stale", ["", ", stale=false", ", stale=no"])
def test_digest_a_401_to_our_credentials_ends_the_flow(cnonces: list[str], stale: str) -> None:
    server, _ = scripted((401, digest("n1")), (401, digest("n2", extra=stale)), (200, None))
    response, sent = drive(DigestAuth("u", "wrong"), make_request(), server)
    assert response.status == 401
    assert len(sent) == 2


def test_digest_a_401_to_credentials_sent_ahead_is_answered_once(cnonces: list[str]) -> None:
    auth = DigestAuth("u", "p")
    answer(auth, digest("n1"))
    # The server forgot n1 and says so without stale: a fresh challenge, answered once.
    server, _ = scripted((401, digest("n2")), (200, None))
    response, sent = drive(auth, make_request(), server)
    assert response.status == 200
    assert [params_of(r.headers["Authorization"])["nonce"] for r in sent] == ["n1", "n2"]
    # And a second refusal ends it.
    server, _ = scripted((401, digest("n3")), (401, digest("n4")))
    response, sent = drive(auth, make_request(), server)
    assert response.status == 401
    assert len(sent) == 2


def test_digest_the_same_nonce_again_keeps_counting(cnonces: list[str]) -> None:
    auth = DigestAuth("u", "p")
    answer(auth, digest("n1"))
    server, _ = scripted((401, digest("n1")), (200, None))
    _, sent = drive(auth, make_request(), server)
    assert [params_of(r.headers["Authorization"])["nc"] for r in sent] == ["00000002", "00000003"]


def test_digest_non_401_ends_the_flow_at_once() -> None:
    request = make_request()
    response, sent = drive(DigestAuth("u", "p"), request, lambda r: make_response(r, 403, digest()))
    assert sent == [request]
    assert response.status == 403


def test_digest_refuses_control_characters() -> None:
    with pytest.raises(ValueError, match="control character"):
        DigestAuth("u\r\n", "p")


# -- coerce_auth, a function as auth ----------------------------------------------------------


def add_token(request: Request) -> Request:
    request.headers["X-Token"] = "t"
    return request


def test_coerce_auth() -> None:
    basic = BasicAuth("u", "p")
    assert coerce_auth(None) is None
    assert coerce_auth(basic) is basic
    pair = coerce_auth(("u", "p"))
    assert isinstance(pair, BasicAuth)
    assert header(pair) == header(basic)
    function = coerce_auth(add_token)
    assert isinstance(function, Auth)
    request = make_request()
    sent = next(function.auth_flow(request))
    assert sent.headers["X-Token"] == "t"
    assert "x-token" not in request.headers, "the function is given a copy"


@pytest.mark.parametrize("value", [42, "u:p", ["u", "p"], ("u",), ("u", "p", "x"), b"u:p"])
def test_coerce_auth_refuses(value: object) -> None:
    with pytest.raises(TypeError, match="auth"):
        coerce_auth(value)


def test_coerce_auth_pair_is_checked() -> None:
    with pytest.raises(ValueError, match="':'"):
        coerce_auth(("u:x", "p"))


def test_function_auth_must_return_a_request() -> None:
    auth = coerce_auth(lambda request: None)
    assert auth is not None
    with pytest.raises(TypeError, match="not a Request"):
        next(auth.auth_flow(make_request()))


# -- netrc_auth -------------------------------------------------------------------------------

NETRC = """\
machine example.org login ann password s3cret
machine nologin.example password x
default login anon password guest
"""


def basic_of(auth: BasicAuth | None) -> str | None:
    return None if auth is None else header(auth)


def test_netrc_auth(tmp_path: Path) -> None:
    path = tmp_path / "netrc"
    path.write_text(NETRC)
    assert basic_of(netrc_auth("example.org", file=str(path))) == header(BasicAuth("ann", "s3cret"))
    assert netrc_auth("nologin.example", file=str(path)) is None
    assert basic_of(netrc_auth("other.example", file=str(path))) == header(
        BasicAuth("anon", "guest")
    )


def test_netrc_auth_an_entry_without_a_password(tmp_path: Path) -> None:
    """Python 3.11's netrc reads a login alone (an empty password); 3.10's refuses the whole
    file, which then gives no credentials at all."""
    path = tmp_path / "netrc"
    path.write_text("machine nopass.example login bob\nmachine example.org login a password b\n")
    found = netrc_auth("nopass.example", file=str(path))
    if sys.version_info >= (3, 11):
        assert basic_of(found) == header(BasicAuth("bob", ""))
    else:
        assert found is None
        assert netrc_auth("example.org", file=str(path)) is None


def test_netrc_auth_without_an_entry(tmp_path: Path) -> None:
    path = tmp_path / "netrc"
    path.write_text("machine example.org login ann password s3cret\n")
    assert netrc_auth("other.example", file=str(path)) is None


@pytest.mark.parametrize(
    "text",
    ["machine\n", "machine a login b password c garbage\n", "macdef x\n", "\xff\xfe\x00"],
)
def test_netrc_auth_a_file_that_does_not_parse(tmp_path: Path, text: str) -> None:
    path = tmp_path / "netrc"
    path.write_bytes(text.encode("latin-1"))
    assert netrc_auth("a", file=str(path)) is None


def test_netrc_auth_missing_or_unreadable(tmp_path: Path) -> None:
    assert netrc_auth("a", file=str(tmp_path / "missing")) is None
    assert netrc_auth("a", file=str(tmp_path)) is None  # a directory


def test_netrc_auth_reads_the_netrc_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "elsewhere"
    path.write_text("machine example.org login env password pw\n")
    monkeypatch.setenv("NETRC", str(path))
    assert basic_of(netrc_auth("example.org")) == header(BasicAuth("env", "pw"))


def test_netrc_auth_defaults_to_the_home_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".netrc").write_text("machine example.org login home password pw\n")
    monkeypatch.delenv("NETRC", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert basic_of(netrc_auth("example.org")) == header(BasicAuth("home", "pw"))


def test_netrc_auth_a_login_basic_cannot_carry(tmp_path: Path) -> None:
    path = tmp_path / "netrc"
    path.write_text("machine example.org login a:b password pw\n")
    assert netrc_auth("example.org", file=str(path)) is None


# -- authenticate -----------------------------------------------------------------------------


class Recorder:
    """Streamed responses whose release is recorded: (status, completed) per release."""

    def __init__(self) -> None:
        self.released: list[tuple[int, bool]] = []
        self.sent: list[Request] = []

    def response(self, request: Request, status: int, body: bytes = b"body") -> Response:
        async def stream() -> AsyncIterator[bytes]:
            yield body

        def release(completed: bool) -> None:
            self.released.append((status, completed))

        return Response(status, b"", "HTTP/1.1", [], request, stream=stream(), release=release)

    def send_statuses(self, *statuses: int) -> Callable[[Request], Awaitable[Response]]:
        script = iter(statuses)

        async def send(request: Request) -> Response:
            self.sent.append(request)
            return self.response(request, next(script))

        return send


class ThreeTries(Auth):
    """Sends the request up to three times, tagging each copy; records what it saw."""

    def __init__(self) -> None:
        self.seen: list[int] = []
        self.closed = False

    def auth_flow(self, request: Request) -> Generator[Request, Response, None]:
        try:
            for attempt in range(3):
                response = yield _auth._copy_with(request, "X-Attempt", str(attempt))
                self.seen.append(response.status)
                if response.status != 401:
                    return
        finally:
            self.closed = True


@pytest.mark.asyncio
async def test_authenticate_keeps_the_answered_responses_in_history() -> None:
    recorder = Recorder()
    auth = ThreeTries()
    final = await authenticate(auth, make_request(), recorder.send_statuses(401, 401, 200))
    assert final.status == 200
    assert [r.status for r in final.history] == [401, 401]
    assert [r.headers.get("X-Attempt") for r in recorder.sent] == ["0", "1", "2"]
    # The answered ones were closed (unread); the final one is the caller's to read.
    assert recorder.released == [(401, False), (401, False)]
    assert await final.aread() == b"body"
    assert auth.closed


@pytest.mark.asyncio
async def test_authenticate_returns_what_the_flow_ends_on() -> None:
    recorder = Recorder()
    final = await authenticate(ThreeTries(), make_request(), recorder.send_statuses(401, 401, 401))
    assert final.status == 401
    assert len(final.history) == 2
    assert len(recorder.released) == 2


@pytest.mark.asyncio
async def test_authenticate_puts_earlier_history_first() -> None:
    recorder = Recorder()
    first_redirect = recorder.response(make_request(), 302)
    final_redirect = recorder.response(make_request(), 307)
    statuses = iter([401, 200])

    async def send(request: Request) -> Response:
        response = recorder.response(request, next(statuses))
        response.history = [first_redirect if response.status == 401 else final_redirect]
        return response

    final = await authenticate(ThreeTries(), make_request(), send)
    assert [r.status for r in final.history] == [302, 401, 307]


@pytest.mark.asyncio
async def test_authenticate_reads_bodies_when_the_flow_needs_them() -> None:
    class NeedsBody(ThreeTries):
        requires_response_body = True

        def auth_flow(self, request: Request) -> Generator[Request, Response, None]:
            response = yield request
            assert response.body == b"body"
            self.seen.append(response.status)

    recorder = Recorder()
    auth = NeedsBody()
    final = await authenticate(auth, make_request(), recorder.send_statuses(200))
    assert auth.seen == [200]
    assert final.body == b"body"
    assert recorder.released == [(200, True)]


@pytest.mark.asyncio
async def test_authenticate_closes_the_last_response_when_the_flow_raises() -> None:
    class Fails(ThreeTries):
        def auth_flow(self, request: Request) -> Generator[Request, Response, None]:
            try:
                yield request
                yield request
                raise RuntimeError("the flow broke")
            finally:
                self.closed = True

    recorder = Recorder()
    auth = Fails()
    with pytest.raises(RuntimeError, match="the flow broke"):
        await authenticate(auth, make_request(), recorder.send_statuses(401, 401))
    assert recorder.released == [(401, False), (401, False)]
    assert auth.closed


@pytest.mark.asyncio
async def test_authenticate_closes_the_flow_when_send_raises() -> None:
    recorder = Recorder()
    auth = ThreeTries()
    calls = 0

    async def send(request: Request) -> Response:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise OSError("connection lost")
        return recorder.response(request, 401)

    with pytest.raises(OSError, match="connection lost"):
        await authenticate(auth, make_request(), send)
    assert recorder.released == [(401, False)]
    assert auth.closed


@pytest.mark.asyncio
async def test_authenticate_a_flow_without_a_request() -> None:
    class Empty(Auth):
        def auth_flow(self, request: Request) -> Generator[Request, Response, None]:
            return
            yield request

    with pytest.raises(RuntimeError, match="Empty"):
        await authenticate(Empty(), make_request(), Recorder().send_statuses())


@pytest.mark.asyncio
async def test_authenticate_an_async_flow() -> None:
    class AsyncToken(Auth):
        async def async_auth_flow(self, request: Request) -> AsyncGenerator[Request, Response]:
            response = yield _auth._copy_with(request, "Authorization", "Bearer one")
            if response.status == 401:
                yield _auth._copy_with(request, "Authorization", "Bearer two")

    recorder = Recorder()
    final = await authenticate(AsyncToken(), make_request(), recorder.send_statuses(401, 200))
    assert final.status == 200
    assert [r.headers["Authorization"] for r in recorder.sent] == ["Bearer one", "Bearer two"]


@pytest.mark.asyncio
async def test_authenticate_digest_end_to_end(cnonces: list[str]) -> None:
    """The driver and DigestAuth together: 401, credentials, 200 with the 401 in history."""
    challenge = digest("n", algorithm="SHA-256")
    sent: list[Request] = []

    async def send(request: Request) -> Response:
        sent.append(request)
        if "authorization" not in request.headers:
            return make_response(request, 401, challenge)
        return make_response(request, 200, body=b"ok")

    final = await authenticate(DigestAuth("u", "p"), make_request(), send)
    assert (final.status, final.body) == (200, b"ok")
    assert [r.status for r in final.history] == [401]
    assert params_of(sent[1].headers["Authorization"])["nc"] == "00000001"
