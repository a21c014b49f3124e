"""How many bytes a query will scan, worked out from the catalog before anything runs.

Athena bills the bytes it reads, and it reads every object under a table's location except the partitions a
filter rules out. So the estimate is: for each table the statement reads, the objects under its location (or,
for a partitioned table, under the locations of the partitions that survive the equality and ``IN`` filters on
partition keys found in the ``WHERE`` clause), added up. It is an upper bound for Parquet, where Athena reads
only the columns it needs, and close to exact for text formats.

Only conjuncts that are certain to restrict the partitions are used: ``key = 'x'``, ``key IN ('x', 'y')`` and
``'x' = key``, joined by ``AND`` at the top of a ``WHERE``. Anything under ``OR`` or ``NOT`` prunes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlglot import exp

from lib import sql as sqlmod
from lib.backends.base import Backend
from lib.catalog import Column, Partition, TableDef
from lib.lake.objects import all_partitions

ATHENA_USD_PER_TB = 5.0
ATHENA_MIN_BYTES = 10 * 10**6


def athena_cost_usd(scanned: int) -> float:
    """Athena's price for a query that scans ``scanned`` bytes: $5 per TB, at least 10 MB billed."""
    return max(scanned, ATHENA_MIN_BYTES) / 10**12 * ATHENA_USD_PER_TB


@dataclass(frozen=True)
class TableScan:
    """What one reference to a table in the statement will read."""

    table: str
    bytes: int | None  # None: the table's location is outside the lake, so it cannot be listed
    objects: int
    partitions_total: int | None = None  # None: the table is not partitioned
    partitions_read: int | None = None
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)
    capped: bool = False  # the listing stopped at the object cap: bytes is a lower bound


@dataclass(frozen=True)
class ScanEstimate:
    tables: list[TableScan]

    @property
    def bytes(self) -> int:
        return sum(scan.bytes or 0 for scan in self.tables)

    @property
    def complete(self) -> bool:
        """Every table could be listed to the end (otherwise ``bytes`` is a lower bound)."""
        return all(scan.bytes is not None and not scan.capped for scan in self.tables)

    @property
    def cost_usd(self) -> float:
        return athena_cost_usd(self.bytes) if self.tables else 0.0

    def describe(self) -> str:
        """One line for the page: ``about 12.3 MB in 3 of 18 partitions of demo.reviews``."""
        from lib.paths import human_bytes

        if not self.tables:
            return "reads no table data"
        parts: list[str] = []
        for scan in self.tables:
            if scan.bytes is None:
                part = f"{scan.table} (outside the lake: size unknown)"
            elif scan.partitions_total is not None:
                part = f"{scan.partitions_read} of {scan.partitions_total} partitions of {scan.table}"
            else:
                part = scan.table
            parts.append(part)
        counted = {part: parts.count(part) for part in parts}  # a self-join reads the table once per reference
        parts = [part if count == 1 else f"{part} (read {count} times)" for part, count in counted.items()]
        prefix = "at least " if not self.complete else "about "
        return f"{prefix}{human_bytes(self.bytes)} from {', '.join(parts)}"


def estimate_scan(
    backend: Backend,
    statement: sqlmod.Statement | str,
    *,
    default_database: str | None = None,
    object_cap: int = 100_000,
    params: Mapping[str, object] | None = None,
) -> ScanEstimate:
    """Bytes ``statement`` will read, from the catalog and an object listing; nothing is run.

    ``params`` are the values of the SQL's ``:name`` parameters: a partition key compared with one is pruned
    as if the value had been written in the SQL.
    """
    default_db = default_database or backend.settings.database
    if isinstance(statement, str):
        statement = sqlmod.check(statement, allow_writes=True, default_database=default_db)
    if statement.kind in ("show", "describe", "explain") or statement.tree is None:
        return ScanEstimate([])
    tree: exp.Expr = statement.tree
    if params:
        values = {str(name): value for name, value in params.items()}

        def fill(node: exp.Expr) -> exp.Expr:
            if isinstance(node, exp.Placeholder) and str(node.name or "") in values:
                return exp.Literal.string(str(values[str(node.name)]))
            return node

        tree = tree.copy().transform(fill)
    scans: list[TableScan] = []
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    tables: dict[tuple[str, str], TableDef] = {}
    for node in tree.find_all(exp.Table):
        if not isinstance(node.this, exp.Identifier):
            continue
        if not node.db and node.name.lower() in ctes:
            continue
        if (node.db or "").lower() == sqlmod.INFORMATION_SCHEMA:
            continue  # answered from the catalog: no data is read
        key = ((node.db or default_db).lower(), node.name.lower())
        if key not in tables:
            tables[key] = backend.get_table(*key)
        table = tables[key]
        filters = partition_filters(node, table.partition_keys)
        scans.append(_scan_table(backend, table, filters, object_cap))
    return ScanEstimate(scans)


def partition_filters(node: exp.Table, keys: list[Column]) -> dict[str, tuple[str, ...]]:
    """Values each partition key of the table at ``node`` is restricted to by its SELECT's WHERE clause."""
    if not keys:
        return {}
    select = node.find_ancestor(exp.Select)
    where = select.args.get("where") if select is not None else None
    if where is None:
        return {}
    names = {key.name.lower() for key in keys}
    alias = node.alias_or_name.lower()
    allowed: dict[str, set[str]] = {}
    for conjunct in _conjuncts(where.this):
        found = _restriction(conjunct)
        if found is None:
            continue
        column, values = found
        name = column.name.lower()
        if name not in names or (column.table and column.table.lower() != alias):
            continue
        allowed[name] = allowed[name] & values if name in allowed else set(values)
    return {name: tuple(sorted(values)) for name, values in allowed.items()}


def _conjuncts(condition: exp.Expr) -> list[exp.Expr]:
    while isinstance(condition, exp.Paren):
        condition = condition.this
    if isinstance(condition, exp.And):
        return _conjuncts(condition.left) + _conjuncts(condition.right)
    return [condition]


def _literal(node: exp.Expr) -> str | None:
    while isinstance(node, (exp.Cast, exp.Paren)):
        node = node.this
    if isinstance(node, exp.Literal):
        return str(node.name)
    return None


def _restriction(condition: exp.Expr) -> tuple[exp.Column, set[str]] | None:
    if isinstance(condition, exp.EQ):
        left, right = condition.left, condition.right
        if isinstance(right, exp.Column):
            left, right = right, left
        value = _literal(right)
        if isinstance(left, exp.Column) and value is not None:
            return left, {value}
    if isinstance(condition, exp.In) and isinstance(condition.this, exp.Column) and not condition.args.get("query"):
        values = [_literal(item) for item in condition.expressions]
        if values and all(value is not None for value in values):
            return condition.this, {value for value in values if value is not None}
    return None


def _scan_table(backend: Backend, table: TableDef, filters: dict[str, tuple[str, ...]], cap: int) -> TableScan:
    if not table.partition_keys:
        prefix = backend.location_key(table.location)
        if prefix is None:
            return TableScan(table.qualified_name, None, 0)
        size, count, capped = _objects_under(backend, prefix, cap)
        return TableScan(table.qualified_name, size, count, capped=capped)
    partitions = all_partitions(backend, table.database, table.name)
    order = [key.name.lower() for key in table.partition_keys]
    chosen = [p for p in partitions if _matches(p, order, filters)]
    size = count = 0
    capped = False
    unknown = False
    for partition in chosen:
        prefix = backend.location_key(partition.location)
        if prefix is None:
            unknown = True
            continue
        part_size, part_count, part_capped = _objects_under(backend, prefix, cap - count)
        size += part_size
        count += part_count
        if part_capped or count >= cap:
            capped = True
            break
    return TableScan(
        table.qualified_name,
        None if unknown and not size else size,
        count,
        partitions_total=len(partitions),
        partitions_read=len(chosen),
        filters=filters,
        capped=capped or unknown,
    )


def _matches(partition: Partition, order: list[str], filters: dict[str, tuple[str, ...]]) -> bool:
    for name, values in filters.items():
        position = order.index(name)
        if position >= len(partition.values) or partition.values[position] not in values:
            return False
    return True


def _objects_under(backend: Backend, prefix: str, cap: int) -> tuple[int, int, bool]:
    """Bytes and count of the data objects under ``prefix``; names starting with ``_`` or ``.`` are skipped,
    as Athena skips them."""
    size = count = 0
    pending = [prefix]
    while pending:
        folder = pending.pop()
        token: str | None = None
        while True:
            page = backend.list_objects(folder, token=token)
            for obj in page.objects:
                if _hidden(obj.key[len(folder) :]):
                    continue
                size += obj.size
                count += 1
                if count >= cap:
                    return size, count, True
            pending.extend(sub for sub in page.folders if not _hidden(sub[len(folder) :].rstrip("/")))
            token = page.next_token
            if not token:
                break
    return size, count, False


def _hidden(name: str) -> bool:
    return name.startswith(("_", "."))
