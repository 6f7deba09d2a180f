"""`aioreq.server.run()`: the blocking entry point serves until SIGINT or SIGTERM, then exits
cleanly -- on the default loop and, when installed, on uvloop."""

from __future__ import annotations

import http.client
import importlib.util
import signal
import socket
import subprocess
import sys
import textwrap
import time

import pytest

SCRIPT = textwrap.dedent(
    """
    import sys
    from aioreq.server import Response, run

    async def app(request):
        import asyncio
        loop = type(asyncio.get_running_loop()).__module__
        return Response(text=f"{request.path} on {loop}")

    run(app, "127.0.0.1", int(sys.argv[1]), use_uvloop=sys.argv[2] == "uvloop")
    """
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(port: int, path: str) -> str:
    deadline = time.monotonic() + 10
    while True:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            connection.request("GET", path)
            return connection.getresponse().read().decode()
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
        finally:
            connection.close()


@pytest.mark.parametrize(
    ("loop", "module"),
    [
        ("asyncio", "asyncio"),
        pytest.param(
            "uvloop",
            "uvloop",
            marks=pytest.mark.skipif(
                importlib.util.find_spec("uvloop") is None, reason="uvloop is not installed"
            ),
        ),
    ],
)
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_run_serves_until_signalled_then_exits_cleanly(
    loop: str, module: str, signum: signal.Signals
) -> None:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(port), loop],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        body = _get(port, "/hello")
        assert body.startswith(f"/hello on {module}")
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr.decode()
    assert b"Traceback" not in stderr
