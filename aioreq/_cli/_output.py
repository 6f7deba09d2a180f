"""What every command prints through: rich consoles, error lines, and the exit codes.

A console has colours and live displays (progress bars) only when its stream is a terminal, so
output sent to a pipe or a file stays plain text. `is_terminal` is the one place that decides;
tests replace it to take the terminal path. Exit codes are a table, shown in `--help` and in
docs/cli.md, so scripts can rely on them.
"""

from __future__ import annotations

import sys
import textwrap
from typing import IO, Any, TextIO

from rich.console import Console

import aioreq

__all__ = ["EXIT_CODES", "console", "exit_code", "exit_code_table", "fail", "is_terminal"]

#: Every exit code of the command line, and when it is given.
EXIT_CODES = (
    (0, "a response with a status below 400 (a 3xx too, with --no-follow)"),
    (
        1,
        "any other failure: another aioreq error (too many redirects, an invalid URL...),"
        " a file that cannot be written, a port that cannot be bound",
    ),
    (2, "a usage error: an unknown option, --data with --json, invalid JSON, a missing file"),
    (4, "a response with a 4xx status"),
    (5, "a response with a status of 500 or more"),
    (6, "could not connect: refused, unknown host, TLS handshake or certificate, proxy"),
    (7, "a timeout (connect, read, write or pool; --timeout sets them)"),
    (
        8,
        "the exchange broke: a malformed, truncated or undecodable response, or the"
        " connection lost mid-exchange",
    ),
    (130, "interrupted (Ctrl-C)"),
)


def is_terminal(stream: IO[Any]) -> bool:
    """Whether `stream` is an interactive terminal."""
    isatty = getattr(stream, "isatty", None)
    return bool(isatty is not None and isatty())


def console(stream: TextIO) -> Console:
    """A rich console writing to `stream`, styled only if it is a terminal, never wrapping."""
    return Console(file=stream, force_terminal=is_terminal(stream), soft_wrap=True, highlight=False)


def exit_code(error: aioreq.AioreqError) -> int:
    """The exit code for an aioreq error (see `EXIT_CODES`)."""
    if isinstance(error, aioreq.TimeoutError):
        return 7
    if isinstance(error, aioreq.ConnectError):
        return 6
    if isinstance(error, (aioreq.RemoteProtocolError, aioreq.DecodingError, aioreq.TransportError)):
        return 8
    return 1


def exit_code_table() -> str:
    """`EXIT_CODES` as text, for the epilog of `--help`."""
    lines = ["exit codes:"]
    for code, meaning in EXIT_CODES:
        lines += textwrap.wrap(
            meaning, 79, initial_indent=f"  {code:<5}", subsequent_indent=" " * 7
        )
    return "\n".join(lines)


def fail(message: object, code: int) -> int:
    """Print `aioreq: message` on stderr, one line; return `code`."""
    print(f"aioreq: {message}", file=sys.stderr)
    return code
