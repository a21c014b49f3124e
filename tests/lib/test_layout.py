"""The house keeps its shape: the rules docs/ARCHITECTURE.md states about the layout, checked on the source.

Each rule reads the files as text or syntax trees (nothing is imported), so a new module that breaks one fails
here with its name, not in a review months later.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.tools import import_cycles

ROOT = Path(__file__).resolve().parents[2]
SOURCE = sorted(
    [p for folder in ("lib", "components", "pages") for p in (ROOT / folder).rglob("*.py")] + [ROOT / "app.py"]
)
KIND_BRANCH = re.compile(
    r"""kind\s*[!=]=\s*["'](local|aws)["']|isinstance\([^)]*(Local|Aws)Backend|settings\.backend\s*[!=]="""
)


def _relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_no_import_circle_among_lib_components_and_pages() -> None:
    circles = import_cycles.components_of(import_cycles.graph(list(import_cycles.FOLDERS), type_checking=False))
    assert circles == []


def test_the_circle_finder_finds_a_circle() -> None:
    """The check above can fail: two modules that import each other are one circle, a chain is none."""
    assert import_cycles.components_of({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
    assert import_cycles.components_of({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_no_source_file_over_800_lines() -> None:
    long = {_relative(p): n for p in SOURCE if (n := len(p.read_text("utf-8").splitlines())) > 800}
    assert long == {}


def test_no_branch_on_the_backends_kind_outside_lib_backends() -> None:
    branches = [
        f"{_relative(path)}:{number}"
        for path in SOURCE
        if not _relative(path).startswith("lib/backends/") and _relative(path) != "lib/settings.py"
        for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1)
        if KIND_BRANCH.search(line)
    ]
    assert branches == []
    assert KIND_BRANCH.search('if backend.kind == "local":') and KIND_BRANCH.search("isinstance(b, LocalBackend)")


@pytest.mark.parametrize("path", [p for p in SOURCE if _relative(p).startswith("lib/")], ids=_relative)
def test_the_domain_imports_neither_streamlit_nor_the_pages_cache_nor_the_benchmark(path: Path) -> None:
    where = _relative(path)
    imported = _imported_modules(path)
    if where != "lib/data.py":
        assert not {m for m in imported if m == "streamlit" or m.startswith("streamlit.")}, where
    if not where.startswith(("lib/bench/", "lib/cli/", "lib/data.py")):
        assert "lib.data" not in imported and not any(m.startswith("lib.bench") for m in imported), where


def test_every_package_says_what_it_holds() -> None:
    packages = sorted(p for folder in ("lib", "components") for p in (ROOT / folder).rglob("__init__.py"))
    silent = [_relative(p) for p in packages if not ast.get_docstring(ast.parse(p.read_text("utf-8")))]
    assert silent == []
