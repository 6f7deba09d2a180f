"""The plugin loads by entry point, by `-p pytest_aioreq`, and by both at once, without clashing."""

from __future__ import annotations

import pytest

CHECK = """
def test_loaded(request):
    assert request.config.pluginmanager.has_plugin("pytest_aioreq")
"""


@pytest.mark.parametrize(
    ("args", "autoload"),
    [
        pytest.param([], True, id="entry-point"),
        pytest.param(["-p", "pytest_aioreq"], True, id="entry-point-and-p"),
        pytest.param(["-p", "pytest_aioreq"], False, id="p-without-autoload"),
    ],
)
def test_plugin_loads(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, args: list[str], autoload: bool
) -> None:
    if autoload:
        monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    else:
        monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    pytester.makepyfile(CHECK)
    result = pytester.runpytest_subprocess(*args)
    result.assert_outcomes(passed=1)


def test_without_the_plugin_it_is_absent(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check above can fail: with autoload off and no -p, the plugin is not there."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    pytester.makepyfile(CHECK)
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(failed=1)
