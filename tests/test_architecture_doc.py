"""``docs/architecture.md`` is the architecture of record, so what it says about the rooms must be
what the code does: every room of the package has a row, and every import between rooms (read
from the source by ``tests/test_architecture.py``'s AST walk) is one the row allows.

A new room or a new import between rooms fails here until the page says so: the plan is kept in
the repository, next to the code, not in anyone's memory.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_architecture import PKG, import_graph

DOC = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"


def room(module: str) -> str:
    """``bellmodels.inference.fit`` -> ``inference``; the package itself is ``bellmodels``.

    >>> room("bellmodels.inference.fit"), room("bellmodels")
    ('inference', 'bellmodels')
    """
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def documented_rooms(text: str) -> dict[str, set[str]]:
    """``{room: rooms it may import}`` from the rows of the page's "The rooms" table."""
    section = text.split("## The rooms", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, set[str]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| `") and len(cells) == 3:
            rows[cells[0].strip("`")] = set(re.findall(r"`([\w.]+)`", cells[2]))
    return rows


@pytest.fixture(scope="module")
def rows() -> dict[str, set[str]]:
    return documented_rooms(DOC.read_text(encoding="utf-8"))


def test_every_room_of_the_package_has_a_row(rows: dict[str, set[str]]) -> None:
    rooms = {p.stem for p in PKG.glob("*.py") if p.stem != "__init__"}
    rooms |= {p.parent.name for p in PKG.glob("*/__init__.py")}
    assert rooms | {"bellmodels"} == set(rows)


def test_no_room_imports_one_its_row_does_not_allow(rows: dict[str, set[str]]) -> None:
    actual: dict[str, set[str]] = {}
    for module, targets in import_graph().items():
        for target in targets:
            if room(module) != room(target) and target != "bellmodels":
                actual.setdefault(room(module), set()).add(room(target))
    undocumented = {r: sorted(t - rows.get(r, set())) for r, t in actual.items()}
    assert not {r: t for r, t in undocumented.items() if t}, (
        "imports between rooms that docs/architecture.md does not allow (add them to the room's "
        "row, with the reason in mind, or remove the import)"
    )


def test_the_rules_of_the_page_are_the_ones_the_code_keeps(rows: dict[str, set[str]]) -> None:
    """The design's rules, as rows: the audit never imports a model, the study never imports
    the report or its figures, the leaves import no other room, and inference reaches ArviZ
    through the adapter."""
    assert "models" not in rows["auditing"]
    assert "report" not in rows["study"] and "plots" not in rows["study"]
    assert not rows["scenario"] and not rows["_util"] and not rows["studies"]
    assert rows["ontic"] == {"scenario"}
    assert "_arviz" in rows["inference"]


def test_documented_imports_are_rooms(rows: dict[str, set[str]]) -> None:
    assert set().union(*rows.values()) <= set(rows)
