"""One fit for models that are one model to the data (issue #28, item 2).

The declaration (``observational_family``) is checked against the numbers before a fit is
shared; a shared fit keeps each model's own audit; ``bm.compare`` samples a family once and its
members tie exactly.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
import xarray as xr

import bellmodels as bm
from bellmodels import _arviz, models
from bellmodels.inference.sharing import (
    EquivalenceError,
    check_equivalent,
    shared_fit,
    shared_groups,
)
from bellmodels.models.local import Bell1964
from bellmodels.models.nonlocal_ import QuantumSinglet
from bellmodels.models.priors import Beta

SINGLET_FAMILY = ("quantum-singlet", "toner-bacon", "brans", "hall2010", "dlr-one-sided")
FIT_MODULE = sys.modules["bellmodels.inference.fit"]


class LiarBell(Bell1964):
    """Bell's 1964 model claiming the singlet's family: its behaviour says otherwise."""

    name = "test-liar-bell"

    def observational_family(self):
        return QuantumSinglet(self.scenario).observational_family()


class SharperPrior(QuantumSinglet):
    """The singlet with another visibility prior, claiming the singlet's family."""

    name = "test-sharper-prior"

    @property
    def parameters(self):
        out = dict(super().parameters)
        out["visibility"] = models.Parameter("visibility", prior=Beta(50, 1), default=0.98)
        return out

    def observational_family(self):
        return QuantumSinglet(self.scenario).observational_family()


class SteeperCorrelator(QuantumSinglet):
    """A subclass that changes the correlator: it must not inherit the family's key."""

    name = "test-steeper"

    @staticmethod
    def correlator(delta, lib=np):
        return -(lib.cos(delta) ** 3)


def test_the_singlet_family_declares_one_key_and_nothing_else_shares_it():
    keys = {n: models.get(n).observational_family() for n in SINGLET_FAMILY}
    assert None not in keys.values() and len(set(keys.values())) == 1
    for name in SINGLET_FAMILY[1:]:  # the claim holds numerically: behaviour and prior density
        check_equivalent(models.get("quantum-singlet"), models.get(name))
    key = keys["quantum-singlet"]
    # what changes the fit changes the key; what does not (toner-bacon's quadrature) does not
    assert models.get("hall2010", offsets=False).observational_family() != key
    assert models.get("hall2010", visibility=0.9).observational_family() != key
    assert models.get("toner-bacon", nodes=24).observational_family() == key
    scn = bm.Scenario.from_angles([0.0, np.pi / 3], [np.pi / 6, -np.pi / 6])
    assert models.get("brans", scenario=scn).observational_family() != key
    assert SteeperCorrelator().observational_family() is None
    for other in ("bell1964", "local-polytope", "no-signalling", "rbm"):
        assert models.get(other).observational_family() is None, other


def test_a_declared_family_whose_behaviour_differs_is_refused_naming_both_and_the_draw():
    with pytest.raises(EquivalenceError) as err:
        shared_groups([models.get("quantum-singlet"), LiarBell()])
    msg = str(err.value)
    assert "'quantum-singlet'" in msg and "'test-liar-bell'" in msg
    assert "behaviour differs" in msg and "prior draw 0 (seed 0)" in msg and "offset_a" in msg


def test_a_declared_family_with_another_prior_is_refused():
    with pytest.raises(EquivalenceError, match=r"'hall2010' and 'test-sharper-prior'.*parameters"):
        check_equivalent(models.get("hall2010"), SharperPrior())


def test_shared_groups_keep_order_and_separate_fit_settings():
    ms = [models.get(n) for n in ("hall2010", "bell1964", "quantum-singlet", "brans")]
    groups = shared_groups(ms, keys=["a", "a", "b", "a"])
    assert [[m.name for m in g] for g in groups] == [
        ["hall2010", "brans"],
        ["bell1964"],
        ["quantum-singlet"],
    ]


@pytest.fixture(scope="module")
def singlet_fit():
    counts = bm.simulate_singlet(bm.Scenario.chsh(), n_trials=2000, seed=3).counts()
    fit = bm.fit(
        "quantum-singlet", counts, draws=60, tune=60, chains=2, seed=5, sampler="pymc", cores=1
    )
    return fit


def test_a_shared_fit_keeps_each_models_audit_its_own(singlet_fit):
    q = singlet_fit
    h = shared_fit(q, models.get("hall2010"))
    for name in ("posterior", "sample_stats", "posterior_predictive", "cell_log_likelihood"):
        xr.testing.assert_identical(
            _arviz.group(q, name).drop_attrs(), _arviz.group(h, name).drop_attrs()
        )
    mi_q = _arviz.group(q, "audit_posterior")["mi_bits"].values
    mi_h = _arviz.group(h, "audit_posterior")["mi_bits"].values
    assert np.all(mi_q == 0.0) and np.all(mi_h > 0.0)
    # Hall's model: the same MI at every visibility-free draw (its p(lambda | s) is fixed)
    assert float(_arviz.group(h, "audit_posterior")["hall_M"].min()) > 0.1
    assert h.attrs["model"] == "hall2010" and h.attrs["shared_fit_with"] == "quantum-singlet"
    assert q.attrs["classification"] != h.attrs["classification"]
    assert '"name": "hall2010"' in h.attrs["model_describe"]
    assert _arviz.group(h, "posterior").attrs["model"] == "hall2010"
    assert "shared_fit_with" not in q.attrs  # the source fit is untouched
    assert bm.loo(h)["elpd_loo"] == bm.loo(q)["elpd_loo"]


@pytest.mark.slow
def test_compare_samples_a_family_once_and_its_members_tie(monkeypatch):
    counts = bm.datasets.load("delft2015")
    calls = []
    real = FIT_MODULE._sample

    def counting(*args, **kwargs):
        calls.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(FIT_MODULE, "_sample", counting)
    res = bm.compare(
        ["hall2010", "bell1964", "quantum-singlet"], counts, draws=60, tune=60, chains=2,
        seed=2, evidence=False, progressbar=False, sampler="pymc",
    )  # fmt: skip
    assert len(calls) == 2  # bell1964 and one for the singlet family
    t = res.table.set_index("model")
    assert t.loc["hall2010", "elpd_loo"] == t.loc["quantum-singlet", "elpd_loo"]
    assert t.loc["hall2010", "elpd_diff"] == t.loc["quantum-singlet", "elpd_diff"]
    assert t.loc["hall2010", "mi_bits"] > 0 == t.loc["quantum-singlet", "mi_bits"]
    assert "shared_fit_with" not in res.fits["hall2010"].attrs  # the first of its family
    assert res.fits["quantum-singlet"].attrs["shared_fit_with"] == "hall2010"


@pytest.mark.slow
def test_the_five_singlet_models_share_one_sampler_run_and_one_evidence(monkeypatch):
    counts = bm.datasets.load("delft2015")
    calls = []
    real = FIT_MODULE._sample
    monkeypatch.setattr(FIT_MODULE, "_sample", lambda *a, **k: calls.append(1) or real(*a, **k))
    res = bm.compare(
        list(SINGLET_FAMILY), counts, draws=100, tune=100, chains=2, seed=1, evidence=True,
        evidence_draws=100, evidence_chains=2, progressbar=False, sampler="pymc",
    )  # fmt: skip
    assert len(calls) == 1
    t = res.table.set_index("model")
    for col in ("elpd_loo", "se", "p_loo", "elpd_diff", "log_evidence", "log_evidence_se"):
        assert t.loc[list(SINGLET_FAMILY), col].nunique() == 1, col
    assert t.loc["quantum-singlet", "mi_bits"] == 0 < t.loc["hall2010", "mi_bits"]
    assert len(set(t["classification"])) > 1  # each audited on its own
    assert res.bayes_factor("hall2010", "quantum-singlet", allow_unreliable=True).log_bf == 0.0
