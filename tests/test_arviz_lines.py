"""Both PyMC / ArviZ lines (issue #14): the adapter's one vocabulary, and NetCDF fits that each
line writes and the other loads and compares.

``tests/data/fit_pymc5.nc`` was written on PyMC 5 / ArviZ 0.2x (Python 3.11), ``fit_pymc6.nc`` on
PyMC 6 / ArviZ 1.x (Python 3.12) by ``tests/data/make_line_fit.py``; whichever line runs these
tests reads both.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from shutil import which as shutil_which

import _arviz_reference
import numpy as np
import pytest
import xarray as xr

from bellmodels import _arviz

DATA = Path(__file__).resolve().parent / "data"
LINE_FILES = {"pymc5": DATA / "fit_pymc5.nc", "pymc6": DATA / "fit_pymc6.nc"}


# -- the vocabulary -----------------------------------------------------------------------------
def test_the_line_flags_match_the_installed_packages():
    from importlib.metadata import version

    assert _arviz.ARVIZ_1 == (int(version("arviz").split(".")[0]) >= 1)
    assert _arviz.PYMC_6 == (int(version("pymc").split(".")[0]) >= 6)
    # ArviZ 1.x needs Python >= 3.12 (and PyMC 6 needs ArviZ 1.x), so the lines do not mix
    assert _arviz.PYMC_6 <= _arviz.ARVIZ_1
    if sys.version_info < (3, 12):
        assert not _arviz.ARVIZ_1


def test_a_fit_container_reads_the_same_on_both_lines():
    post = xr.Dataset({"S": (("chain", "draw"), np.arange(6.0).reshape(2, 3))})
    idata = _arviz.inference_data({"posterior": post}, {"model": "m"})
    assert _arviz_reference.is_fit_container(idata)
    assert _arviz.group_names(idata) == ["posterior"] and _arviz.has_group(idata, "posterior")
    assert not _arviz.has_group(idata, "sample_stats")
    ds = _arviz.group(idata, "posterior")
    assert isinstance(ds, xr.Dataset) and float(ds["S"].sum()) == 15.0
    assert idata.attrs["model"] == "m"
    _arviz.update_group_attrs(idata, "posterior", {"sampler": "x"})
    assert _arviz.group(idata, "posterior").attrs["sampler"] == "x"
    _arviz.add_groups(idata, {"posterior": post * 2, "sample_stats": post[["S"]]})
    assert float(_arviz.group(idata, "posterior")["S"].sum()) == 30.0
    assert set(_arviz.group_names(idata)) == {"posterior", "sample_stats"}


def test_elpd_results_answer_bellmodels_keys_and_az_compare_takes_them():
    n = np.array([300, 100, 100, 300])
    a = np.log([0.45, 0.05, 0.25, 0.25])
    b = np.log([0.25, 0.25, 0.25, 0.25])

    ea, eb = (
        _arviz_reference.cell_elpd(v, n, se=2.0, p=1.5, extra={"cell_counts": n}) for v in (a, b)
    )
    assert float(ea["elpd_loo"]) == pytest.approx(float(np.dot(n, a)))
    assert float(ea["p_loo"]) == 1.5 and float(ea["se"]) == 2.0
    assert ea["loo_i"].shape == (800,) and list(ea["cell_counts"]) == list(n)
    table = _arviz_reference.compare({"a": ea, "b": eb})
    assert list(table.columns) == [*_arviz_reference.COMPARE_COLUMNS, "scale"]
    best, other = table.index
    diff = abs(np.dot(n, a) - np.dot(n, b))
    assert table.loc[best, "elpd_diff"] == 0.0
    # best minus the model, positive, unrounded, on both lines
    assert table.loc[other, "elpd_diff"] == pytest.approx(diff, rel=1e-12)
    assert table.loc[best, "elpd_loo"] == pytest.approx(max(np.dot(n, a), np.dot(n, b)))
    assert table["weight"].sum() == pytest.approx(1.0)


def test_statistics_give_the_same_numbers_on_both_lines():
    """Values measured on ArviZ 0.23.4 and ArviZ 1.3 (arviz-stats 1.3.3): they agree."""
    x = np.random.default_rng(0).normal(size=(4, 500))
    assert _arviz.ess(x, "bulk") == pytest.approx(2003.152288929528, rel=1e-9)
    assert _arviz.ess(x, "tail") == pytest.approx(2055.6087859576, rel=1e-9)
    assert _arviz.ess(x, "mean") == pytest.approx(2007.1013689207825, rel=1e-9)
    assert _arviz.rhat(x) == pytest.approx(1.000698378871917, rel=1e-9)
    lo, hi = _arviz.hdi(x, 0.94)
    assert (lo, hi) == pytest.approx((-1.93987691, 1.7478539), abs=1e-7)


def test_find_map_starts_where_it_is_told_on_both_pymc_lines():
    import pymc as pm

    with pm.Model() as m:
        mu = pm.Normal("mu", 0.0, 10.0)
        pm.Normal("y", mu, 1.0, observed=np.array([1.0, 2.0, 3.0]))
    found = _arviz.find_map(m, {"mu": np.array(-5.0)})
    # posterior mode of a normal mean, prior N(0, 10^2), 3 observations of unit variance
    assert float(found["mu"]) == pytest.approx(6.0 / (3.0 + 0.01), abs=1e-4)


def test_no_arviz_future_warning_reaches_a_user(tmp_path):
    """ArviZ 0.2x warns once a day (stamped in the user cache) that it is being refactored; with a
    fresh cache and FutureWarnings as errors, importing bellmodels and PyMC and computing a LOO
    raises nothing."""
    code = (
        "import bellmodels as bm\n"
        "import pymc, arviz\n"
        "import numpy as np\n"
        "from bellmodels import _arviz\n"
        "d = _arviz.from_dict(log_likelihood={'y': np.random.default_rng(0).normal(size=(2, 50, 3))})\n"
        "print(float(_arviz.loo(d, reff=1.0, var_name='y')['elpd_loo']) < 0)\n"
    )
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path))
    out = subprocess.run(
        [sys.executable, "-W", "error::FutureWarning", "-c", code],
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parents[1],
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "True"
    assert "refactor" not in out.stderr and "MigrationWarning" not in out.stderr


# -- NetCDF interchange -------------------------------------------------------------------------
@pytest.mark.parametrize("writer", sorted(LINE_FILES))
def test_a_fit_written_on_either_line_loads_and_gives_its_loo(writer):
    from bellmodels.inference import diagnostics, load_fit, loo

    model, idata = load_fit(LINE_FILES[writer])
    assert model.name == "quantum-singlet"
    assert _arviz_reference.is_fit_container(idata)
    assert set(_arviz.group_names(idata)) >= _arviz_reference.FIT_GROUPS
    assert idata.attrs["written_by"].startswith(f"pymc {writer[-1]}.")
    post = _arviz.group(idata, "posterior")
    assert post.sizes["chain"] == 2 and post.sizes["draw"] == 100
    assert float(post["S"].max()) <= 2 * np.sqrt(2) + 1e-9  # the model obeys Tsirelson
    np.testing.assert_array_equal(_arviz.group(idata, "observed_data")["counts"].values.sum(), 400)
    elpd = loo(idata)
    # the LOO this line computes from the file is the one the writing line computed: exactly on
    # the same line; across lines PSIS differs (ArviZ 0.23 vs arviz-stats 1.3 use the relative
    # efficiency differently in the tail, here ArviZ's own reff 1.50 at 200 draws): a cell's value
    # moves by up to 1.4e-4 nats, the total over 400 trials by 2.4e-3
    same_line = (writer == "pymc6") == _arviz.ARVIZ_1
    tol, cell_tol = (1e-9, 1e-9) if same_line else (5e-3, 5e-4)
    assert float(elpd["elpd_loo"]) == pytest.approx(float(idata.attrs["elpd_loo_written"]), abs=tol)
    np.testing.assert_allclose(
        np.asarray(elpd["loo_cells"], dtype=float),
        json.loads(idata.attrs["loo_cells_written"]),
        atol=cell_tol,
    )
    d = diagnostics(idata)
    assert "S" in d["quantities"] and d["divergences"] >= 0 and np.isfinite(d["rhat_max"])


def test_the_two_lines_fits_compare_with_each_other():
    from bellmodels.comparison import rank
    from bellmodels.inference import load_fit, loo

    elpds = {w: loo(load_fit(p)[1]) for w, p in LINE_FILES.items()}
    n = elpds["pymc5"]["cell_counts"]
    np.testing.assert_array_equal(n, elpds["pymc6"]["cell_counts"])  # the same data
    table = rank({w: e["loo_cells"] for w, e in elpds.items()}, n, dict.fromkeys(elpds, True))
    for w, e in elpds.items():
        assert table.loc[w, "elpd_loo"] == pytest.approx(float(e["elpd_loo"]), abs=1e-8)
    # the same model on the same data: the two lines' fits predict alike (well within a nat)
    assert abs(table["elpd_diff"].max()) < 0.5
    assert table["dse"].max() < 0.5


def test_a_fit_round_trips_through_netcdf_on_this_line(tmp_path):
    from bellmodels.inference import load_fit

    _, idata = load_fit(LINE_FILES["pymc6" if _arviz.ARVIZ_1 else "pymc5"])
    path = tmp_path / "again.nc"
    _arviz.to_netcdf(idata, str(path))
    _, back = load_fit(path)
    assert back.attrs == idata.attrs
    for g in _arviz_reference.FIT_GROUPS:
        xr.testing.assert_identical(_arviz.group(back, g), _arviz.group(idata, g))


# -- CI -----------------------------------------------------------------------------------------
def _ci_run(tmp_path: Path, last: str) -> subprocess.CompletedProcess:
    """``.ci/run`` in a scratch copy whose README's test command prints the interpreter's
    version and then runs ``last`` (a stand-in for pytest's exit)."""
    import shutil

    root = Path(__file__).resolve().parents[1]
    (tmp_path / ".ci").mkdir(parents=True)
    shutil.copy(root / ".ci" / "run", tmp_path / ".ci" / "run")
    cmd = (
        # --without-pip: the stand-in needs an interpreter, not pip (ensurepip costs ~7 s a venv)
        "python3 -m venv .venv --without-pip && . .venv/bin/activate && "
        f"python -c 'import sys; print(\"python\", *sys.version_info[:2])' && {last}"
    )
    (tmp_path / "README.md").write_text(f"<!-- test-command -->\n```bash\n{cmd}\n```\n")
    return subprocess.run(
        ["bash", str(tmp_path / ".ci" / "run")], capture_output=True, text=True, timeout=300
    )


@pytest.mark.skipif(shutil_which("pyenv") is None, reason="CI finds the second line with pyenv")
def test_ci_runs_the_readme_command_on_both_lines_and_fails_on_no_tests(tmp_path):
    ok = _ci_run(tmp_path / "ok", "true")
    assert ok.returncode == 0, ok.stderr
    versions = [line.split()[1:] for line in ok.stdout.splitlines() if line.startswith("python ")]
    assert len(versions) == 2
    minors = sorted(int(v[1]) for v in versions)
    assert minors[0] < 12 <= minors[1]  # one run on each line
    nothing = _ci_run(tmp_path / "none", "exit 5")
    assert nothing.returncode == 1 and "collected no tests" in nothing.stderr
    failing = _ci_run(tmp_path / "fail", "exit 3")
    assert failing.returncode == 3
