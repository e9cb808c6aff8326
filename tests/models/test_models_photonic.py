"""quantum-two-qubit, local-detection-loophole and gisin-gisin (issue #29).

The two-qubit model must reduce exactly to quantum-singlet; its detection stage must give the
Eberhard/CH physics; the local loophole models must stay local on complete tables and fake the
singlet's coincidences at the efficiency their papers state; table kinds are refused when wrong.
"""

from __future__ import annotations

import numpy as np
import pytest

from bellmodels import Counts, Scenario, datasets, models
from bellmodels.auditing import audit
from bellmodels.models.detection import coincidence_probability, pair_spread_loglik
from bellmodels.models.photonic import eberhard_j, transmissions


def correlators(p: np.ndarray) -> np.ndarray:
    return p[..., 0, 0] + p[..., 1, 1] - p[..., 0, 1] - p[..., 1, 0]


def chsh_max(p: np.ndarray) -> float:
    e = correlators(p)
    return max(
        abs(e[0, 0] + e[0, 1] + e[1, 0] - e[1, 1]),
        abs(e[0, 0] + e[0, 1] - e[1, 0] + e[1, 1]),
        abs(e[0, 0] - e[0, 1] + e[1, 0] + e[1, 1]),
        abs(-e[0, 0] + e[0, 1] + e[1, 0] + e[1, 1]),
    )


@pytest.mark.parametrize("visibility", [1.0, 0.83])
@pytest.mark.parametrize("scenario", [Scenario.chsh(), datasets.scenario("weihs1998")])
def test_two_qubit_reduces_to_quantum_singlet(scenario: Scenario, visibility: float) -> None:
    """At the singlet, eta = 1, a pair every trial, no background: quantum-singlet to 1e-12,
    with polariser angles half quantum-singlet's spin angles (offsets included)."""
    rng = np.random.default_rng(3)
    off_a, off_b = rng.normal(0, 0.05, 2), rng.normal(0, 0.05, 2)
    q = models.get(
        "quantum-singlet", scenario=scenario, visibility=visibility, offset_a=off_a, offset_b=off_b
    )
    a = (np.asarray(scenario.angles_a) + off_a) / 2
    b = (np.asarray(scenario.angles_b) + off_b) / 2
    for table in ("complete", "post-selected"):
        m = models.get(
            "quantum-two-qubit",
            scenario=scenario,
            table=table,
            noise=True,
            visibility=visibility,
            angle_a=a,
            angle_b=b,
        )
        np.testing.assert_allclose(m.behaviour(), q.behaviour(), atol=1e-12, rtol=0)
        np.testing.assert_allclose(m.ontic_table().behaviour(), q.behaviour(), atol=1e-12, rtol=0)


def test_two_qubit_audit_nonlocal_and_no_signalling() -> None:
    for values in ({}, {"theta": 0.33, "eta_a": 0.75, "eta_b": 0.72, "pair": 0.01, "dark": 1e-5}):
        r = audit(models.get("quantum-two-qubit", background="dark" in values, **values))
        assert r.classification == "outcome-dependent (nonlocal)"
        assert r.parameter_independence_violation < 1e-12
        assert r.outcome_independence_violation > 1e-4


def test_transmissions_are_born_probabilities() -> None:
    """T_A, T_B, T_AB against |<alpha, beta|psi>|^2 computed from state vectors."""
    theta, alpha, beta = 0.41, np.array([0.3, 1.9]), np.array([-0.7, 0.2, 2.4])
    psi = np.cos(theta) * np.kron([1, 0], [0, 1]) - np.sin(theta) * np.kron([0, 1], [1, 0])
    ta, tb, tab = transmissions(theta, 1.0, alpha, beta)
    for i, al in enumerate(alpha):
        pa = np.array([np.cos(al), np.sin(al)])
        assert ta[i] == pytest.approx(np.linalg.norm(np.kron(pa, np.eye(2)) @ psi) ** 2)
        for j, be in enumerate(beta):
            pb = np.array([np.cos(be), np.sin(be)])
            assert tab[i, j] == pytest.approx(float(np.kron(pa, pb) @ psi) ** 2, abs=1e-14)
            assert tb[j] == pytest.approx(np.linalg.norm(np.kron(np.eye(2), pb) @ psi) ** 2)


def test_detection_stage() -> None:
    """Marginal detection rates pair * eta * T_A plus background; no pair: background only."""
    m = models.get(
        "quantum-two-qubit", background=True, eta_a=0.8, eta_b=0.6, pair=0.3, dark=0.01, theta=0.5
    )
    p = m.behaviour()
    ta, _, _ = transmissions(0.5, 1.0, m.params()["angle_a"], m.params()["angle_b"])
    clicks_a = p[:, :, 1, :].sum(axis=-1)
    expect = 1 - (1 - 0.01) * (1 - 0.3 * 0.8 * ta)
    np.testing.assert_allclose(clicks_a, np.broadcast_to(expect[:, None], (2, 2)), atol=1e-14)
    assert m.efficiencies() == (0.8, 0.6)
    empty = m.behaviour({"pair": 0.0})
    np.testing.assert_allclose(empty[..., 1, 1], 0.01**2, atol=1e-15)


def test_eberhard_threshold() -> None:
    """Giustina et al.'s state and settings: J > 0 at their efficiencies, J < 0 well below
    Eberhard's 2/3, and J <= 0 for every local strategy (complete table)."""
    scn = datasets.scenario("vienna2015")
    m = models.get("quantum-two-qubit", scenario=scn, theta=np.arctan(1 / 2.9))
    assert eberhard_j(m.behaviour({"eta_a": 0.786, "eta_b": 0.762})) > 0
    assert eberhard_j(m.behaviour({"eta_a": 0.6, "eta_b": 0.6})) < 0
    loc = models.get("local-polytope", scenario=scn)
    for k in range(16):
        w = np.zeros(16)
        w[k] = 1
        assert eberhard_j(loc.behaviour({"weights": w})) <= 1e-15


def test_two_qubit_train_recovers_parameters() -> None:
    truth = models.get("quantum-two-qubit", theta=0.6, eta_a=0.7, eta_b=0.8, pair=0.05)
    c = Counts((truth.behaviour() * 1e9).round().astype(np.int64), truth.scenario)
    m = models.get("quantum-two-qubit").train(c, starts=2)
    got = m.params()
    for name, want in (("theta", 0.6), ("eta_a", 0.7), ("eta_b", 0.8), ("pair", 0.05)):
        assert float(got[name]) == pytest.approx(want, abs=2e-3), name


# -- the local models of the detection loophole --------------------------------------------------


def test_gisin_gisin_reproduces_singlet_coincidences() -> None:
    """Exactly the singlet's coincidence correlators (1e-12) at eta_A = 1/2, eta_B = 1."""
    for scn in (Scenario.chsh(), datasets.scenario("weihs1998")):
        gg = models.get("gisin-gisin", scenario=scn)
        coinc = gg.full_behaviour()[:, :, :2, :2]
        coinc = coinc / coinc.sum(axis=(2, 3), keepdims=True)
        singlet = models.get("quantum-singlet", scenario=scn).behaviour()
        np.testing.assert_allclose(correlators(coinc), correlators(singlet), atol=1e-12, rtol=0)
        np.testing.assert_allclose(gg.ontic_table().behaviour(), singlet, atol=1e-12, rtol=0)
        assert gg.efficiencies() == (0.5, 1.0)
        assert chsh_max(coinc) == pytest.approx(2 * np.sqrt(2), abs=1e-12)


def test_no_local_model_exceeds_two_on_complete_data() -> None:
    """Read over all pairs (no detection -> -1), every loophole model is local: S <= 2."""
    rng = np.random.default_rng(0)
    full = models.get("gisin-gisin").full_behaviour()
    from bellmodels.models.detection import lump

    assert chsh_max(lump(full)) <= 2 + 1e-12
    m = models.get("local-detection-loophole", table="complete")
    ps = models.get("local-detection-loophole")
    best_post = 0.0
    for _ in range(200):
        w = rng.dirichlet(np.full(81, 0.05))
        assert chsh_max(m.behaviour({"weights": w})) <= 2 + 1e-12
        best_post = max(best_post, chsh_max(ps.behaviour({"weights": w})))
    assert best_post > 2.0  # post-selection alone lifts some of the same models above 2
    assert audit(m).classification == "local & measurement-independent"


def test_loophole_audit_sees_setting_dependent_sub_ensemble() -> None:
    r = audit(models.get("gisin-gisin"))
    assert r.parameter_independence_violation < 1e-12
    assert r.outcome_independence_violation < 1e-12
    assert r.mi_bits > 0.01  # the coincidences' lambda depends on A's setting


def test_table_kinds_are_refused_with_a_clear_error() -> None:
    weihs = datasets.load("weihs1998")
    vienna = datasets.load("vienna2015")
    assert (weihs.kind, vienna.kind) == ("post-selected", "complete")
    q = models.get("quantum-two-qubit", scenario=weihs.scenario)
    with pytest.raises(ValueError, match=r"post-selected count table \(source: dataset:weihs"):
        q.check_counts(weihs)
    models.get("quantum-two-qubit", table="post-selected").check_counts(weihs)
    with pytest.raises(ValueError, match="complete count table"):
        models.get("local-detection-loophole").check_counts(vienna)
    with pytest.raises(ValueError, match="table must be one of"):
        models.get("quantum-two-qubit", table="coincidences")
    with pytest.raises(ValueError, match="cannot describe"):
        models.get("quantum-two-qubit", scenario=weihs.scenario).train(weihs)


def test_pair_spread_is_information_fair_sampling_ignores() -> None:
    c = Counts(np.full((2, 2, 2, 2), 10), Scenario.chsh())
    fair = models.get("local-detection-loophole")
    assert np.ptp(coincidence_probability(fair.full_behaviour())) < 1e-12
    assert pair_spread_loglik(fair, c) == pytest.approx(0.0, abs=1e-12)  # relative to p(s)
    w = np.zeros(81)
    w[[fair.strategy_index("++;++"), fair.strategy_index("0+;++")]] = 0.5  # A: detects a only
    unfair = {"weights": w}  # D = 1 at (a, .), 1/2 at (a', .): pi = 1/3, 1/3, 1/6, 1/6
    assert pair_spread_loglik(fair, c, unfair) == pytest.approx(
        80 * np.log(4 / 3) + 80 * np.log(2 / 3)
    )


# -- fits (slow) ---------------------------------------------------------------------------------


def _posterior(idata: object, name: str) -> np.ndarray:
    from bellmodels._arviz import group

    return np.asarray(group(idata, "posterior")[name].values)


def _giustina_experiment() -> tuple[Scenario, dict[str, float]]:
    """vienna2015's settings with the state and efficiencies Giustina et al. report."""
    truth = {"theta": float(np.arctan(1 / 2.9)), "eta_a": 0.786, "eta_b": 0.762, "pair": 0.05}
    return datasets.scenario("vienna2015"), truth


@pytest.mark.slow
def test_a_ch_table_has_two_exact_solutions() -> None:
    """The complete table of Giustina et al.'s experiment (no noise, 10^8 trials) is reproduced
    exactly by two parameter points, which train finds both: the truth, at the nominal angles,
    and theta 0.418 with efficiencies 0.853 / 0.827 and angles up to 0.2 rad away (the numbers
    QuantumTwoQubit's Identifiability section quotes). Only the angles' prior separates them."""
    from scipy.stats import norm

    scn, truth = _giustina_experiment()
    model = models.get("quantum-two-qubit", scenario=scn, **truth)
    exact = Counts((model.behaviour() * 2.5e7).round().astype(np.int64), scn, kind="complete")
    modes = models.get("quantum-two-qubit", scenario=scn).train(exact).modes_
    assert len(modes) == 2
    by_theta = sorted(modes, key=lambda p: float(p["theta"]))
    freq = exact.values / exact.pair_totals()[:, :, None, None]  # up to rounding (< 1e-8)
    for mode in modes:  # each reproduces the table, cell by cell, and both the same behaviour
        np.testing.assert_allclose(model.behaviour(mode), freq, atol=1e-8, rtol=0)
    np.testing.assert_allclose(model.behaviour(modes[0]), model.behaviour(modes[1]), atol=1e-8)
    near, far = by_theta
    for name in ("theta", "eta_a", "eta_b", "pair"):
        assert float(near[name]) == pytest.approx(truth[name], abs=2e-3), name
    got = [round(float(far[n]), 3) for n in ("theta", "eta_a", "eta_b", "pair")]
    assert got == pytest.approx([0.418, 0.853, 0.827, 0.029], abs=2e-3)
    nominal = np.concatenate([scn.angles_a, scn.angles_b]) / 2

    def log_prior(p: dict) -> float:
        angles = np.concatenate([p["angle_a"], p["angle_b"]])
        return float(norm.logpdf(angles, nominal, 0.1).sum())

    assert np.abs(np.concatenate([far["angle_a"], far["angle_b"]]) - nominal).max() > 0.15
    assert log_prior(near) - log_prior(far) == pytest.approx(4.0, abs=0.2)


@pytest.mark.slow
def test_fit_recovers_an_eberhard_experiment() -> None:
    """Simulated CH data at Giustina et al.'s state, settings and efficiencies (10^8 trials, a
    pair in 5% of the trials): theta and both efficiencies inside their 94% HDIs, and the
    posterior J excludes 0. With this seed the second exact solution fits the noise slightly
    better (maximum likelihood lands there), so the test needs the init to choose by the
    posterior."""
    import bellmodels as bm
    from bellmodels._arviz import hdi

    scn, truth = _giustina_experiment()
    model = models.get("quantum-two-qubit", scenario=scn, **truth)
    rng = np.random.default_rng(2015)
    p = model.behaviour().reshape(2, 2, 4)
    values = np.stack(
        [[rng.multinomial(25_000_000, p[i, j]) for j in range(2)] for i in range(2)]
    ).reshape(2, 2, 2, 2)
    counts = Counts(values, scn, kind="complete")
    idata = bm.fit(
        models.get("quantum-two-qubit", scenario=scn), counts, draws=300, tune=400, chains=2, seed=3
    )
    # the likelihood has a second exact solution (test above): the init chose by the posterior
    assert "highest log posterior" in idata.attrs["init"]
    for name, want in truth.items():
        if name == "pair":
            continue
        lo, hi = hdi(_posterior(idata, name).ravel())
        assert lo <= want <= hi, (name, lo, want, hi)
    beh = _posterior(idata, "behaviour").reshape(-1, 2, 2, 2, 2)
    j = np.array([eberhard_j(b) for b in beh])
    lo, hi = hdi(j)
    assert lo > 0, (lo, hi)


@pytest.mark.slow
def test_vienna_fit_covers_the_data_j() -> None:
    """On vienna2015 the posterior predictive J covers the data's 7.27e-6 and excludes 0."""
    import bellmodels as bm
    from bellmodels._arviz import hdi

    counts = datasets.load("vienna2015")
    model = models.get("quantum-two-qubit", scenario=counts.scenario)
    model.check_counts(counts)
    idata = bm.fit(model, counts, draws=300, tune=400, chains=2, seed=1)
    beh = _posterior(idata, "behaviour").reshape(-1, 2, 2, 2, 2)
    n = counts.pair_totals()
    rng = np.random.default_rng(0)
    j_rep = []
    for b in beh[:: max(1, len(beh) // 300)]:
        rep = np.stack(
            [[rng.multinomial(n[i, j], b[i, j].ravel()) for j in range(2)] for i in range(2)]
        ).reshape(2, 2, 2, 2)
        j_rep.append(eberhard_j(rep / n[:, :, None, None]))
    lo, hi = hdi(np.array(j_rep))
    observed = eberhard_j(counts.values / n[:, :, None, None])
    assert observed == pytest.approx(7.27e-6, abs=5e-9)
    assert lo <= observed <= hi and lo > 0, (lo, observed, hi)


@pytest.mark.slow
def test_two_qubit_post_selected_passes_the_gate_on_weihs() -> None:
    """quantum-two-qubit (post-selected) on weihs1998, 4 chains x 1,000 draws after 1,000 tuning
    steps: the diagnostics gate passes, and the posterior sits where the data put it (a
    near-singlet state, visibility about 0.96). Four chains, not the demonstration page's two:
    near the singlet a common rotation of all four polariser angles is almost a symmetry, only
    the angles' prior bounds it, and with two chains R-hat of the log-likelihood sits near the
    1.01 bar (1.0114 at seed 7 on PyMC 6 after a start moved by 1e-12; below it at seeds 8-10).
    The page's own fits pass the gate (test_generated_fair_sampling_page_meets_issue_29)."""
    import bellmodels as bm
    from bellmodels.inference import diagnostics

    counts = datasets.load("weihs1998")
    model = models.get("quantum-two-qubit", scenario=counts.scenario, table="post-selected")
    idata = bm.fit(model, counts, draws=1000, tune=1000, chains=4, seed=7, progressbar=False)
    gate = diagnostics(idata)
    assert gate["ok"], gate["reasons"]
    assert abs(_posterior(idata, "theta").mean() - np.pi / 4) < 0.05
    assert 0.93 < _posterior(idata, "visibility").mean() < 0.99


def test_table_kind_travels_through_netcdf_and_csv(tmp_path) -> None:
    from bellmodels import read_counts, write_counts
    from bellmodels.data.format import DataFormatError

    weihs = datasets.load("weihs1998")
    f = write_counts(weihs, tmp_path / "w.nc")
    back = read_counts(f)
    assert back.kind == "post-selected" and back == weihs
    assert read_counts(f, kind="post-selected").kind == "post-selected"
    with pytest.raises(DataFormatError, match="table kind 'post-selected' differs"):
        read_counts(f, kind="complete")
    g = write_counts(weihs, tmp_path / "w.csv")
    assert g.read_text().startswith("# kind: post-selected\nsetting_a,")
    assert read_counts(g, scenario=weihs.scenario).kind == "post-selected"
    with pytest.raises(DataFormatError, match=r"w\.csv: line 1, column 'kind': the file's"):
        read_counts(g, scenario=weihs.scenario, kind="complete")
    with pytest.raises(ValueError, match="kind must be one of"):
        Counts(weihs.values, weihs.scenario, kind="coincidences")
    plain = write_counts(Counts(weihs.values, weihs.scenario), tmp_path / "p.nc")
    assert read_counts(plain).kind is None


def test_generated_fair_sampling_page_meets_issue_29() -> None:
    """The numbers docs/demos/fair_sampling.py wrote (full size) for the page."""
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "docs" / "generated" / "demo_fair_sampling.json"
    data = json.loads(path.read_text())
    assert data["size"] == "full"
    vienna = data["vienna2015"]
    assert vienna["best_by_evidence"] == "quantum-two-qubit"
    assert vienna["models"]["quantum-two-qubit"]["diagnostics_ok"] is True
    assert all(r["diagnostics_ok"] is True for r in data["weihs1998"]["models"].values())
    log_bf, _ = vienna["log_bayes_factors_vs_best"]["local-polytope"]
    assert log_bf > 10
    weihs = data["weihs1998"]["models"]
    loophole = weihs["local-detection-loophole"]
    best_quantum = max(
        (weihs[m] for m in ("quantum-singlet", "quantum-two-qubit")), key=lambda r: r["elpd_loo"]
    )
    gap = best_quantum["elpd_loo"] - loophole["elpd_loo"]
    assert gap < 2 * max(loophole["dse"], best_quantum["dse"])  # ahead, or behind < 2 dse
    threshold = data["weihs1998"]["detection"]["efficiency_threshold"]
    assert loophole["efficiency"]["eta_mean"] < threshold
    assert loophole["fair_sampling"] is False
