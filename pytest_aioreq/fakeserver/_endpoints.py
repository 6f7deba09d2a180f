"""The built-in endpoints every fake server answers (the table in DESIGN.md)."""

from __future__ import annotations

from aioreq.server import Response

from ._expect import Handler, Reply
from ._log import RecordedRequest

__all__ = ["route"]


def route(request: RecordedRequest) -> Handler | None:
    """The built-in handler for `request`'s path, or None."""
    path = request.path
    if path.startswith("/status/"):
        return _status
    if path == "/echo":
        return _echo
    return None


def _status(request: RecordedRequest) -> Reply:
    try:
        code = int(request.path.removeprefix("/status/"))
    except ValueError:
        return Response(400, text="/status/{code}: the code must be a number\n")
    return Response(code)


def _echo(request: RecordedRequest) -> Reply:
    return Response(
        json={
            "method": request.method,
            "path": request.path,
            "query": request.query,
            "headers": [list(pair) for pair in request.headers],
            "body": request.text,
        }
    )
