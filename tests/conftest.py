"""Shared fixtures, and one BLAS thread per test process.

The suite runs in two pytest-xdist workers on two cores: a BLAS with two threads in each would
put four spinning threads on two cores. The environment reaches processes the tests spawn (a
study's pool, a subprocess), the limit the libraries this process has loaded already.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import matplotlib  # noqa: E402
import pytest  # noqa: E402
import scipy.linalg  # noqa: E402, F401  (loads SciPy's BLAS, so the limit below reaches it)
from threadpoolctl import threadpool_limits  # noqa: E402

matplotlib.use("Agg")
threadpool_limits(limits=1, user_api="blas")


@pytest.fixture
def chsh():
    from bellmodels import Scenario

    return Scenario.chsh()
