"""Request bodies: each kind, its Content-Type and length, and multipart read back by `email`."""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import io
import json
from collections.abc import AsyncIterator, Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

import aioreq
from aioreq.client._bodies import CHUNK_SIZE, Body, encode_body


def collect(body: Body) -> bytes:
    """Every byte of the body, and a check that a stream never yields an empty chunk."""
    if isinstance(body.stream, bytes):
        return body.stream

    async def read() -> list[bytes]:
        assert not isinstance(body.stream, bytes)
        return [chunk async for chunk in body.stream]

    chunks = asyncio.run(read())
    assert all(isinstance(chunk, bytes) and chunk for chunk in chunks)
    return b"".join(chunks)


def content_type(body: Body) -> bytes | None:
    values = [value for name, value in body.headers if name.lower() == b"content-type"]
    assert len(values) <= 1
    return values[0] if values else None


def check_length(body: Body) -> bytes:
    data = collect(body)
    if body.length is not None:
        assert body.length == len(data)
    return data


def parse_multipart(body: Body) -> list[EmailMessage]:
    """The parts, as the standard library's email parser reads the body."""
    ctype = content_type(body)
    assert ctype is not None
    assert ctype.startswith(b"multipart/form-data; boundary=")
    raw = b"Content-Type: " + ctype + b"\r\n\r\n" + check_length(body)
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    assert message.is_multipart()
    assert not message.defects
    parts = list(message.iter_parts())
    assert all(isinstance(part, EmailMessage) for part in parts)
    return parts  # type: ignore[return-value]


def disposition(part: EmailMessage) -> tuple[str | None, str | None]:
    name = part.get_param("name", header="content-disposition")
    assert name is None or isinstance(name, str)
    return name, part.get_filename()


def payload(part: EmailMessage) -> bytes:
    data = part.get_payload(decode=True)
    assert isinstance(data, bytes)
    return data


# --- nothing, content ---------------------------------------------------------------------


def test_no_body() -> None:
    body = encode_body()
    assert (body.headers, body.length, body.stream) == ([], 0, b"")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"abc", b"abc"),
        (b"", b""),
        (bytearray(b"abc"), b"abc"),
        (memoryview(b"xabcx")[1:4], b"abc"),
        ("h\u00e9llo \u2603", "h\u00e9llo \u2603".encode()),
        ("", b""),
    ],
)
def test_content_in_memory(content: Any, expected: bytes) -> None:
    body = encode_body(content=content)
    assert body.stream == expected
    assert isinstance(body.stream, bytes)
    assert body.length == len(expected)
    assert body.headers == []


def test_bytes_content_is_not_copied() -> None:
    data = b"x" * 100_000
    assert encode_body(content=data).stream is data


def test_async_iterable_content_passes_through() -> None:
    async def gen() -> AsyncIterator[bytes]:
        yield b"a"
        yield b"bc"

    stream = gen()
    body = encode_body(content=stream)
    assert body.stream is stream
    assert body.length is None
    assert body.headers == []
    assert collect(body) == b"abc"


def test_sync_iterable_content_is_wrapped() -> None:
    def gen() -> Iterator[bytes | bytearray]:
        yield b"a"
        yield b""
        yield bytearray(b"bc")

    body = encode_body(content=gen())  # type: ignore[arg-type]
    assert body.length is None
    assert not isinstance(body.stream, bytes)
    assert collect(body) == b"abc"


def test_list_content_can_be_sent_twice() -> None:
    body = encode_body(content=[b"a", b"b"])
    assert collect(body) == b"ab"
    assert collect(body) == b"ab"


def test_iterable_of_str_fails_when_streamed() -> None:
    body = encode_body(content=iter(["text"]))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not bytes"):
        collect(body)


def test_seekable_file_content_has_a_length(tmp_path: Path) -> None:
    data = bytes(range(256)) * 1000  # several reads of CHUNK_SIZE
    path = tmp_path / "data.bin"
    path.write_bytes(data)
    with path.open("rb") as file:
        file.seek(10)
        body = encode_body(content=file)
        assert body.length == len(data) - 10
        assert check_length(body) == data[10:]
        # sent again (after a 307), it starts where the file stood when the body was made
        assert check_length(body) == data[10:]


def test_non_seekable_file_content_has_no_length() -> None:
    class Pipe(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self._data = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: Any) -> int:
            chunk = self._data.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    data = b"p" * (CHUNK_SIZE * 2 + 5)
    body = encode_body(content=Pipe(data))
    assert body.length is None
    assert collect(body) == data


def test_text_file_content_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text("x")
    with path.open() as file, pytest.raises(TypeError, match="binary mode"):
        encode_body(content=file)  # type: ignore[arg-type]


@pytest.mark.parametrize("content", [123, 1.5, object(), {"a": 1}])
def test_bad_content(content: Any) -> None:
    with pytest.raises(TypeError, match="content="):
        encode_body(content=content)


# --- form data, JSON ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"a": "1", "b": "x y"}, b"a=1&b=x+y"),
        ({"q": "\u00e9&=/"}, b"q=%C3%A9%26%3D%2F"),
        ({"n": 1, "f": 0.5, "t": True, "no": False, "skip": None}, b"n=1&f=0.5&t=true&no=false"),
        ({"l": ["a", "b", None]}, b"l=a&l=b"),
        ([("a", "1"), ("a", "2")], b"a=1&a=2"),
        ({}, b""),
    ],
)
def test_form(data: Any, expected: bytes) -> None:
    body = encode_body(data=data)
    assert body.stream == expected
    assert body.length == len(expected)
    assert body.headers == [(b"Content-Type", b"application/x-www-form-urlencoded")]


@pytest.mark.parametrize("data", ["a=1", b"a=1"])
def test_raw_data_points_to_content(data: Any) -> None:
    with pytest.raises(TypeError, match="content="):
        encode_body(data=data)


def test_form_bad_value() -> None:
    with pytest.raises(TypeError, match="'a'"):
        encode_body(data={"a": object()})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"a": [1, 2], "b": None}, b'{"a":[1,2],"b":null}'),
        ({"s": "h\u00e9 \u2603"}, '{"s":"h\u00e9 \u2603"}'.encode()),
        ([], b"[]"),
        (0, b"0"),
        (False, b"false"),
        ("", b'""'),
    ],
)
def test_json(value: Any, expected: bytes) -> None:
    body = encode_body(json=value)
    assert body.stream == expected
    assert body.length == len(expected)
    assert body.headers == [(b"Content-Type", b"application/json")]
    assert isinstance(body.stream, bytes)
    assert json.loads(body.stream) == value


@pytest.mark.parametrize("value", [float("nan"), {"x": float("inf")}])
def test_json_refuses_nan(value: Any) -> None:
    with pytest.raises(ValueError, match="JSON"):
        encode_body(json=value)


# --- multipart ------------------------------------------------------------------------------


def test_multipart_fields_and_files() -> None:
    body = encode_body(
        data={"title": "h\u00e9llo", "n": 3, "tags": ["a", "b"], "skip": None},
        files={
            "raw": b"\x00\x01binary",
            "text": "plain text",
            "upload": ("report.csv", b"a,b\r\n1,2\r\n"),
            "typed": ("data.bin", b"{}", "application/json"),
            "extra": ("x.txt", b"x", None, {"X-Part": "1"}),
            "nofilename": (None, b"as a field"),
        },
    )
    assert isinstance(body.stream, bytes)
    parts = parse_multipart(body)
    got = [(*disposition(p), p.get_content_type(), payload(p)) for p in parts]
    assert got == [
        ("title", None, "text/plain", "h\u00e9llo".encode()),
        ("n", None, "text/plain", b"3"),
        ("tags", None, "text/plain", b"a"),
        ("tags", None, "text/plain", b"b"),
        ("raw", "upload", "application/octet-stream", b"\x00\x01binary"),
        ("text", "upload", "application/octet-stream", b"plain text"),
        ("upload", "report.csv", "text/csv", b"a,b\r\n1,2\r\n"),
        ("typed", "data.bin", "application/json", b"{}"),
        ("extra", "x.txt", "text/plain", b"x"),
        ("nofilename", None, "text/plain", b"as a field"),
    ]
    assert parts[8]["X-Part"] == "1"
    assert "Content-Type" not in parts[0]
    assert "Content-Type" not in parts[9]


def test_multipart_wire_format() -> None:
    body = encode_body(data={"a": "1"}, files={"f": ("f.txt", b"xy")}, boundary=b"BOUNDARY")
    assert body.headers == [(b"Content-Type", b"multipart/form-data; boundary=BOUNDARY")]
    assert body.stream == (
        b"--BOUNDARY\r\n"
        b'Content-Disposition: form-data; name="a"\r\n'
        b"\r\n"
        b"1\r\n"
        b"--BOUNDARY\r\n"
        b'Content-Disposition: form-data; name="f"; filename="f.txt"\r\n'
        b"Content-Type: text/plain\r\n"
        b"\r\n"
        b"xy\r\n"
        b"--BOUNDARY--\r\n"
    )
    assert body.length == len(body.stream)


def test_multipart_pairs_keep_order_and_repeats() -> None:
    body = encode_body(files=[("f", ("1.txt", b"1")), ("f", ("2.txt", b"2")), ("g", b"3")])
    parts = parse_multipart(body)
    assert [disposition(p) for p in parts] == [("f", "1.txt"), ("f", "2.txt"), ("g", "upload")]


def test_random_boundary() -> None:
    first = content_type(encode_body(files={"f": b"x"}))
    second = content_type(encode_body(files={"f": b"x"}))
    assert first != second
    assert first is not None
    boundary = first.partition(b"boundary=")[2]
    assert len(boundary) == 32
    assert all(c in b"0123456789abcdef" for c in boundary)


def test_boundary_with_special_characters_is_quoted() -> None:
    body = encode_body(files={"f": b"x"}, boundary=b"a=b?c")
    assert content_type(body) == b'multipart/form-data; boundary="a=b?c"'
    assert [payload(p) for p in parse_multipart(body)] == [b"x"]


@pytest.mark.parametrize("boundary", [b"", b"a b", b"x" * 71, b"a\r\nb", b"\xff", "str"])
def test_bad_boundary(boundary: Any) -> None:
    with pytest.raises(ValueError, match="boundary"):
        encode_body(files={"f": b"x"}, boundary=boundary)


@pytest.mark.parametrize(
    ("name", "escaped"),
    [
        ('a"b', b"a%22b"),
        ("a\r\nb", b"a%0D%0Ab"),
        ("a\nb\rc", b"a%0Ab%0Dc"),
        ("back\\slash", b"back\\slash"),
        ("caf\u00e9", "caf\u00e9".encode()),
    ],
)
def test_names_and_filenames_are_escaped(name: str, escaped: bytes) -> None:
    body = encode_body(data={name: "v"}, files={name: (name + ".txt", b"x")}, boundary=b"B")
    assert isinstance(body.stream, bytes)
    assert b'--B\r\nContent-Disposition: form-data; name="' + escaped + b'"\r\n' in body.stream
    assert b'; filename="' + escaped + b'.txt"\r\n' in body.stream
    parts = parse_multipart(body)
    assert len(parts) == 2
    # Browsers send a backslash as it is; an RFC 822 reader (email) takes it as an escape.
    if name.isascii() and "\\" not in name:
        assert disposition(parts[1]) == (escaped.decode(), escaped.decode() + ".txt")


@pytest.mark.parametrize(
    ("filename", "ctype"),
    [
        ("a.png", "image/png"),
        ("a.JSON", "application/json"),
        ("a.html", "text/html"),
        ("a.unknown-extension", "application/octet-stream"),
        ("noextension", "application/octet-stream"),
        ("a.tar.gz", "application/octet-stream"),
    ],
)
def test_content_type_is_guessed_from_the_filename(filename: str, ctype: str) -> None:
    (part,) = parse_multipart(encode_body(files={"f": (filename, b"x")}))
    assert part.get_content_type() == ctype


def test_part_headers_override_and_are_checked() -> None:
    body = encode_body(files={"f": ("a.txt", b"x", "text/x-one", {"Content-Type": "text/x-two"})})
    (part,) = parse_multipart(body)
    assert part.get_content_type() == "text/x-two"
    with pytest.raises(aioreq.LocalProtocolError, match="CR, LF or NUL"):
        encode_body(files={"f": ("a.txt", b"x", "text/plain\r\nX-Evil: 1")})
    with pytest.raises(aioreq.LocalProtocolError, match="CR, LF or NUL"):
        encode_body(files={"f": ("a.txt", b"x", None, {"X-A": "1\nX-Evil: 1"})})
    with pytest.raises(aioreq.LocalProtocolError, match="header name"):
        encode_body(files={"f": ("a.txt", b"x", None, {"Bad Name": "1"})})
    with pytest.raises(ValueError, match="Content-Disposition"):
        encode_body(files={"f": ("a.txt", b"x", None, {"content-disposition": "x"})})


def test_path_and_file_sources(tmp_path: Path) -> None:
    big = bytes(range(256)) * 600  # 153,600 bytes: three reads
    small = b"small file\n"
    (tmp_path / "big.dat").write_bytes(big)
    (tmp_path / "small.txt").write_bytes(small)
    with (tmp_path / "small.txt").open("rb") as file:
        body = encode_body(
            data={"k": "v"},
            files={
                "big": tmp_path / "big.dat",
                "small": file,
                "renamed": ("other.json", tmp_path / "big.dat"),
                "inline": b"in memory",
            },
        )
        assert body.length is not None
        assert not isinstance(body.stream, bytes)
        parts = parse_multipart(body)
        got = [(*disposition(p), p.get_content_type(), payload(p)) for p in parts]
        assert got == [
            ("k", None, "text/plain", b"v"),
            ("big", "big.dat", "application/octet-stream", big),
            ("small", "small.txt", "text/plain", small),
            ("renamed", "other.json", "application/json", big),
            ("inline", "upload", "application/octet-stream", b"in memory"),
        ]
        # a streamed body can be sent again: paths are reopened, files sought back
        assert parse_multipart(body)[2].get_payload(decode=True) == small


def test_path_length_is_taken_when_the_body_is_made(tmp_path: Path) -> None:
    path = tmp_path / "grows.txt"
    path.write_bytes(b"12345")
    body = encode_body(files={"f": path})
    path.write_bytes(b"1234567890")
    (part,) = parse_multipart(body)  # the announced length holds: the first 5 bytes go
    assert payload(part) == b"12345"


def test_missing_path_fails_when_the_body_is_made(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        encode_body(files={"f": tmp_path / "missing"})


def test_non_seekable_file_makes_the_length_unknown() -> None:
    class Unseekable(io.BytesIO):
        name = "/some/dir/stream.txt"

        def seekable(self) -> bool:
            return False

    body = encode_body(files={"f": Unseekable(b"streamed"), "g": b"known"})
    assert body.length is None
    parts = parse_multipart(body)
    assert [(disposition(p), payload(p)) for p in parts] == [
        (("f", "stream.txt"), b"streamed"),
        (("g", "upload"), b"known"),
    ]


def test_text_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text("x")
    with path.open() as file, pytest.raises(TypeError, match="binary mode"):
        encode_body(files={"f": file})  # type: ignore[dict-item]


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"f": 123}, "must be bytes, str, a binary file or a path"),
        ({"f": ("a",)}, "a tuple of 1"),
        ({"f": ("a", b"x", None, {}, "more")}, "a tuple of 5"),
        ([("f",)], "pairs"),
        ({1: b"x"}, "must be a str"),
    ],
)
def test_bad_files(files: Any, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        encode_body(files=files)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"content": b"x", "data": {"a": "1"}},
        {"content": b"x", "json": {}},
        {"data": {"a": "1"}, "json": {}},
        {"json": {}, "files": {"f": b"x"}},
        {"content": b"x", "files": {"f": b"x"}},
        {"content": b"x", "data": {}, "json": 1, "files": {}},
    ],
)
def test_only_one_kind_of_body(kwargs: dict[str, Any]) -> None:
    with pytest.raises(TypeError, match="give one of") as info:
        encode_body(**kwargs)
    for name in kwargs:
        assert f"{name}=" in str(info.value)


def test_boundary_needs_files() -> None:
    with pytest.raises(TypeError, match="boundary="):
        encode_body(data={"a": "1"}, boundary=b"B")
