"""The public building blocks keep their documented promises.

They are checked against the ABNF of RFC 9110 written out here, not against aioreq's own rules,
so that a strategy and the parser cannot be wrong in the same way unnoticed.
"""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from pytest_aioreq import strategies as hs

# RFC 9110 §5.6.2: token = 1*tchar
TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# RFC 9110 §5.5: field-value = *field-content;
#   field-content = field-vchar [ 1*( SP / HTAB / field-vchar ) field-vchar ]
FIELD_VALUE = re.compile(rb"(?:[\x21-\x7e\x80-\xff]+(?:[ \t]+[\x21-\x7e\x80-\xff]+)*)?")


@given(token=hs.tokens())
def test_tokens_are_tokens(token: bytes) -> None:
    """tokens() draws only RFC 9110 tokens."""
    assert TOKEN.fullmatch(token)


@given(fields=hs.header_lists())
def test_header_lists_hold_valid_fields(fields: list[tuple[bytes, bytes]]) -> None:
    """header_lists() draws token names outside CONTROL_FIELDS and values that are valid as
    they stand (no leading or trailing whitespace, no CR, LF, NUL or other CTL)."""
    for name, value in fields:
        assert TOKEN.fullmatch(name)
        assert name.lower() not in hs.CONTROL_FIELDS
        assert FIELD_VALUE.fullmatch(value), value


@given(name=hs.field_names(exclude=()))
def test_field_names_without_exclusions_are_tokens(name: bytes) -> None:
    """field_names(exclude=()) still draws only tokens."""
    assert TOKEN.fullmatch(name)


@given(data=st.binary(max_size=64), choices=st.data())
def test_splits_give_the_data_back(data: bytes, choices: st.DataObject) -> None:
    """The reads splits() draws join to the data they split."""
    reads = choices.draw(hs.splits(data))
    assert all(isinstance(read, bytes) for read in reads)
    assert b"".join(reads) == data


@given(data=st.binary(max_size=64), choices=st.data())
def test_mutations_stay_close_to_the_data(data: bytes, choices: st.DataObject) -> None:
    """mutations() changes at most max_edits places, each by at most a few bytes."""
    mutated = choices.draw(hs.mutations(data, max_edits=2))
    assert isinstance(mutated, bytes)
    assert abs(len(mutated) - len(data)) <= 2 * 30
