"""The exception tree: one module, drawn in its docstring, complete and true to the classes."""

from __future__ import annotations

import builtins
import re

import aioreq
from aioreq import _exceptions

# The names DESIGN.md promises users.
PROMISED = [
    "AioreqError",
    "TimeoutError",
    "ConnectTimeout",
    "ReadTimeout",
    "WriteTimeout",
    "PoolTimeout",
    "ConnectError",
    "RemoteProtocolError",
    "LocalProtocolError",
    "TooManyRedirects",
    "DecodingError",
    "HTTPStatusError",
    "InvalidURL",
]


def _drawn_tree() -> dict[str, str]:
    """Child -> parent, as the module docstring draws the tree."""
    doc = _exceptions.__doc__ or ""
    drawing = doc.split("```")[1]
    parents: dict[str, str] = {}
    stack: list[tuple[int, str]] = []
    for line in drawing.strip().splitlines():
        match = re.search(r"([A-Z]\w+)", line)
        assert match, line
        depth = match.start()
        name = match.group(1)
        while stack and stack[-1][0] >= depth:
            stack.pop()
        if stack:
            parents[name] = stack[-1][1]
        stack.append((depth, name))
    return parents


def test_every_promised_exception_is_exported() -> None:
    for name in PROMISED:
        cls = getattr(aioreq, name)
        assert issubclass(cls, aioreq.AioreqError), name


def test_the_drawing_matches_the_classes() -> None:
    drawn = _drawn_tree()
    defined = {
        name
        for name, value in vars(_exceptions).items()
        if isinstance(value, type)
        and issubclass(value, Exception)
        and value.__module__ == _exceptions.__name__
    }
    assert set(drawn) | {"AioreqError"} == defined
    for child, parent in drawn.items():
        cls = getattr(_exceptions, child)
        own_bases = [b for b in cls.__bases__ if b.__module__ == _exceptions.__name__]
        assert [b.__name__ for b in own_bases] == [parent], child


def test_single_inheritance_but_timeouts_are_builtin_timeouts() -> None:
    for name in _exceptions.__all__:
        cls = getattr(_exceptions, name)
        if issubclass(cls, aioreq.TimeoutError):
            assert issubclass(cls, builtins.TimeoutError)
        else:
            assert len(cls.__bases__) == 1, name
    assert not issubclass(aioreq.RemoteProtocolError, ValueError)


def test_protocol_errors_carry_a_status_hint() -> None:
    assert aioreq.RemoteProtocolError("x").status_hint == 400
    assert aioreq.RemoteProtocolError("x", status_hint=431).status_hint == 431


def test_http_status_error_carries_the_response() -> None:
    marker = object()
    assert aioreq.HTTPStatusError("404", response=marker).response is marker
