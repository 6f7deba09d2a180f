"""What the built-in endpoints share to read their path: the error that becomes a 400, and
the helpers that raise it. `_endpoints` and `_digest` both import from here (`_endpoints`
imports `_digest`, so these cannot live in it).
"""

from __future__ import annotations

import re

from ._log import RecordedRequest

__all__ = ["INTEGER", "Invalid", "integer", "tail"]

INTEGER = re.compile(r"[0-9]{1,12}")


class Invalid(Exception):
    """A parameter of the request is malformed: answered with 400 and the message."""


def tail(request: RecordedRequest, prefix: str) -> str:
    """What follows `prefix` in the path."""
    return request.path[len(prefix) :]


def integer(text: str, what: str, low: int, high: int) -> int:
    """`text` as a whole number from `low` to `high`.

    Raises:
        Invalid: it is not one.
    """
    if INTEGER.fullmatch(text) is None or not low <= int(text) <= high:
        raise Invalid(f"{what} must be a whole number from {low} to {high}, not {text!r}")
    return int(text)
