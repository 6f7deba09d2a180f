"""Property (e): every message the malformed strategies draw is rejected, however it is split.

Rejected means a RemoteProtocolError from `feed` or, for a message cut short, from `feed_eof`;
a message that parses to the end without one is a parser that accepts what HTTP/1.1 forbids.
"""

from __future__ import annotations

from _prop_support import parse_requests, parse_responses
from hypothesis import given
from hypothesis import strategies as st

from pytest_aioreq import strategies as hs


@given(bad=hs.malformed_responses(), choices=st.data())
def test_malformed_response_is_rejected(bad: hs.Malformed, choices: st.DataObject) -> None:
    """Each drawn malformed response (to a GET), split any way, raises RemoteProtocolError."""
    outcome = parse_responses(choices.draw(hs.splits(bad.data)))
    assert outcome.rejected, f"accepted: {bad.reason}"


@given(bad=hs.malformed_requests(), choices=st.data())
def test_malformed_request_is_rejected(bad: hs.Malformed, choices: st.DataObject) -> None:
    """Each drawn malformed request, split any way, raises RemoteProtocolError."""
    outcome = parse_requests(choices.draw(hs.splits(bad.data)))
    assert outcome.rejected, f"accepted: {bad.reason}"
