"""The report at a glance: a table of contents that links to every section, the model options
as a table, the audit's numbers at the parameters beside their posterior means, each model's
diagnostic plots collapsed under one summary table; all from the results store alone."""

from __future__ import annotations

import json
import shutil
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from bellmodels.report.document import Document, _cell, anchor_ids
from bellmodels.report.point import AUDIT_COLUMNS, audit_section
from bellmodels.report.sections import option_rows


class Page(HTMLParser):
    """What a reader of the HTML meets: heading ids, links, tables, and what sits inside
    ``<details>`` (the parser fails the test on a closing tag that does not match)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.hrefs: list[str] = []
        self.tables: list[list[list[str]]] = []
        self.in_details: list[str] = []  # img sources inside <details>
        self.imgs: list[str] = []
        self.stack: list[str] = []
        self._cell: list[str] | None = None
        self.feed(text)
        assert not self.stack, f"unclosed tags {self.stack}"

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag not in ("img", "meta"):
            self.stack.append(tag)
        if tag.startswith("h") and tag[1:].isdigit() and "id" in a:
            self.ids.append(a["id"])
        if tag == "a" and "href" in a:
            self.hrefs.append(a["href"])
        if tag == "table":
            self.tables.append([])
        if tag == "tr":
            self.tables[-1].append([])
        if tag in ("td", "th"):
            self._cell = []
        if tag == "img":
            self.imgs.append(a["src"])
            if "details" in self.stack:
                self.in_details.append(a["src"])

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)

    def table(self, first_header: str, column: str) -> list[list[str]]:
        """The table whose header has ``column`` and starts with ``first_header``."""
        for t in self.tables:
            if t and t[0][0] == first_header and column in t[0]:
                return t
        raise AssertionError(f"no table with column {column!r}")


# -- the document model (fast) ---------------------------------------------------------------


def test_toc_links_every_section_once_and_details_collapse_their_blocks():
    doc = Document()
    doc.h(1, "Study")
    doc.toc()
    for point in ("V = 0.75", "V = 1.0"):  # the same subsections at two sweep points
        doc.h(2, f"Results at {point}")
        doc.h(3, "Audit")
        doc.h(3, "Diagnostics gate")
        with doc.details("rbm (passes the gate)"):
            doc.fig("figures/d.png", "rank plots")
    doc.h(2, "Provenance")
    page = Page(doc.html("Study"))
    assert len(set(page.ids)) == len(page.ids) == 8  # unique anchors, the title's too
    assert page.hrefs == [f"#{i}" for i in page.ids[1:]]  # every h2 and h3, in order
    assert page.in_details == page.imgs == ["figures/d.png"] * 2
    md = doc.markdown()
    for i in page.ids[1:]:  # the Markdown list links the same anchors (GitHub's)
        assert f"](#{i})" in md
    assert md.count("<details>") == md.count("</details>") == 2
    assert "  - [Audit](#audit-1)" in md  # nested under its section, the repeat numbered


def test_anchor_ids_follow_github_and_never_repeat():
    ids = anchor_ids(["Audit", "Audit", "audit-1", "Results at λ = 0.5", "`S` (mean)"])
    assert ids == ["audit", "audit-1", "audit-1-1", "results-at-λ--05", "s-mean"]


def test_option_rows_flatten_nested_tables_and_read_back():
    opts = {
        "rbm": {"train": True, "params": {"n_hidden": 4}, "inference": {"draws": 3000}},
        "crbm": {"inference": {"sampler": "nuts", "target_accept": 0.95}},
    }
    rows = option_rows(opts)
    assert rows == [
        ["rbm", "train", "true"],
        ["rbm", "params.n_hidden", "4"],
        ["rbm", "inference.draws", "3000"],
        ["crbm", "inference.sampler", "nuts"],
        ["crbm", "inference.target_accept", "0.95"],
    ]
    for model, key, value in rows:  # each row names one leaf of the study file
        leaf = opts[model]
        for k in key.split("."):
            leaf = leaf[k]
        assert leaf == (value if isinstance(leaf, str) else json.loads(value))


def test_audit_table_puts_each_number_at_the_parameters_beside_its_posterior_mean():
    models = ["local-polytope", "rbm-weinstein2017"]
    data = {var: ("model", [0.0, 2.826]) for _, var in AUDIT_COLUMNS}
    data["S_mean"] = ("model", [1.999, np.nan])  # fitted / audited only
    data["family"] = ("model", ["local", "measurement-dependent"])
    data["classification"] = ("model", ["local", "local & measurement-dependent"])
    pt = xr.Dataset(data, coords={"model": models})
    doc = Document()
    audit_section(doc, [pt.sel(model=m) for m in models])
    header, rows = next(val for kind, val in doc.blocks if kind == "table")
    at, post = header.index("S (params)"), header.index("S (posterior mean)")
    assert post == at + 1
    assert [r[at] for r in rows] == [0.0, 2.826] and rows[0][post] == 1.999
    assert _cell(rows[1][post]) == "–"  # not fitted: no posterior


# -- a real study (slow: fits) ---------------------------------------------------------------

TINY = """
[study]
name = "tiny"
[data]
source = "simulate"
n_trials = 4000
seed = 2
[models]
include = ["local-polytope", "quantum-singlet", "rbm-weinstein2017"]
[models.quantum-singlet]
inference = { draws = 120 }
[models.rbm-weinstein2017]
fit = false
[inference]
draws = 100
tune = 100
chains = 2
seed = 4
evidence = false
[report]
min_mi_points = 3
"""


@pytest.fixture(scope="module")
def tiny_study(tmp_path_factory):
    from bellmodels import run_study

    root = tmp_path_factory.mktemp("tiny")
    (root / "tiny.toml").write_text(TINY, encoding="utf-8")
    ds = run_study(root / "tiny.toml", root / "out", workers=1, progressbar=False, report=True)
    assert (ds["status"] == "done").all()
    return root / "out"


@pytest.mark.slow
def test_report_reads_at_a_glance(tiny_study):
    from bellmodels.study.store import load_study

    out: Path = tiny_study
    ds = load_study(out)
    page = Page((out / "report.html").read_text(encoding="utf-8"))
    # a table of contents linking every section and subsection
    assert {"set-up", "results", "audit", "figures", "diagnostics-gate"} <= set(page.ids)
    assert {f"#{i}" for i in page.ids[1:]} == set(page.hrefs[: len(page.ids) - 1])
    # the options as a table, not JSON
    options = page.table("model", "option")
    assert ["quantum-singlet", "inference.draws", "120"] in options
    assert ["rbm-weinstein2017", "fit", "false"] in options
    # S at the posterior mean beside S at the parameters, as stored in results.nc
    audit = page.table("model", "S (posterior mean)")
    head = audit[0]
    by_model = {r[0]: r for r in audit[1:]}
    for m in ("local-polytope", "quantum-singlet"):
        q = ds.sel(model=m)
        assert by_model[m][head.index("S (posterior mean)")] == _cell(float(q["S_mean"]))
        assert by_model[m][head.index("S (params)")] == _cell(float(q["S"]))
    # the local polytope: S = 0 at its default parameters, at most 2 where the data put it
    lp = ds.sel(model="local-polytope")
    assert float(lp["S"]) == pytest.approx(0.0, abs=1e-9)
    assert 1.6 < float(lp["S_mean"]) <= 2.0 + 1e-9
    # each fitted model's diagnostics collapsed, under the one gate table of every fit
    gate = page.table("model", "R-hat max")
    assert {r[0] for r in gate[1:]} == {"local-polytope", "quantum-singlet"}
    assert sorted(page.in_details) == [
        "figures/diagnostics_main_local-polytope.png",
        "figures/diagnostics_main_quantum-singlet.png",
    ]
    assert not set(page.in_details) & (set(page.imgs) - set(page.in_details))
    for src in page.imgs:
        assert (out / src).read_bytes()[:4] == b"\x89PNG"


@pytest.mark.slow
def test_report_is_made_from_the_store_alone(tiny_study, tmp_path, monkeypatch):
    """Rewritten from a copy of the results store with fitting and auditing disabled, the
    report is the same document."""
    import bellmodels.auditing as auditing
    import bellmodels.inference as inference
    from bellmodels.report import write_report

    copy = tmp_path / "copy"
    shutil.copytree(tiny_study, copy)

    def refuse(*args, **kwargs):
        raise AssertionError("the report must not fit or audit")

    for mod, names in ((inference, ("fit", "loo")), (auditing, ("audit",))):
        for name in names:
            if hasattr(mod, name):
                monkeypatch.setattr(mod, name, refuse)
    write_report(copy)
    assert (copy / "report.md").read_text() == (tiny_study / "report.md").read_text()


@pytest.mark.slow
def test_figures_read_only_what_they_draw_and_the_same_values(tiny_study):
    """The report's read of a fit (``FIGURE_GROUPS``) holds the groups and variables it draws,
    with the values of the whole fit, and none of the raw parameters or per-cell arrays."""
    from bellmodels import _arviz
    from bellmodels.report.point import FIGURE_GROUPS
    from bellmodels.study.store import load_study, load_task

    ds = load_study(tiny_study)
    task_id = str(ds["task"].sel(model="local-polytope").values)
    _, whole = load_task(tiny_study, task_id)
    _, part = load_task(tiny_study, task_id, FIGURE_GROUPS)
    assert set(_arviz.group_names(part)) == set(FIGURE_GROUPS) & set(_arviz.group_names(whole))
    post, whole_post = _arviz.group(part, "posterior"), _arviz.group(whole, "posterior")
    assert set(post.data_vars) == {"S", "correlators"} & set(whole_post.data_vars)
    assert len(whole_post.data_vars) > len(post.data_vars)  # the weights were left unread
    np.testing.assert_array_equal(post["S"].values, whole_post["S"].values)
    np.testing.assert_array_equal(
        _arviz.group(part, "posterior_predictive")["counts"].values,
        _arviz.group(whole, "posterior_predictive")["counts"].values,
    )
    assert list(_arviz.group(part, "sample_stats").data_vars) == ["energy"]
