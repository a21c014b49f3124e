"""The benchmark's report: ``benchmarks.md`` with its ``.json`` and a log-log ``.svg`` beside it."""

from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import asdict
from pathlib import Path

from lib.bench.measurement import Measurement


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GiB RAM, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def fmt_s(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def ratios(results: list[Measurement]) -> dict[int, dict[str, float]]:
    out: dict[int, dict[str, float]] = {}
    for rows in sorted({m.rows for m in results}):
        at = {m.name: m for m in results if m.rows == rows and m.cold_s}
        lake_ingest, copy = at.get("ingest_lakelens"), at.get("ingest_duckdb_copy")
        if lake_ingest and copy and lake_ingest.cold_s and copy.cold_s:
            # the other way round: LakeLens's streaming ingest ÷ DuckDB's COPY of the same file (target ≤ 1.5)
            out[rows] = {"ingest: LakeLens / DuckDB COPY": round(lake_ingest.cold_s / copy.cold_s, 2)}
        page = at.get("sentiment_page")
        if not page or not page.cold_s:
            continue
        out[rows] = {
            f"{other} / LakeLens": round(at[other].cold_s / page.cold_s, 2)  # type: ignore[operator]
            for other in ("sentiment_pandas_notebook", "sentiment_sqlite", "sentiment_duckdb_hand")
            if other in at
        }
        text, hand = at.get("sentiment_page_text"), at.get("sentiment_duckdb_hand_text")
        if text and hand and text.cold_s and hand.cold_s:
            # the other way round: LakeLens on a table whose word counts come from the text ÷ DuckDB by hand
            out[rows]["LakeLens (words from text) / sentiment_duckdb_hand_text"] = round(text.cold_s / hand.cold_s, 2)
    return out


def write_report(results: list[Measurement], out: Path, notes: str = "") -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "machine": machine(),
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "results": [asdict(m) for m in results],
        "ratios": ratios(results),
    }
    out.with_suffix(".json").write_text(json.dumps(payload, indent=2))
    svg = out.with_suffix(".svg")
    svg.write_text(loglog_svg(results))
    lines = [
        "# Benchmarks",
        "",
        f"Measured by `make bench` (`python -m lib bench`) on {payload['machine']}, {payload['when']}.",
        "Each cell is one fresh process: **cold** is the first call (no connection, no cache), **warm** the same call",
        "again through the page's cache. Peak RSS is the whole process's.",
        "",
        "| measurement | reviews | cold | warm | peak RSS | details |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for m in results:
        detail = m.error or ", ".join(f"{k}={v}" for k, v in m.extra.items())
        lines.append(
            f"| {m.name} | {m.rows:,} | {fmt_s(m.cold_s)} | {fmt_s(m.warm_s)} | {m.peak_rss_mb or '–'} MB | {detail} |"
        )
    lines += ["", "## Ratios (cold time of the alternative ÷ cold time of LakeLens's Sentiment page data)", ""]
    ratio_table = ratios(results)
    for rows, values in ratio_table.items():
        lines.append(f"- {rows:,} reviews: " + ", ".join(f"{k} = {v}×" for k, v in values.items()))
    lines += ["", f"![time against rows, log-log]({svg.name})", ""]
    if notes:
        lines += ["## What moved the numbers", "", notes.strip(), ""]
    out.write_text("\n".join(lines))


def loglog_svg(results: list[Measurement]) -> str:
    """A small log-log chart of cold time against rows, one line per measurement; no plotting dependency."""
    import math

    series: dict[str, list[tuple[int, float]]] = {}
    for m in results:
        if m.cold_s:
            series.setdefault(m.name, []).append((m.rows, m.cold_s))
    width, height, pad = 760, 420, 60
    xs = [r for points in series.values() for r, _ in points] or [1, 10]
    ys = [t for points in series.values() for _, t in points] or [0.01, 1]
    x0, x1 = math.log10(min(xs)) - 0.1, math.log10(max(xs)) + 0.1
    y0, y1 = math.log10(min(ys)) - 0.2, math.log10(max(ys)) + 0.2

    def px(rows: float, seconds: float) -> tuple[float, float]:
        x = pad + (math.log10(rows) - x0) / max(x1 - x0, 1e-9) * (width - 2 * pad - 170)
        y = height - pad - (math.log10(seconds) - y0) / max(y1 - y0, 1e-9) * (height - 2 * pad)
        return x, y

    colours = [
        "#2563eb",
        "#dc2626",
        "#16a34a",
        "#9333ea",
        "#ea580c",
        "#0891b2",
        "#4b5563",
        "#be185d",
        "#65a30d",
        "#a16207",
    ]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="11">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
    ]
    parts.append(f'<text x="{pad}" y="20" font-size="14">Cold time against reviews (log-log)</text>')
    for exponent in range(math.floor(y0), math.ceil(y1) + 1):
        _, y = px(10**x0, 10**exponent)
        if pad <= y <= height - pad:
            parts.append(f'<line x1="{pad}" x2="{width - pad - 170}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e7eb"/>')
            parts.append(f'<text x="{pad - 6}" y="{y + 4:.1f}" text-anchor="end">{fmt_s(10**exponent)}</text>')
    for rows in sorted(set(xs)):
        x, _ = px(rows, 10**y0)
        parts.append(f'<text x="{x:.1f}" y="{height - pad + 16}" text-anchor="middle">{rows:,}</text>')
    parts.append(f'<text x="{(width - 170) / 2:.0f}" y="{height - 18}" text-anchor="middle">reviews</text>')
    for index, (name, points) in enumerate(sorted(series.items())):
        colour = colours[index % len(colours)]
        coords = [px(r, t) for r, t in sorted(points)]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        parts += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>' for x, y in coords]
        ly = pad + index * 16
        parts.append(f'<rect x="{width - pad - 160}" y="{ly - 8}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{width - pad - 145}" y="{ly + 1}">{name}</text>')
    parts.append("</svg>")
    return "\n".join(parts)
