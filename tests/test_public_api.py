"""What the packages export: sorted __all__ lists, each name real, and the typed marker."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

import aioreq


@pytest.mark.parametrize(
    "module_name",
    [
        "aioreq",
        "aioreq.protocol",
        "aioreq._exceptions",
        "aioreq.streams",
        "aioreq.server",
        "pytest_aioreq",
        "pytest_aioreq.fakeserver",
        "pytest_aioreq.plugin",
        "pytest_aioreq.strategies",
    ],
)
def test_all_is_sorted_and_real(module_name: str) -> None:
    """Sorted as ruff's RUF022 keeps them: CONSTANTS, then Classes, then functions."""
    module = importlib.import_module(module_name)
    names = [n for n in module.__all__ if n != "__version__"]
    assert names == sorted(names, key=lambda n: (not n.isupper(), not n[0].isupper(), n))
    for name in module.__all__:
        assert hasattr(module, name), name


def test_everything_public_is_exported() -> None:
    public = {n for n in vars(aioreq) if not n.startswith("_") and n[0].isupper()}
    assert public <= set(aioreq.__all__)


def test_the_contract_names_of_streams_and_server_exist() -> None:
    """The names DESIGN.md promises users of the low-level layers."""
    from aioreq import server, streams

    for name in ("open_tcp_stream", "start_tcp_server", "Stream"):
        assert name in streams.__all__
    for name in ("serve", "Request", "Response", "Server"):
        assert name in server.__all__
    for method in ("read_until", "read_exactly", "read_some", "write_all", "aclose"):
        assert callable(getattr(streams.Stream, method))


def test_the_plugin_exports_its_fakes_and_fixtures() -> None:
    import pytest_aioreq
    from pytest_aioreq import fakeserver, plugin

    for name in ("FakeServer", "FakeProxy", "RecordedRequest", "ProxiedRequest"):
        assert name in pytest_aioreq.__all__
        assert name in fakeserver.__all__
    fixtures = [name for name in plugin.__all__ if name.startswith("aioreq_")]
    assert fixtures == plugin.__all__
    assert set(fixtures) <= set(pytest_aioreq.__all__)
    assert {"aioreq_server", "aioreq_proxy", "aioreq_proxy_session"} <= set(fixtures)


@pytest.mark.parametrize("package", ["aioreq", "pytest_aioreq"])
def test_packages_are_typed(package: str) -> None:
    module = importlib.import_module(package)
    assert (Path(module.__file__ or "").parent / "py.typed").exists()


def test_the_plugin_package_does_not_import_hypothesis() -> None:
    """Importing the plugin must stay cheap: only `pytest_aioreq.strategies` needs hypothesis."""
    import subprocess
    import sys

    code = "import sys, pytest_aioreq; print('hypothesis' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
