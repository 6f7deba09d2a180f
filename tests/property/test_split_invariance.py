"""Property (b): how the bytes are cut into reads does not change what the parser makes of them.

For valid messages, every split gives the same heads, joined body, trailers, number of messages,
persistence, switch and leftover bytes as one read of everything. For corrupted messages (and
tiny limits), the verdict is the same too: bytes that one read rejects, every split rejects, and
bytes that one read accepts, every split accepts with the same result; the same holds for
valid messages under tiny limits. A parser whose verdict depends on TCP segmentation can be made
to disagree with another parser on the same stream.
"""

from __future__ import annotations

from _prop_support import CUTS, LIMITS, cut, parse_requests, parse_responses
from hypothesis import example, given
from hypothesis import strategies as st

from aioreq.protocol import ResponseHead
from pytest_aioreq import strategies as hs

# A common status line longer than max_line_size: the whole head in one read must meet the limit
# as surely as the head in pieces does.
SHORT_200 = hs.ResponseCase(
    data=b"HTTP/1.1 200 OK\r\n\r\n",
    request_method=b"GET",
    interim=[],
    head=ResponseHead(200, b"OK", b"1.1", []),
    body=b"",
    trailers=[],
    needs_eof=True,
    keep_alive=False,
    switched=False,
    tunnel_data=b"",
)


@given(case=hs.responses(), choices=st.data())
def test_valid_response_parse_is_split_invariant(
    case: hs.ResponseCase, choices: st.DataObject
) -> None:
    """Any split of a valid response parses exactly like one read of it."""
    reads = choices.draw(hs.splits(case.data))
    whole = parse_responses([case.data], case.request_method, eof=case.needs_eof)
    split = parse_responses(reads, case.request_method, eof=case.needs_eof)
    assert not whole.rejected, whole.error
    assert split == whole


@given(case=hs.requests(), choices=st.data())
def test_valid_request_parse_is_split_invariant(
    case: hs.RequestCase, choices: st.DataObject
) -> None:
    """Any split of a valid request parses exactly like one read of it."""
    reads = choices.draw(hs.splits(case.data))
    whole = parse_requests([case.data], eof=False)
    split = parse_requests(reads, eof=False)
    assert not whole.rejected, whole.error
    assert split == whole


@given(case=hs.responses(), limits=LIMITS, choices=st.data())
def test_verdict_on_corrupted_response_is_split_invariant(
    case: hs.ResponseCase, limits: dict[str, int], choices: st.DataObject
) -> None:
    """A corrupted response is rejected by every split or by none, and parses alike when not."""
    data = choices.draw(hs.mutations(case.data))
    reads = choices.draw(hs.splits(data))
    whole = parse_responses([data], case.request_method, limits=limits)
    split = parse_responses(reads, case.request_method, limits=limits)
    assert split.rejected == whole.rejected, (whole.error, split.error)
    if not whole.rejected:
        assert split == whole


@given(case=hs.requests(), limits=LIMITS, choices=st.data())
def test_verdict_on_corrupted_request_is_split_invariant(
    case: hs.RequestCase, limits: dict[str, int], choices: st.DataObject
) -> None:
    """A corrupted request is rejected by every split or by none, and parses alike when not."""
    data = choices.draw(hs.mutations(case.data))
    reads = choices.draw(hs.splits(data))
    whole = parse_requests([data], limits=limits)
    split = parse_requests(reads, limits=limits)
    assert split.rejected == whole.rejected, (whole.error, split.error)
    if not whole.rejected:
        assert split == whole


@given(case=hs.responses(), limits=LIMITS, cuts=CUTS)
@example(case=SHORT_200, limits={"max_line_size": 1}, cuts=[3])
def test_limits_hold_however_a_response_is_split(
    case: hs.ResponseCase, limits: dict[str, int], cuts: list[int]
) -> None:
    """Under any limits, a valid response is rejected by every split or by none, and parses
    alike when not: a limit measures the message, not the reads it came in."""
    whole = parse_responses([case.data], case.request_method, limits=limits)
    split = parse_responses(cut(case.data, cuts), case.request_method, limits=limits)
    assert split.rejected == whole.rejected, (whole.error, split.error)
    if not whole.rejected:
        assert split == whole


@given(case=hs.requests(), limits=LIMITS, cuts=CUTS)
def test_limits_hold_however_a_request_is_split(
    case: hs.RequestCase, limits: dict[str, int], cuts: list[int]
) -> None:
    """Under any limits, a valid request is rejected by every split or by none, and parses
    alike when not."""
    whole = parse_requests([case.data], limits=limits)
    split = parse_requests(cut(case.data, cuts), limits=limits)
    assert split.rejected == whole.rejected, (whole.error, split.error)
    if not whole.rejected:
        assert split == whole
