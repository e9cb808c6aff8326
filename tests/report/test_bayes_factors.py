"""The report's Bayes factors: against the best model, between every pair, and the groups of
models whose evidence is one estimate, on task files written by hand (no fit needed)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import xarray as xr

from bellmodels.comparison import Comparison
from bellmodels.inference import EvidenceEstimate, FitSummary, log_bayes_factor, log_bayes_factors
from bellmodels.report.bayes_factors import bayes_factor_section, equal_evidence_groups
from bellmodels.report.document import Document

# three SMC estimates with the same seed and runs count (paired), one observationally
# equivalent copy, one unreliable estimate and one from another seed (errors in quadrature)
RUNS = {
    "qs": (-100.1, -99.9, -100.0, -100.0),
    "hall": (-100.1, -99.9, -100.0, -100.0),
    "ns": (-120.3, -120.0, -120.2, -119.9),
    "lp": (-150.0, -149.8, -150.1, -150.1),
    "shaky": (-90.0, -140.0, -100.0, -130.0),
}


def _estimate(runs: tuple[float, ...], seed: int = 1) -> EvidenceEstimate:
    r = np.asarray(runs)
    return EvidenceEstimate(
        float(r.mean()), float(r.std(ddof=1) / math.sqrt(r.size)), "smc", runs, 1.0, {"seed": seed}
    )


@pytest.fixture
def store(tmp_path):
    est = {m: _estimate(r) for m, r in RUNS.items()}
    est["other-seed"] = _estimate((-130.2, -130.0, -129.9, -130.1), seed=2)
    (tmp_path / "tasks").mkdir()
    for m, e in est.items():
        summary = {"model": m, "fit": {"evidence": e.to_dict()}}
        ds = xr.Dataset(attrs={"summary": json.dumps(summary)})
        ds.to_netcdf(tmp_path / "tasks" / f"{m}.nc", group="bellmodels", engine="h5netcdf")
    names = list(est)
    pt = xr.Dataset(
        {
            "log_evidence": ("model", [est[m].log_evidence for m in names]),
            "log_evidence_se": ("model", [est[m].se for m in names]),
        },
        coords={"model": names},
    )
    return tmp_path, pt, est


def _table_after(md: str, marker: str) -> list[list[str]]:
    lines = md[md.index(marker) :].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip("|").split("|")])
    return rows


def test_every_pair_is_in_the_matrix_with_its_paired_error(store):
    out, pt, est = store
    doc = Document()
    rows = {m: {} for m in est}
    bayes_factor_section(doc, pt, rows, out, {m: m for m in est})
    md = doc.markdown()
    # the unreliable estimate (SE ~ 11 nat) enters no Bayes factor
    assert "shaky" not in md.split("### Bayes factors")[1]
    matrix = _table_after(md, "for every pair")
    heads = [r[0] for r in matrix]
    assert heads == ["qs", "ns", "other-seed", "lp"]  # best first; hall shares the qs row
    assert "`qs` stands for `qs`, `hall`" in md
    cell = {(r[0], h): r[1 + j] for r in matrix for j, h in enumerate(heads)}
    # paired by seed: the spread of the run-by-run differences, not the errors in quadrature
    lbf, se = log_bayes_factor(est["qs"], est["ns"])
    d = np.subtract(RUNS["qs"], RUNS["ns"])
    assert se == pytest.approx(d.std(ddof=1) / 2)
    assert cell[("qs", "ns")] == f"{lbf:.2f} ± {se:.2f}"
    assert cell[("ns", "qs")] == f"{-lbf:.2f} ± {se:.2f}"
    # another seed: quadrature
    lbf2, se2 = log_bayes_factor(est["qs"], est["other-seed"])
    assert se2 == pytest.approx(math.hypot(est["qs"].se, est["other-seed"].se))
    assert cell[("qs", "other-seed")] == f"{lbf2:.2f} ± {se2:.2f}"
    assert cell[("lp", "lp")] == "0"
    # the table against the best and its posterior model probabilities over the reliable ones
    best = {r[0]: r for r in _table_after(md, "highest evidence")}
    assert float(best["hall"][1]) == 0 and float(best["hall"][2]) == 0
    lz = np.array([est[m].log_evidence for m in ("qs", "hall", "ns", "lp", "other-seed")])
    p = np.exp(lz - np.logaddexp.reduce(lz))
    assert float(best["qs"][3]) == pytest.approx(p[0], abs=5e-4)


def test_compare_and_report_use_one_pairwise_rule(store):
    _, _, est = store
    res = Comparison(summaries={m: FitSummary(m, evidence=e) for m, e in est.items()})
    table = res.bayes_factors()
    lbf, se = log_bayes_factors(est)
    np.testing.assert_array_equal(table["log_bf"].to_numpy(), lbf.to_numpy())
    np.testing.assert_array_equal(table["se"].to_numpy(), se.to_numpy())
    assert np.isnan(table["log_bf"].loc["shaky", "qs"])
    assert table["se"].loc["qs", "hall"] == 0.0  # the equivalent models' runs coincide


def test_equal_evidence_groups_need_the_same_runs():
    a = _estimate(RUNS["qs"])
    b = _estimate((-100.0, -100.0, -100.1, -99.9))  # same mean, other runs: not the same estimate
    assert equal_evidence_groups({"a": a, "a2": a, "b": b}) == [["a", "a2"], ["b"]]
