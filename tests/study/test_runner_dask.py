"""The Dask runner (LocalCluster, 2 worker processes) gives the same numbers as the process
pool for the same study and seeds."""

from __future__ import annotations

import json

import numpy as np
import pytest
from _study import write_study

pytest.importorskip("distributed")

from bellmodels import run_study

STUDY = """
[study]
name = "dask-vs-pool"
[data]
source = "simulate"
n_trials = 4000
visibility = [0.8, 1.0]
seed = 11
[models]
include = ["quantum-singlet", "rbm-weinstein2017", "rbm"]
[models.rbm]
train = true
train_options = { seed = 5 }
[inference]
fit = false
"""

NUMBERS = ("S", "mi_bits", "hall_M", "hall_M_a", "min_mi_bits", "ch_J", "data_S", "data_S_se")


def test_dask_local_cluster_matches_process_pool(tmp_path):
    path = write_study(tmp_path, STUDY)
    pool = run_study(path, tmp_path / "pool", workers=2, progressbar=False, report=False)
    dask = run_study(path, tmp_path / "dask", workers=2, dask=True, progressbar=False, report=False)
    assert (pool["status"] == "done").all() and (dask["status"] == "done").all()
    assert list(dask["task"].values.ravel()) == list(pool["task"].values.ravel())
    for var in NUMBERS:
        # min_mi_bits is the optimum of a convex programme: its solver stops at a tolerance, so
        # two processes may differ in the last digits (~1e-10 seen); 1e-6 is well below any
        # difference a wrong result would make
        tol = 1e-6 if var == "min_mi_bits" else 1e-10
        a, b = dask[var].values, pool[var].values
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol if tol > 1e-10 else 0, err_msg=var)
    # the numbers are real: S grows with the visibility, the trained machine is measurement-
    # dependent, and the data are the same simulated trials in both runs
    assert float(pool["data_S"].sel(visibility=1.0)) > float(pool["data_S"].sel(visibility=0.8))
    assert (pool["mi_bits"].sel(model="rbm") > 0.05).all()
    # the tasks really ran in different processes: each worker claimed its own compile dir
    dirs = set()
    for f in (tmp_path / "dask" / "tasks").glob("*.nc"):
        import xarray as xr

        with xr.open_dataset(f, group="bellmodels", engine="h5netcdf") as ds:
            dirs.add(json.loads(ds.attrs["summary"])["compiledir"])
    assert len(dirs) == 2
