"""The layers of DESIGN.md hold: imports point down only, and the protocol stays sans-IO.

The imports are read with `ast`, so a module that is never imported by a test is checked too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Rank of each layer: a module may import aioreq modules of the same or a lower rank only.
# Every module must fall under one of these names; a new layer is added here on purpose.
RANKS = {
    "aioreq._exceptions": 0,
    "aioreq._version": 0,
    "aioreq.protocol": 1,
    "aioreq._headers": 1,
    "aioreq._config": 1,
    "aioreq.streams": 2,
    "aioreq.connection": 3,
    "aioreq.server": 3,
    "aioreq.pool": 4,
    "aioreq.client": 5,
    "aioreq": 6,
    "aioreq.__main__": 7,
    "aioreq._cli": 7,
}
# Neither of these may reach the other: client and server share only the layers below them.
APART = [("aioreq.client", "aioreq.server"), ("aioreq.server", "aioreq.client")]
IO_MODULES = {"asyncio", "socket", "selectors", "ssl", "threading", "uvloop"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, package: str | None = None) -> list[str]:
    """Absolute names of every module the file imports (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    if package is None:
        package = _module_name(path)
        if path.name != "__init__.py":
            package = package.rpartition(".")[0]
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                prefix = ".".join(base)
                module = f"{prefix}.{node.module}" if node.module else prefix
            else:
                module = node.module or ""
            names.append(module)
            names.extend(f"{module}.{alias.name}" for alias in node.names)
    return names


def _layer(module: str) -> str:
    """The layer a module of aioreq belongs to: the longest RANKS key that prefixes it."""
    keys = [k for k in RANKS if module == k or module.startswith(k + ".")]
    assert keys, f"{module} is in no layer: add it to RANKS in {__file__}"
    return max(keys, key=len)


def _sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("path", _sources("aioreq"), ids=lambda p: _module_name(p))
def test_aioreq_imports_point_down(path: Path) -> None:
    module = _module_name(path)
    own = _layer(module)
    for name in _imports(path):
        if name != "aioreq" and not name.startswith("aioreq."):
            continue
        target = _layer(name)
        if target == own or target.startswith(own + "."):
            continue
        assert RANKS[target] <= RANKS[own], f"{module} ({own}) imports upward: {name} ({target})"
        assert (own, target) not in APART, f"{module} imports {name}: client and server stay apart"


@pytest.mark.parametrize("path", _sources("aioreq/protocol"), ids=lambda p: _module_name(p))
def test_protocol_is_sans_io(path: Path) -> None:
    """aioreq.protocol imports the standard library's pure parts and aioreq's exceptions only."""
    for name in _imports(path):
        top = name.split(".")[0]
        assert top not in IO_MODULES, f"{_module_name(path)} imports {name}: protocol is sans-IO"
        if name.startswith("aioreq."):
            assert name.startswith(("aioreq.protocol", "aioreq._exceptions")), (
                f"{_module_name(path)} imports {name}"
            )


@pytest.mark.parametrize("path", _sources("pytest_aioreq"), ids=lambda p: _module_name(p))
def test_plugin_uses_public_names_only(path: Path) -> None:
    for name in _imports(path):
        parts = name.split(".")
        if parts[0] == "aioreq":
            assert not any(p.startswith("_") for p in parts[1:]), (
                f"{_module_name(path)} imports the private {name}"
            )


def test_the_checker_sees_an_upward_import(tmp_path: Path) -> None:
    """The import reader resolves relative imports and ranks them (a blind checker passes all)."""
    names = _imports(ROOT / "aioreq" / "protocol" / "_parser.py")
    assert "aioreq._exceptions" in names
    assert "aioreq.protocol._fields" in names
    fake = tmp_path / "mod.py"
    fake.write_text("from aioreq import client\nimport aioreq.server\n")
    ranks = {_layer(n) for n in _imports(fake, "elsewhere") if n.startswith("aioreq")}
    assert ranks == {"aioreq", "aioreq.client", "aioreq.server"}
    assert RANKS[_layer("aioreq.client")] > RANKS[_layer("aioreq.protocol._parser")]
