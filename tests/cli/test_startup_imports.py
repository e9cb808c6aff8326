"""The CLI imports only what a command needs (issue #28): no PyMC, PyTensor, ArviZ or matplotlib
for ``--help``, ``datasets list`` and the audit of a model or of data; no cvxpy, scipy, pandas or
xarray for the first two nor for the audit of a model (its convex programmes go to Clarabel
directly), and no cvxpy, scipy.stats, pandas, xarray or dask for the audit of a shipped dataset.

Each command runs in a fresh interpreter (as a user's shell would start it) and prints the
top-level packages in ``sys.modules`` at exit; nothing here is timed (``benchmarks/cli_startup.py``
measures the times).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]

# runs ``bellmodels ARGS`` through the console script's entry point and reports, whatever the
# exit code, which modules were imported
WRAPPER = """
import atexit, json, sys
atexit.register(lambda: print("MODULES " + json.dumps(sorted(sys.modules))))
from bellmodels.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
sys.stdout.flush()
sys.exit(code)
"""

NEVER = {"pymc", "pytensor", "arviz", "arviz_stats", "arviz_plots", "matplotlib", "numba"}


def imported_by(*args: str) -> tuple[set[str], str]:
    """The top-level packages and sub-modules imported by ``bellmodels ARGS``, and its stdout."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [sys.executable, "-c", WRAPPER, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    line = [x for x in proc.stdout.splitlines() if x.startswith("MODULES ")][-1]
    names = json.loads(line.removeprefix("MODULES "))
    return set(names) | {m.split(".")[0] for m in names}, proc.stdout


@pytest.mark.parametrize("args", [("--help",), ("datasets", "list")])
def test_help_and_dataset_list_import_no_inference_no_solver(args: tuple[str, ...]) -> None:
    modules, out = imported_by(*args)
    unwanted = NEVER | {"cvxpy", "xarray", "pandas"}
    assert not modules & unwanted, modules & unwanted
    assert "bellmodels" in modules
    # the command did its job: the help lists the commands, the list names a shipped dataset
    assert ("audit" in out) if args == ("--help",) else ("delft2015" in out)


def test_audit_of_a_model_imports_no_pymc_arviz_matplotlib_cvxpy_or_scipy() -> None:
    modules, out = imported_by("audit", "rbm-weinstein2017", "--json")
    assert not modules & NEVER, modules & NEVER
    # the p-values of local realism are for data: a model's audit neither needs them nor xarray;
    # the least MI and least M are solved by Clarabel without cvxpy or scipy.sparse
    unwanted = {"bellmodels.significance", "xarray", "pandas", "cvxpy", "scipy"}
    assert not modules & unwanted, modules & unwanted
    assert "clarabel" in modules
    report = json.loads(out[: out.rindex("MODULES ")])
    # Weinstein's RBM is local in its hidden units and violates CHSH by measurement dependence,
    # with more MI than the least a local model needs for its S (0.046 bits near Tsirelson's)
    assert report["classification"].startswith("local")
    assert 0.04 < report["min_mi_bits"] < 0.05 < report["mi_bits"]
    assert report["min_hall_M"] >= (report["S"] - 2) / 3 - 1e-9  # Hall's bound


def test_audit_of_data_imports_no_pymc_arviz_or_matplotlib() -> None:
    modules, out = imported_by("audit", "--data", "delft2015", "--json")
    assert not modules & NEVER, modules & NEVER
    # a shipped count table is read without pandas, Counts builds no xarray DataArray (nor dask
    # through it), the no-signalling fit goes to Clarabel without cvxpy, and the tails of the
    # chi-square and normal are closed forms: none of them is imported (issue #28 item 5)
    unwanted = {"cvxpy", "scipy.stats", "pandas", "xarray", "dask"}
    assert not modules & unwanted, modules & unwanted
    report = json.loads(out[: out.rindex("MODULES ")])
    # Hensen et al. (2015): S = 2.42 > 2, so a local model of the frequencies needs some
    # measurement dependence, at least Hall's (S - 2) / 3 of M
    assert report["S"] > 2 and 0 < report["min_mi_bits"] < 0.1
    assert report["min_hall_M"] >= (report["S"] - 2) / 3 - 1e-9  # Hall's bound
    assert "significance" in report
    # the numbers are the previous implementation's (pandas, cvxpy and scipy.stats, computed
    # here from the CSV) to 1e-8
    ref = previous_delft2015_numbers()
    assert report["S"] == pytest.approx(ref["S"], abs=1e-12)
    assert report["no_signalling"] == pytest.approx(ref["no_signalling"], abs=1e-12)
    assert report["no_signalling_p_value"] == pytest.approx(ref["ns_p_value"], abs=1e-8)
    game = report["significance"]["chsh_game"]
    assert game["p_value"] == pytest.approx(ref["game_p_value"], rel=1e-10)
    lr = report["significance"]["likelihood_ratio"]
    assert lr["asymptotic_p_value"] == pytest.approx(ref["lr_p"](lr["statistic"]), rel=1e-10)
    assert f"one-sided p = {ref['one_sided_p']:.2g})" in report["verdict"]


def previous_delft2015_numbers() -> dict:
    """S, the largest marginal change, the no-signalling test's p-value (the cvxpy fit, chi2 of
    scipy.stats), the CHSH game's binomial tail and the tails of the LR test and of S, computed
    as before issue #28 from the shipped CSV read by pandas."""
    pd = pytest.importorskip("pandas")
    stats = pytest.importorskip("scipy.stats")
    from _cvxpy_reference import cvxpy_ns_mle

    from bellmodels import datasets

    frame = pd.read_csv(datasets.path("delft2015"))
    n = np.zeros((2, 2, 2, 2))
    for row in frame.itertuples():
        sa, sb = ["a", "a'"].index(row.setting_a), ["b", "b'"].index(row.setting_b)
        n[sa, sb, (int(row.outcome_a) + 1) // 2, (int(row.outcome_b) + 1) // 2] += row.count
    p = n / n.sum(axis=(2, 3), keepdims=True)
    e = p[..., 0, 0] + p[..., 1, 1] - p[..., 0, 1] - p[..., 1, 0]
    s_k = [e.sum() - 2 * e[i, j] for i, j in ((1, 1), (1, 0), (0, 1), (0, 0))]
    k = int(np.argmax(np.abs(s_k)))
    n_pair = n.sum(axis=(2, 3))
    se = float(np.sqrt(((1 - e**2) / n_pair).sum()))
    ma, mb = p[..., 1, :].sum(-1), p[..., :, 1].sum(-1)
    q = cvxpy_ns_mle(n)
    g = max(0.0, 2 * float(np.sum(n[n > 0] * (np.log(p[n > 0]) - np.log(q[n > 0])))))
    # the CHSH game: wins of the sign of S_k (Gill 2003; Bierhorst 2015), local bound 3/4
    sign = np.sign(s_k[k]) * np.array([[1.0, 1.0], [1.0, 1.0]])
    sign[((1, 1), (1, 0), (0, 1), (0, 0))[k]] *= -1
    wins = sum(
        n[i, j, x, x] if sign[i, j] > 0 else n[i, j, x, 1 - x]
        for i in range(2)
        for j in range(2)
        for x in range(2)
    )
    return {
        "S": abs(s_k[k]),
        "no_signalling": max(np.ptp(ma, axis=1).max(), np.ptp(mb, axis=0).max()),
        "ns_p_value": float(stats.chi2.sf(g, 4)),
        "game_p_value": float(stats.binom.sf(wins - 1, n.sum(), 0.75)),
        "lr_p": lambda stat: float(0.5 * stats.chi2.sf(stat, 1)),
        "one_sided_p": float(stats.norm.sf((abs(s_k[k]) - 2) / se)),
    }


def test_audit_without_the_convex_programmes_imports_no_solver() -> None:
    modules, out = imported_by("audit", "rbm-weinstein2017", "--skip-min-mi", "--json")
    assert not modules & (NEVER | {"cvxpy"}), modules & (NEVER | {"cvxpy"})
    report = json.loads(out[: out.rindex("MODULES ")])
    assert report["min_mi_bits"] is None and report["classification"].startswith("local")


def test_import_bellmodels_keeps_its_names_lazily() -> None:
    code = (
        "import sys, types, bellmodels as bm\n"
        "heavy = {'pymc', 'arviz', 'xarray', 'scipy', 'cvxpy', 'matplotlib'} & set(sys.modules)\n"
        "import bellmodels.significance.games\n"  # binding the sub-package keeps the function
        "ok = isinstance(bm.significance, types.FunctionType) and callable(bm.audit)\n"
        "print(sorted(heavy), ok, bm.Counts.__name__)"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env, cwd=ROOT
    )
    assert out.stdout.strip() == "[] True Counts"


def test_train_rbm_help_states_the_largest_hidden_layer_it_accepts() -> None:
    # the parser writes the limit out (building it imports no model); it must be the module's
    from bellmodels.cli import build_parser
    from bellmodels.cli.rbm import _MAX_HIDDEN_IN_HELP
    from bellmodels.models.boltzmann._kernels import MAX_ENUMERATED_HIDDEN

    assert _MAX_HIDDEN_IN_HELP == MAX_ENUMERATED_HIDDEN
    parser = build_parser()
    parser.parse_args(["train-rbm", "--data", "x.csv", "--n-hidden", str(MAX_ENUMERATED_HIDDEN)])
    with pytest.raises(SystemExit):
        parser.parse_args(
            ["train-rbm", "--data", "x.csv", "--n-hidden", str(MAX_ENUMERATED_HIDDEN + 1)]
        )
