"""The end of a benchmark that writes a page: the Markdown on stdout, then the file, atomically
(so a page the docs include is never half written), and where it went."""

from __future__ import annotations

from pathlib import Path


def publish(path: Path, text: str) -> None:
    """Print ``text``, write it to ``path`` atomically and say so."""
    from bellmodels.data import write_atomic

    print(text)
    write_atomic(path, text)
    print(f"wrote {path}")
