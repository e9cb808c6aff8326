"""The public surface of DESIGN.md resolves to the right objects, lazily."""

from __future__ import annotations

import subprocess
import sys
import types

import bellmodels as bm


def test_functions_are_functions_and_modules_are_modules():
    assert callable(bm.audit) and not isinstance(bm.audit, types.ModuleType)
    assert callable(bm.simulate_singlet) and callable(bm.read_counts)
    assert isinstance(bm.models, types.ModuleType) and callable(bm.models.get)
    assert isinstance(bm.datasets, types.ModuleType) and callable(bm.datasets.load)


def test_import_does_not_pull_in_pymc_or_cvxpy():
    code = "import sys, bellmodels; print(any(m in sys.modules for m in ('pymc', 'cvxpy')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
