"""A streamed download to a file: the body goes to disk chunk by chunk, never whole in memory.

`client.stream("GET", url)` returns as soon as the head has arrived; `response.iter_bytes()`
then yields the body (content-decoded) as it comes, and each chunk is written to the file and
fed to a SHA-256. Along the way:

- a size limit, checked against `Content-Length` before anything is written, and again as the
  chunks come (a chunked or close-delimited body announces no length);
- progress from the `download_progress=` callback, called as `(bytes received, total or None)`;
- the body is written to `<output>.part`, renamed to `<output>` only once it is complete and
  its hash matches `--sha256` (when given), so a failed download never leaves a file that looks
  whole. A failed download is not resumed: the next run starts again.

Run it::

    python examples/download.py                         # from an embedded server, to ./demo.bin
    python examples/download.py https://example.org/big.iso -o big.iso --sha256 <hex digest>

The exit status is 1 when the download failed, was too large or its hash did not match.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import sys
from collections.abc import Callable
from pathlib import Path

import aioreq
from aioreq.server import Request, Response, serve


class DownloadError(Exception):
    """The body was too large, or not the one expected."""


def progress_printer() -> Callable[[int, int | None], None]:
    """A `download_progress` callback: a line at each tenth of the body (each MiB if unknown)."""
    shown = 0

    def report(done: int, total: int | None) -> None:
        nonlocal shown
        step = max(total // 10, 1) if total else 1 << 20
        if done - shown >= step or done == total:
            shown = done
            of_total = f" of {total:,} ({done / total:.0%})" if total else ""
            print(f"  {done:,} bytes{of_total}")

    return report


async def download(
    client: aioreq.Client, url: str, path: Path, *, max_size: int, sha256: str | None
) -> None:
    """Save the body at `url` to `path`, checking its size and, when given, its SHA-256 (hex).

    Raises:
        aioreq.AioreqError: the request failed (`HTTPStatusError` for a 4xx or 5xx).
        DownloadError: the body is larger than `max_size`, or its hash is not `sha256`.
    """
    partial = path.with_name(path.name + ".part")
    digest = hashlib.sha256()
    size = 0
    try:
        async with client.stream("GET", url, download_progress=progress_printer()) as response:
            response.raise_for_status()
            announced = int(response.headers.get("content-length", 0))
            if announced > max_size:
                raise DownloadError(f"{url} announces {announced:,} bytes: over {max_size:,}")
            with partial.open("wb") as file:
                async for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > max_size:
                        raise DownloadError(f"{url} sent more than {max_size:,} bytes")
                    file.write(chunk)  # a blocking write, but a short one: a chunk at a time
                    digest.update(chunk)
        if sha256 is not None and digest.hexdigest() != sha256.lower():
            raise DownloadError(f"SHA-256 {digest.hexdigest()}, expected {sha256}")
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(path)
    print(f"saved {size:,} bytes to {path}, SHA-256 {digest.hexdigest()}")


def file_name(url: str) -> Path:
    """The last segment of the URL's path ("index" for none)."""
    return Path(url.partition("?")[0].rstrip("/").rpartition("/")[2] or "index")


async def main(url: str | None, output: Path | None, max_size: int, sha256: str | None) -> int:
    # 10 s for each phase (connect, and each read: the gap between two chunks), none in all.
    async with aioreq.Client(timeout=10) as client:
        try:
            if url is not None:
                await download(
                    client, url, output or file_name(url), max_size=max_size, sha256=sha256
                )
            else:
                async with await serve(demo_app, "127.0.0.1", 0) as server:
                    demo, path = f"{server.url}/demo.bin", output or Path("demo.bin")
                    expected = sha256 or DEMO_SHA256
                    await download(client, demo, path, max_size=max_size, sha256=expected)
        except (aioreq.AioreqError, DownloadError) as error:
            print(f"download failed: {error}", file=sys.stderr)
            return 1
    return 0


# The embedded server, only there so that the example runs offline: 8 MiB of known bytes.

DEMO_FILE = bytes(range(256)) * (1 << 15)
DEMO_SHA256 = hashlib.sha256(DEMO_FILE).hexdigest()


async def demo_app(request: Request) -> Response:
    return Response(body=DEMO_FILE)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("url", nargs="?", help="what to download (default: from a local server)")
    parser.add_argument("-o", "--output", type=Path, help="the file (default: the URL's name)")
    parser.add_argument("--max-size", type=int, default=1 << 30, help="in bytes (default 1 GiB)")
    parser.add_argument("--sha256", help="the expected SHA-256 of the body, in hex")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.url, args.output, args.max_size, args.sha256)))
