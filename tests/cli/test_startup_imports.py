"""The CLI imports only what a command needs (issue #28): no PyMC, PyTensor, ArviZ or matplotlib
for ``--help``, ``datasets list`` and the audit of a model, and no cvxpy for the first two.

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


def test_audit_of_a_model_imports_no_pymc_arviz_or_matplotlib() -> None:
    modules, out = imported_by("audit", "rbm-weinstein2017", "--json")
    assert not modules & NEVER, modules & NEVER
    # the p-values of local realism are for data: a model's audit neither needs them nor xarray
    assert not modules & {"bellmodels.significance", "xarray", "pandas"}
    report = json.loads(out[: out.rindex("MODULES ")])
    # Weinstein's RBM is local in its hidden units and violates CHSH by measurement dependence
    assert report["classification"].startswith("local")


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
