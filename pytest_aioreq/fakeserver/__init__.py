"""The fake HTTP(S) server behind the pytest fixtures, usable on its own.

Example, outside pytest::

    from pytest_aioreq.fakeserver import FakeServer

    with FakeServer() as server:
        server.expect("GET", "/users").respond(json=[{"id": 1}])
        ...  # any client: requests.get(server.url_for("/users"))
        server.check()  # raises if a request was unmatched or an expectation unmet

`FakeProxy` is an HTTP proxy (forwarding and CONNECT tunnels) that records what passed through.
"""

from . import faults
from ._expect import Expectation, Handler, Reply
from ._log import ProxiedRequest, RecordedRequest
from ._proxy import FakeProxy
from ._server import FakeServer

__all__ = [
    "Expectation",
    "FakeProxy",
    "FakeServer",
    "Handler",
    "ProxiedRequest",
    "RecordedRequest",
    "Reply",
    "faults",
]
