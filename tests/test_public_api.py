"""The public surface of docs/architecture.md resolves to the right objects, lazily."""

from __future__ import annotations

import subprocess
import sys
import types

import bellmodels as bm


def test_functions_are_functions_and_modules_are_modules():
    assert callable(bm.simulate_singlet) and not isinstance(bm.simulate_singlet, types.ModuleType)
    assert callable(bm.read_counts)
    assert isinstance(bm.models, types.ModuleType) and callable(bm.models.get)
    assert isinstance(bm.datasets, types.ModuleType) and callable(bm.datasets.load)


def test_import_does_not_pull_in_pymc_or_cvxpy():
    code = "import sys, bellmodels; print(any(m in sys.modules for m in ('pymc', 'cvxpy')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_audit_and_compare_are_plain_functions_whatever_was_imported_first():
    # docs/architecture.md: bm.audit(obj) and bm.compare(...) are functions re-exported from the packages
    # ``auditing`` and ``comparison``: importing those first changes nothing, and a function
    # (unlike a module made callable) has a signature and pickles by reference
    code = (
        "import bellmodels.auditing, bellmodels.comparison, inspect, pickle, types\n"
        "import bellmodels as bm\n"
        "from bellmodels import audit\n"
        "assert isinstance(bm.audit, types.FunctionType) and audit is bm.audit\n"
        "assert isinstance(bm.compare, types.FunctionType)\n"
        "assert pickle.loads(pickle.dumps(bm.audit)) is bm.audit\n"
        "assert 'setting_probs' in inspect.signature(bm.audit).parameters\n"
        "assert 'counts' in inspect.signature(bm.compare).parameters\n"
        "r = bm.audit(bm.models.get('hall2010'))\n"
        "assert audit(bm.models.get('bell1964')).classification.startswith('local')\n"
        "print(r.classification, callable(bm.auditing.min_mi_bits))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "local & measurement-dependent True"
