"""Request bodies: raw content, form data, JSON and multipart/form-data, with their length.

`encode_body` turns the `content=`, `data=`, `json=` and `files=` arguments of a request into a
`Body`: the Content-Type it implies, its length when that is known, and the bytes or an async
iterable of bytes to send. It does not frame: the connection sends Content-Length when `length`
is an int and the chunked coding when it is None (RFC 9112 §6), so one place decides framing.

Bodies held in memory are `bytes`. A streamed body (a file, a path, an iterable) is an async
iterable that starts over each time it is iterated, so a request can be sent again after a 307
or 308 redirect or for a retry: a `Path` is opened again, a seekable file object is sought back
to where it stood when the body was made, a list is read again (`replayable` says which). A
file that cannot seek, an iterator and an async iterable can be read only once.

Files are read with plain blocking `read` calls of 64 KiB on the event loop's thread. That is
quick for local disks; a slow file system stalls the loop while a piece is read.

Multipart bodies follow RFC 7578: one part per `data` field (first) and per file, each with a
Content-Disposition naming the field (and the file); a file part gets a Content-Type from
`mimetypes` by its filename, or application/octet-stream. Names and filenames are written as
UTF-8 with `"`, CR and LF escaped as %22, %0D and %0A, as browsers do (the HTML standard's
multipart/form-data encoding, which RFC 7578 §4.2 points to), so none can end the quoted
string or the line it stands in. Any other control character (NUL, DEL, C0 but the tab) in a
name or filename, and any control but the tab in a part header's value, is refused with
`LocalProtocolError`: a quoted-string cannot hold one (RFC 9110 §5.6.4 qdtext, RFC 5322
§3.2.4 qtext), and a NUL is how a filename that reads "a.php\0.jpg" to one program is "a.php"
to another. The boundary is 32 random hex digits unless one is given.
"""

from __future__ import annotations

import io
import json as jsonlib
import mimetypes
import os
import re
import secrets
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlencode

from .._exceptions import LocalProtocolError
from ._urls import QueryItems, query_pairs

__all__ = [
    "CHUNK_SIZE",
    "Body",
    "ContentLike",
    "FileContent",
    "FileTypes",
    "FilesLike",
    "encode_body",
    "replayable",
]

CHUNK_SIZE = 64 * 1024
"""How much of a file is read at a time."""

ContentLike = (
    bytes | bytearray | memoryview | str | IO[bytes] | Iterable[bytes] | AsyncIterable[bytes]
)
"""What `content=` takes."""

FileContent = bytes | bytearray | memoryview | str | IO[bytes] | os.PathLike[str]
"""The content of one file of `files=`."""

FileTypes = (
    FileContent
    | tuple[str | None, FileContent]
    | tuple[str | None, FileContent, str | None]
    | tuple[str | None, FileContent, str | None, Mapping[str, str]]
)
"""One file of `files=`: its content, or (filename, content[, content_type[, headers]])."""

FilesLike = Mapping[str, FileTypes] | Sequence[tuple[str, FileTypes]]
"""What `files=` takes: a mapping of field names to files, or (field name, file) pairs."""

_FORM = b"application/x-www-form-urlencoded"
_JSON = b"application/json"
_OCTET_STREAM = "application/octet-stream"
# RFC 2046 §5.1.1: boundary := 0*69<bchars> bcharsnospace; spaces are not allowed here.
_BOUNDARY_RE = re.compile(rb"[0-9A-Za-z'()+_,\-./:=?]{1,70}")
_TOKEN_RE = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# RFC 5322 §2.2: a field body is printable US-ASCII, SP and HTAB (and UTF-8 here, RFC 7578 §5.1).
_UNSAFE_VALUE_RE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_NAME_ESCAPES = {ord('"'): "%22", ord("\r"): "%0D", ord("\n"): "%0A"}
# The controls left in a name or filename once `"`, CR and LF are escaped: all but the tab.
_NAME_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class Body:
    """A request body ready to send.

    Attributes:
        headers: the Content-Type the body implies, if any (never a framing field).
        length: the number of bytes `stream` gives, or None when it is not known in advance.
        stream: the bytes, or an async iterable of non-empty byte strings.
    """

    headers: list[tuple[bytes, bytes]]
    length: int | None
    stream: bytes | AsyncIterable[bytes]


class _Replayable:
    """An async iterable that calls `factory` for a fresh iterator each time it is iterated.

    `again` tells whether a second iteration gives the same bytes: not for a file that cannot
    seek back, nor for an iterator (a generator), which a second iteration finds exhausted.
    """

    __slots__ = ("_factory", "again")

    def __init__(self, factory: Callable[[], AsyncIterator[bytes]], *, again: bool) -> None:
        self._factory = factory
        self.again = again

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._factory()


def _position_and_size(file: IO[bytes]) -> tuple[int | None, int | None]:
    """Where a seekable file stands and how many bytes are left; (None, None) if unseekable."""
    try:
        if not file.seekable():
            return None, None
        start = file.tell()
        end = file.seek(0, os.SEEK_END)
        file.seek(start)
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is both
        return None, None
    return start, max(end - start, 0)


async def _read_file(file: IO[bytes], start: int | None, size: int | None) -> AsyncIterator[bytes]:
    """Read `file` in CHUNK_SIZE pieces; at most `size` bytes (the announced length) if known."""
    if start is not None:
        file.seek(start)
    remaining = size
    while remaining is None or remaining > 0:
        read: object = file.read(CHUNK_SIZE if remaining is None else min(CHUNK_SIZE, remaining))
        if not read:
            return
        if not isinstance(read, (bytes, bytearray, memoryview)):
            raise TypeError(
                f"a file read gave {type(read).__name__}, not bytes: open it in binary mode"
            )
        chunk = bytes(read)
        if remaining is not None:
            remaining -= len(chunk)
        yield chunk


async def _read_path(path: Path, size: int) -> AsyncIterator[bytes]:
    with path.open("rb") as file:
        async for chunk in _read_file(file, None, size):
            yield chunk


async def _from_iterable(iterable: Iterable[bytes]) -> AsyncIterator[bytes]:
    for chunk in iterable:
        if not isinstance(chunk, (bytes, bytearray, memoryview)):
            raise TypeError(f"content= gave {type(chunk).__name__}, not bytes")
        if chunk:
            yield bytes(chunk)


def _check_file_object(file: object) -> IO[bytes]:
    if isinstance(file, io.TextIOBase):
        raise TypeError(f"{file!r} is open in text mode: open it in binary mode ('rb')")
    return file  # type: ignore[return-value]


def _file_stream(file: IO[bytes]) -> tuple[AsyncIterable[bytes], int | None]:
    start, size = _position_and_size(file)
    return _Replayable(lambda: _read_file(file, start, size), again=start is not None), size


def _encode_content(content: ContentLike) -> Body:
    if isinstance(content, bytes):
        return Body([], len(content), content)
    if isinstance(content, (bytearray, memoryview)):
        data = bytes(content)
        return Body([], len(data), data)
    if isinstance(content, str):
        data = content.encode("utf-8")
        return Body([], len(data), data)
    if isinstance(content, AsyncIterable):
        return Body([], None, content)
    if hasattr(content, "read"):
        stream, size = _file_stream(_check_file_object(content))
        return Body([], size, stream)
    if isinstance(content, Mapping):
        raise TypeError("content= takes bytes, str or an iterable of bytes: use data= or json=")
    if isinstance(content, Iterable):
        iterable = content
        again = iter(iterable) is not iterable  # a list can be read again, an iterator not
        return Body([], None, _Replayable(lambda: _from_iterable(iterable), again=again))
    raise TypeError(
        "content= takes bytes, str, a binary file or a (sync or async) iterable of bytes, "
        f"not {type(content).__name__}"
    )


def _check_data(data: object) -> QueryItems:
    if isinstance(data, (str, bytes, bytearray, memoryview)):
        raise TypeError(
            "data= takes a mapping or a list of (name, value) pairs: pass a raw body as content="
        )
    return data  # type: ignore[return-value]


def _encode_form(data: QueryItems) -> Body:
    body = urlencode(query_pairs(data)).encode("ascii")
    return Body([(b"Content-Type", _FORM)], len(body), body)


def _encode_json(value: Any) -> Body:
    # RFC 8259 has no NaN or Infinity: refuse them (allow_nan=False) rather than send them.
    text = jsonlib.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    body = text.encode("utf-8")
    return Body([(b"Content-Type", _JSON)], len(body), body)


@dataclass(slots=True)
class _Part:
    """One part of a multipart body: its head, and its content in memory or as a stream."""

    head: bytes
    data: bytes | None = None
    stream: AsyncIterable[bytes] | None = None
    size: int | None = None


def _escape_name(name: str, what: str) -> bytes:
    """A name or filename for a quoted-string of Content-Disposition (see the module).

    Raises:
        LocalProtocolError: it holds a control character other than CR, LF and tab.
    """
    match = _NAME_CONTROL_RE.search(name)
    if match is not None:
        raise LocalProtocolError(
            f"the multipart {what} {name!r} holds the control character {match.group()!r}, "
            "which a Content-Disposition parameter cannot carry"
        )
    return name.translate(_NAME_ESCAPES).encode("utf-8")


def _part_head(
    boundary: bytes, name: str, filename: str | None, fields: list[tuple[str, str]]
) -> bytes:
    lines = [
        b"--",
        boundary,
        b'\r\nContent-Disposition: form-data; name="',
        _escape_name(name, "field name"),
    ]
    if filename is not None:
        lines += (b'"; filename="', _escape_name(filename, "filename"))
    lines.append(b'"\r\n')
    for field, value in fields:
        lines += (field.encode("ascii"), b": ", value.encode("utf-8"), b"\r\n")
    lines.append(b"\r\n")
    return b"".join(lines)


def _check_field(name: str, value: str) -> None:
    if not name.isascii() or _TOKEN_RE.fullmatch(name.encode("ascii")) is None:
        raise LocalProtocolError(f"invalid multipart header name {name!r}")
    if name.lower() == "content-disposition":
        raise ValueError("a file's headers may not set Content-Disposition: it is generated")
    match = _UNSAFE_VALUE_RE.search(value)
    if match is not None:
        raise LocalProtocolError(
            f"multipart header {name} has the control character {match.group()!r} in its value "
            f"{value!r}: CR, LF or NUL would end the part's header, and RFC 5322 §2.2 allows no "
            "other control but the tab"
        )


def _default_filename(content: object) -> str:
    if isinstance(content, os.PathLike):
        return Path(content).name
    name = getattr(content, "name", None)
    if isinstance(name, str) and name:
        return Path(name).name
    return "upload"


def _guess_type(filename: str) -> str:
    guessed, encoding = mimetypes.guess_type(filename, strict=False)
    # "x.tar.gz" guesses application/x-tar with gzip encoding: the bytes sent are not a tar.
    if guessed is None or encoding is not None:
        return _OCTET_STREAM
    return guessed


def _file_part(boundary: bytes, name: str, value: object) -> _Part:
    filename: str | None
    content_type: str | None = None
    extra: Mapping[str, str] = {}
    if isinstance(value, tuple):
        if not 2 <= len(value) <= 4:
            raise TypeError(
                f"the file of {name!r} must be (filename, content[, content_type[, headers]]), "
                f"a tuple of {len(value)}"
            )
        filename, content = value[0], value[1]
        if len(value) > 2:
            content_type = value[2]
        if len(value) > 3:
            extra = value[3]
    else:
        content = value
        filename = _default_filename(value)
    fields = list(extra.items())
    for field, field_value in fields:
        _check_field(field, field_value)
    if not any(field.lower() == "content-type" for field, _ in fields):
        if content_type is None and filename is not None:
            content_type = _guess_type(filename)
        if content_type is not None:
            _check_field("Content-Type", content_type)
            fields.insert(0, ("Content-Type", content_type))
    head = _part_head(boundary, name, filename, fields)

    if isinstance(content, (bytes, bytearray, memoryview)):
        return _Part(head, data=bytes(content))
    if isinstance(content, str):
        return _Part(head, data=content.encode("utf-8"))
    if isinstance(content, os.PathLike):
        path = Path(content)
        file_size = path.stat().st_size
        from_path = _Replayable(lambda: _read_path(path, file_size), again=True)
        return _Part(head, stream=from_path, size=file_size)
    if hasattr(content, "read"):
        stream, size = _file_stream(_check_file_object(content))
        return _Part(head, stream=stream, size=size)
    raise TypeError(
        f"the file of {name!r} must be bytes, str, a binary file or a path, "
        f"not {type(content).__name__}"
    )


def _check_boundary(boundary: bytes) -> bytes:
    if not isinstance(boundary, bytes) or _BOUNDARY_RE.fullmatch(boundary) is None:
        raise ValueError(
            f"invalid multipart boundary {boundary!r}: 1 to 70 of the characters RFC 2046 "
            "allows (letters, digits and '()+_,-./:=?), no spaces"
        )
    return boundary


async def _stream_parts(parts: list[_Part], closing: bytes) -> AsyncIterator[bytes]:
    # Heads, in-memory contents and delimiters between two streamed files go out as one chunk.
    pending: list[bytes] = []
    for part in parts:
        pending.append(part.head)
        if part.stream is None:
            pending.append(part.data or b"")
        else:
            yield b"".join(pending)
            pending.clear()
            async for chunk in part.stream:
                if chunk:
                    yield chunk
        pending.append(b"\r\n")
    pending.append(closing)
    yield b"".join(pending)


def _encode_multipart(data: QueryItems | None, files: FilesLike, boundary: bytes | None) -> Body:
    boundary = secrets.token_hex(16).encode("ascii") if boundary is None else boundary
    _check_boundary(boundary)
    parts: list[_Part] = []
    if data is not None:
        for name, value in query_pairs(data):
            parts.append(_Part(_part_head(boundary, name, None, []), data=value.encode("utf-8")))
    items: Iterable[object] = files.items() if isinstance(files, Mapping) else files
    for item in items:
        if not isinstance(item, tuple) or len(item) != 2:
            raise TypeError(f"files= takes a mapping or (field name, file) pairs, got {item!r}")
        name, value = item
        if not isinstance(name, str):
            raise TypeError(f"a field name must be a str, not {type(name).__name__}")
        parts.append(_file_part(boundary, name, value))

    # A boundary with characters that are tspecials (RFC 2045 §5.1) must be quoted.
    if _TOKEN_RE.fullmatch(boundary) is None:
        content_type = b'multipart/form-data; boundary="' + boundary + b'"'
    else:
        content_type = b"multipart/form-data; boundary=" + boundary
    headers = [(b"Content-Type", content_type)]
    closing = b"--" + boundary + b"--\r\n"
    if all(part.stream is None for part in parts):
        pieces: list[bytes] = []
        for part in parts:
            pieces += (part.head, part.data or b"", b"\r\n")
        pieces.append(closing)
        body = b"".join(pieces)
        return Body(headers, len(body), body)

    length: int | None = len(closing)
    for part in parts:
        size = len(part.data) if part.data is not None else part.size
        if size is None or length is None:
            length = None
            break
        length += len(part.head) + size + 2
    again = all(replayable(part.stream) for part in parts if part.stream is not None)
    return Body(headers, length, _Replayable(lambda: _stream_parts(parts, closing), again=again))


def replayable(content: bytes | AsyncIterable[bytes]) -> bool:
    """Whether a body made here can be sent again with the same bytes."""
    return isinstance(content, bytes) or (isinstance(content, _Replayable) and content.again)


def encode_body(
    *,
    content: ContentLike | None = None,
    data: QueryItems | None = None,
    json: Any = None,
    files: FilesLike | None = None,
    boundary: bytes | None = None,
) -> Body:
    """Encode the body of a request from what the caller gave.

    Args:
        content: the raw body: bytes-like, str (sent as UTF-8), a binary file object (its
            length known when it is seekable), or a sync or async iterable of bytes (length
            unknown; an async iterable is passed through as it is).
        data: form fields, a mapping or (name, value) pairs (values as for query parameters),
            sent as application/x-www-form-urlencoded; with `files`, as multipart fields.
        json: a value sent as compact UTF-8 JSON, application/json (None means no JSON body).
        files: files sent as multipart/form-data: field name → bytes, str, binary file object,
            `pathlib.Path`, or (filename, content[, content_type[, headers]]).
        boundary: the multipart boundary; random when None.

    Returns:
        The `Body`; with nothing given, an empty body of length 0 and no Content-Type.

    Raises:
        TypeError: more than one of content, data and json (or json with files, or content
            with files); an argument of an unsupported type.
        ValueError: a JSON value with NaN or infinity; an invalid boundary; a file's headers
            that set Content-Disposition.
        LocalProtocolError: a file's content type or headers hold CR, LF, NUL or another
            control character; a name or filename holds one other than CR, LF and tab (those
            are escaped).
        OSError: a path that cannot be read (stat).
    """
    given = [
        name
        for name, value in (("content", content), ("data", data), ("json", json), ("files", files))
        if value is not None
    ]
    if len(given) > 1 and given != ["data", "files"]:
        raise TypeError(
            "give one of content=, data=, json= and files= (only data= and files= go together), "
            f"not {' and '.join(name + '=' for name in given)}"
        )
    if files is not None:
        return _encode_multipart(None if data is None else _check_data(data), files, boundary)
    if boundary is not None:
        raise TypeError("boundary= applies to a multipart body, which needs files=")
    if content is not None:
        return _encode_content(content)
    if data is not None:
        return _encode_form(_check_data(data))
    if json is not None:
        return _encode_json(json)
    return Body([], 0, b"")
