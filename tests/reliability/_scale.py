"""How big the reliability suite runs: small enough for every CI run by default, and the long
variants (more requests, more cancellations, more fuzzing) with `AIOREQ_LONG=1`."""

from __future__ import annotations

import os

__all__ = ["LONG", "scaled"]

#: Whether the long variants run (`AIOREQ_LONG=1` in the environment).
LONG = os.environ.get("AIOREQ_LONG") == "1"


def scaled(short: int, long: int) -> int:
    """`long` when the long variants run, else `short`."""
    return long if LONG else short
