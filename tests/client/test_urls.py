"""URL parsing: normalization, percent-encoding, params, base URLs, redirects and refusals.

Each row of a table is an input and the fields the parsed URL must have.
"""

from __future__ import annotations

from typing import Any

import pytest

import aioreq
from aioreq.client._urls import URL, encode_query, parse_url, query_pairs

# (url, scheme, host, port, target, userinfo)
PARSED = [
    ("http://example.org", "http", "example.org", 80, b"/", None),
    ("https://example.org/", "https", "example.org", 443, b"/", None),
    ("HTTPS://Example.ORG/Path", "https", "example.org", 443, b"/Path", None),
    ("http://example.org:80/", "http", "example.org", 80, b"/", None),
    ("https://example.org:443/", "https", "example.org", 443, b"/", None),
    ("https://example.org:80/", "https", "example.org", 80, b"/", None),
    ("http://example.org:8080/a/b", "http", "example.org", 8080, b"/a/b", None),
    ("http://example.org:0080/", "http", "example.org", 80, b"/", None),
    ("http://example.org:/", "http", "example.org", 80, b"/", None),
    ("http://example.org/a?b=1&c=2", "http", "example.org", 80, b"/a?b=1&c=2", None),
    ("http://example.org?q=1", "http", "example.org", 80, b"/?q=1", None),
    ("http://example.org/a#frag", "http", "example.org", 80, b"/a", None),
    ("http://example.org/a?q#frag", "http", "example.org", 80, b"/a?q", None),
    ("http://example.org/?", "http", "example.org", 80, b"/", None),
    ("  http://example.org/x  ", "http", "example.org", 80, b"/x", None),
    ("http://127.0.0.1:9/", "http", "127.0.0.1", 9, b"/", None),
    ("http://example.org.:1/", "http", "example.org.", 1, b"/", None),
    ("http://ex%61mple.org/", "http", "example.org", 80, b"/", None),
    # IDNA (the standard library's codec) and lowercasing
    ("https://bücher.example/", "https", "xn--bcher-kva.example", 443, b"/", None),
    ("https://BÜCHER.example/", "https", "xn--bcher-kva.example", 443, b"/", None),
    ("https://b%C3%BCcher.example/", "https", "xn--bcher-kva.example", 443, b"/", None),
    ("http://例え.テスト/", "http", "xn--r8jz45g.xn--zckzah", 80, b"/", None),
    # IPv6: no brackets in host, normalized, zone ids kept
    ("http://[::1]:8080/x", "http", "::1", 8080, b"/x", None),
    ("http://[::1]/", "http", "::1", 80, b"/", None),
    ("http://[0:0::1]/", "http", "::1", 80, b"/", None),
    ("http://[2001:DB8::A]/", "http", "2001:db8::a", 80, b"/", None),
    ("http://[fe80::1%25eth0]/", "http", "fe80::1%eth0", 80, b"/", None),
    ("http://[fe80::1%eth0]:81/", "http", "fe80::1%eth0", 81, b"/", None),
    ("http://[::ffff:1.2.3.4]/", "http", "::ffff:1.2.3.4", 80, b"/", None),
    ("http://[::ffff:102:304]/", "http", "::ffff:1.2.3.4", 80, b"/", None),
    # userinfo, percent-decoded
    ("http://user:pass@example.org/", "http", "example.org", 80, b"/", ("user", "pass")),
    ("http://us%40er:p%3Ass%25@example.org/", "http", "example.org", 80, b"/", ("us@er", "p:ss%")),
    ("http://user@example.org/", "http", "example.org", 80, b"/", ("user", "")),
    ("http://user:@example.org/", "http", "example.org", 80, b"/", ("user", "")),
    ("http://a@b@example.org/", "http", "example.org", 80, b"/", ("a@b", "")),
    ("http://@example.org/", "http", "example.org", 80, b"/", None),
    ("http://:p%20w@example.org/", "http", "example.org", 80, b"/", ("", "p w")),
    # percent-encoding of paths and queries
    ("http://h/a b", "http", "h", 80, b"/a%20b", None),
    ("http://h/a%20b", "http", "h", 80, b"/a%20b", None),
    ("http://h/%7e%7E", "http", "h", 80, b"/%7e%7E", None),
    ("http://h/100%", "http", "h", 80, b"/100%25", None),
    ("http://h/%zz%4", "http", "h", 80, b"/%25zz%254", None),
    ("http://h/caf\u00e9", "http", "h", 80, b"/caf%C3%A9", None),
    ("http://h/\u2603?s=\u2603", "http", "h", 80, b"/%E2%98%83?s=%E2%98%83", None),
    ('http://h/a"<>\\^`{|}', "http", "h", 80, b"/a%22%3C%3E%5C%5E%60%7B%7C%7D", None),
    ("http://h/:@!$&'()*+,;=[]", "http", "h", 80, b"/:@!$&'()*+,;=[]", None),
    ("http://h/p?a=b c&d=%2F/?:@[]", "http", "h", 80, b"/p?a=b%20c&d=%2F/?:@[]", None),
    ("http://h/-._~", "http", "h", 80, b"/-._~", None),
    ("http://h/a/../b/./c", "http", "h", 80, b"/a/../b/./c", None),
]


@pytest.mark.parametrize(("url", "scheme", "host", "port", "target", "userinfo"), PARSED)
def test_parse(
    url: str, scheme: str, host: str, port: int, target: bytes, userinfo: tuple[str, str] | None
) -> None:
    parsed = parse_url(url)
    assert (parsed.scheme, parsed.host, parsed.port, parsed.target, parsed.userinfo) == (
        scheme,
        host,
        port,
        target,
        userinfo,
    )
    assert parsed.origin == (scheme, host, port)


# (url, host_header, str)
RENDERED = [
    ("http://example.org/a?b", b"example.org", "http://example.org/a?b"),
    ("http://example.org:80/", b"example.org", "http://example.org/"),
    ("https://example.org:443/", b"example.org", "https://example.org/"),
    ("http://example.org:443/", b"example.org:443", "http://example.org:443/"),
    ("https://example.org:8443/x", b"example.org:8443", "https://example.org:8443/x"),
    ("http://[::1]/", b"[::1]", "http://[::1]/"),
    ("http://[::1]:8080/x", b"[::1]:8080", "http://[::1]:8080/x"),
    ("http://[fe80::1%25eth0]:81/", b"[fe80::1]:81", "http://[fe80::1%25eth0]:81/"),
    ("https://bücher.example/ä", b"xn--bcher-kva.example", "https://xn--bcher-kva.example/%C3%A4"),
    ("http://user:secret@example.org/", b"example.org", "http://example.org/"),
]


@pytest.mark.parametrize(("url", "host_header", "text"), RENDERED)
def test_host_header_and_str(url: str, host_header: bytes, text: str) -> None:
    parsed = parse_url(url)
    assert parsed.host_header == host_header
    assert str(parsed) == text
    assert repr(parsed) == f"URL({text!r})"
    assert parse_url(str(parsed)) == URL(
        parsed.scheme, parsed.host, parsed.port, parsed.target, None
    )


def test_password_never_in_str_or_repr() -> None:
    parsed = parse_url("http://user:hunter2@example.org/")
    assert "hunter2" not in str(parsed)
    assert "hunter2" not in repr(parsed)


def test_url_is_frozen_hashable_and_passes_through() -> None:
    parsed = parse_url("http://example.org/a")
    assert parse_url(parsed) is parsed
    assert parsed == parse_url("HTTP://EXAMPLE.ORG:80/a")
    assert parse_url("http://example.org/a#x") != parsed  # another URL, the same target
    assert parse_url("http://example.org/a#x").target == parsed.target
    assert len({parsed, parse_url("http://example.org/a")}) == 1
    with pytest.raises(AttributeError):
        parsed.host = "other"  # type: ignore[misc]


def test_zone_id_in_str_is_re_encoded() -> None:
    parsed = parse_url("http://[fe80::1%eth0]/")
    assert str(parsed) == "http://[fe80::1%25eth0]/"
    assert parse_url(str(parsed)) == parsed


# (params, target) for the URL "http://h/p?a=1"
PARAMS: list[tuple[Any, bytes]] = [
    ({"q": "x"}, b"/p?a=1&q=x"),
    ({"q": "a b&c=d/é"}, b"/p?a=1&q=a+b%26c%3Dd%2F%C3%A9"),
    ({"n": 1, "f": 1.5, "t": True, "F": False}, b"/p?a=1&n=1&f=1.5&t=true&F=false"),
    ({"skip": None, "k": "v"}, b"/p?a=1&k=v"),
    ({"l": ["x", 2, None, False]}, b"/p?a=1&l=x&l=2&l=false"),
    ({"t": ("x", "y")}, b"/p?a=1&t=x&t=y"),
    ([("a", "2"), ("a", "3")], b"/p?a=1&a=2&a=3"),
    ({}, b"/p?a=1"),
    ({"only": None}, b"/p?a=1"),
    ("b=2&c=x y", b"/p?a=1&b=2&c=x%20y"),
    ("?b=%2F", b"/p?a=1&b=%2F"),
    ("", b"/p?a=1"),
]


@pytest.mark.parametrize(("params", "target"), PARAMS)
def test_params_are_appended(params: Any, target: bytes) -> None:
    assert parse_url("http://h/p?a=1", params=params).target == target


def test_params_on_a_url_without_query_and_on_a_parsed_url() -> None:
    assert parse_url("http://h/p", params={"q": "1"}).target == b"/p?q=1"
    assert parse_url("http://h", params={"q": "1"}).target == b"/?q=1"
    parsed = parse_url("http://h/p#frag")
    assert parse_url(parsed, params=[("x", "1")]).target == b"/p?x=1"
    assert parsed.target == b"/p"
    assert str(parse_url(parsed, params=[("x", "1")])) == "http://h/p?x=1#frag"


def test_the_fragment_is_kept_encoded_and_never_in_the_target() -> None:
    parsed = parse_url("http://h/p?q#a b/c?d")
    assert parsed.fragment == "a%20b/c?d"
    assert parsed.target == b"/p?q"
    assert str(parsed) == "http://h/p?q#a%20b/c?d"
    assert str(parsed.with_fragment("top")) == "http://h/p?q#top"


def test_query_pairs_and_encode_query() -> None:
    assert query_pairs({"a": [1, None, True], "b": None}) == [("a", "1"), ("a", "true")]
    assert encode_query({"x": "1 2"}) == "x=1+2"
    assert encode_query("a=[1]") == "a=[1]"


@pytest.mark.parametrize(
    "params",
    [{"a": object()}, {"a": [b"bytes"]}, {1: "x"}, [("a",)], ["ab"], {"a": {"nested": 1}}],
)
def test_bad_params_are_type_errors(params: Any) -> None:
    with pytest.raises(TypeError):
        parse_url("http://h/", params=params)


# (base_url, url, expected str)
JOINED_TO_BASE = [
    ("https://api.example.org/v1", "users", "https://api.example.org/v1/users"),
    ("https://api.example.org/v1", "/users", "https://api.example.org/v1/users"),
    ("https://api.example.org/v1/", "users", "https://api.example.org/v1/users"),
    ("https://api.example.org/v1/", "/users", "https://api.example.org/v1/users"),
    ("https://api.example.org/v1/", "//users", "https://users/"),
    ("https://api.example.org", "users/1?x=y z", "https://api.example.org/users/1?x=y%20z"),
    ("https://api.example.org/v1", "", "https://api.example.org/v1/"),
    ("https://api.example.org/v1", "?page=2", "https://api.example.org/v1/?page=2"),
    ("https://api.example.org/v1", "a#frag", "https://api.example.org/v1/a#frag"),
    ("https://api.example.org/v1", "../x", "https://api.example.org/v1/../x"),
    (
        "https://api.example.org/v1?key=k",
        "users?page=2",
        "https://api.example.org/v1/users?key=k&page=2",
    ),
    ("https://api.example.org:8443/v1", "users", "https://api.example.org:8443/v1/users"),
    ("http://[::1]:81/v1", "users", "http://[::1]:81/v1/users"),
    ("https://api.example.org/v1", "http://other.example/x", "http://other.example/x"),
    ("https://api.example.org/v1", "HTTPS://other.example", "https://other.example/"),
    ("https://api.example.org/v1", "//cdn.example/x", "https://cdn.example/x"),
    ("http://api.example.org/v1", "//cdn.example:8080/x", "http://cdn.example:8080/x"),
]


@pytest.mark.parametrize(("base_url", "url", "expected"), JOINED_TO_BASE)
def test_base_url(base_url: str, url: str, expected: str) -> None:
    assert str(parse_url(url, base_url=base_url)) == expected
    assert str(parse_url(url, base_url=parse_url(base_url))) == expected


def test_base_url_keeps_userinfo_and_takes_params() -> None:
    parsed = parse_url("users", base_url="https://u:p@api.example.org/v1", params={"a": "1"})
    assert parsed.userinfo == ("u", "p")
    assert parsed.target == b"/v1/users?a=1"


def test_a_parsed_url_ignores_the_base() -> None:
    parsed = parse_url("http://h/x")
    assert parse_url(parsed, base_url="https://api.example.org/v1") is parsed


# (base, reference, expected str, expected userinfo) for redirects
REDIRECTS = [
    ("http://a/b/c/d?q", "g", "http://a/b/c/g", None),
    ("http://a/b/c/d?q", "./g/", "http://a/b/c/g/", None),
    ("http://a/b/c/d?q", "../g", "http://a/b/g", None),
    ("http://a/b/c/d?q", "/g", "http://a/g", None),
    ("http://a/b/c/d?q", "?y", "http://a/b/c/d?y", None),
    ("http://a/b/c/d?q", "g?y#s", "http://a/b/c/g?y#s", None),
    ("http://a/b/c/d?q", "#s", "http://a/b/c/d?q#s", None),
    ("http://a/b/c/d?q", "", "http://a/b/c/d?q", None),
    ("http://a/b/c/d?q", "//g/x", "http://g/x", None),
    ("https://a/b", "//g:8443/x", "https://g:8443/x", None),
    ("http://a/b", "https://other.example/x", "https://other.example/x", None),
    ("http://a:8080/b", "/c", "http://a:8080/c", None),
    ("http://a/b", "/caf\u00e9 x", "http://a/caf%C3%A9%20x", None),
    ("http://a/b", "https://bücher.example/", "https://xn--bcher-kva.example/", None),
    ("http://[::1]:81/b", "c", "http://[::1]:81/c", None),
    ("http://u:p%40@a/b", "/c", "http://a/c", ("u", "p@")),
    ("http://u:p@a/b", "//a/c", "http://a/c", None),
    ("http://u:p@a/b", "http://v@b/", "http://b/", ("v", "")),
]


@pytest.mark.parametrize(("base", "reference", "expected", "userinfo"), REDIRECTS)
def test_join(base: str, reference: str, expected: str, userinfo: tuple[str, str] | None) -> None:
    joined = parse_url(base).join(reference)
    assert str(joined) == expected
    assert joined.userinfo == userinfo


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("ftp://a/", "unsupported scheme 'ftp'"),
        ("mailto:x@example.org", "unsupported scheme 'mailto'"),
        ("/a\r\nX-Injected: 1", "control character"),
        ("http://[::1", "cannot resolve"),
        ("http://h:99999/", "out of range"),
    ],
)
def test_join_refuses(reference: str, message: str) -> None:
    with pytest.raises(aioreq.InvalidURL, match=message):
        parse_url("http://a/b").join(reference)


# (url, part of the message)
INVALID = [
    ("example.org/path", "has no scheme"),
    ("/relative/path", "has no scheme"),
    ("//example.org/x", "has no scheme"),
    ("", "has no scheme"),
    ("ftp://example.org/", "unsupported scheme 'ftp'"),
    ("ws://example.org/", "unsupported scheme 'ws'"),
    ("file:///etc/passwd", "unsupported scheme 'file'"),
    ("localhost:8080", "unsupported scheme 'localhost'"),
    ("http://", "has no host"),
    ("http:///path", "has no host"),
    ("http:example.org", "has no host"),
    ("http://:80/", "has no host"),
    ("http://user@/", "has no host"),
    ("http://h:port/", "port that is not a number: 'port'"),
    ("http://h:-1/", "port that is not a number"),
    ("http://h:8o/", "port that is not a number"),
    ("http://h:\u00b2/", "port that is not a number"),
    ("http://h:1:2/", "must be in brackets"),
    ("http://h:65536/", "out of range"),
    ("http://h:99999999999/", "out of range"),
    ("http://h/\r\nX-Injected: 1", "control character '\\\\r'"),
    ("http://h/\nx", "control character '\\\\n'"),
    ("http://h/x\x00", "control character '\\\\x00'"),
    ("http://h/\tx", "control character '\\\\t'"),
    ("http://h\r\n.example/", "control character"),
    ("http://h/x?a=\x7f", "control character"),
    ("http://exa mple.org/", "character ' ' in its host"),
    ("http://exa%20mple.org/", "character ' ' in its host"),
    ("http://exa%0d%0ample.org/", "character '\\\\r' in its host"),
    ("http://exa%2Fmple.org/", "character '/' in its host"),
    ("http://exa<mple.org/", "character '<' in its host"),
    ("http://exa%mple.org/", "character '%' in its host"),
    ("http://%ff.example/", "not UTF-8"),
    ("http://evil.example\\@good.example/", "backslash"),
    ("http://\u00a0.example/", "character ' ' in its host"),
    ("http://xn--a\u00e9.example/", "not a valid international domain name"),
    ("http://[::1/", "invalid URL"),
    ("http://[::1]x/", "'x' after its IPv6 address"),
    ("http://[zz::1]/", "invalid"),
    ("http://[1.2.3.4]/", "invalid"),
    ("http://[::1%25]/", "zone id"),
    ("http://[::1%25a%2Fb]/", "zone id|invalid"),
    ("http://::1/", "must be in brackets"),
]


@pytest.mark.parametrize(("url", "message"), INVALID)
def test_invalid(url: str, message: str) -> None:
    with pytest.raises(aioreq.InvalidURL, match=message) as info:
        parse_url(url)
    if url.strip():
        assert repr(url.strip(" "))[:30] in str(info.value)


def test_a_relative_url_with_a_base_is_still_checked() -> None:
    with pytest.raises(aioreq.InvalidURL, match="control character"):
        parse_url("/x\r\nHost: evil", base_url="http://h/")
    with pytest.raises(aioreq.InvalidURL, match="unsupported scheme"):
        parse_url("ftp://x/", base_url="http://h/")
    with pytest.raises(aioreq.InvalidURL, match="has no host"):
        parse_url("x", base_url="http:///")


def test_params_string_with_a_control_character_is_refused() -> None:
    with pytest.raises(aioreq.InvalidURL, match="control character"):
        parse_url("http://h/", params="a=1\r\nX: y")


def test_not_a_string_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="bytes"):
        parse_url(b"http://h/")  # type: ignore[arg-type]


def test_targets_are_accepted_by_the_serializer() -> None:
    """Every target parse_url produces is one encode_request_head sends."""
    from aioreq.protocol import encode_request_head

    for row in PARSED:
        url = parse_url(row[0])
        head = encode_request_head(b"GET", url.target, [(b"Host", url.host_header)])
        assert head.startswith(b"GET " + url.target + b" HTTP/1.1\r\nHost: ")


def test_path_and_query() -> None:
    parsed = parse_url("http://h/caf%C3%A9/x?a=1&b=%20#f")
    assert parsed.path == "/café/x"
    assert parsed.query == "a=1&b=%20"
    assert parse_url("http://h").path == "/"
    assert parse_url("http://h").query == ""
