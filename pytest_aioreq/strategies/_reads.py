"""How a byte string arrives: split into reads, or a little corrupted."""

from __future__ import annotations

import itertools

from hypothesis import strategies as st
from hypothesis.strategies import DrawFn, SearchStrategy

# -- reads and corruption -------------------------------------------------------------------------


def _cut(data: bytes, points: list[int]) -> list[bytes]:
    bounds = [0, *sorted(points), len(data)]
    return [data[start:end] for start, end in itertools.pairwise(bounds)]


def splits(data: bytes, *, max_cuts: int = 8) -> SearchStrategy[list[bytes]]:
    """Draw ways to deliver `data` as a sequence of reads.

    The reads joined give `data` back. Some draws are one read, some one byte per read, some cut
    at random points; cutting twice at one point gives an empty read.

    Args:
        data: the bytes to split.
        max_cuts: most random cut points.

    Returns:
        A strategy of lists of bytes.
    """
    points = st.lists(st.integers(0, len(data)), max_size=max_cuts)
    return st.one_of(
        st.just([data]),
        points.map(lambda cuts: _cut(data, cuts)),
        st.just([data[i : i + 1] for i in range(len(data))]),
    )


_INTERESTING = [
    b"\r", b"\n", b"\r\n", b"\r\n\r\n", b" ", b"\t", b":", b";", b",", b"=", b'"', b"\\", b"\x00",
    b"\x7f", b"\x80", b"\xff", b"0", b"9", b"f", b"-", b"+", b"x", b"HTTP/1.1 ", b"\r\n0\r\n\r\n",
    b"\r\nTransfer-Encoding: chunked", b"\r\nContent-Length: 1", b"\r\nHost: a", b" \r\n",
]  # fmt: skip
_INSERTIONS = st.one_of(st.sampled_from(_INTERESTING), st.binary(min_size=1, max_size=8))
_REPLACEMENTS = st.one_of(st.sampled_from(_INTERESTING), st.binary(min_size=1, max_size=1))


@st.composite
def _mutate(draw: DrawFn, data: bytes, max_edits: int) -> bytes:
    buf = bytearray(data)
    for _ in range(draw(st.integers(1, max_edits))):
        edit = draw(st.integers(0, 2))
        if edit == 0 or not buf:
            at = draw(st.integers(0, len(buf)))
            buf[at:at] = draw(_INSERTIONS)
        elif edit == 1:
            at = draw(st.integers(0, len(buf) - 1))
            buf[at : at + 1] = draw(_REPLACEMENTS)
        else:
            at = draw(st.integers(0, len(buf) - 1))
            del buf[at : at + draw(st.integers(1, 8))]
    return bytes(buf)


def mutations(data: bytes, *, max_edits: int = 3) -> SearchStrategy[bytes]:
    """Draw `data` corrupted by a few replaced, inserted or deleted bytes.

    Edits favour the bytes HTTP/1.1 framing turns on (CR, LF, colon, digits, whitespace, NUL).

    Args:
        data: the bytes to corrupt, usually a valid message.
        max_edits: most edits applied (at least one is).

    Returns:
        A strategy of bytes (which may by chance still be a valid message).
    """
    return _mutate(data, max_edits)
