"""Property-based tests of the study parser (hypothesis): whatever a study file holds, the
parser gives a valid study or its own ``ValueError`` naming the file (and, for a well-formed
TOML file, the key or section); never another exception, and each example in bounded time.

Each test's first docstring line is its probe ("probe: <what the user does> -> <what must
happen>"), read by ``docs/scripts/reliability_table.py`` into the Reliability page.
"""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from bellmodels import models
from bellmodels.study import parse_study
from bellmodels.study.schema import MODEL_OPTIONS, SCHEMA

SOURCE = "h.toml"
BOUNDED = settings(
    max_examples=150,
    deadline=5000,  # ms per example: the parse of one study file never takes seconds
    suppress_health_check=[HealthCheck.too_slow],
)

MODEL_NAMES = models.names()
WORDS = [
    *MODEL_NAMES,
    "simulate",
    "dataset",
    "file",
    "delft2015",
    "weihs1998",
    "chsh",
    "chained-3",
    "auto",
    "pymc",
    "prior",
    "smc",
    "../x",
    "",
    "data.csv",
]
KEYS = sorted({k for fields in SCHEMA.values() for k in fields} | {"typo", "n_hidden", "seed"})

scalars = st.one_of(
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.sampled_from(WORDS),
    st.text(max_size=8),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(KEYS), inner, max_size=3),
    ),
    max_leaves=8,
)


def toml_string(text: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    out = []
    for ch in text:
        if ch in '"\\' or ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def toml_value(v: Any) -> str:
    """One value as TOML (inline tables for dicts)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return toml_string(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return "{" + ", ".join(f"{toml_string(k)} = {toml_value(x)}" for k, x in v.items()) + "}"


def toml_text(doc: dict[str, dict[str, Any]]) -> str:
    lines = []
    for section, table in doc.items():
        lines.append("[" + ".".join(toml_string(part) for part in section.split(".")) + "]")
        lines.extend(f"{toml_string(k)} = {toml_value(v)}" for k, v in table.items())
    return "\n".join(lines) + "\n"


def _plausible(fld: Any) -> st.SearchStrategy[Any]:
    """Values of a field's own type near its valid range (and sweeps of them)."""
    if fld.choices is not None:
        one: st.SearchStrategy[Any] = st.sampled_from(list(fld.choices))
    elif bool in fld.types:
        one = st.booleans()
    elif float in fld.types:
        one = st.floats(min_value=-0.5, max_value=1.5)
    elif int in fld.types:
        one = st.integers(min_value=-2, max_value=5000)
    elif list in fld.types and fld.item_types == (str,):
        one = st.lists(st.sampled_from(MODEL_NAMES), min_size=1, max_size=3)
    elif list in fld.types:
        row = st.lists(st.floats(min_value=-0.1, max_value=0.6), min_size=1, max_size=3)
        one = st.lists(row, min_size=1, max_size=3)
    else:
        one = st.sampled_from(WORDS)
    return st.one_of(one, st.lists(one, max_size=3))


def _section(name: str) -> st.SearchStrategy[dict[str, Any]]:
    fields = SCHEMA.get(name, {})
    pairs = [st.tuples(st.just(k), st.one_of(_plausible(f), values)) for k, f in fields.items()]
    pairs.append(st.tuples(st.sampled_from(["typo", *fields]), values))
    return st.lists(st.one_of(*pairs), max_size=5).map(dict)


# [[models.NAME.inference_at]] entries: a point over real and misspelt axes, inference keys
inference_at = st.lists(
    st.dictionaries(
        st.sampled_from(["point", "draws", "chains", "typo"]),
        st.one_of(
            values,
            st.dictionaries(
                st.sampled_from(["n_hidden", "visibility", "n_trials", "typo"]), values
            ),
        ),
        max_size=3,
    ),
    max_size=2,
)

model_options = st.dictionaries(
    st.sampled_from([*MODEL_OPTIONS, "typo"]),
    st.one_of(
        values,
        inference_at,
        st.booleans(),
        st.dictionaries(
            st.sampled_from(["n_hidden", "seed", "method", "typo"]), values, max_size=2
        ),
    ),
    max_size=3,
)


@st.composite
def study_docs(draw: st.DrawFn) -> dict[str, dict[str, Any]]:
    doc: dict[str, dict[str, Any]] = {}
    names = draw(st.lists(st.sampled_from(list(SCHEMA)), unique=True, max_size=5))
    if draw(st.integers(0, 9)) == 0:
        names.append("extra")
    for name in names:
        doc[name] = draw(_section(name))
    if draw(st.integers(0, 9)):
        doc.setdefault("data", {})["source"] = draw(st.sampled_from(["simulate", "dataset"]))
    if draw(st.integers(0, 9)):
        include = draw(st.lists(st.sampled_from(MODEL_NAMES), min_size=1, max_size=3))
        doc.setdefault("models", {})["include"] = include
        for m in draw(st.lists(st.sampled_from(include), unique=True, max_size=2)):
            doc[f"models.{m}"] = draw(model_options)
    return doc


def _check(text: str, *, well_formed: bool) -> None:
    try:
        cfg = parse_study(text, source=SOURCE)
    except ValueError as exc:
        msg = str(exc)
        event("ValueError")
        assert msg.startswith(SOURCE), msg
        if well_formed:
            assert "key '" in msg or "section" in msg, msg
        return
    event("a valid study")
    # a study the parser accepts is one the runner can expand
    tasks = cfg.tasks()
    assert tasks and len({t.id for t in tasks}) == len(tasks)
    assert all(t.model in MODEL_NAMES for t in tasks)
    json.loads(cfg.to_json())


@BOUNDED
@given(st.text(max_size=300))
def test_any_text_gives_a_study_or_an_error_naming_the_file(text):
    """probe: a study file holding any text at all -> a valid study or ValueError naming the file, never another exception"""
    _check(text, well_formed=False)


@BOUNDED
@given(study_docs())
def test_any_plausible_keys_give_a_study_or_an_error_naming_file_and_key(doc):
    """probe: a TOML study with any mix of known and unknown keys, types, sweeps and model options -> a valid study or ValueError naming the file and the key"""
    _check(toml_text(doc), well_formed=True)


GOOD = """
[data]
source = "simulate"
n_trials = 500
[models]
include = ["bell1964"]
[inference]
fit = false
"""


@BOUNDED
@given(
    st.lists(st.sampled_from([*SCHEMA, *KEYS, "rbm", "inference", ""]), min_size=1, max_size=4),
    st.one_of(st.text(max_size=20), values.map(toml_value)),
)
def test_any_set_override_gives_a_study_or_an_error_naming_the_file(path, text):
    """probe: bellmodels run --set KEY=VALUE with any dotted key and any value text -> a valid study or ValueError naming the file and the key or the override"""
    override = ".".join(path) + "=" + text
    try:
        cfg = parse_study(GOOD, source=SOURCE, overrides=[override])
    except ValueError as exc:
        assert str(exc).startswith(SOURCE), str(exc)
        assert "key '" in str(exc) or "section" in str(exc) or "override" in str(exc), str(exc)
        return
    assert cfg.tasks()
