"""Import circles among LakeLens's own modules (lib/, components/, pages/), found from the source, not by importing.

    .venv/bin/python tests/tools/import_cycles.py [--type-checking] [FOLDER ...]

Every ``import`` and ``from ... import`` counts, at module level and inside functions (a lazy import that closes a
circle is still a circle: it only hides the order problem). Imports under ``if TYPE_CHECKING:`` never run, so
they are left out unless ``--type-checking`` is given. ``from a.b import c`` is an edge to ``a.b.c`` when that is a
module, else to ``a.b``; importing ``a.b.c`` also runs ``a/b/__init__.py``, but that edge is not counted (a
package's ``__init__`` re-exporting its modules would otherwise make every package a circle).

Prints one line per circle (the modules of a strongly connected component, and one path around it) and exits 1
when there is any, 0 when there is none.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = ("lib", "components", "pages")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    """ids of the import nodes inside ``if TYPE_CHECKING:`` blocks."""
    hidden: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = test.id if isinstance(test, ast.Name) else test.attr if isinstance(test, ast.Attribute) else ""
            if name == "TYPE_CHECKING":
                for inner in node.body:
                    hidden.update(id(n) for n in ast.walk(inner))
    return hidden


def imports(path: Path, name: str, known: set[str], type_checking: bool) -> Iterator[str]:
    tree = ast.parse(path.read_text("utf-8"), str(path))
    hidden = set() if type_checking else _type_checking_nodes(tree)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if id(node) in hidden:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in known:
                    yield alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join([*base_parts, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            for alias in node.names:
                target = f"{base}.{alias.name}"
                if target in known:
                    yield target
                elif base in known:
                    yield base


def graph(folders: list[str], type_checking: bool) -> dict[str, set[str]]:
    paths = {module_name(p): p for folder in folders for p in sorted((ROOT / folder).rglob("*.py"))}
    known = set(paths)
    return {name: set(imports(path, name, known, type_checking)) - {name} for name, path in paths.items()}


def components_of(edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components with more than one module (iterative: no recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                members = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    members.append(member)
                    if member == node:
                        break
                if len(members) > 1:
                    found.append(sorted(members))
    return found


def a_cycle(edges: dict[str, set[str]], members: list[str]) -> list[str]:
    """One path from the first member back to itself, inside the component (breadth first: a short one)."""
    inside = set(members)
    start = members[0]
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(edges[node] & inside):
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [*reversed(path), start]
                if child not in previous:
                    previous[child] = node
                    following.append(child)
        frontier = following
    return members


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("folders", nargs="*", default=list(FOLDERS))
    parser.add_argument("--type-checking", action="store_true", help="count imports under `if TYPE_CHECKING:`")
    args = parser.parse_args(argv)
    edges = graph(args.folders, args.type_checking)
    cycles = components_of(edges)
    for members in cycles:
        print(f"{len(members)} modules: {' -> '.join(a_cycle(edges, members))}   (all: {', '.join(members)})")
    print(f"{len(edges)} modules, {sum(len(e) for e in edges.values())} imports, {len(cycles)} circle(s)")
    return 1 if cycles else 0


if __name__ == "__main__":
    sys.exit(main())
