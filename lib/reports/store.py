"""Reports in the lake, beside history and saved queries: the Markdown, each block's last result, old versions.

Everything goes through :class:`~lib.backends.base.Backend` ``read``/``write``/``list_objects``/``stat``, so a
lake folder and an S3 bucket behave the same and everyone on the lake shares the reports:

* ``<meta>reports/<slug>.md`` — the report, as the analyst wrote it (the source of truth).
* ``<meta>reports/_snapshots/<slug>.json`` — each block's last result (rows, time, engine, bytes scanned), keyed
  by :attr:`Block.snapshot_key`, so a report opens at once and costs nothing on Athena until it is refreshed.
* ``<meta>reports/_versions/<slug>/<inverted time>-<id>.md`` — the text each save replaced; the ascending
  listing is newest first (the same trick as the history).
"""

from __future__ import annotations

import builtins
import json
import logging
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from lib.backends.base import Backend
from lib.errors import LakeLensError, NotFound, ReportError
from lib.reports.document import Report, check_slug, parse, slugify

log = logging.getLogger("lakelens")

_INVERT = 10**13 - 1
MAX_VERSIONS_LISTED = 200


@dataclass(frozen=True)
class Snapshot:
    """A block's last result: enough to draw it again without running anything."""

    run_at: str  # ISO time, UTC
    engine: str = ""
    rows: int | None = None  # rows the query returned in all (not only the ones kept)
    bytes_scanned: int | None = None
    bytes_estimated: bool = False
    columns: list[str] = field(default_factory=list)
    records: list[dict[str, Any]] | None = None
    truncated: bool = False
    figure_json: str | None = None  # a pinned chart, until the first refresh draws it from rows
    query_id: str = ""
    error: str = ""
    sql: str = ""

    @property
    def time(self) -> datetime:
        return datetime.fromisoformat(self.run_at)

    @property
    def when(self) -> str:
        return self.time.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> Snapshot:
        known = {name: body[name] for name in cls.__dataclass_fields__ if name in body}
        return cls(**known)


@dataclass(frozen=True)
class StoredReport:
    slug: str
    text: str
    report: Report
    snapshots: dict[str, Snapshot]

    def snapshot(self, index: int) -> Snapshot | None:
        return self.snapshots.get(self.report.blocks[index].snapshot_key)

    @property
    def refreshed_at(self) -> datetime | None:
        times = [snap.time for snap in self.snapshots.values() if not snap.error]
        return max(times) if times else None


@dataclass(frozen=True)
class ReportSummary:
    slug: str
    title: str
    author: str
    blocks: int
    refreshed_at: datetime | None
    problem: str = ""  # the file cannot be read: why


@dataclass(frozen=True)
class Version:
    id: str
    saved_at: datetime  # when this text was saved (it was replaced later)
    size: int


class ReportStore:
    """The reports of one lake."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.prefix = f"{backend.settings.meta_prefix}reports/"

    # -- keys ----------------------------------------------------------------------------------------------------
    def key(self, slug: str) -> str:
        return f"{self.prefix}{check_slug(slug)}.md"

    def snapshot_key(self, slug: str) -> str:
        return f"{self.prefix}_snapshots/{check_slug(slug)}.json"

    def versions_prefix(self, slug: str) -> str:
        return f"{self.prefix}_versions/{check_slug(slug)}/"

    # -- reading ---------------------------------------------------------------------------------------------
    def slugs(self) -> list[str]:
        found: list[str] = []
        token: str | None = None
        while True:
            page = self.backend.list_objects(self.prefix, token=token)
            for obj in page.objects:
                name = obj.key[len(self.prefix) :]
                if name.endswith(".md") and "/" not in name:
                    found.append(name[:-3])
            token = page.next_token
            if not token:
                return sorted(found)

    def exists(self, slug: str) -> bool:
        try:
            self.backend.stat(self.key(slug))
        except NotFound:
            return False
        return True

    def text(self, slug: str) -> str:
        try:
            data = self.backend.read(self.key(slug))
        except NotFound:
            raise NotFound(f"There is no report named {slug!r}; the Reports page lists the ones there are.") from None
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise ReportError(f"The report {slug!r} is not UTF-8 text.") from None

    def load(self, slug: str) -> StoredReport:
        text = self.text(slug)
        return StoredReport(slug=slug, text=text, report=parse(text), snapshots=self.snapshots(slug))

    def snapshots(self, slug: str) -> dict[str, Snapshot]:
        try:
            body = json.loads(self.backend.read(self.snapshot_key(slug)))
        except NotFound:
            return {}
        except (ValueError, LakeLensError):
            log.warning("Ignoring unreadable report snapshots of %s", slug, exc_info=True)
            return {}
        found: dict[str, Snapshot] = {}
        for key, value in dict(body.get("blocks", {})).items():
            try:
                found[str(key)] = Snapshot.from_dict(value)
            except (TypeError, ValueError):
                log.warning("Ignoring an unreadable snapshot %s of %s", key, slug)
        return found

    def list(self) -> list[ReportSummary]:
        """Every report, by title; a file that cannot be parsed is listed with its problem."""
        with ThreadPoolExecutor(max_workers=8) as pool:
            summaries = list(pool.map(self._summary, self.slugs()))
        return sorted(summaries, key=lambda s: (s.title.lower(), s.slug))

    def _summary(self, slug: str) -> ReportSummary:
        try:
            stored = self.load(slug)
        except LakeLensError as exc:
            return ReportSummary(slug, slug, "", 0, None, problem=str(exc))
        report = stored.report
        return ReportSummary(slug, report.title, report.author, len(report.blocks), stored.refreshed_at)

    # -- writing ----------------------------------------------------------------------------------------------
    def save(self, slug: str, text: str) -> Report:
        """Write ``text`` as the report; the text it replaces is kept as a version. Refuses an unreadable report."""
        report = parse(text)
        key = self.key(slug)
        try:
            old = self.backend.read(key)
            saved = self.backend.stat(key).last_modified
        except NotFound:
            old, saved = None, None
        if old is not None and old.decode("utf-8", "replace") == text:
            return report
        if old is not None:
            stamp = saved or datetime.now(UTC)
            millis = int(stamp.timestamp() * 1000)
            version = f"{self.versions_prefix(slug)}{_INVERT - millis:013d}-{uuid.uuid4().hex[:12]}.md"
            self.backend.write(version, old, content_type="text/markdown")
        self.backend.write(key, text.encode("utf-8"), content_type="text/markdown")
        return report

    def create(self, text: str, slug: str | None = None) -> str:
        """A new report; without ``slug``, one made from the title that no other report has. Returns the slug."""
        report = parse(text)
        if slug is not None:
            check_slug(slug)
            if self.exists(slug):
                raise ReportError(f"A report named {slug!r} exists already; pick another name.")
        else:
            base = slugify(report.title)[:55].strip("-") or "report"
            slug, number = base, 2
            while self.exists(slug):
                slug, number = f"{base}-{number}", number + 1
        self.save(slug, text)
        return slug

    def write_snapshots(self, slug: str, snapshots: dict[str, Snapshot]) -> None:
        body = {"blocks": {key: asdict(snap) for key, snap in snapshots.items()}}
        data = json.dumps(body, sort_keys=True, default=str).encode("utf-8")
        self.backend.write(self.snapshot_key(slug), data, content_type="application/json")

    def update_snapshots(self, slug: str, changed: dict[str, Snapshot]) -> dict[str, Snapshot]:
        """Merge ``changed`` into the stored snapshots, forgetting the ones no block of the report uses any more."""
        current = self.snapshots(slug)
        current.update(changed)
        try:
            used = {block.snapshot_key for block in self.load(slug).report.blocks}
            current = {key: snap for key, snap in current.items() if key in used}
        except NotFound:
            pass
        self.write_snapshots(slug, current)
        return current

    # -- versions ---------------------------------------------------------------------------------------------
    def versions(self, slug: str) -> builtins.list[Version]:
        """Earlier texts of the report, newest first."""
        prefix = self.versions_prefix(slug)
        found: list[Version] = []
        token: str | None = None
        while len(found) < MAX_VERSIONS_LISTED:
            page = self.backend.list_objects(prefix, token=token)
            for obj in page.objects:
                name = obj.key[len(prefix) :]
                stamp, _, rest = name.partition("-")
                if not (stamp.isdigit() and rest.endswith(".md")):
                    continue
                saved = datetime.fromtimestamp((_INVERT - int(stamp)) / 1000, UTC)
                found.append(Version(id=name[:-3], saved_at=saved, size=obj.size))
            token = page.next_token
            if not token:
                break
        return found[:MAX_VERSIONS_LISTED]

    def version_text(self, slug: str, version: str) -> str:
        if not version.replace("-", "").isalnum():
            raise NotFound(f"There is no version {version[:40]!r} of {slug!r}.")
        try:
            return self.backend.read(f"{self.versions_prefix(slug)}{version}.md").decode("utf-8", "replace")
        except NotFound:
            raise NotFound(f"There is no version {version!r} of {slug!r}.") from None

    def restore(self, slug: str, version: str) -> Report:
        """Make an earlier text the current one; the current text becomes a version itself, so nothing is lost."""
        return self.save(slug, self.version_text(slug, version))
