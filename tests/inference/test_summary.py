"""FitSummary: one summary of a fit, computed by summarize_fit, read back by from_dict.

The fast tests use a fit built by hand (i.i.d. Dirichlet draws of a saturated behaviour, so the
numbers can be computed here independently of the code); the slow one checks that ``bm.compare``
and a study task give the same summary for the same model, data and seed.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from _dirichlet import SaturatedDirichlet

import bellmodels as bm
from bellmodels import _arviz
from bellmodels.inference import EvidenceEstimate, FitSummary, diagnostics, summarize_fit
from bellmodels.inference.summary import HDI_PROB, SUMMARY_KEYS
from bellmodels.scenario import DIMS_BEHAVIOUR, Scenario

GLOSSARY = Path(__file__).resolve().parents[2] / "docs" / "api" / "glossary.md"
COUNTS = np.array(
    [[[[40, 10], [12, 38]], [[35, 15], [14, 36]]], [[[9, 41], [39, 11]], [[44, 6], [7, 43]]]]
)


@pytest.fixture(scope="module")
def hand_fit():
    """Counts, the saturated model and a fit made of exact posterior draws (Dirichlet(1 + n) per
    setting pair), 2 chains x 2000 draws, with S, MI and M draws of known distribution."""
    rng = np.random.default_rng(7)
    chains, draws = 2, 2000
    p = np.stack(
        [
            np.stack(
                [rng.dirichlet(1 + COUNTS[i, j].ravel(), size=(chains, draws)) for j in (0, 1)]
            )
            for i in (0, 1)
        ]
    )  # (2, 2, chain, draw, 4)
    ll = np.log(np.moveaxis(p, (2, 3), (0, 1))).reshape(chains, draws, 2, 2, 2, 2)
    dims = ("chain", "draw")
    groups = {
        "posterior": xr.Dataset({"S": (dims, rng.normal(2.7, 0.05, (chains, draws)))}),
        "cell_log_likelihood": xr.Dataset({"trial": ((*dims, *DIMS_BEHAVIOUR), ll)}),
        "observed_data": xr.Dataset({"counts": (DIMS_BEHAVIOUR, COUNTS)}),
        "audit_posterior": xr.Dataset(
            {
                "mi_bits": (dims, rng.gamma(4.0, 0.05, (chains, draws))),
                "hall_M": (dims, rng.uniform(0.2, 0.4, (chains, draws))),
            }
        ),
    }
    idata = _arviz.inference_data(groups, attrs={"classification": "nonlocal", "seed": "3"})
    counts = bm.Counts(COUNTS, Scenario.chsh())
    return counts, SaturatedDirichlet(), idata, ll


def _hdi_by_hand(x: np.ndarray, prob: float) -> tuple[float, float]:
    """The narrowest interval holding floor(prob * n) + 1 of the sorted draws."""
    s = np.sort(x.ravel())
    k = math.floor(prob * s.size)
    widths = s[k:] - s[: s.size - k]
    i = int(np.argmin(widths))
    return float(s[i]), float(s[i + k])


def test_values_of_a_hand_made_fit(hand_fit):
    counts, model, idata, ll = hand_fit
    s = summarize_fit(model, counts, idata, evidence=False)
    n = COUNTS.ravel().astype(float)
    flat = ll.reshape(-1, 16)
    # every number of the summary, recomputed here from the draws
    post_s = idata.posterior["S"].values
    assert s.S_mean == pytest.approx(float(post_s.mean()), abs=1e-12)
    assert s.S_hdi == pytest.approx(_hdi_by_hand(post_s, HDI_PROB), abs=1e-12)
    assert s.hdi_prob == 0.94
    assert s.mi_bits_mean == pytest.approx(float(idata.audit_posterior["mi_bits"].mean()))
    assert s.hall_M_mean == pytest.approx(float(idata.audit_posterior["hall_M"].mean()))
    assert s.classification == "nonlocal" and s.model == "test-saturated-dirichlet"
    assert s.cell_counts == tuple(COUNTS.ravel())
    cells = np.asarray(s.loo_cells)
    assert s.elpd_loo == pytest.approx(float(np.dot(n, cells)), rel=1e-12)
    lppd = np.log(np.exp(flat).mean(axis=0))
    assert s.p_loo == pytest.approx(float(np.dot(n, lppd - cells)), rel=1e-9)
    # PSIS on exact draws with light tails is plain importance sampling: -log mean(1 / p)
    is_loo = -np.log(np.exp(-flat).mean(axis=0))
    np.testing.assert_allclose(cells, is_loo, atol=2e-3)
    assert 0 < s.p_loo < 16 and s.pareto_k_max < 0.7
    # the gate's verdict is diagnostics()'s, on exact (independent) draws a pass
    assert s.diagnostics == diagnostics(idata) and s.diagnostics_ok and s.reasons == []
    assert s.evidence is None and s.to_dict()["log_evidence"] is None


def test_round_trip_and_keys(hand_fit):
    counts, model, idata, _ = hand_fit
    est = EvidenceEstimate(-1100.5, 0.04, "smc", (-1100.46, -1100.54), 2.5, {"seed": 3, "dim": 8})
    s = dataclasses.replace(summarize_fit(model, counts, idata, evidence=False), evidence=est)
    d = s.to_dict()
    assert tuple(d) == SUMMARY_KEYS
    json.dumps(d, allow_nan=False)  # strict JSON: NaN became None
    back = FitSummary.from_dict(json.loads(json.dumps(d)))
    assert back.to_dict() == d
    assert back.evidence == est and back.S_hdi == s.S_hdi and back.loo_cells == s.loo_cells
    assert (d["log_evidence"], d["log_evidence_se"], d["log_evidence_method"]) == (
        -1100.5,
        0.04,
        "smc",
    )


def test_every_key_is_a_json_name_of_the_glossary():
    text = GLOSSARY.read_text(encoding="utf-8").split("## Forbidden")[0]
    json_names = {
        m.group(1)
        for m in re.finditer(r"^\| `([^`]+)` \|.*\|([^|]*)\|$", text, flags=re.M)
        if "JSON" in m.group(2)
    }
    assert set(SUMMARY_KEYS) <= json_names, set(SUMMARY_KEYS) - json_names


def test_a_record_of_the_previous_worker_reads_the_same():
    """A task file's ``fit`` record as 0.1's study worker wrote it (no model, no hdi_prob, no
    classification; evidence flat and nested; an even older ``elpd_se``)."""
    est = EvidenceEstimate(-300.0, 0.05, "smc", (-300.05, -299.95), 1.0, {"seed": 1})
    old = {
        "S_mean": 2.71,
        "S_hdi": [2.6, 2.8],
        "mi_bits_mean": 0.5,
        "hall_M_mean": 0.3,
        "elpd_loo": -290.0,
        "elpd_se": 8.0,
        "p_loo": 2.0,
        "pareto_k_max": 0.2,
        "loo_cells": [-1.0, None, -2.0],
        "cell_counts": [3, 0, 4],
        "log_evidence": -300.0,
        "log_evidence_se": 0.05,
        "log_evidence_method": "smc",
        "evidence": est.to_dict(),
        "diagnostics": {"ok": False, "reasons": ["R-hat of S is 1.0200 > 1.01"]},
        "diagnostics_ok": False,
    }
    s = FitSummary.from_dict(old, model="rbm")
    assert (s.model, s.se, s.hdi_prob, s.classification) == ("rbm", 8.0, 0.94, None)
    assert s.evidence == est and not s.diagnostics_ok and s.reasons[0].startswith("R-hat")
    assert np.isnan(s.loo_cells[1]) and s.cell_counts == (3, 0, 4)
    with pytest.raises(ValueError, match="names no model"):
        FitSummary.from_dict(old)


def test_reprs_are_short(hand_fit):
    counts, model, idata, _ = hand_fit
    s = summarize_fit(model, counts, idata, evidence=False)
    text = repr(s)
    assert len(text.splitlines()) == 2 and len(text) < 300
    assert text.startswith("<FitSummary test-saturated-dirichlet: elpd_loo ")
    assert f"{s.elpd_loo:.2f} ± {s.se:.2f}" in text and "gate passed" in text
    html = s._repr_html_()
    assert html.count("<tr>") == 10 and "nonlocal" in html and len(html) < 2000


def test_the_removed_evidence_functions_name_the_one_to_use():
    import importlib

    inference = importlib.import_module("bellmodels.inference")
    significance = importlib.import_module("bellmodels.significance")  # bm.significance: a function

    for mod in (bm, inference, significance):
        with pytest.raises(AttributeError, match="estimate_log_evidence"):
            _ = mod.log_evidence
    with pytest.raises(ImportError):
        from bellmodels.inference import log_evidence  # noqa: F401


@pytest.mark.slow
def test_compare_and_a_study_task_give_the_same_summary(tmp_path):
    """Same model, data and seed: the FitSummary of ``bm.compare`` and of a study task agree in
    every key (the evidence's wall time aside)."""
    from bellmodels.study import parse_study, read_task_summary, task_path
    from bellmodels.study.worker import build_counts, run_task

    text = (
        '[data]\nsource = "simulate"\nn_trials = 2000\nseed = 4\n'
        '[models]\ninclude = ["quantum-singlet"]\n'
        "[inference]\ndraws = 300\ntune = 300\nchains = 2\nseed = 9\n"
        "evidence_draws = 200\nevidence_chains = 2\nevidence_hmc_steps = 2\n"
    )
    cfg = parse_study(text, source="same.toml")
    task = cfg.tasks()[0]
    task_summary = run_task(task, tmp_path)
    counts = build_counts(task.config["data"])
    res = bm.compare(
        ["quantum-singlet"],
        counts,
        draws=300,
        tune=300,
        chains=2,
        seed=9,
        evidence_draws=200,
        evidence_chains=2,
        evidence_hmc_steps=2,
        progressbar=False,
    )
    from_compare = res.summaries["quantum-singlet"].to_dict()
    stored = read_task_summary(task_path(tmp_path, task.id))["fit"]
    for d in (from_compare, stored, task_summary["fit"]):
        d["evidence"].pop("seconds")
    assert stored == task_summary["fit"]
    assert stored == from_compare
    assert stored["log_evidence"] is not None and stored["S_hdi"] is not None


def test_draws_below_the_evidence_fail_the_gate(hand_fit, monkeypatch):
    """log Z <= E_posterior[log L], the difference being KL(posterior || prior): exact Dirichlet
    posterior draws sit above the exact Dirichlet-multinomial evidence by the closed-form KL and
    pass; an evidence above the draws' mean by more than three errors (a mode the draws missed,
    as a sampler stuck at a local optimum leaves it) fails the gate, and summarize_fit says why."""
    from scipy.special import digamma

    from bellmodels.inference import summary
    from bellmodels.inference.diagnostics import evidence_consistency

    counts, model, idata, ll = hand_fit
    log_z = model.analytic_log_evidence(counts)
    a = 1.0 + COUNTS.reshape(4, 4).astype(float)  # the posterior Dirichlet of each setting pair
    expected_log_l = float(
        (COUNTS.reshape(4, 4) * (digamma(a) - digamma(a.sum(-1))[:, None])).sum()
    )
    total = (ll * COUNTS).sum(axis=(2, 3, 4, 5))
    assert abs(total.mean() - expected_log_l) < 4 * total.std() / math.sqrt(total.size)
    assert 5.0 < expected_log_l - log_z < 30.0  # KL(posterior || prior) of 12 free parameters
    assert evidence_consistency(idata, log_z, 0.05) is None
    assert evidence_consistency(idata, float(total.mean()) - 0.2, 0.05) is None
    assert "below the log evidence" in evidence_consistency(idata, float(total.mean()) + 1.0, 0.05)

    missed = EvidenceEstimate(float(total.mean()) + 50.0, 0.1, "smc", (0.0, 0.0), 1.0, {})
    monkeypatch.setattr(summary, "estimate_log_evidence", lambda *a, **k: missed)
    s = summarize_fit(model, counts, idata)
    assert not s.diagnostics_ok and "50.00 nat below the log evidence" in s.reasons[-1]
    assert diagnostics(idata)["ok"]  # the convergence part alone passes: R-hat cannot see it
