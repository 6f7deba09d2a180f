"""`aioreq serve`: the fake server of pytest_aioreq, standalone, for any client in any language.

It answers the built-in endpoints (`/status/{code}`, `/stall`, `/truncate/{n}`...) until Ctrl-C
or SIGTERM, then stops with exit code 0. Unlike under pytest it is not strict: a path that no
endpoint knows gets a 404, not a failed test. With `--tls` it serves HTTPS only, with a
certificate for localhost, 127.0.0.1 and ::1 from a trustme CA made for the run; the CA
certificate goes into a PEM file for clients to trust, removed at exit unless `--ca-file` names
where to keep it. Each request is logged on stderr as it arrives.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import ssl
import sys
import tempfile
import time
from typing import Any

import trustme
from rich import box
from rich.table import Table

from aioreq.server import Response
from pytest_aioreq.fakeserver import FakeServer, RecordedRequest

from ._output import console, fail

__all__ = ["ENDPOINTS", "add_parser", "run"]

#: The built-in endpoints of the fake server, as the banner lists them. `{...}` marks a path
#: parameter; a test checks that these are exactly the paths pytest_aioreq routes.
ENDPOINTS = (
    ("/status/{code}", "that status (200-999), empty body"),
    ("/echo", "JSON of the request: method, target, path, query, headers, body"),
    ("/headers", "JSON of the request headers"),
    ("/bytes/{n}", "n bytes (i % 256), with Content-Length"),
    ("/chunked?chunks=N&size=S&trailer=1", "N chunks of S bytes, optional trailer"),
    ("/gzip, /deflate, /brotli, /zstd", "a JSON body with that Content-Encoding"),
    ("/delay/{seconds}", "waits, then 200"),
    ("/drip?numbytes=N&duration=S", "N bytes spread over S seconds"),
    ("/stall", "reads the request and never answers"),
    ("/redirect/{n}", "n 302s, ending at /echo"),
    ("/redirect-to?url=U&status=C", "a 3xx to U"),
    ("/cookies", "the cookies received, as JSON"),
    ("/cookies/set?k=v", "a 302 to /cookies that sets them"),
    ("/basic-auth/{user}/{password}", "200 with these credentials, else 401"),
    ("/digest-auth/{qop}/{user}/{password}", "Digest auth: 200 or 401 with a nonce"),
    ("/truncate/{n}", "announces n body bytes, sends n // 2, closes"),
    ("/close", "closes the connection without answering"),
)
_SERVER_NAMES = ("localhost", "127.0.0.1", "::1")
_WILDCARDS = ("", "0.0.0.0", "::")  # noqa: S104 -- names to leave out of a certificate
_POLL = 0.1  # how often the main thread looks for a signal that asks it to stop


def endpoint_paths() -> tuple[frozenset[str], tuple[str, ...]]:
    """(exact paths, path prefixes) of `ENDPOINTS`: "/status/{code}" is the prefix "/status/"."""
    exact: set[str] = set()
    prefixes: list[str] = []
    for shown, _ in ENDPOINTS:
        for path in shown.split(", "):
            path = path.partition("?")[0]
            if "{" in path:
                prefixes.append(path.partition("{")[0])
            else:
                exact.add(path)
    return frozenset(exact), tuple(prefixes)


_EXACT, _PREFIXES = endpoint_paths()


def add_parser(commands: Any) -> None:
    """Add the `serve` subcommand to `commands` (argparse's subparsers)."""
    command = commands.add_parser(
        "serve",
        help="run the fake server of pytest_aioreq (built-in endpoints, faults, TLS)",
        description="Serve the built-in endpoints of pytest_aioreq's fake server until "
        "Ctrl-C or SIGTERM; any client can use them. Unknown paths get 404.",
    )
    command.add_argument(
        "--host", default="127.0.0.1", help="the address to listen on (default: 127.0.0.1)"
    )
    command.add_argument(
        "--port",
        type=int,
        help="the port (default: 8080, or 8443 with --tls; 0 picks a free one)",
    )
    command.add_argument(
        "--tls",
        action="store_true",
        help="serve HTTPS (only) with a certificate from a CA made for this run",
    )
    command.add_argument(
        "--ca-file",
        metavar="PATH",
        help="with --tls: write the CA certificate here and keep it (default: a temporary "
        "file, removed at exit)",
    )
    command.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT or SIGTERM; 0 then, 1 if the address cannot be bound."""
    if args.ca_file is not None and not args.tls:
        return fail("--ca-file goes with --tls", 2)
    port = args.port if args.port is not None else 8443 if args.tls else 8080
    stops: list[int] = []
    previous = {
        number: signal.signal(number, lambda signum, frame: stops.append(signum))
        for number in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        with contextlib.ExitStack() as stack:
            context, ca_file = _tls(args.host, args.ca_file, stack) if args.tls else (None, None)
            server = FakeServer(
                host=args.host, port=port, ssl=context, on_request=_log, record=False
            )
            try:
                server.start()
            except OSError as error:
                reason = os.strerror(error.errno) if error.errno else error
                return fail(f"cannot listen on {args.host}:{port}: {reason}", 1)
            stack.callback(server.stop)
            server.expect(None, _unknown).respond_with(_not_found)
            _banner(server, ca_file, kept=args.ca_file is not None)
            while not stops:
                time.sleep(_POLL)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    print("aioreq serve: stopped", file=sys.stderr)
    return 0


def _tls(host: str, ca_file: str | None, stack: contextlib.ExitStack) -> tuple[ssl.SSLContext, str]:
    """A server context with a leaf from a new CA, and the PEM file of that CA (a temporary one
    is removed when `stack` closes). Mirrors pytest_aioreq's `aioreq_tls_server`."""
    ca = trustme.CA()
    names = [*_SERVER_NAMES, *([] if host in _SERVER_NAMES or host in _WILDCARDS else [host])]
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*names).configure_cert(context)
    context.set_alpn_protocols(["http/1.1"])
    if ca_file is None:
        directory = stack.enter_context(tempfile.TemporaryDirectory(prefix="aioreq-serve-"))
        ca_file = os.path.join(directory, "ca.pem")
    ca.cert_pem.write_to_path(ca_file)
    return context, ca_file


def _unknown(path: str) -> bool:
    """Whether no built-in endpoint answers `path`."""
    return path not in _EXACT and not path.startswith(_PREFIXES)


def _not_found(request: RecordedRequest) -> Response:
    return Response(404, text=f"aioreq serve: no endpoint at {request.path}\n")


def _banner(server: FakeServer, ca_file: str | None, *, kept: bool) -> None:
    """Print where the server is, how to use it, and its endpoints, on stdout."""
    url = server.url
    print(f"aioreq serve: the fake server of pytest_aioreq at {url}")
    trust = ""
    if ca_file is not None:
        until = "" if kept else " (removed when the server stops)"
        print(f"CA certificate: {ca_file}{until}")
        trust = f"--cacert {ca_file} "
    print("Try:")
    print(f"  curl {trust}{url}/echo")
    print(f"  aioreq get {trust}{url}/echo")
    if ca_file is not None:
        print(f'  python: ssl.create_default_context(cafile="{ca_file}")')
    table = Table("endpoint (any method)", "answer", box=box.SIMPLE)
    for shown, answer in ENDPOINTS:
        table.add_row(shown, answer)
    console(sys.stdout).print(table)
    print("Other paths get 404. Requests are logged on stderr; Ctrl-C stops the server.")
    sys.stdout.flush()


def _log(request: RecordedRequest) -> None:
    """Print a request as it arrives (on the server's thread), on stderr."""
    print(f"{time.strftime('%H:%M:%S')} {request.describe()}", file=sys.stderr, flush=True)
