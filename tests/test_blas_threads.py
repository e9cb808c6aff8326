"""The numerical work runs with one BLAS thread (:func:`bellmodels._util.one_blas_thread`), so
the same seed gives the same numbers whatever the machine's core count."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from threadpoolctl import threadpool_info

import bellmodels as bm

ROOT = Path(__file__).resolve().parents[1]
TRAIN = """
import hashlib, sys
import numpy as np
import bellmodels as bm
from bellmodels.models.boltzmann import RBM
counts = bm.simulate_singlet(bm.Scenario.chsh(), n_trials=100_000, seed=0).counts()
model = RBM(n_hidden=4, seed=0)
train = RBM.train.__wrapped__ if sys.argv[1] == "unwrapped" else RBM.train
train(model, counts, seed=0)
print(hashlib.sha256(b"".join(np.asarray(v, float).tobytes() for v in model.params().values())).hexdigest())
"""


def _train_digest(threads: int, how: str) -> str:
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    done = subprocess.run(
        [sys.executable, "-c", TRAIN, how], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.split()[-1]


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: BLAS never runs two threads")
def test_training_gives_the_same_weights_with_one_or_two_blas_threads_in_the_environment():
    """Maximum-likelihood training of the RBM on the main job's data, in processes whose BLAS
    would run one or two threads: the same weights to the last bit. Without the limit a second
    thread changes the last bits of reductions and the weights with them (checked here too, so
    the test shows it can fail)."""
    one = _train_digest(1, "train")
    assert _train_digest(2, "train") == one
    assert _train_digest(2, "unwrapped") != one


def _blas_threads() -> set[int]:
    return {p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"}


def test_fit_evidence_and_compare_compute_with_one_blas_thread(monkeypatch):
    """Inside ``bm.fit``'s sampler, the evidence's runs and ``bm.compare``, BLAS runs one
    thread, whatever the caller's process had (two here), and the caller's setting is back after."""
    import importlib

    from threadpoolctl import threadpool_limits

    import bellmodels.comparison as cmp
    import bellmodels.inference.evidence as ev

    fit_module = importlib.import_module("bellmodels.inference.fit")  # the name is the function's

    seen: dict[str, set[int]] = {}

    class Stop(Exception):
        pass

    def spy(name):
        def record(*args, **kwargs):
            seen[name] = _blas_threads()
            raise Stop

        return record

    counts = bm.simulate_singlet(bm.Scenario.chsh(), n_trials=500, seed=1).counts()
    monkeypatch.setattr(fit_module, "_run_sampler", spy("fit"))
    monkeypatch.setattr(ev, "_free_space_runs", spy("evidence"))
    monkeypatch.setattr(cmp, "fit", spy("compare"))
    with threadpool_limits(limits=2, user_api="blas"):
        before = _blas_threads()
        if max(before) < 2:  # a BLAS started with one thread may refuse a second
            pytest.skip(f"no BLAS here runs two threads ({before})")
        for name, call in [
            ("fit", lambda: bm.fit("quantum-singlet", counts, seed=1)),
            ("evidence", lambda: ev.estimate_log_evidence("quantum-singlet", counts, seed=1)),
            ("compare", lambda: bm.compare(["quantum-singlet"], counts, seed=1)),
        ]:
            with pytest.raises(Stop):
                call()
            assert seen[name] == {1}, name
        assert _blas_threads() == before  # the caller's setting, as it was
