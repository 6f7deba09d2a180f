"""Content codings of a response body (RFC 9110 §8.4): `aioreq.client._decoders`.

Every coding round-trips any bytes cut into any pieces; chains are undone last-applied first;
truncated bodies fail at `flush()`, corrupt ones at `decode()`, both as `DecodingError`; and a
decompression bomb (a gigabyte of zeros) stops at the cap without the memory to hold it.
"""

from __future__ import annotations

import functools
import gzip
import importlib.util
import itertools
import sys
import tracemalloc
import types
import zlib
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from aioreq import DecodingError
from aioreq.client import _decoders
from aioreq.client._decoders import (
    ACCEPT_ENCODING,
    DEFAULT_MAX_DECODED_SIZE,
    Decoder,
    IdentityDecoder,
    MultiDecoder,
    make_decoder,
    parse_content_encoding,
)

brotli: Any = _decoders._brotli
zstd: Any = _decoders._zstd
needs_br = pytest.mark.skipif(brotli is None, reason="brotli 1.2 or later is not installed")
needs_zstd = pytest.mark.skipif(zstd is None, reason="zstandard is not installed")
MiB = 2**20


def gzip_encode(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def raw_deflate_encode(data: bytes) -> bytes:
    encoder = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return encoder.compress(data) + encoder.flush()


def br_encode(data: bytes) -> bytes:
    return bytes(brotli.compress(data, quality=4))


def zstd_encode(data: bytes, *, content_size: bool = True) -> bytes:
    return bytes(zstd.ZstdCompressor(write_content_size=content_size).compress(data))


# Each row: the name of a test case -> (the Content-Encoding token, the encoder).
ENCODERS: dict[str, tuple[str, Callable[[bytes], bytes]]] = {
    "gzip": ("gzip", gzip_encode),
    "x-gzip": ("x-gzip", gzip_encode),
    "deflate-zlib": ("deflate", zlib.compress),
    "deflate-raw": ("deflate", raw_deflate_encode),
    "br": ("br", br_encode),
    "zstd": ("zstd", zstd_encode),
}
MARKS = {"br": needs_br, "zstd": needs_zstd}
CASES = [pytest.param(name, marks=MARKS.get(name, ()), id=name) for name in ENCODERS]
INSTALLED = {"br": brotli is not None, "zstd": zstd is not None}
AVAILABLE = [name for name in ENCODERS if INSTALLED.get(name, True)]
TOKENS = sorted({ENCODERS[name][0] for name in AVAILABLE})


def cut(data: bytes, cuts: Sequence[int]) -> list[bytes]:
    """The data cut at the given offsets (in any order, repeats allowed: empty pieces too)."""
    points = [0, *sorted(min(max(c, 0), len(data)) for c in cuts), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(points)]


def decode_all(decoder: Decoder, pieces: Sequence[bytes]) -> bytes:
    out = [decoder.decode(piece) for piece in pieces]
    out.append(decoder.flush())
    return b"".join(out)


def run(content_encoding: str | bytes | None, coded: bytes, **kwargs: Any) -> bytes:
    return decode_all(make_decoder(content_encoding, **kwargs), [coded])


# --- Round trips ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", CASES)
@settings(deadline=None, max_examples=60)
@given(data=st.binary(max_size=3000) | st.binary(max_size=8).map(lambda b: b * 700), draw=st.data())
def test_any_bytes_cut_anywhere_round_trip(name: str, data: bytes, draw: st.DataObject) -> None:
    token, encode = ENCODERS[name]
    coded = encode(data)
    cuts = draw.draw(st.lists(st.integers(0, len(coded)), max_size=8), label="cuts")
    assert decode_all(make_decoder(token), cut(coded, cuts)) == data


@settings(deadline=None, max_examples=60)
@given(
    data=st.binary(max_size=2000),
    names=st.lists(st.sampled_from(AVAILABLE), max_size=4),
    separator=st.sampled_from([",", ", ", " ,\t", ",,", ", identity, "]),
    upper=st.booleans(),
    draw=st.data(),
)
def test_chains_are_undone_last_applied_first(
    data: bytes, names: list[str], separator: str, upper: bool, draw: st.DataObject
) -> None:
    """RFC 9110 §8.4: the codings are listed "in the order in which they were applied"."""
    coded = data
    for name in names:
        coded = ENCODERS[name][1](coded)
    value = separator.join(ENCODERS[name][0] for name in names)
    value = value.upper() if upper else value
    cuts = draw.draw(st.lists(st.integers(0, len(coded)), max_size=6), label="cuts")
    decoder = make_decoder(value.encode("latin-1"))
    assert decoder.undecoded == ()
    assert decode_all(decoder, cut(coded, cuts)) == data
    if len(names) > 1:
        assert isinstance(decoder, MultiDecoder)


@settings(deadline=None, max_examples=40)
@given(parts=st.lists(st.binary(max_size=500), min_size=1, max_size=5), draw=st.data())
def test_every_gzip_member_is_decoded(parts: list[bytes], draw: st.DataObject) -> None:
    """RFC 1952 §2.2: a gzip file is a series of members; all of them are the body."""
    coded = b"".join(gzip_encode(part) for part in parts)
    cuts = draw.draw(st.lists(st.integers(0, len(coded)), max_size=8), label="cuts")
    assert decode_all(make_decoder("gzip"), cut(coded, cuts)) == b"".join(parts)


@needs_zstd
@settings(deadline=None, max_examples=40)
@given(
    parts=st.lists(st.tuples(st.binary(max_size=500), st.booleans()), min_size=1, max_size=5),
    draw=st.data(),
)
def test_every_zstd_frame_is_decoded(parts: list[tuple[bytes, bool]], draw: st.DataObject) -> None:
    """Several frames, each with or without its content size (a streaming encoder's frames)."""
    coded = b"".join(zstd_encode(part, content_size=known) for part, known in parts)
    cuts = draw.draw(st.lists(st.integers(0, len(coded)), max_size=8), label="cuts")
    assert decode_all(make_decoder("zstd"), cut(coded, cuts)) == b"".join(p for p, _ in parts)


@needs_zstd
def test_zstd_streamed_frame_and_skippable_frame() -> None:
    encoder = zstd.ZstdCompressor().compressobj()  # a frame of unknown content size
    streamed = encoder.compress(b"streamed " * 100) + encoder.flush()
    assert zstd.get_frame_parameters(streamed).content_size == zstd.CONTENTSIZE_UNKNOWN
    # RFC 8878 §3.1.2: a skippable frame (magic 0x184D2A5?) carries nothing to decode.
    skippable = (0x184D2A50).to_bytes(4, "little") + (3).to_bytes(4, "little") + b"abc"
    coded = skippable + streamed + skippable
    assert decode_all(make_decoder("zstd"), cut(coded, range(0, len(coded), 5))) == (
        b"streamed " * 100
    )


@pytest.mark.parametrize("name", CASES)
def test_empty_body_decodes_to_nothing(name: str) -> None:
    """A body of no bytes at all, labelled with a coding: nothing to decode, nothing truncated."""
    token, _ = ENCODERS[name]
    decoder = make_decoder(token)
    assert decoder.decode(b"") == b""
    assert decoder.flush() == b""


def test_deflate_falls_back_to_raw_even_past_a_valid_zlib_header() -> None:
    """Raw deflate whose first block is stored with padding bits set begins "78 01", a valid
    zlib header: zlib fails only later, before any output, and raw deflate takes over."""
    raw = b"\x78\x01\x00\xfe\xff" + b"A" + b"\x01\x00\x00\xff\xff"
    assert zlib.decompress(raw, -zlib.MAX_WBITS) == b"A"
    assert decode_all(make_decoder("deflate"), cut(raw, [1, 2, 3, 6])) == b"A"


# --- Field values ---------------------------------------------------------------------------

FIELD_VALUES = [
    pytest.param(None, [], id="none"),
    pytest.param("", [], id="empty"),
    pytest.param(b"", [], id="empty-bytes"),
    pytest.param("identity", [], id="identity"),
    pytest.param("IDENTITY", [], id="identity-upper"),
    pytest.param("gzip", ["gzip"], id="gzip"),
    pytest.param(b" GZip\t", ["gzip"], id="case-and-whitespace"),
    pytest.param("X-GZIP", ["x-gzip"], id="x-gzip"),
    # §5.6.1.2: "A recipient MUST parse and ignore a reasonable number of empty list elements"
    pytest.param(",gzip,, ,br,", ["gzip", "br"], id="empty-elements"),
    pytest.param("gzip, identity, br", ["gzip", "br"], id="identity-in-a-chain"),
    # Two field lines joined as §5.3 says: "gzip" then "br" is "gzip, br".
    pytest.param(b"gzip, br", ["gzip", "br"], id="joined-lines"),
    pytest.param("compress", ["compress"], id="unknown"),
]


@pytest.mark.parametrize(("value", "codings"), FIELD_VALUES)
def test_field_value_parsing(value: str | bytes | None, codings: list[str]) -> None:
    assert parse_content_encoding(value) == codings


@pytest.mark.parametrize("value", [None, "", "identity", " Identity ", ",", "identity,identity"])
def test_identity_returns_the_very_same_object(value: str | None) -> None:
    decoder = make_decoder(value)
    assert type(decoder) is IdentityDecoder
    assert decoder.undecoded == ()
    body = b"not coded at all" * 1000
    assert decoder.decode(body) is body
    assert decoder.flush() == b""


@pytest.mark.parametrize("name", [p for p in CASES if p.values[0] != "x-gzip"])
def test_a_single_coding_gets_its_own_decoder_without_a_chain(name: str) -> None:
    decoder = make_decoder(ENCODERS[name][0])
    assert not isinstance(decoder, (MultiDecoder, IdentityDecoder))


# --- Codings that cannot be undone ----------------------------------------------------------

# Each row: Content-Encoding -> (what the body is coded with, in order, what stays undecoded).
UNDECODABLE = [
    pytest.param("compress", [], ("compress",), id="unknown-alone"),
    pytest.param("gzip, compress", ["gzip"], ("gzip", "compress"), id="unknown-applied-last"),
    pytest.param("compress, gzip", ["gzip"], ("compress",), id="unknown-applied-first"),
    pytest.param("aes128gcm, gzip, deflate", ["gzip", "deflate-zlib"], ("aes128gcm",),
                 id="chain-after-unknown"),
]  # fmt: skip


@pytest.mark.parametrize(("value", "applied", "undecoded"), UNDECODABLE)
def test_an_unknown_coding_passes_through_and_is_reported(
    value: str, applied: list[str], undecoded: tuple[str, ...]
) -> None:
    """Undoing stops at the last coding that cannot be undone; it and those before it stay."""
    body = b"the representation data " * 20
    coded = body
    for name in applied:
        coded = ENCODERS[name][1](coded)
    decoder = make_decoder(value)
    assert decoder.undecoded == undecoded
    out = decode_all(decoder, [coded])
    if undecoded == tuple(value.split(", ")):
        assert out == coded  # nothing could be undone: the body as received
    else:
        assert out == body  # the unknown coding was applied to the original "body" here


@pytest.mark.parametrize(("token", "attribute"), [("br", "_brotli"), ("zstd", "_zstd")])
def test_an_uninstalled_coding_is_an_unknown_one(
    monkeypatch: pytest.MonkeyPatch, token: str, attribute: str
) -> None:
    monkeypatch.setattr(_decoders, attribute, None)
    coded = b"\x00\x01 not decoded"
    decoder = make_decoder(f"{token}, identity")
    assert type(decoder) is IdentityDecoder
    assert decoder.undecoded == (token,)
    assert decoder.decode(coded) is coded


# --- Truncated and corrupt bodies -----------------------------------------------------------


@pytest.mark.parametrize("name", CASES)
@settings(deadline=None, max_examples=40)
@given(data=st.binary(max_size=1000), draw=st.data())
def test_a_truncated_body_fails_at_flush(name: str, data: bytes, draw: st.DataObject) -> None:
    token, encode = ENCODERS[name]
    coded = encode(data)
    assume(len(coded) > 1)  # brotli codes an empty body in one byte
    end = draw.draw(st.integers(1, len(coded) - 1), label="end")
    decoder = make_decoder(token)
    decoder.decode(coded[:end])
    with pytest.raises(DecodingError, match=rf"^{token} body is truncated"):
        decoder.flush()


def _flip_last(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 0xFF])


def _gzip_bad_crc() -> bytes:
    coded = bytearray(gzip_encode(b"hello world"))
    coded[-8] ^= 0xFF  # the CRC-32 of the trailer
    return bytes(coded)


def _zstd_big_window() -> bytes:
    params = zstd.ZstdCompressionParameters(window_log=24)  # 16 MiB: RFC 9659 allows 8 MB
    encoder = zstd.ZstdCompressor(compression_params=params).compressobj()
    return bytes(encoder.compress(b"x" * 100) + encoder.flush())


# Each row: Content-Encoding, a function making the corrupt body, the library's exception.
CORRUPT = [
    pytest.param("gzip", lambda: b"this is not gzip", zlib.error, id="gzip-no-magic"),
    pytest.param("gzip", _gzip_bad_crc, zlib.error, id="gzip-bad-crc"),
    pytest.param("x-gzip", lambda: b"\x1f\x8b\x09" + b"\x00" * 20, zlib.error,
                 id="x-gzip-bad-method"),
    pytest.param("gzip", lambda: gzip_encode(b"one") + b"\x1f\x8b\xff\xff\xff\xff", zlib.error,
                 id="gzip-corrupt-second-member"),
    pytest.param("deflate", lambda: b"\xff\xff\xff\xff", zlib.error, id="deflate-neither"),
    pytest.param("deflate", lambda: _flip_last(zlib.compress(b"abc" * 50)), zlib.error,
                 id="deflate-bad-adler32"),
    pytest.param("br", lambda: b"\xff\xff\xff\xff\xff", "brotli", id="br-garbage",
                 marks=needs_br),
    pytest.param("br", lambda: br_encode(b"abc") + b"after the end", "brotli",
                 id="br-bytes-after-the-end", marks=needs_br),
    pytest.param("zstd", lambda: b"not zstd at all", "zstd", id="zstd-no-magic",
                 marks=needs_zstd),
    pytest.param("zstd", lambda: zstd_encode(b"abc") + b"after the end", "zstd",
                 id="zstd-bytes-after-the-end", marks=needs_zstd),
    pytest.param("zstd", _zstd_big_window, "zstd", id="zstd-window-over-8MiB",
                 marks=needs_zstd),
    pytest.param("gzip, br", lambda: b"\xff\xff\xff\xff\xff", "brotli",
                 id="chain-names-the-failing-coding", marks=needs_br),
]  # fmt: skip


@pytest.mark.parametrize(("value", "make", "library_error"), CORRUPT)
def test_a_corrupt_body_fails_at_decode(
    value: str, make: Callable[[], bytes], library_error: type[Exception] | str
) -> None:
    if library_error == "brotli":
        library_error = brotli.error
    elif library_error == "zstd":
        library_error = zstd.ZstdError
    assert isinstance(library_error, type)
    failing = value.split(", ")[-1]
    decoder = make_decoder(value)
    with pytest.raises(DecodingError, match=rf"^{failing} body is corrupt: ") as caught:
        decoder.decode(make())
    assert isinstance(caught.value.__cause__, library_error)


@pytest.mark.parametrize(
    "trailing",
    [b"\x00" * 16, b"garbage after the member", b"\x1f", b"\x1f\x00\x00"],
    ids=["nul-padding", "garbage", "half-a-magic", "magic-prefix-then-not"],
)
def test_bytes_after_the_last_gzip_member_are_ignored(trailing: bytes) -> None:
    coded = gzip_encode(b"body") + trailing
    for cuts in ([], [len(coded) - len(trailing) + 1], range(len(coded))):
        assert decode_all(make_decoder("gzip"), cut(coded, cuts)) == b"body"


@pytest.mark.parametrize("encode", [zlib.compress, raw_deflate_encode], ids=["zlib", "raw"])
def test_bytes_after_the_final_deflate_block_are_ignored(encode: Callable[[bytes], bytes]) -> None:
    coded = encode(b"body" * 50)
    decoder = make_decoder("deflate")
    assert decoder.decode(coded) == b"body" * 50
    assert decoder.decode(b"anything after the end") == b""
    assert decoder.flush() == b""


# --- The cap on the decoded size ------------------------------------------------------------


@pytest.mark.parametrize("name", CASES)
def test_the_cap_is_inclusive(name: str) -> None:
    token, encode = ENCODERS[name]
    body = bytes(range(256)) * 40
    coded = encode(body)
    assert run(token, coded, max_size=len(body)) == body
    assert run(token, coded, max_size=None) == body
    with pytest.raises(DecodingError, match=rf"^{token} body decodes to more than 10239 bytes"):
        run(token, coded, max_size=len(body) - 1)


@functools.cache
def large_body() -> bytes:
    """9 MiB and a bit that compress well but not to nothing: over two 4 MiB output steps."""
    return b"".join(bytes([i % 251]) * 4000 + bytes(range(i % 97)) for i in range(2400))


@pytest.mark.parametrize("name", CASES)
def test_a_large_output_comes_in_steps_and_the_cap_still_holds(name: str) -> None:
    """One `decode()` whose output is many times zlib's and brotli's 4 MiB per call."""
    token, encode = ENCODERS[name]
    body = large_body()
    assert len(body) > 9 * MiB
    coded = encode(body)
    assert run(token, coded) == body
    assert decode_all(make_decoder(token), cut(coded, [len(coded) // 3, len(coded) // 2])) == body
    assert run(token, coded, max_size=len(body)) == body
    with pytest.raises(DecodingError, match=rf"more than {len(body) - 1} bytes"):
        run(token, coded, max_size=len(body) - 1)
    with pytest.raises(DecodingError, match=rf"more than {5 * MiB} bytes"):
        run(token, coded, max_size=5 * MiB)


def test_a_chain_passes_what_a_flush_returns_to_the_next_decoder() -> None:
    class HoldsBack(Decoder):
        """Keeps everything until the end of the body (a decoder is allowed to)."""

        def __init__(self) -> None:
            super().__init__()
            self.held = b""

        def decode(self, data: bytes) -> bytes:
            self.held += data
            return b""

        def flush(self) -> bytes:
            return self.held

    coded = gzip_encode(b"held back")
    chain = MultiDecoder([HoldsBack(), make_decoder("gzip")])
    assert decode_all(chain, cut(coded, [3, 10])) == b"held back"


@pytest.mark.parametrize(
    ("cls", "attribute"),
    [(_decoders.BrotliDecoder, "_brotli"), (_decoders.ZstdDecoder, "_zstd")],
    ids=["br", "zstd"],
)
def test_a_decoder_of_an_absent_library_cannot_be_made(
    monkeypatch: pytest.MonkeyPatch, cls: type[Decoder], attribute: str
) -> None:
    monkeypatch.setattr(_decoders, attribute, None)
    with pytest.raises(DecodingError, match="is not supported: install"):
        cls()


def test_each_coding_of_a_chain_is_capped() -> None:
    body = b"\x00" * 5000
    coded = gzip_encode(gzip_encode(body))
    assert run("gzip, gzip", coded, max_size=5000) == body
    with pytest.raises(DecodingError, match="more than 4999 bytes"):
        run("gzip, gzip", coded, max_size=4999)


def test_identity_is_not_capped() -> None:
    body = b"x" * 100
    assert make_decoder("identity", max_size=10).decode(body) is body


def test_the_default_cap_and_a_negative_one() -> None:
    assert make_decoder("gzip")._max_size == DEFAULT_MAX_DECODED_SIZE == 64 * MiB  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="max_size"):
        make_decoder("gzip", max_size=-1)


# A gigabyte of zeros, coded without ever holding it: deflate's output for a megabyte of zeros
# after a full flush (which empties the window) is the same every time, so one segment is
# repeated. The trailer is that of the real gigabyte: zlib checks it in the sanity test below.
BOMB_SIZE = 2**30
GIB_OF_ZEROS_CRC32 = 0x5B64C2B0  # zlib.crc32(bytes(2**30))


@functools.cache
def zlib_bomb(wbits: int) -> bytes:
    encoder = zlib.compressobj(9, zlib.DEFLATED, wbits)
    zeros = bytes(MiB)
    first = encoder.compress(zeros) + encoder.flush(zlib.Z_FULL_FLUSH)
    segment = encoder.compress(zeros) + encoder.flush(zlib.Z_FULL_FLUSH)
    end = encoder.flush()
    header = first[: len(first) - len(segment)]
    if wbits > 16:  # gzip: CRC-32 and size, little-endian
        last = end[:-8] + GIB_OF_ZEROS_CRC32.to_bytes(4, "little") + bytes(4)
    elif wbits > 0:  # zlib: Adler-32 of zeros is (n mod 65521) << 16 | 1, big-endian
        last = end[:-4] + ((BOMB_SIZE % 65521) << 16 | 1).to_bytes(4, "big")
    else:
        last = end
    return header + segment * (BOMB_SIZE // MiB) + last


@functools.cache
def stream_bomb(coding: str) -> bytes:
    if coding == "br":
        encoder = brotli.Compressor(quality=1)
        write, finish = encoder.process, encoder.finish
    else:
        encoder = zstd.ZstdCompressor(level=1).compressobj()
        write, finish = encoder.compress, encoder.flush
    zeros = bytes(4 * MiB)
    return b"".join([*(write(zeros) for _ in range(BOMB_SIZE // len(zeros))), finish()])


BOMBS = [
    pytest.param("gzip", lambda: zlib_bomb(16 + zlib.MAX_WBITS), id="gzip"),
    pytest.param("deflate", lambda: zlib_bomb(zlib.MAX_WBITS), id="deflate-zlib"),
    pytest.param("deflate", lambda: zlib_bomb(-zlib.MAX_WBITS), id="deflate-raw"),
    pytest.param("br", lambda: stream_bomb("br"), id="br", marks=needs_br),
    pytest.param("zstd", lambda: stream_bomb("zstd"), id="zstd", marks=needs_zstd),
]


def test_the_zlib_bomb_is_a_real_gigabyte() -> None:
    """The repeated segment trick is sound: a stride of the bomb decodes to zeros, and the
    gzip trailer is where zlib expects it (checked by decoding a tenth-size twin in full)."""
    encoder = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(MiB)
    first = encoder.compress(zeros) + encoder.flush(zlib.Z_FULL_FLUSH)
    segment = encoder.compress(zeros) + encoder.flush(zlib.Z_FULL_FLUSH)
    assert encoder.compress(zeros) + encoder.flush(zlib.Z_FULL_FLUSH) == segment
    end = encoder.flush()
    header = first[: len(first) - len(segment)]
    twin = header + segment * 3 + end[:-8]
    twin += zlib.crc32(bytes(3 * MiB)).to_bytes(4, "little") + (3 * MiB).to_bytes(4, "little")
    assert gzip.decompress(twin) == bytes(3 * MiB)
    assert zlib_bomb(16 + zlib.MAX_WBITS).startswith(header + segment)


@pytest.mark.parametrize("at_once", [True, False], ids=["at-once", "in-64KiB-pieces"])
@pytest.mark.parametrize(("value", "make"), BOMBS)
def test_a_bomb_stops_at_the_cap_in_little_memory(
    value: str, make: Callable[[], bytes], at_once: bool
) -> None:
    """A gigabyte of zeros against a 1 MiB cap: DecodingError, and under 16 MiB traced at peak.

    tracemalloc sees the Python objects (every output buffer and bytes object); the libraries'
    own state (zlib's 32 KiB window, brotli's ring buffer, zstd's window of at most 8 MiB) is
    allocated in C and bounded by the format, not by the input.
    """
    bomb = make()
    pieces = [bomb] if at_once else cut(bomb, range(0, len(bomb), 64 * 1024))
    decoder = make_decoder(value, max_size=MiB)
    tracemalloc.start()
    try:
        with pytest.raises(DecodingError, match=r"more than 1048576 bytes\b.*\(max_size\)"):
            decode_all(decoder, pieces)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * MiB


# --- Accept-Encoding ------------------------------------------------------------------------


def fresh_module(monkeypatch: pytest.MonkeyPatch, **modules: Any) -> types.ModuleType:
    """A new copy of _decoders imported with some optional modules replaced (None: absent)."""
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    spec = importlib.util.spec_from_file_location(
        "aioreq.client._decoders_copy", _decoders.__file__
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_accept_encoding_lists_what_is_installed() -> None:
    expected = b"gzip, deflate"
    expected += b", br" if brotli is not None else b""
    expected += b", zstd" if zstd is not None else b""
    assert expected == ACCEPT_ENCODING


def test_accept_encoding_without_the_optional_libraries(monkeypatch: pytest.MonkeyPatch) -> None:
    module = fresh_module(monkeypatch, brotli=None, brotlicffi=None, zstandard=None)
    assert module.ACCEPT_ENCODING == b"gzip, deflate"
    coded = b"\x28\xb5\x2f\xfd..."
    decoder = module.make_decoder("zstd")
    assert decoder.undecoded == ("zstd",)
    assert decoder.decode(coded) is coded


def test_a_brotli_that_cannot_bound_its_output_is_not_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """brotli before 1.2 has no output limit (CVE-2025-6176): neither advertised nor used."""

    class OldDecompressor:
        def process(self, data: bytes) -> bytes:
            raise AssertionError("an unbounded brotli must not be used")

    old = types.SimpleNamespace(Decompressor=OldDecompressor, error=Exception)
    module = fresh_module(monkeypatch, brotli=old, brotlicffi=None)
    assert b"br" not in module.ACCEPT_ENCODING
    assert module.make_decoder("br").undecoded == ("br",)


@needs_br
def test_brotlicffi_is_the_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    module = fresh_module(monkeypatch, brotli=None, brotlicffi=brotli)
    assert b", br" in module.ACCEPT_ENCODING
    assert run_with(module, "br", br_encode(b"via brotlicffi")) == b"via brotlicffi"


def run_with(module: types.ModuleType, value: str, coded: bytes) -> bytes:
    decoder = module.make_decoder(value)
    return bytes(decoder.decode(coded) + decoder.flush())


def test_a_long_chain_of_codings_is_refused_before_any_decoder_is_made() -> None:
    """urllib3's CVE-2025-66418: thousands of "gzip" in one field made thousands of decoders."""
    from aioreq.client._decoders import MAX_CODINGS

    assert MAX_CODINGS == 5
    assert make_decoder(", ".join(["gzip"] * 5)).undecoded == ()
    with pytest.raises(DecodingError, match="lists 6 codings; at most 5"):
        make_decoder(", ".join(["gzip"] * 6))
    with pytest.raises(DecodingError, match="lists 10000 codings"):
        make_decoder(b", ".join([b"gzip"] * 10_000))
