"""Content codings of a response body: RFC 9110 §8.4, undone incrementally and within a limit.

Sans-IO: `make_decoder(content_encoding)` gives a `Decoder`; feed it the body as it arrives with
`decode(data)` (any split of the input gives the same output) and call `flush()` once at its end.
Supported: `gzip` and `x-gzip` (§8.4.1.3, every member of a multi-member body), `deflate`
(§8.4.1.2: the zlib format, or the raw deflate many servers send instead), `br` when `brotli` or
`brotlicffi` (1.2 or later) imports, and `zstd` when `zstandard` imports. `ACCEPT_ENCODING` lists
exactly these, so a server that honours it never sends anything else.

Decisions, and why:

- An unknown or uninstalled coding passes the body through unchanged: the decoder undoes only
  the codings applied after the last one it cannot undo, and `Decoder.undecoded` lists the rest
  in the order they were applied (it is the Content-Encoding the output still carries). A server
  that answers with a coding the client never advertised is out of line, but the bytes may still
  be what the user wants (a `.tar.gz` download served as `Content-Encoding: x-compress`...), and
  raising would leave no way to get them; httpx and urllib3 pass such bodies through as well.
  Nothing is lost: the caller can check `undecoded` and refuse, and a coding that was tried and
  failed always raises `DecodingError`.
- Decompression bombs: each coding's output is capped at `max_size` bytes (`None`: no cap) and
  exceeding it raises `DecodingError`. The cap is enforced while the output is made (zlib's
  `max_length`, brotli's `output_buffer_limit`, zstd input fed in bounded steps), so a tiny
  input cannot make a decoder allocate much more than the cap; see `DEFAULT_MAX_DECODED_SIZE`
  and the classes for the bound of each. Identity is not capped: it cannot amplify anything.
  What remains: one `decode()` returns its whole output as one bytes object, so a call whose
  output is made in several steps holds it twice for a moment (up to twice the cap); each
  coding of a chain has its own cap; and the libraries' windows, allocated in C, are not
  counted (zlib 32 KiB, brotli up to 16 MiB, zstd up to 8 MiB).
- A chain of more than `MAX_CODINGS` codings is refused with `DecodingError` before any
  decoder is made: each decoder holds buffers of its own, and "gzip, gzip, ..." repeated
  thousands of times in one field would otherwise make thousands (urllib3 shipped that:
  CVE-2025-66418; it limits the chain to 5 as well). No server applies more than two.
- Streaming: `pieces(data)` gives the decoded output of `data` as it is made, in pieces of at
  most 4 MiB (1 MiB without a cap) for zlib and brotli, and of bounded size for zstd, whether
  or not there is a cap: a streamed body is decoded without a cap on its whole, yet a few hundred
  bytes of br that decode to 200 MiB never become one 200 MiB bytes object (urllib3's
  CVE-2025-66471). `decode(data)` is `pieces` joined.
- A body with no bytes at all decodes to no bytes: servers do label empty bodies with a coding,
  and there is nothing truncated to detect. Any other coded body must end where its format says
  it ends, or `flush()` raises `DecodingError`.
- Bytes after the end: after a complete gzip member, bytes that do not begin another member are
  ignored (NUL padding exists in the wild; GNU gzip warns and urllib3 ignores them), and bytes
  after the final deflate block are ignored as zlib does. brotli and zstd reject them, as their
  libraries do.
- Errors of the libraries never leak: they become `DecodingError` naming the coding, chained
  with `from`. After an error the decoder is spent.
"""

from __future__ import annotations

import importlib
import zlib
from collections.abc import Iterator
from typing import Any

from .._exceptions import DecodingError

__all__ = [
    "ACCEPT_ENCODING",
    "DEFAULT_MAX_DECODED_SIZE",
    "MAX_CODINGS",
    "BrotliDecoder",
    "Decoder",
    "DeflateDecoder",
    "GzipDecoder",
    "IdentityDecoder",
    "MultiDecoder",
    "ZstdDecoder",
    "make_decoder",
    "parse_content_encoding",
]

# A decompression bomb is a few kilobytes that decode to gigabytes (a megabyte of gzip holds a
# gigabyte of zeros). The whole decoded body is held in memory by a plain request, and one
# `decode()` call returns all that its input decodes to, so the cap is what bounds the memory a
# hostile server can make us take per coding. 64 MiB is far beyond typical compressed API and
# page bodies, yet harmless to allocate; a larger legitimate body needs the knob (`max_size`,
# the client's `max_decoded_size`), and the error message says so.
DEFAULT_MAX_DECODED_SIZE = 64 * 2**20
#: The longest chain of content codings a response may list.
MAX_CODINGS = 5

# RFC 9659 §3 (updating RFC 8878): for the "zstd" content coding, encoders must not produce
# frames that need a Window_Size above 8 MB, and decoders must support up to 8 MB. A frame asking
# for more is refused instead of letting it make the decoder allocate its window (the library's
# own ceiling is 128 MiB), as browsers refuse it.
ZSTD_MAX_WINDOW_SIZE = 8 * 2**20
# RFC 8878 §3.1.1.2: Block_Maximum_Size is the smaller of Window_Size and 128 KiB, and a block
# that decodes to anything takes at least 4 bytes (an RLE block: a 3-byte header and 1 byte), so
# n input bytes decode to at most (n // 4 + 1) blocks (the 1 for a block begun earlier).
_ZSTD_BLOCK_MAX = 128 * 2**10
_ZSTD_MIN_BLOCK = 4
# How far one zstd step may overshoot the room left under the cap, in the worst case.
_ZSTD_SLACK = 2**20
# The most output one zlib or brotli call may make: a large output comes in several calls, so
# that a bomb is stopped with at most this much beyond the cap, not twice the cap (zlib and
# brotli copy their output buffers into the bytes they return).
_OUTPUT_STEP = 4 * 2**20
# Without a cap (a streamed body), zlib and brotli make at most this much a call, and zstd's
# input steps are sized as if this much room were left (see _input_step): what a streamed
# body holds at once is a few of these, however much its input decodes to.
_UNCAPPED_STEP = 2**20
# How much input a deflate body may take before a zlib stream that has produced nothing is no
# longer suspected of being raw deflate.
_DEFLATE_PROBE_LIMIT = 64 * 2**10
_GZIP_MAGIC = b"\x1f\x8b"


def _import_optional(name: str) -> Any:
    """Import an optional module, or return None if it is absent or fails to import.

    Args:
        name: the module's name.

    Returns:
        The module, or None.
    """
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _load_brotli() -> Any:
    """The brotli binding to use: `brotli`, else `brotlicffi`, if it can bound its output.

    Only releases with `Decompressor.can_accept_more_data` (brotli and brotlicffi 1.2 and later)
    take an output limit per `process()` call; older ones decode any input in full, and a few
    bytes can decode to 16 MiB (CVE-2025-6176). Those are treated as not installed.

    Returns:
        The module, or None.
    """
    for name in ("brotli", "brotlicffi"):
        module = _import_optional(name)
        if module is not None and hasattr(module.Decompressor, "can_accept_more_data"):
            return module
    return None


_brotli: Any = _load_brotli()
_zstd: Any = _import_optional("zstandard")


def _accept_encoding() -> bytes:
    """The Accept-Encoding value for the codings this module can undo (RFC 9110 §12.5.3).

    Returns:
        `gzip, deflate`, then `br` and `zstd` when their libraries are there.
    """
    codings = [b"gzip", b"deflate"]
    if _brotli is not None:
        codings.append(b"br")
    if _zstd is not None:
        codings.append(b"zstd")
    return b", ".join(codings)


ACCEPT_ENCODING: bytes = _accept_encoding()


class Decoder:
    """Undoes the content codings of one body, incrementally.

    Feed the body with `decode()` in pieces of any size, then call `flush()` once at its end.
    This base class passes the bytes through unchanged; the subclasses undo one coding each.

    Attributes:
        undecoded: the codings the output still carries, in the order they were applied (empty
            unless the Content-Encoding named a coding that cannot be undone).
    """

    __slots__ = ("undecoded",)

    def __init__(self) -> None:
        self.undecoded: tuple[str, ...] = ()

    def decode(self, data: bytes) -> bytes:
        """Decode the next piece of the coded body.

        Args:
            data: the next bytes of the body as received (empty is allowed).

        Returns:
            The decoded bytes they complete, possibly empty.

        Raises:
            DecodingError: the data is corrupt, or decodes to more than the cap.
        """
        return data

    def pieces(self, data: bytes) -> Iterator[bytes]:
        """Decode the next piece of the coded body, yielding the output as it is made, in
        pieces of bounded size (see the module's docstring); `decode` is these joined.

        Raises:
            DecodingError: as `decode`, when the piece that passes the cap or the corrupt byte
                is reached.
        """
        yield self.decode(data)

    def flush(self) -> bytes:
        """End the body: return the last decoded bytes and check that the coding ended.

        Returns:
            The decoded bytes still held back, usually empty.

        Raises:
            DecodingError: the coded body stopped before its end (a truncated stream).
        """
        return b""


class IdentityDecoder(Decoder):
    """No coding left to undo: the input is returned as it is, the same object, at no cost."""

    __slots__ = ()


class _CappedDecoder(Decoder):
    """Shared by the decoders of one coding: the name for messages and the output cap.

    A subclass writes `pieces`; `decode` joins them."""

    __slots__ = ("_max_size", "_seen", "_total", "coding")

    def __init__(self, coding: str, max_size: int | None) -> None:
        super().__init__()
        self.coding = coding
        self._max_size = max_size
        self._total = 0
        self._seen = False

    def _step(self) -> int:
        """The most output the next library call may make.

        At most `_OUTPUT_STEP`, and at most one byte past the cap, so that reaching the limit
        of a call either means "more to come" or "the cap is passed".

        Returns:
            A positive byte count.
        """
        if self._max_size is None:
            return _UNCAPPED_STEP
        return min(self._max_size - self._total + 1, _OUTPUT_STEP)

    def decode(self, data: bytes) -> bytes:
        """Decode the next piece of the coded body (see `Decoder.decode`)."""
        pieces = [piece for piece in self.pieces(data) if piece]
        if len(pieces) == 1:
            return pieces[0]
        return b"".join(pieces)

    def _count(self, out: bytes) -> None:
        """Add freshly decoded output to the total, and stop at the cap.

        Args:
            out: the bytes just decoded.

        Raises:
            DecodingError: the total passed `max_size`.
        """
        self._total += len(out)
        if self._max_size is not None and self._total > self._max_size:
            raise DecodingError(
                f"{self.coding} body decodes to more than {self._max_size} bytes, the limit on a"
                " decoded body (max_size); raise it to accept a larger body"
            )

    def _inflate(self, obj: zlib._Decompress, data: bytes) -> Iterator[bytes]:
        """Run zlib on the data within the cap: one call, unless the output is large.

        zlib's `max_length` bounds each call's output buffer; the input it has not reached is
        kept in `unconsumed_tail`, and output it holds back comes out of the next call.

        Args:
            obj: a zlib decompressor.
            data: coded bytes.

        Yields:
            What they decode to, a call's output at a time.

        Raises:
            zlib.error: the data is corrupt (the caller names the coding).
            DecodingError: the output passed the cap.
        """
        step = self._step()
        out = obj.decompress(data, step)
        self._count(out)
        yield out
        while len(out) == step and not obj.eof:
            step = self._step()
            out = obj.decompress(obj.unconsumed_tail, step)
            self._count(out)
            yield out

    def _corrupt(self, exc: BaseException) -> DecodingError:
        """The error for a coded body the library rejected (raise it `from` exc)."""
        return DecodingError(f"{self.coding} body is corrupt: {exc}")

    def _truncated(self) -> DecodingError:
        """The error for a coded body that stopped before its end."""
        return DecodingError(f"{self.coding} body is truncated: it ended before its coding did")


class GzipDecoder(_CappedDecoder):
    """The gzip coding (RFC 9110 §8.4.1.3, RFC 1952), every member of a multi-member body.

    RFC 1952 §2.2: "A gzip file consists of a series of "members" (compressed data sets)." Each
    member is decoded in turn, as browsers and urllib3 do. After a complete member, bytes that do
    not start with the gzip magic number end the body and are ignored.

    Memory: zlib's `max_length` bounds each call's output to 4 MiB and to one byte past the cap,
    so the output held never passes the cap by more than that; the input zlib has not reached
    yet is held as `unconsumed_tail`, at most the input.
    """

    __slots__ = ("_ignoring", "_obj", "_pending")

    def __init__(
        self, coding: str = "gzip", max_size: int | None = DEFAULT_MAX_DECODED_SIZE
    ) -> None:
        super().__init__(coding, max_size)
        self._obj: zlib._Decompress | None = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._pending = b""  # the first byte of what may be the next member's magic number
        self._ignoring = False

    def pieces(self, data: bytes) -> Iterator[bytes]:
        """Decode the next piece: the current member, and any members that follow in it."""
        if self._ignoring or not data:
            return
        self._seen = True
        while data:
            obj = self._obj
            if obj is None:  # between members: does another one start here?
                data = self._pending + data
                self._pending = b""
                if len(data) < len(_GZIP_MAGIC) and _GZIP_MAGIC.startswith(data):
                    self._pending = data
                    break
                if not data.startswith(_GZIP_MAGIC):
                    self._ignoring = True
                    break
                obj = self._obj = zlib.decompressobj(16 + zlib.MAX_WBITS)
            try:
                yield from self._inflate(obj, data)
            except zlib.error as exc:
                raise self._corrupt(exc) from exc
            if not obj.eof:
                break
            data = obj.unused_data
            self._obj = None

    def flush(self) -> bytes:
        """End the body: the last member must have ended (its CRC-32 and size checked)."""
        if self._obj is not None and self._seen and not self._obj.eof:
            raise self._truncated()
        return b""


class DeflateDecoder(_CappedDecoder):
    """The deflate coding (RFC 9110 §8.4.1.2): the zlib format, or raw deflate in its place.

    §8.4.1.2: "Note: Some non-conformant implementations send the "deflate" compressed data
    without the zlib wrapper." The body is decoded as zlib; if zlib rejects it before producing
    any output (raw deflate fails zlib's header check at its first two bytes, unless an encoder
    set padding bits), it is decoded again from the start as raw deflate, as browsers and urllib3
    do. If that fails too, zlib's complaint is the one reported. Bytes after the final block are
    ignored. Memory: as for gzip.
    """

    __slots__ = ("_obj", "_probe", "_probe_size")

    def __init__(
        self, coding: str = "deflate", max_size: int | None = DEFAULT_MAX_DECODED_SIZE
    ) -> None:
        super().__init__(coding, max_size)
        self._obj: zlib._Decompress = zlib.decompressobj(zlib.MAX_WBITS)
        # The input so far, while a fall back to raw deflate is still possible; then None.
        self._probe: list[bytes] | None = []
        self._probe_size = 0

    def pieces(self, data: bytes) -> Iterator[bytes]:
        """Decode the next piece, as zlib unless zlib rejected the start of the body."""
        if not data or self._obj.eof:
            return
        self._seen = True
        probe = self._probe
        try:
            if probe is None:
                yield from self._inflate(self._obj, data)
                return
            probe.append(data)
            self._probe_size += len(data)
            made = self._inflate(self._obj, data)
            try:
                first = next(made)
            except zlib.error as exc:
                self._probe = None
                self._obj = zlib.decompressobj(-zlib.MAX_WBITS)
                self._total = 0  # nothing was returned yet: the probe is all there was
                try:
                    first = next(made := self._inflate(self._obj, b"".join(probe)))
                except zlib.error:  # neither format: zlib's complaint is the one to report
                    raise exc from None
            if first or self._obj.eof or self._probe_size > _DEFLATE_PROBE_LIMIT:
                self._probe = None
            yield first
            yield from made
        except zlib.error as exc:
            raise self._corrupt(exc) from exc

    def flush(self) -> bytes:
        """End the body: the final block must have ended (and, for zlib, its Adler-32)."""
        if self._seen and not self._obj.eof:
            raise self._truncated()
        return b""


class BrotliDecoder(_CappedDecoder):
    """The br coding (RFC 7932), with brotli or brotlicffi 1.2 or later.

    Memory: `process(data, output_buffer_limit)` stops growing its output buffer once it holds
    the limit, 4 MiB or one byte past the cap. The buffer grows in blocks (32 KiB, 64 KiB,
    256 KiB, 1 MiB, 4 MiB, ...), so one call makes at most 5.34 MiB, and never much more than
    the cap allows. The decoder's own window (up to 16 MiB) is not counted.
    """

    __slots__ = ("_error", "_obj")

    def __init__(self, coding: str = "br", max_size: int | None = DEFAULT_MAX_DECODED_SIZE) -> None:
        if _brotli is None:  # make_decoder never asks for it then
            raise DecodingError("br is not supported: install brotli 1.2 or later")
        super().__init__(coding, max_size)
        self._obj: Any = _brotli.Decompressor()
        self._error: type[Exception] = _brotli.error

    def pieces(self, data: bytes) -> Iterator[bytes]:
        """Decode the next piece, each call's output buffer bounded."""
        if not data:
            return
        self._seen = True
        obj = self._obj
        step = self._step()
        try:
            # Positional: the limit is `output_buffer_limit` in brotli, another name elsewhere.
            out: bytes = obj.process(data, step)
            self._count(out)
            yield out
            # Reaching the limit means more is held back: it comes from calls without input,
            # which must not take any before `can_accept_more_data()`.
            while len(out) >= step and not obj.is_finished():
                step = self._step()
                out = obj.process(b"", step)
                self._count(out)
                yield out
        except self._error as exc:
            raise self._corrupt(exc) from exc

    def flush(self) -> bytes:
        """End the body: the brotli stream must have reached its last meta-block."""
        try:
            finished = self._obj.is_finished()
        except self._error as exc:  # pragma: no cover - only on a decoder already failed
            raise self._corrupt(exc) from exc
        if self._seen and not finished:
            raise self._truncated()
        return b""


class ZstdDecoder(_CappedDecoder):
    """The zstd coding (RFC 8878), with zstandard: any number of frames, of any content size.

    Memory: zstandard's incremental decoder has no output limit, so the input is fed in steps
    small enough that even the worst case (RLE blocks: 4 bytes for 128 KiB) stays within the
    room left under the cap plus 1 MiB; while the cap is far, the steps are kilobytes and cost
    nothing measurable. Frames needing a window above 8 MiB are refused (RFC 9659).
    """

    __slots__ = ("_dctx", "_error", "_obj")

    def __init__(
        self, coding: str = "zstd", max_size: int | None = DEFAULT_MAX_DECODED_SIZE
    ) -> None:
        if _zstd is None:  # make_decoder never asks for it then
            raise DecodingError("zstd is not supported: install zstandard")
        super().__init__(coding, max_size)
        self._dctx: Any = _zstd.ZstdDecompressor(max_window_size=ZSTD_MAX_WINDOW_SIZE)
        self._error: type[Exception] = _zstd.ZstdError
        self._obj: Any = None  # the current frame's decoder, None between frames

    def _input_step(self) -> int:
        """How many input bytes may go in at once without passing the room plus the slack.

        Returns:
            A positive byte count.
        """
        if self._max_size is None:
            room = _UNCAPPED_STEP + _ZSTD_SLACK
        else:
            room = max(self._max_size - self._total, 0) + _ZSTD_SLACK
        return _ZSTD_MIN_BLOCK * max(1, room // _ZSTD_BLOCK_MAX - 1)

    def pieces(self, data: bytes) -> Iterator[bytes]:
        """Decode the next piece in bounded steps, starting a new frame after each one."""
        if not data:
            return
        self._seen = True
        view = memoryview(data)
        size = len(view)
        position = 0
        try:
            while position < size:
                obj = self._obj
                if obj is None:
                    obj = self._obj = self._dctx.decompressobj()
                end = min(size, position + self._input_step())
                out: bytes = obj.decompress(view[position:end])
                self._count(out)
                yield out
                if obj.eof:  # the frame ended: what follows it starts the next one
                    end -= len(obj.unused_data)
                    self._obj = None
                position = end
        except self._error as exc:
            raise self._corrupt(exc) from exc

    def flush(self) -> bytes:
        """End the body: no frame may be left unfinished."""
        if self._obj is not None:  # a frame was begun and not finished
            raise self._truncated()
        return b""


class MultiDecoder(Decoder):
    """Several codings: each piece goes through the decoders in turn, the last applied first."""

    __slots__ = ("decoders",)

    def __init__(self, decoders: list[Decoder]) -> None:
        super().__init__()
        self.decoders = decoders

    def decode(self, data: bytes) -> bytes:
        """Pass the piece through every decoder, the last coding applied first."""
        for decoder in self.decoders:
            if not data:
                return b""
            data = decoder.decode(data)
        return data

    def pieces(self, data: bytes) -> Iterator[bytes]:
        """Pass the piece through every decoder, each one's output as it is made."""
        yield from self._through(0, data)

    def _through(self, index: int, data: bytes) -> Iterator[bytes]:
        if index == len(self.decoders):
            yield data
            return
        for piece in self.decoders[index].pieces(data):
            if piece:
                yield from self._through(index + 1, piece)

    def flush(self) -> bytes:
        """Flush each decoder in turn, feeding what it held back to the next one."""
        carry = b""
        for decoder in self.decoders:
            carry = decoder.decode(carry)
            tail = decoder.flush()
            if tail:
                carry += tail
        return carry


def _supported(coding: str) -> bool:
    """Whether a coding (lowercase) can be undone here.

    Args:
        coding: a content-coding token, lowercase.

    Returns:
        True for gzip, x-gzip and deflate, and for br and zstd when installed.
    """
    if coding in ("gzip", "x-gzip", "deflate"):
        return True
    if coding == "br":
        return _brotli is not None
    if coding == "zstd":
        return _zstd is not None
    return False


def _make_one(coding: str, max_size: int | None) -> Decoder:
    """The decoder of one supported coding.

    Args:
        coding: a supported content-coding token, lowercase.
        max_size: the cap on its output.

    Returns:
        A fresh decoder.
    """
    if coding == "deflate":
        return DeflateDecoder(coding, max_size)
    if coding == "br":
        return BrotliDecoder(coding, max_size)
    if coding == "zstd":
        return ZstdDecoder(coding, max_size)
    return GzipDecoder(coding, max_size)


def parse_content_encoding(value: str | bytes | None) -> list[str]:
    """The codings a Content-Encoding value names, in the order they were applied.

    RFC 9110 §8.4: `Content-Encoding = #content-coding`; §8.4.1: "All content codings are
    case-insensitive"; §5.6.1.2: "A recipient MUST parse and ignore a reasonable number of
    empty list elements"; `identity` means no coding (§12.5.3) and is left out. Several field
    lines are to be joined with commas first (§5.3).

    Args:
        value: the field value (bytes are read as Latin-1), or None.

    Returns:
        Lowercase tokens, without empty elements and without `identity`.
    """
    if not value:
        return []
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    codings = []
    for element in value.split(","):
        coding = element.strip(" \t").lower()
        if coding and coding != "identity":
            codings.append(coding)
    return codings


def make_decoder(
    content_encoding: str | bytes | None,
    *,
    max_size: int | None = DEFAULT_MAX_DECODED_SIZE,
) -> Decoder:
    """Make the decoder for a body with this Content-Encoding.

    RFC 9110 §8.4: "If one or more encodings have been applied to a representation, the sender
    that applied the encodings MUST generate a Content-Encoding header field that lists the
    content codings in the order in which they were applied." So they are undone from the last
    to the first. Undoing stops at the last coding that cannot be undone: it and those applied
    before it stay, listed in `undecoded`, and the body comes out coded with them.

    Args:
        content_encoding: the field value (several lines joined with ","), or None.
        max_size: the most bytes each coding may decode to; None for no cap.

    Returns:
        A fresh decoder for one body: identity, one coding's decoder, or a `MultiDecoder`.

    Raises:
        ValueError: max_size is negative.
        DecodingError: more than `MAX_CODINGS` codings are listed.
    """
    if max_size is not None and max_size < 0:
        raise ValueError(f"max_size must be None or at least 0, not {max_size}")
    codings = parse_content_encoding(content_encoding)
    if len(codings) > MAX_CODINGS:
        raise DecodingError(
            f"Content-Encoding lists {len(codings)} codings; at most {MAX_CODINGS} are "
            "undone (a longer chain only serves to exhaust memory)"
        )
    stages: list[Decoder] = []
    while codings and _supported(codings[-1]):
        stages.append(_make_one(codings.pop(), max_size))
    decoder: Decoder
    if not stages:
        decoder = IdentityDecoder()
    elif len(stages) == 1:
        decoder = stages[0]
    else:
        decoder = MultiDecoder(stages)
    decoder.undecoded = tuple(codings)
    return decoder
