"""Query plans as one readable tree: DuckDB's ``EXPLAIN (FORMAT JSON)`` locally, Athena's on aws.

Both engines describe a plan as nested operators with details; :class:`PlanNode` keeps the operator's name and
its details as (label, text) pairs, so the page can show the tables, partitions or files and the filters each
scan reads without knowing which engine wrote them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from lib.errors import QueryFailed

# Details worth showing first: what a scan reads and what it filters.
_KEY_DETAILS = ("table", "Table", "Function", "Scanning Files", "File Filters", "Filters", "filterPredicate")


@dataclass(frozen=True)
class PlanNode:
    name: str
    details: list[tuple[str, str]] = field(default_factory=list)
    children: list[PlanNode] = field(default_factory=list)

    @property
    def is_scan(self) -> bool:
        upper = self.name.upper()
        return "SCAN" in upper or upper.startswith("READ_") or any(k in ("table", "Table") for k, _ in self.details)

    def walk(self) -> list[PlanNode]:
        nodes = [self]
        for child in self.children:
            nodes.extend(child.walk())
        return nodes


@dataclass(frozen=True)
class Plan:
    engine: str
    tables: list[str]
    roots: list[PlanNode]
    raw: str = ""

    def scans(self) -> list[PlanNode]:
        return [node for root in self.roots for node in root.walk() if node.is_scan]

    def text(self) -> str:
        """The tree as indented lines (for the CLI, a test, or a copy into a ticket)."""
        lines: list[str] = []

        def add(node: PlanNode, depth: int) -> None:
            lines.append("  " * depth + node.name)
            for label, value in node.details:
                lines.append("  " * depth + f"  · {label}: {value}")
            for child in node.children:
                add(child, depth + 1)

        for root in self.roots:
            add(root, 0)
        return "\n".join(lines)


def _ordered(details: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return sorted(details, key=lambda kv: _KEY_DETAILS.index(kv[0]) if kv[0] in _KEY_DETAILS else 99)


def _duckdb_node(item: dict[str, Any]) -> PlanNode:
    extra = item.get("extra_info") or {}
    details: list[tuple[str, str]] = []
    if isinstance(extra, dict):
        for key, value in extra.items():
            text = ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)
            if text.strip():
                details.append((str(key), text.strip()))
    elif str(extra).strip():
        details.append(("info", str(extra).strip()))
    children = [_duckdb_node(child) for child in item.get("children") or [] if isinstance(child, dict)]
    return PlanNode(str(item.get("name", "?")).strip(), _ordered(details), children)


def from_duckdb(text: str, tables: list[str], engine: str) -> Plan:
    try:
        items = json.loads(text)
    except json.JSONDecodeError:
        raise QueryFailed("The local engine's plan could not be read.") from None
    roots = [_duckdb_node(item) for item in (items if isinstance(items, list) else [items]) if isinstance(item, dict)]
    return Plan(engine, tables, roots, text)


def _trino_node(item: dict[str, Any]) -> PlanNode:
    details: list[tuple[str, str]] = []
    descriptor = item.get("descriptor") or {}
    if isinstance(descriptor, dict):
        for key, value in descriptor.items():
            if str(value).strip() and str(value) != "[]":
                details.append((str(key), str(value)))
    lines = [str(line).strip() for line in item.get("details") or [] if str(line).strip()]
    if lines:
        details.append(("details", "; ".join(lines)))
    estimates = item.get("estimates") or []
    if estimates and isinstance(estimates[0], dict) and estimates[0].get("outputRowCount") not in (None, "NaN"):
        details.append(("estimated rows", str(estimates[0]["outputRowCount"])))
    children = [_trino_node(child) for child in item.get("children") or [] if isinstance(child, dict)]
    return PlanNode(str(item.get("name", "?")), _ordered(details), children)


def from_trino(text: str, tables: list[str]) -> Plan:
    """Athena's ``EXPLAIN (FORMAT JSON)``: one operator tree, or fragments by id for a distributed plan."""
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError:
        raise QueryFailed("Athena's plan could not be read as JSON.") from None
    if isinstance(parsed, dict) and "name" in parsed:
        roots = [_trino_node(parsed)]
    elif isinstance(parsed, dict):
        roots = [
            PlanNode(f"Fragment {key}", [], [_trino_node(value)])
            for key, value in parsed.items()
            if isinstance(value, dict)
        ]
    else:
        roots = []
    return Plan("Athena", tables, roots, text)
