"""The command line: `aioreq` (console script) and `python -m aioreq`.

    aioreq get|head|post|put|patch|delete URL ...   one request, printed like curl/httpie
    aioreq serve [--tls] [--port N]                 the fake server of pytest_aioreq, standalone
    aioreq bench                                    client throughput against the embedded server
    aioreq demo                                     the tour (also what a bare `aioreq` runs)

The terminal output uses `rich` and the servers come from `pytest_aioreq`: both arrive with the
`cli` extra (`pip install 'aioreq[cli]'`), so the library itself stays `certifi`-only.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__all__ = ["main"]

EXTRA_HINT = "the aioreq command line needs its extra: pip install 'aioreq[cli]'"


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; the return value is the process's exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        from . import _bench, _demo, _http, _serve
    except ImportError as exc:  # rich, trustme or pytest missing
        print(f"aioreq: {exc}; {EXTRA_HINT}", file=sys.stderr)
        return 2
    parser = argparse.ArgumentParser(
        prog="aioreq",
        description="aioreq: an asyncio HTTP/1.1 client, its server, and fake servers for tests.",
        epilog="With no command, runs the demo.",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    _http.add_parsers(commands)
    _serve.add_parser(commands)
    _bench.add_parser(commands)
    _demo.add_parser(commands)
    if not args or (args[0] not in commands.choices and args[0] not in ("-h", "--help")):
        args = ["demo", *args]
    namespace = parser.parse_args(args)
    try:
        code: int = namespace.run(namespace)
    except KeyboardInterrupt:
        return 130
    return code
