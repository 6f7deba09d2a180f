"""The client on uvloop (the `speedups` extra)."""

from __future__ import annotations

import pytest

import aioreq
from pytest_aioreq import FakeServer


def test_the_client_on_uvloop(aioreq_server: FakeServer) -> None:
    """uvloop's create_connection takes no happy_eyeballs_delay: the client copes."""
    uvloop = pytest.importorskip("uvloop")

    async def main() -> tuple[int, bytes]:
        async with aioreq.Client() as client:
            first = await client.get(aioreq_server.url_for("/status/204"))
            second = await client.get(aioreq_server.url_for("/chunked?chunks=2&size=3"))
        return first.status, second.body

    assert uvloop.run(main()) == (204, b"aaabbb")
