"""Connection numbering and server-side problems, with the fixtures used directly."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest

from aioreq.server import RawResponse
from pytest_aioreq import FakeServer

REQUEST = b"GET /status/204 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"


def _read_all(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def test_each_unix_socket_connection_has_its_own_number(aioreq_server_unix: FakeServer) -> None:
    """AF_UNIX peers all have the address '': the numbers come from the server's own count."""
    for _ in range(3):
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(5)
            sock.connect(aioreq_server_unix.uds or "")
            sock.sendall(REQUEST)
            assert _read_all(sock).startswith(b"HTTP/1.1 204 ")
    assert [r.connection for r in aioreq_server_unix.requests] == [1, 2, 3]
    assert aioreq_server_unix.connection_count == 3


def test_a_raw_stream_that_fails_is_a_problem_of_the_test(aioreq_server: FakeServer) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"HTTP/1.1 200 OK\r\n"
        raise RuntimeError("the stream broke")

    aioreq_server.expect("GET", "/raw").respond_with(lambda _request: RawResponse(broken()))
    with socket.create_connection((aioreq_server.host, aioreq_server.port), timeout=5) as sock:
        sock.sendall(b"GET /raw HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            received = _read_all(sock)
        except ConnectionResetError:
            received = b""
    assert received in (b"", b"HTTP/1.1 200 OK\r\n")
    problems = aioreq_server.problems()
    assert len(problems) == 1
    assert "the raw response failed while it was being sent" in problems[0]
    assert "RuntimeError: the stream broke" in problems[0]
    aioreq_server.strict = False  # the problem is the point of this test


@pytest.mark.parametrize("fault_calls", [2])
def test_a_fault_is_applied_to_every_request(aioreq_server: FakeServer, fault_calls: int) -> None:
    """A one-shot stream made by a fault must be made anew for each request."""
    made: list[int] = []

    def fault(response: object) -> RawResponse:
        made.append(1)

        async def once() -> AsyncIterator[bytes]:
            yield b"HTTP/1.1 204 No Content\r\n\r\n"

        return RawResponse(once())

    aioreq_server.expect("GET", "/f").respond(fault=fault)
    for _ in range(fault_calls):
        with socket.create_connection((aioreq_server.host, aioreq_server.port), timeout=5) as s:
            s.sendall(b"GET /f HTTP/1.1\r\nHost: x\r\n\r\n")
            assert _read_all(s) == b"HTTP/1.1 204 No Content\r\n\r\n"
    assert len(made) == fault_calls
