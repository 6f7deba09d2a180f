"""`aioreq get|head|post|put|patch|delete URL ...`: one request with `aioreq.Client`, printed
like curl and httpie.

Where the output goes, so that `aioreq get URL > file` and `| jq` work as they do with curl:

- stdout is a terminal: the response head, coloured, a blank line, then the body: JSON
  pretty-printed, text as text, and a notice instead of a binary body (one with a NUL byte).
- stdout is a pipe or a file: the body alone, byte for byte as received (content-decoded);
  `-i` puts the head and a blank line before it. A HEAD request prints its head wherever.
- `-o FILE` streams the body into FILE instead, with a progress bar on stderr when stderr is
  a terminal; stdout gets the head by the rules above.
- `-v` prints each request head sent (`> ` lines, curl's style) and each response head received
  (`< ` lines) on stderr, except the final head when stdout shows it already.
- Errors are one line on stderr, `aioreq: <Exception>: <what happened>`, and the exit code
  says which kind (`EXIT_CODES`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import ssl
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from rich.json import JSON
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.text import Text

import aioreq

from ._output import console, exit_code, exit_code_table, fail

__all__ = ["METHODS", "add_parsers", "run"]

METHODS = ("get", "head", "post", "put", "patch", "delete")
#: Methods whose empty body is still framed with `Content-Length: 0`, as aioreq.client sends it.
_BODY_METHODS = frozenset(("POST", "PUT", "PATCH"))
_STATUS_STYLES = {2: "bold green", 3: "bold cyan", 4: "bold yellow"}

Fields = list[tuple[str, str]]


def add_parsers(commands: Any) -> None:
    """Add one subcommand per method to `commands` (argparse's subparsers)."""
    for method in METHODS:
        command = commands.add_parser(
            method,
            help=f"send one {method.upper()} request and print the response",
            description=f"Send one {method.upper()} request with aioreq.Client and print the "
            "response: the head and body on a terminal, the body alone into a pipe.",
            epilog=exit_code_table(),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        command.add_argument("url", help="the URL (http:// is assumed when it has no scheme)")
        command.add_argument(
            "-H",
            "--header",
            dest="headers",
            action="append",
            default=[],
            type=_header,
            metavar="'NAME: VALUE'",
            help="send this header field (repeatable; replaces a default of the same name)",
        )
        body = command.add_mutually_exclusive_group()
        body.add_argument(
            "--data",
            type=_data,
            metavar="TEXT|@FILE|@-",
            help="send this body, or FILE's bytes, or stdin's; Content-Type "
            "application/x-www-form-urlencoded unless -H sets one",
        )
        body.add_argument(
            "--json",
            type=_json,
            metavar="TEXT|@FILE|@-",
            help="send this JSON (checked, sent as written) with Content-Type and Accept "
            "application/json unless -H sets them",
        )
        command.add_argument(
            "-o", "--output", metavar="FILE", help="write the body to FILE, streamed"
        )
        command.add_argument(
            "-i",
            "--include",
            action="store_true",
            help="print the response head on stdout even when it is not a terminal",
        )
        command.add_argument(
            "-v",
            "--verbose",
            action="store_true",
            help="print the request and response heads of every hop on stderr",
        )
        command.add_argument(
            "--timeout",
            type=_seconds,
            metavar="S",
            help="seconds for each phase: connect, read, write (default: 10 to connect, 30 "
            "for the others)",
        )
        command.add_argument(
            "--no-follow",
            dest="follow",
            action="store_false",
            help="print a 3xx response instead of following it",
        )
        trust = command.add_mutually_exclusive_group()
        trust.add_argument(
            "--cacert", type=_ca_bundle, metavar="FILE", help="trust the CAs of this PEM file"
        )
        trust.add_argument(
            "--insecure",
            action="store_true",
            help="do not check the server's certificate or host name",
        )
        command.set_defaults(run=run, method=method.upper())


# -- the arguments (argparse reports what these raise as a usage error, exit code 2) ----------


def _header(text: str) -> tuple[str, str]:
    name, colon, value = text.partition(":")
    if not colon or not name.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not a header field: write 'Name: value'")
    return name.strip(), value.strip()


def _data(text: str) -> bytes | Path:
    """`--data`: the text as bytes, stdin's bytes for `@-`, or for `@FILE` the file's path (it is
    streamed from the file, never read whole)."""
    if text.startswith("@") and text != "@-":
        path = Path(text[1:])
        try:
            with path.open("rb"):
                pass
        except OSError as exc:
            raise argparse.ArgumentTypeError(f"cannot read {path}: {exc.strerror}") from exc
        return path
    return _read(text)


def _read(text: str) -> bytes:
    """`text` as bytes; `@-` reads stdin and `@FILE` the file (curl's convention)."""
    if text == "@-":
        return sys.stdin.buffer.read()
    if text.startswith("@"):
        try:
            with open(text[1:], "rb") as file:
                return file.read()
        except OSError as exc:
            raise argparse.ArgumentTypeError(f"cannot read {text[1:]}: {exc.strerror}") from exc
    return text.encode()


def _json(text: str) -> bytes:
    body = _read(text)
    try:
        json.loads(body)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"this is not JSON: {exc}") from exc
    return body


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return seconds


def _ca_bundle(path: str) -> str:
    try:
        ssl.create_default_context(cafile=path)
    except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
        reason = getattr(exc, "strerror", None) or exc
        raise argparse.ArgumentTypeError(
            f"cannot load CA certificates from {path}: {reason}"
        ) from exc
    return path


# -- the exchange -----------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    """Send the request of `args`, print the response; the exit code (see `EXIT_CODES`)."""
    printer = _Printer(args)
    url = args.url if "://" in args.url else f"http://{args.url}"
    with warnings.catch_warnings():
        if args.insecure:
            warnings.simplefilter("ignore", aioreq.InsecureRequestWarning)
            print("aioreq: warning: --insecure: certificates are not checked", file=sys.stderr)
        try:
            status = asyncio.run(_exchange(args, url, printer))
        except aioreq.AioreqError as error:
            return fail(f"{type(error).__name__}: {error}", exit_code(error))
        except BrokenPipeError:
            # Whoever read stdout has gone (`| head`): say nothing, and keep Python from
            # failing again on the final flush.
            with contextlib.suppress(OSError, ValueError):
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
                os.close(devnull)
            return 1
        except OSError as error:
            return fail(error, 1)
    return 0 if status < 400 else 4 if status < 500 else 5


async def _exchange(args: argparse.Namespace, url: str, printer: _Printer) -> int:
    """Send the request, print the response; its status."""
    client = aioreq.Client(
        timeout=aioreq.Timeout() if args.timeout is None else args.timeout,
        verify=False if args.insecure else args.cacert or True,
        follow_redirects=args.follow,
        event_hooks={"request": [printer.sent], "response": [printer.received]}
        if args.verbose
        else None,
    )
    async with client, contextlib.AsyncExitStack() as stack:
        body = args.data if args.json is None else args.json
        if isinstance(body, Path):
            body = stack.enter_context(body.open("rb"))  # sent as it is read, its length known
        fields = _fields(args)
        async with client.stream(args.method, url, content=body, headers=fields) as response:
            await printer.response(response)
        return response.status


def _fields(args: argparse.Namespace) -> Fields:
    """The -H fields (a name may repeat), after the body's defaults that they do not replace;
    each name replaces the client's own fields of that name."""
    defaults: Fields = []
    if args.json is not None:
        defaults = [("Content-Type", "application/json"), ("Accept", "application/json")]
    elif args.data is not None:
        defaults = [("Content-Type", "application/x-www-form-urlencoded")]
    headers: Fields = args.headers
    given = {name.lower() for name, _ in headers}
    return [field for field in defaults if field[0].lower() not in given] + headers


# -- printing ---------------------------------------------------------------------------------


class _Printer:
    """Puts each part of the exchange where the rules of the module docstring say."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.stdout = console(sys.stdout)
        self.stderr = console(sys.stderr)
        self.include = args.include or args.method == "HEAD" or self.stdout.is_terminal
        self.output: str | None = args.output
        self.head_only = args.method == "HEAD"
        self._received: aioreq.Response | None = None  # a head for -v, not printed yet

    # -- -v ---------------------------------------------------------------------------------

    def sent(self, request: aioreq.Request) -> None:
        """Request hook: print the head of `request` as it goes."""
        self._trace_received()
        self._trace(">", _request_head(request))

    def received(self, response: aioreq.Response) -> None:
        """Response hook: keep the head of `response`, which may be the final one."""
        self._trace_received()
        self._received = response

    def _trace_received(self) -> None:
        if self._received is not None:
            self._trace("<", _response_head(self._received))
            self._received = None

    def _trace(self, mark: str, head: tuple[str, Fields]) -> None:
        start, fields = head
        lines = [f"{mark} {start}", *(f"{mark} {name}: {value}" for name, value in fields)]
        self.stderr.print(Text("\n".join([*lines, mark]), style="dim"))

    # -- the response -----------------------------------------------------------------------

    async def response(self, response: aioreq.Response) -> None:
        """Print the head and the body of the final response."""
        if self.include:
            self._received = None
            self._head(response)
        else:
            self._trace_received()
        if self.head_only:
            return
        if self.output is not None:
            await self._download(response, self.output)
        elif self.stdout.is_terminal:
            await self._show(response)
        else:
            await self._copy(response)

    def _head(self, response: aioreq.Response) -> None:
        start, fields = _response_head(response)
        if not self.stdout.is_terminal:
            # Bytes as received, for scripts (a value may not be ASCII).
            lines = [start.encode("latin-1", "replace")]
            lines += [name + b": " + value for name, value in response.headers.raw]
            self._write(b"\n".join([*lines, b"", b""]))
            return
        head = Text()
        head.append(start, style=_STATUS_STYLES.get(response.status // 100, "bold red"))
        for name, value in fields:
            head.append("\n")
            head.append(name, style="cyan")
            head.append(f": {value}")
        self.stdout.print(head)
        self.stdout.print()

    async def _show(self, response: aioreq.Response) -> None:
        """The body for a reader: JSON pretty-printed, text as text, no binary."""
        chunks = []
        async for chunk in response.iter_bytes():
            if b"\0" in chunk:
                notice = "(a binary body is not shown on a terminal: save it with -o FILE)"
                self.stdout.print(Text(notice, style="dim"))
                return
            chunks.append(chunk)
        text = b"".join(chunks).decode(response.encoding, "replace")
        if not text:
            return
        mime = response.headers.get("content-type", "").partition(";")[0].strip().lower()
        if mime == "application/json" or mime.endswith("+json"):
            try:
                self.stdout.print(JSON.from_data(json.loads(text)))
            except ValueError:
                pass
            else:
                return
        self.stdout.print(Text(text.removesuffix("\n")))

    async def _copy(self, response: aioreq.Response) -> None:
        async for chunk in response.iter_bytes():
            self._write(chunk)

    def _write(self, data: bytes) -> None:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()

    async def _download(self, response: aioreq.Response, path: str) -> None:
        # Blocking writes are fine: this loop runs nothing else.
        with open(path, "wb") as file, self._progress(response, path) as advance:  # noqa: ASYNC230
            async for chunk in response.iter_bytes():
                file.write(chunk)
                advance(response.num_bytes_downloaded)

    @contextlib.contextmanager
    def _progress(self, response: aioreq.Response, path: str) -> Iterator[Callable[[int], None]]:
        """A function to call with the bytes received so far: it moves a progress bar on
        stderr when stderr is a terminal, else does nothing."""
        if not self.stderr.is_terminal:
            yield lambda received: None
            return
        length = response.headers.get("content-length", "")
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
        )
        progress = Progress(
            *columns, console=self.stderr, redirect_stdout=False, redirect_stderr=False
        )
        with progress:
            # Content-Length counts the bytes on the wire, as num_bytes_downloaded does.
            task = progress.add_task(path, total=int(length) if length.isdigit() else None)
            yield lambda received: progress.update(task, completed=received)


def _request_head(request: aioreq.Request) -> tuple[str, Fields]:
    """The request line and the fields of `request`, as aioreq.client writes them."""
    url = request.url
    fields = [("Host", url.host_header.decode("ascii")), *request.headers.multi_items()]
    length = request.length
    if length is not None and (length or request.method in _BODY_METHODS):
        fields.append(("Content-Length", str(length)))
    return f"{request.method} {url.target.decode('ascii')} HTTP/1.1", fields


def _response_head(response: aioreq.Response) -> tuple[str, Fields]:
    """The status line and the fields of `response`."""
    start = f"{response.http_version} {response.status} {response.status_message}"
    return start, response.headers.multi_items()
