"""The document model of a report: blocks (headings, paragraphs, tables, figures, code, a table
of contents, collapsible parts) rendered twice, to Markdown and to a small self-contained HTML
page.

The HTML is written here by hand (no Markdown package is a dependency): the blocks are already
structured, so no Markdown parsing is needed. Headings get the anchors GitHub gives them
(:func:`anchor_ids`), so the table of contents links work in the HTML page and in the Markdown
file as GitHub and most viewers render it.

>>> doc = Document()
>>> doc.h(1, "Title"); doc.toc(); doc.h(2, "Set-up"); doc.p("Some *text*.")
>>> with doc.details("more"):
...     doc.p("hidden until opened")
>>> doc.markdown().splitlines()[:4]
['# Title', '', '**Contents**', '']
>>> '<a href="#set-up">Set-up</a>' in doc.html("Title")
True
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bellmodels._format import fmt_cell as _fmt  # noqa: F401  (the report's cells)
from bellmodels._util import atomic_write

TOC_LEVELS = (2, 3)
"""Heading levels listed in the table of contents."""

_STYLE = (
    "body{font-family:sans-serif;max-width:70em;margin:2em auto;padding:0 1em;"
    "line-height:1.4}table{border-collapse:collapse;margin:1em 0;font-size:90%}"
    "td,th{border:1px solid #ccc;padding:.25em .5em;text-align:right}"
    "td:first-child,th:first-child{text-align:left}th{background:#f2f2f2}"
    "img{max-width:100%}figure{margin:1.5em 0}figcaption{color:#444;font-size:90%}"
    "pre{background:#f6f6f6;padding:.5em;overflow:auto}"
    "nav.toc{background:#f8f8f8;border:1px solid #ddd;padding:.5em 1.5em;display:inline-block}"
    "nav.toc ul{margin:.2em 0;padding-left:1.2em}details{margin:.4em 0}"
    "summary{cursor:pointer;font-weight:bold}"
)


@dataclass
class Document:
    """A report as a list of blocks; :meth:`markdown` and :meth:`html` render it."""

    blocks: list[tuple[str, Any]] = field(default_factory=list)

    def h(self, level: int, text: str) -> None:
        self.blocks.append(("h", (level, text)))

    def p(self, text: str) -> None:
        self.blocks.append(("p", text))

    def table(self, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        self.blocks.append(("table", (list(header), [list(r) for r in rows])))

    def fig(self, path: str, caption: str) -> None:
        self.blocks.append(("fig", (path, caption)))

    def code(self, text: str) -> None:
        self.blocks.append(("code", text))

    def toc(self) -> None:
        """Here, a table of contents: a link to every heading of :data:`TOC_LEVELS`."""
        self.blocks.append(("toc", None))

    @contextmanager
    def details(self, summary: str) -> Iterator[None]:
        """The blocks added inside the ``with`` collapse under ``summary`` (HTML ``<details>``,
        which Markdown passes through)."""
        self.blocks.append(("details", summary))
        try:
            yield
        finally:
            self.blocks.append(("/details", None))

    def headings(self) -> list[tuple[int, str, str]]:
        """``(level, text, anchor id)`` of every heading, in order."""
        heads = [val for kind, val in self.blocks if kind == "h"]
        ids = anchor_ids([text for _, text in heads])
        return [(lvl, text, a) for (lvl, text), a in zip(heads, ids, strict=True)]

    # -- rendering ----------------------------------------------------------------------------
    def markdown(self) -> str:
        out: list[str] = []
        heads = iter(self.headings())
        for kind, val in self.blocks:
            if kind == "h":
                next(heads)
                out.append("#" * val[0] + " " + val[1])
            elif kind == "toc":
                out.append("**Contents**\n")
                out.extend(
                    "  " * (lvl - TOC_LEVELS[0]) + f"- [{text}](#{a})"
                    for lvl, text, a in self.headings()
                    if lvl in TOC_LEVELS
                )
            elif kind == "details":
                out.append(f"<details>\n<summary>{html.escape(val)}</summary>\n")
            elif kind == "/details":
                out.append("</details>")
            else:
                out.append(_markdown_block(kind, val))
            out.append("")
        return "\n".join(out)

    def html(self, title: str) -> str:
        body: list[str] = []
        heads = iter(self.headings())
        for kind, val in self.blocks:
            if kind == "h":
                lvl, text, a = next(heads)
                body.append(f'<h{lvl} id="{a}">{_inline_html(text)}</h{lvl}>')
            elif kind == "toc":
                body.append(_toc_html(self.headings()))
            elif kind == "details":
                body.append(f"<details><summary>{_inline_html(val)}</summary>")
            elif kind == "/details":
                body.append("</details>")
            else:
                body.append(_html_block(kind, val))
        return (
            "<!DOCTYPE html>\n<html><head><meta charset='utf-8'>"
            f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>\n"
            + "\n".join(body)
            + "\n</body></html>\n"
        )


def _markdown_block(kind: str, val: Any) -> str:
    """A paragraph, table, figure or code block as Markdown."""
    if kind == "table":
        header, rows = val
        lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
        lines.extend("| " + " | ".join(_cell(c) for c in r) + " |" for r in rows)
        return "\n".join(lines)
    if kind == "fig":
        return f"![{val[1]}]({val[0]})\n\n*{val[1]}*"
    if kind == "code":
        return "```\n" + val + "\n```"
    return str(val)


def _html_block(kind: str, val: Any) -> str:
    """A paragraph, table, figure or code block as HTML."""
    if kind == "table":
        header, rows = val
        head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
        trs = "".join(
            "<tr>" + "".join(f"<td>{_inline_html(_cell(c))}</td>" for c in r) + "</tr>"
            for r in rows
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{trs}</tbody></table>"
    if kind == "fig":
        return (
            f'<figure><img src="{html.escape(val[0])}" alt="{html.escape(val[1])}">'
            f"<figcaption>{html.escape(val[1])}</figcaption></figure>"
        )
    if kind == "code":
        return f"<pre>{html.escape(val)}</pre>"
    return f"<p>{_inline_html(val)}</p>"


def _toc_html(headings: list[tuple[int, str, str]]) -> str:
    """Links to the headings of :data:`TOC_LEVELS`: a list of the upper level, each item with
    the list of the lower level under it."""
    groups: list[tuple[str, list[str]]] = []
    for lvl, text, a in headings:
        link = f'<a href="#{a}">{_inline_html(text)}</a>'
        if lvl == TOC_LEVELS[0]:
            groups.append((link, []))
        elif lvl == TOC_LEVELS[1]:
            if not groups:
                groups.append(("", []))
            groups[-1][1].append(link)
    items = "".join(
        f"<li>{top}"
        + ("<ul>" + "".join(f"<li>{sub}</li>" for sub in subs) + "</ul>" if subs else "")
        + "</li>"
        for top, subs in groups
    )
    return f'<nav class="toc"><p><b>Contents</b></p><ul>{items}</ul></nav>'


def anchor_ids(texts: Sequence[str]) -> list[str]:
    """The anchor of each heading as GitHub makes it: lower case, punctuation dropped, spaces
    to ``-``; a repeated anchor gets ``-1``, ``-2``, ... so every link has one target.

    >>> anchor_ids(["Results at V = 0.75", "Audit", "Audit", "Sweep (`weight`)"])
    ['results-at-v--075', 'audit', 'audit-1', 'sweep-weight']
    """
    seen: dict[str, int] = {}
    out = []
    for text in texts:
        base = re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-") or "section"
        slug = base
        while slug in seen:
            seen[base] += 1
            slug = f"{base}-{seen[base]}"
        seen.setdefault(slug, 0)
        out.append(slug)
    return out


def _inline_html(text: str) -> str:
    """Escape, then render ``**bold**`` and `` `code` `` (the only inline markup used)."""
    out = html.escape(text)
    parts = out.split("`")
    out = "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))
    parts = out.split("**")
    return "".join(f"<b>{p}</b>" if i % 2 else p for i, p in enumerate(parts))


def _cell(c: Any) -> str:
    if c is None:
        return ""
    if isinstance(c, (bool, np.bool_)):
        return "yes" if c else "no"
    if isinstance(c, (float, np.floating)):
        if not math.isfinite(float(c)):
            return "–"
        v = float(c)
        if abs(v) >= 1e4:
            return f"{v:.1f}"
        if abs(v) < 1e-9:  # solver / round-off zeros
            return "0"
        if v != 0 and abs(v) < 1e-3:
            return f"{v:.3g}"
        return f"{v:.3f}" if abs(v) < 100 else f"{v:.1f}"
    return str(c).replace("|", "\\|")


_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]")


def figure_name(name: str) -> str:
    """``name`` as one plain file name: characters other than letters, digits and ``._+-``
    (a ``/`` of a model name read from a results file, say) become ``_``; no leading dot.

    >>> figure_name("diagnostics_main_../../x.png")
    'diagnostics_main_.._.._x.png'
    """
    return _UNSAFE.sub("_", name).lstrip(".") or "figure.png"


def save_figure(fig: Any, fig_dir: Path, name: str) -> str:
    """Save a figure (PNG, 110 dpi) atomically as ``fig_dir/<figure_name(name)>``; return its
    path relative to the report (``figures/<name>``). Figure names are built from model names
    and sweep axes, which a results file supplies: whatever they hold, the file lands in
    ``fig_dir`` (its parent must exist: nothing is created outside the study directory)."""
    safe = figure_name(name)
    path = fig_dir / safe
    if path.resolve().parent != fig_dir.resolve():  # pragma: no cover - figure_name ensures it
        raise ValueError(f"figure name {name!r} leaves {str(fig_dir)!r}")
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=110, format="png"), parents=False)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return f"{fig_dir.name}/{safe}"


__all__ = ["TOC_LEVELS", "Document", "anchor_ids", "figure_name", "save_figure"]
