"""Every Python example in docs/*.md is a test file users could copy: run them all, as users
would, through pytest with the plugin loaded."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
BLOCK = re.compile(r"^```python\n(.*?)^```$", re.S | re.M)


def _examples() -> list[tuple[str, str]]:
    examples = []
    for page in sorted(DOCS.glob("*.md")):
        for number, block in enumerate(BLOCK.findall(page.read_text(encoding="utf-8")), 1):
            if "def test_" in block:
                examples.append((f"{page.stem}_{number}", block))
    return examples


EXAMPLES = _examples()


def test_the_docs_have_examples() -> None:
    assert len(EXAMPLES) >= 8


@pytest.mark.filterwarnings("ignore::pytest.PytestDeprecationWarning")
def test_every_example_in_the_docs_passes(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(**{f"test_{name}": source for name, source in EXAMPLES})
    result = pytester.runpytest(
        "-p", "pytest_aioreq", "-o", "asyncio_default_fixture_loop_scope=function"
    )
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) == 0, result.stdout.str()
    assert outcomes.get("errors", 0) == 0, result.stdout.str()
    expected = sum(len(re.findall(r"^(?:async )?def test_", s, re.M)) for _, s in EXAMPLES)
    assert outcomes.get("passed", 0) == expected, result.stdout.str()
