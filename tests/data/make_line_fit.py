"""Write the small fit this PyMC / ArviZ line makes to ``tests/data/fit_pymc<major>.nc``.

Run once on each line (``python tests/data/make_line_fit.py``, from the repository root); the
files are kept so that ``tests/test_arviz_lines.py`` checks that each line loads and compares the
other's. The file's root attrs say which line wrote it and what its LOO was there.

``fit_pymc5_v1.nc`` and ``fit_pymc6_v1.nc`` are the files this script wrote before the per-cell
log-likelihood moved to ``cell_log_likelihood`` (issue #24), kept unchanged so that the tests check
that fits saved in that layout are converted when read.
"""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
N_TRIALS = 400
SEED = 7


def line_fit() -> tuple[object, object]:
    """(counts, fit) of the quantum-singlet model on 400 simulated singlet trials, 2 x 100 draws."""
    import bellmodels as bm

    counts = bm.simulate_singlet(bm.Scenario.chsh(), n_trials=N_TRIALS, seed=0).counts()
    idata = bm.fit("quantum-singlet", counts, seed=SEED, draws=100, tune=200, chains=2)
    return counts, idata


def main() -> Path:
    from bellmodels import _arviz
    from bellmodels.inference import loo

    _, idata = line_fit()
    elpd = loo(idata)
    idata.attrs = dict(idata.attrs) | {
        "written_by": _arviz.line(),
        "elpd_loo_written": repr(float(elpd["elpd_loo"])),
        "se_written": repr(float(elpd["se"])),
        "loo_cells_written": json.dumps(np.asarray(elpd["loo_cells"], dtype=float).tolist()),
    }
    path = HERE / f"fit_pymc{version('pymc').split('.')[0]}.nc"
    _arviz.to_netcdf(idata, str(path))
    return path


if __name__ == "__main__":
    print(main())
