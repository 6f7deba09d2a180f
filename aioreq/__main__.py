"""The demo: `python -m aioreq [URL]`.

With no URL it starts an embedded server (the standard library's `http.server`, on 127.0.0.1)
and fetches from it; with an `http://` URL it fetches from there. Either way the request is
serialized and the response parsed by `aioreq.protocol`, over a plain socket, read in small
pieces to show the parser working incrementally. Then it shows the parser refusing messages
that HTTP forbids, with the error each one gets.
"""

from __future__ import annotations

import argparse
import http.server
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

from . import LocalProtocolError, RemoteProtocolError
from .protocol import (
    EndOfMessage,
    RequestParser,
    ResponseHead,
    ResponseParser,
    encode_request_head,
)


class _DemoHandler(http.server.BaseHTTPRequestHandler):
    """Answers GET with a chunked JSON body and a trailer, on a persistent connection."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        parts = [b'{"hello": "from http.server", ', b'"path": "' + self.path.encode() + b'", ']
        parts.append(b'"chunked": true}')
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Trailer", "X-Checksum")
        self.end_headers()
        for part in parts:
            self.wfile.write(b"%x\r\n%b\r\n" % (len(part), part))
        self.wfile.write(b"0\r\nX-Checksum: %d\r\n\r\n" % sum(map(len, parts)))

    def log_message(self, format: str, *args: object) -> None:
        """Keep the demo's output to what aioreq does."""


@contextmanager
def _embedded_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _DemoHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host!s}:{port}/demo"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _fetch(sock: socket.socket, host: str, target: str, read_size: int) -> bool:
    """Send one GET and print the events of its response; return whether to keep the socket."""
    request = encode_request_head(
        b"GET", target.encode(), [(b"Host", host.encode()), (b"User-Agent", b"aioreq-demo")]
    )
    print(f">>> {len(request)} bytes sent: {request!r}")
    sock.sendall(request)
    parser = ResponseParser()
    parser.start_response(b"GET")
    body = bytearray()
    while not parser.complete:
        data = sock.recv(read_size)
        events = parser.feed(data) if data else parser.feed_eof()
        for event in events:
            if isinstance(event, ResponseHead):
                print(f"<<< {event.status_code} {event.reason.decode('latin-1')}")
                for name, value in event.headers:
                    print(f"    {name.decode('latin-1')}: {value.decode('latin-1')}")
            elif isinstance(event, bytes):
                body += event
                print(f"    body bytes +{len(event)}")
            elif isinstance(event, EndOfMessage):
                print(f"    end of message, trailers {event.trailers}")
        if not data:
            break
    print(f"    body: {bytes(body).decode('utf-8', 'replace')}")
    print(f"    connection reusable: {parser.keep_alive}")
    return parser.keep_alive


def _show_refusals() -> None:
    print("\nMessages HTTP forbids, and what aioreq.protocol says of each:")
    cases = [
        (
            "response with Transfer-Encoding and Content-Length",
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
        ),
        ("response with a signed Content-Length", b"HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n"),
        (
            "chunk size with a 0x prefix",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n",
        ),
        ("space before the colon", b"HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n"),
        ("an HTTP/2 status line", b"HTTP/2.0 200 OK\r\n\r\n"),
    ]
    for what, data in cases:
        try:
            ResponseParser().feed(data)
        except RemoteProtocolError as exc:
            print(f"  {what}: RemoteProtocolError: {exc}")
    try:
        RequestParser().feed(b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
    except RemoteProtocolError as exc:
        print(f"  request with two Host fields: {exc} (a server answers {exc.status_hint})")
    try:
        encode_request_head(b"GET", b"/", [(b"X-Name", b"value\r\nInjected: yes")])
    except LocalProtocolError as exc:
        print(f"  sending a header value with CRLF in it: LocalProtocolError: {exc}")


def _measure() -> None:
    response = (
        b"HTTP/1.1 200 OK\r\nDate: Mon, 04 May 2026 12:00:00 GMT\r\nServer: demo\r\n"
        b"Content-Type: application/json\r\nContent-Length: 20\r\n\r\n" + b'{"ok":true,"n":1234}'
    )
    parser = ResponseParser()
    rounds = 20_000
    start = time.process_time()
    for _ in range(rounds):
        parser.start_response(b"GET")
        parser.feed(response)
    spent = (time.process_time() - start) / rounds
    print(f"\nParsing a {len(response)}-byte response: {spent * 1e6:.1f} µs of CPU each")
    print("(benchmarks/parser.py measures it beside h11, httptools and aiohttp)")


def main() -> None:
    cli = argparse.ArgumentParser(prog="python -m aioreq", description=__doc__.split("\n\n")[0])
    cli.add_argument("url", nargs="?", help="an http:// URL (default: an embedded server)")
    cli.add_argument("--read-size", type=int, default=64, help="bytes per recv() (default 64)")
    args = cli.parse_args()

    with _embedded_server() as default_url:
        url = urlsplit(args.url or default_url)
        if url.scheme != "http" or not url.hostname:
            cli.error("only http:// URLs for now (TLS comes with the client)")
        host = url.hostname
        port = url.port or 80
        target = (url.path or "/") + (f"?{url.query}" if url.query else "")
        authority = url.netloc.rpartition("@")[2]
        print(f"GET {url.geturl()}  (reads of {args.read_size} bytes)\n")
        with socket.create_connection((host, port), timeout=10) as sock:
            if _fetch(sock, authority, target, args.read_size):
                print("\nThe same connection again (keep-alive):")
                _fetch(sock, authority, target, args.read_size)
    _show_refusals()
    _measure()


if __name__ == "__main__":
    main()
