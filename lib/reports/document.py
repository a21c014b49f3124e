"""A report as text: front matter, Markdown, and fenced ```` ```sql ```` blocks whose attributes say how to show them.

The file is the source of truth (as in evidence-dev): it is parsed once into :class:`Report`, and every change
LakeLens makes to it (a pinned block appended, a block's SQL replaced) edits the text in place, so the analyst's
own formatting survives and a diff shows exactly what changed::

    ---
    title: Weekly review health
    description: What customers said this week
    author: ana
    ---

    Most reviews are positive.

    ```sql title="Reviews per sentiment" chart=bar x=sentiment y=reviews
    SELECT sentiment, count(*) AS reviews FROM demo.reviews GROUP BY 1
    ```

Problems that make the whole file unreadable (no front matter, no title, an unclosed fence) raise
:class:`~lib.errors.ReportError`. Problems of one block (an unknown attribute or chart) are that block's
``problem``: the block shows it and the rest of the report renders.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from typing import Literal

from lib.errors import ReportError

ChartKind = Literal["bar", "line", "histogram", "pie", "table", "metric"]
CHART_KINDS: tuple[ChartKind, ...] = ("bar", "line", "histogram", "pie", "table", "metric")
ATTRIBUTES = ("title", "chart", "x", "y", "color", "value", "id")
FRONT_MATTER_KEYS = ("title", "description", "author")
MAX_TITLE = 200
MAX_REPORT_BYTES = 1_000_000
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,59}$")

_FENCE_OPEN = re.compile(r"^(`{3,}|~{3,})\s*([^\s`]*)(.*)$")
_ATTRIBUTE = re.compile(r"""\s*([A-Za-z_][\w-]*)=("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^\s"']+)""")


@dataclass(frozen=True)
class Block:
    """One ```` ```sql ```` block and the Markdown text between the previous block (or the front matter) and it."""

    sql: str
    intro: str = ""
    title: str = ""
    chart: ChartKind | None = None
    x: str | None = None
    y: str | None = None
    color: str | None = None
    value: str | None = None
    id: str = ""  # set on pinned blocks, so a block without SQL still has its own snapshot
    problem: str = ""  # why this block cannot run or be drawn, shown in its place
    start_line: int = 0  # 1-based line of the opening fence
    end_line: int = 0  # 1-based line of the closing fence

    @property
    def snapshot_key(self) -> str:
        """Which stored result belongs to this block: its id and its SQL, so editing the SQL forgets the old one."""
        text = f"{self.id}\0{' '.join(self.sql.split())}"
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]

    @property
    def has_sql(self) -> bool:
        return bool(_strip_sql_comments(self.sql).strip())

    @property
    def heading(self) -> str:
        return self.title or "Untitled block"


@dataclass(frozen=True)
class Report:
    title: str
    description: str = ""
    author: str = ""
    blocks: list[Block] = field(default_factory=list)
    tail: str = ""  # Markdown after the last block


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def quote(value: str) -> str:
    """An attribute or front-matter value written so :func:`parse` reads it back unchanged."""
    if value and re.fullmatch(r"[\w.:/-]+", value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def parse_attributes(text: str) -> tuple[dict[str, str], str]:
    """``title="A b" chart=bar`` -> ({"title": "A b", "chart": "bar"}, problem)."""
    found: dict[str, str] = {}
    problems: list[str] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _ATTRIBUTE.match(text, position)
        if not match:
            rest = text[position:].strip()
            problems.append(f'cannot read the attributes from {rest[:40]!r} on (write name=value or name="a b")')
            break
        name, value = match.group(1).lower(), _unquote(match.group(2))
        if name not in ATTRIBUTES:
            problems.append(f"unknown attribute {name!r} (known: {', '.join(ATTRIBUTES)})")
        elif name in found:
            problems.append(f"the attribute {name!r} is given twice")
        else:
            found[name] = value
        position = match.end()
    return found, "; ".join(problems)


def _front_matter(lines: list[str]) -> tuple[dict[str, str], int]:
    """The front matter's values and the index of the first body line."""
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None or lines[first].strip() != "---":
        raise ReportError(
            "A report starts with front matter: a line '---', then 'title: ...' (and optionally description and "
            "author), then '---'."
        )
    values: dict[str, str] = {}
    for index in range(first + 1, len(lines)):
        line = lines[index]
        if line.strip() == "---":
            return values, index + 1
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition(":")
        key = key.strip().lower()
        if not sep or not re.fullmatch(r"[a-z_][\w-]*", key):
            raise ReportError(f"Line {index + 1} of the front matter is not 'name: value': {line.strip()[:60]!r}.")
        if key in FRONT_MATTER_KEYS:
            values[key] = _unquote(value.strip())
    raise ReportError("The front matter is not closed: add a line '---' after its last 'name: value' line.")


def parse(text: str) -> Report:
    """The report in ``text``; raises :class:`ReportError` when the file as a whole cannot be read."""
    if len(text.encode("utf-8")) > MAX_REPORT_BYTES:
        raise ReportError(f"A report can be at most {MAX_REPORT_BYTES:,} bytes; this one is larger.")
    lines = text.replace("\r\n", "\n").split("\n")
    meta, index = _front_matter(lines)
    title = meta.get("title", "").strip()
    if not title:
        raise ReportError("The report has no title: add 'title: ...' to its front matter.")
    if len(title) > MAX_TITLE:
        raise ReportError(f"The report's title is longer than {MAX_TITLE} characters; shorten it.")
    blocks: list[Block] = []
    text_lines: list[str] = []
    while index < len(lines):
        line = lines[index]
        opened = _FENCE_OPEN.match(line)
        if not opened:
            text_lines.append(line)
            index += 1
            continue
        fence, language, rest = opened.groups()
        close = next(
            (
                j
                for j in range(index + 1, len(lines))
                if re.fullmatch(re.escape(fence[0]) + "{" + str(len(fence)) + ",}\\s*", lines[j])
            ),
            None,
        )
        if close is None:
            what = "SQL block" if language.lower() == "sql" else "code block"
            raise ReportError(f"The {what} opened at line {index + 1} is not closed: add a line {fence} after it.")
        if language.lower() != "sql":
            text_lines.extend(lines[index : close + 1])
            index = close + 1
            continue
        blocks.append(_block(lines[index + 1 : close], rest, "\n".join(text_lines).strip("\n"), index + 1, close + 1))
        text_lines = []
        index = close + 1
    return Report(
        title=title,
        description=meta.get("description", "").strip(),
        author=meta.get("author", "").strip(),
        blocks=blocks,
        tail="\n".join(text_lines).strip("\n"),
    )


def _block(body: list[str], attribute_text: str, intro: str, start: int, end: int) -> Block:
    attributes, problem = parse_attributes(attribute_text)
    problems = [problem] if problem else []
    chart = attributes.get("chart", "").lower() or None
    if chart is not None and chart not in CHART_KINDS:
        problems.append(f"chart={chart} is not a chart LakeLens draws (one of {', '.join(CHART_KINDS)})")
        chart = None
    sql = "\n".join(body).strip()
    if not _strip_sql_comments(sql).strip() and not attributes.get("id"):
        problems.append("the block has no SQL")
    return Block(
        sql=sql,
        intro=intro,
        title=attributes.get("title", "").strip()[:MAX_TITLE],
        chart=chart,  # type: ignore[arg-type]
        x=attributes.get("x") or None,
        y=attributes.get("y") or None,
        color=attributes.get("color") or None,
        value=attributes.get("value") or None,
        id=attributes.get("id", ""),
        problem="; ".join(problems),
        start_line=start,
        end_line=end,
    )


def _strip_sql_comments(sql: str) -> str:
    return re.sub(r"--[^\n]*|/\*.*?\*/", "", sql, flags=re.S)


def block_markdown(block: Block) -> str:
    """The fenced block as it is written in a report."""
    attributes = [
        f"{name}={quote(value)}"
        for name, value in (
            ("title", block.title),
            ("chart", block.chart or ""),
            ("x", block.x or ""),
            ("y", block.y or ""),
            ("color", block.color or ""),
            ("value", block.value or ""),
            ("id", block.id),
        )
        if value
    ]
    fence = "````" if "```" in block.sql else "```"
    return f"{fence}sql {' '.join(attributes)}".rstrip() + f"\n{block.sql.strip()}\n{fence}"


def front_matter(title: str, description: str = "", author: str = "") -> str:
    lines = ["---", f"title: {quote(title.strip())}"]
    if description.strip():
        lines.append(f"description: {quote(description.strip())}")
    if author.strip():
        lines.append(f"author: {quote(author.strip())}")
    return "\n".join([*lines, "---", ""])


def new_report_text(title: str, description: str = "", author: str = "") -> str:
    return front_matter(title, description, author) + "\n"


def append_block(text: str, block: Block, intro: str = "") -> str:
    """``text`` with ``block`` (and a line of Markdown above it) added at the end."""
    parts = [text.rstrip("\n"), ""]
    if intro.strip():
        parts += [intro.strip(), ""]
    parts += [block_markdown(block), ""]
    return "\n".join(parts)


def replace_block_sql(text: str, index: int, sql: str) -> str:
    """``text`` with the SQL of block ``index`` (0-based) replaced; its attributes and everything else are kept."""
    report = parse(text)
    if not 0 <= index < len(report.blocks):
        raise ReportError(f"The report has no block {index + 1}; it has {len(report.blocks)}.")
    block = report.blocks[index]
    lines = text.replace("\r\n", "\n").split("\n")
    fence_line = lines[block.start_line - 1]
    fence = re.match(r"^(`{3,}|~{3,})", fence_line)
    marker = fence.group(1) if fence else "```"
    if marker[0] * 3 in sql:
        marker = marker[0] * (len(marker) + 1)
        fence_line = marker + fence_line.lstrip(marker[0])
    new = [*lines[: block.start_line - 1], fence_line, *sql.strip().split("\n"), marker, *lines[block.end_line :]]
    return "\n".join(new)


def slugify(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.strip().lower()).strip("-")[:60].strip("-")
    return slug or "report"


def check_slug(slug: str) -> str:
    if not SLUG.fullmatch(slug or ""):
        raise ReportError(
            f"{slug[:70]!r} is not a report name: use lower-case letters, digits and '-', at most 60 characters."
        )
    return slug


def with_problem(block: Block, problem: str) -> Block:
    return replace(block, problem="; ".join(p for p in (block.problem, problem) if p))
