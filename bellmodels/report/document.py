"""The document model of a report: blocks (headings, paragraphs, tables, figures, code)
rendered twice, to Markdown and to a small self-contained HTML page.

The HTML is written here by hand (no Markdown package is a dependency): the blocks are already
structured, so no Markdown parsing is needed.

>>> doc = Document()
>>> doc.h(1, "Title"); doc.p("Some *text*.")
>>> doc.markdown().splitlines()[0]
'# Title'
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bellmodels._format import fmt_cell as _fmt  # noqa: F401  (the report's cells)
from bellmodels._util import atomic_write


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

    # -- rendering ----------------------------------------------------------------------------
    def markdown(self) -> str:
        out: list[str] = []
        for kind, val in self.blocks:
            if kind == "h":
                out.append("#" * val[0] + " " + val[1])
            elif kind == "p":
                out.append(val)
            elif kind == "table":
                header, rows = val
                out.append("| " + " | ".join(header) + " |")
                out.append("|" + "|".join("---" for _ in header) + "|")
                out.extend("| " + " | ".join(_cell(c) for c in r) + " |" for r in rows)
            elif kind == "fig":
                out.append(f"![{val[1]}]({val[0]})\n\n*{val[1]}*")
            elif kind == "code":
                out.append("```\n" + val + "\n```")
            out.append("")
        return "\n".join(out)

    def html(self, title: str) -> str:
        body: list[str] = []
        for kind, val in self.blocks:
            if kind == "h":
                body.append(f"<h{val[0]}>{html.escape(val[1])}</h{val[0]}>")
            elif kind == "p":
                body.append(f"<p>{_inline_html(val)}</p>")
            elif kind == "table":
                header, rows = val
                head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
                trs = "".join(
                    "<tr>" + "".join(f"<td>{_inline_html(_cell(c))}</td>" for c in r) + "</tr>"
                    for r in rows
                )
                body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{trs}</tbody></table>")
            elif kind == "fig":
                body.append(
                    f'<figure><img src="{html.escape(val[0])}" alt="{html.escape(val[1])}">'
                    f"<figcaption>{html.escape(val[1])}</figcaption></figure>"
                )
            elif kind == "code":
                body.append(f"<pre>{html.escape(val)}</pre>")
        style = (
            "body{font-family:sans-serif;max-width:70em;margin:2em auto;padding:0 1em;"
            "line-height:1.4}table{border-collapse:collapse;margin:1em 0;font-size:90%}"
            "td,th{border:1px solid #ccc;padding:.25em .5em;text-align:right}"
            "td:first-child,th:first-child{text-align:left}th{background:#f2f2f2}"
            "img{max-width:100%}figure{margin:1.5em 0}figcaption{color:#444;font-size:90%}"
            "pre{background:#f6f6f6;padding:.5em;overflow:auto}"
        )
        return (
            "<!DOCTYPE html>\n<html><head><meta charset='utf-8'>"
            f"<title>{html.escape(title)}</title><style>{style}</style></head><body>\n"
            + "\n".join(body)
            + "\n</body></html>\n"
        )


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


__all__ = ["Document", "figure_name", "save_figure"]
