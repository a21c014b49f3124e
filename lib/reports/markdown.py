"""Markdown to HTML for reports, with raw HTML never passed through.

A small renderer of the Markdown a report's prose needs (headings, paragraphs, lists, quotes, code, rules,
emphasis, links) instead of a new dependency. Safety comes from the order: every piece of text is HTML-escaped
*first*, and only then are the few Markdown constructs turned into tags LakeLens writes itself. So
``<script>`` in a report is shown as the text ``<script>``, on the page and in the exported file; a link may only
point to ``http(s):``, ``mailto:``, a ``#fragment`` or a path on the same site (never ``javascript:``).
"""

from __future__ import annotations

import html
import re

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^\s{0,3}[-*+]\s+(.*)$")
_NUMBERED = re.compile(r"^\s{0,3}\d{1,9}[.)]\s+(.*)$")
_RULE = re.compile(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$")
_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})\s*([\w+-]*).*$")
_LINK = re.compile(r"\[([^\]\n]+)\]\(([^)\s]+)\)")
_SAFE_URL = re.compile(r"^(https?://|mailto:|#|/(?!/)|\./|\?)", re.I)


def _inline(text: str) -> str:
    """One line or paragraph of escaped text with code spans, emphasis and links."""
    pieces = re.split(r"(`[^`\n]+`)", text)
    out: list[str] = []
    for piece in pieces:
        if len(piece) > 2 and piece.startswith("`") and piece.endswith("`"):
            out.append(f"<code>{html.escape(piece[1:-1])}</code>")
            continue
        escaped = html.escape(piece, quote=True)

        def link(match: re.Match[str]) -> str:
            label, url = match.group(1), html.unescape(match.group(2))
            if not _SAFE_URL.match(url):
                return match.group(0)
            return f'<a href="{html.escape(url, quote=True)}" rel="noopener noreferrer">{label}</a>'

        escaped = _LINK.sub(link, escaped)
        escaped = re.sub(
            r"\*\*(?=\S)(.+?)(?<=\S)\*\*|__(?=\S)(.+?)(?<=\S)__",
            lambda m: f"<strong>{m.group(1) or m.group(2)}</strong>",
            escaped,
        )
        escaped = re.sub(
            r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?!\*)|(?<![\w_])_(?=\S)(.+?)(?<=\S)_(?!\w)",
            lambda m: f"<em>{m.group(1) or m.group(2)}</em>",
            escaped,
        )
        out.append(escaped)
    return "".join(out)


def to_html(markdown: str) -> str:
    """``markdown`` as HTML; raw HTML in it becomes visible text."""
    lines = markdown.replace("\r\n", "\n").split("\n")
    out: list[str] = []
    paragraph: list[str] = []
    items: list[str] = []
    list_tag = ""
    quote: list[str] = []

    def flush() -> None:
        nonlocal list_tag
        if paragraph:
            out.append(f"<p>{_inline(' '.join(line.strip() for line in paragraph))}</p>")
            paragraph.clear()
        if items:
            out.append(f"<{list_tag}>" + "".join(f"<li>{_inline(item)}</li>" for item in items) + f"</{list_tag}>")
            items.clear()
            list_tag = ""
        if quote:
            out.append(f"<blockquote>{to_html(chr(10).join(quote))}</blockquote>")
            quote.clear()

    index = 0
    while index < len(lines):
        line = lines[index]
        fence = _FENCE.match(line)
        if fence:
            flush()
            marker = fence.group(1)
            end = next((j for j in range(index + 1, len(lines)) if lines[j].strip().startswith(marker)), len(lines))
            code = "\n".join(lines[index + 1 : end])
            language = f' class="language-{html.escape(fence.group(2))}"' if fence.group(2) else ""
            out.append(f"<pre><code{language}>{html.escape(code)}</code></pre>")
            index = end + 1
            continue
        if line.lstrip().startswith(">"):
            if not quote:
                flush()
            quote.append(re.sub(r"^\s*>\s?", "", line))
            index += 1
            continue
        if quote:
            flush()
        if not line.strip():
            flush()
        elif _RULE.match(line):
            flush()
            out.append("<hr>")
        elif heading := _HEADING.match(line):
            flush()
            level = len(heading.group(1))
            out.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
        elif (bullet := _BULLET.match(line)) or (numbered := _NUMBERED.match(line)):
            tag = "ul" if bullet else "ol"
            if paragraph or (items and list_tag != tag):
                flush()
            list_tag = tag
            items.append((bullet or numbered).group(1))  # type: ignore[union-attr]
        elif items and line.startswith((" ", "\t")):
            items[-1] += " " + line.strip()
        else:
            if items:
                flush()
            paragraph.append(line)
        index += 1
    flush()
    return "\n".join(out)
