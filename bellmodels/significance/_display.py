"""Compact notebook display of the significance results: one short ``repr`` line, one HTML table.

The result dataclasses keep their fields (and :meth:`to_dict` its JSON); only what a notebook
cell or a REPL shows is shortened: the test-factor table and the local fit are not printed.

>>> print(html_table("CHSH game", [("wins", "196"), ("p", "0.039")]))
<table><caption>CHSH game</caption><tr><th>wins</th><td>196</td></tr><tr><th>p</th><td>0.039</td></tr></table>
"""

from __future__ import annotations

from html import escape


def html_table(caption: str, rows: list[tuple[str, str]]) -> str:
    """An HTML table of ``(name, value)`` rows under ``caption`` (all text escaped)."""
    body = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
    return f"<table><caption>{escape(caption)}</caption>{body}</table>"


def fmt_p(p: float | None) -> str:
    """A p-value for display: 3 significant digits, ``None`` as ``-``.

    >>> fmt_p(0.039112), fmt_p(None)
    ('0.0391', '-')
    """
    return "-" if p is None else f"{p:.3g}"


__all__ = ["fmt_p", "html_table"]
