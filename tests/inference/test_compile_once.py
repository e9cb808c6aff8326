"""What a fit compiles and how it holds the heap: one point function for every chain's trace
(the same draws as PyMC's own traces), and the garbage collector kept off the long-lived heap
while sampling and estimating the evidence, and given it back afterwards."""

from __future__ import annotations

import contextlib
import gc
import importlib
import types

import numpy as np
import pytest
from pymc.backends.base import BaseTrace

import bellmodels as bm
from bellmodels.inference import _backend, _tempered_smc, build_model, evidence

fit_module = importlib.import_module("bellmodels.inference.fit")  # the name is also a function

SAMPLE = {"draws": 25, "tune": 25, "chains": 3, "cores": 1, "seed": 5, "progressbar": False}


@pytest.fixture(scope="module")
def counts():
    return bm.simulate_singlet(bm.Scenario.chsh(), n_trials=400, seed=2).counts()


@pytest.fixture
def heap(monkeypatch):
    """``frozen_heap`` as fit and the evidence use it, recording whether a block is open."""
    state = {"inside": False, "blocks": 0}

    @contextlib.contextmanager
    def recording():
        with _backend.frozen_heap():
            state["inside"], state["blocks"] = True, state["blocks"] + 1
            try:
                yield
            finally:
                state["inside"] = False

    monkeypatch.setattr(fit_module, "frozen_heap", recording)
    monkeypatch.setattr(evidence, "frozen_heap", recording)
    return state


@pytest.fixture
def trace_compiles(monkeypatch, heap):
    """Every trace PyMC builds: whether it compiled its point function (``fn`` not given) and
    whether it was built inside a ``frozen_heap`` block."""
    seen: list[tuple[bool, bool]] = []
    init = BaseTrace.__init__

    def counting(self, *args, fn=None, **kwargs):
        seen.append((fn is None, heap["inside"]))
        init(self, *args, fn=fn, **kwargs)

    monkeypatch.setattr(BaseTrace, "__init__", counting)
    return seen


def _posterior(counts, **kwargs):
    raw = fit_module._sample(
        build_model("quantum-singlet", counts), "pymc", initvals=None, target_accept=0.9,
        **SAMPLE, **kwargs,
    )  # fmt: skip
    post = raw.posterior
    return {v: post[v].values for v in ("visibility", "offset_a", "behaviour")}


def test_every_chain_records_with_one_compiled_function(counts, trace_compiles, monkeypatch):
    shared = _posterior(counts)
    assert sum(c for c, _ in trace_compiles) == 1  # the chains' copies reuse the prototype's
    trace_compiles.clear()
    monkeypatch.setattr(fit_module, "chain_trace", lambda pmodel: None)  # PyMC's own traces
    own = _posterior(counts)
    assert sum(c for c, _ in trace_compiles) == SAMPLE["chains"]
    for name, values in own.items():
        np.testing.assert_array_equal(shared[name], values)
    v = shared["visibility"]
    assert not np.array_equal(v[0], v[1])  # each chain has its own samples


def test_fit_samples_and_the_evidence_runs_inside_a_frozen_heap(
    counts, trace_compiles, heap, monkeypatch
):
    before = gc.get_freeze_count()
    bm.fit("quantum-singlet", counts, draws=10, tune=10, chains=2, cores=1, seed=1)
    assert trace_compiles and all(inside for _, inside in trace_compiles)
    runs_inside = []

    def runs(*args):
        runs_inside.append(heap["inside"])
        return [0.0, 0.0], 0.0, {}

    monkeypatch.setattr(evidence, "_free_space_runs", runs)
    evidence.estimate_log_evidence("quantum-singlet", counts, seed=1)
    assert runs_inside == [True] and heap["blocks"] == 2
    smc_inside = []
    smc_runs = _tempered_smc.smc_runs

    def recording_smc_runs(*args, **kwargs):
        smc_inside.append(heap["inside"])
        return smc_runs(*args, **kwargs)

    monkeypatch.setattr(_tempered_smc, "smc_runs", recording_smc_runs)
    bm.fit("quantum-singlet", counts, draws=20, chains=2, sampler="smc", seed=1)
    assert smc_inside == [True]
    assert gc.get_freeze_count() == before


def test_frozen_heap_freezes_only_a_heap_with_nothing_frozen_and_thaws_it_after_an_error(
    monkeypatch,
):
    calls: list[str] = []
    frozen = {"count": 0}

    def freeze():
        calls.append("freeze")
        frozen["count"] = 7

    def unfreeze():
        calls.append("unfreeze")
        frozen["count"] = 0

    fake = types.SimpleNamespace(
        freeze=freeze, unfreeze=unfreeze, get_freeze_count=lambda: frozen["count"]
    )
    monkeypatch.setattr(_backend, "gc", fake)
    with pytest.raises(KeyError), _backend.frozen_heap():
        assert frozen["count"] == 7
        raise KeyError
    assert calls == ["freeze", "unfreeze"] and frozen["count"] == 0
    frozen["count"], calls[:] = 3, []  # frozen by the caller (or CPython 3.12 at start-up)
    with _backend.frozen_heap():
        pass
    assert calls == [] and frozen["count"] == 3


@pytest.mark.skipif(gc.get_freeze_count() != 0, reason="this interpreter starts with a frozen heap")
def test_frozen_heap_really_freezes_and_thaws():
    with _backend.frozen_heap():
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0
