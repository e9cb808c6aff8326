"""The names of the log-evidence estimators, importable without PyMC, ArviZ or scipy.

:mod:`bellmodels.inference.evidence` implements them and re-exports both names; they live here so
that ``bellmodels compare --help`` can list its ``--evidence-method`` choices without importing
the inference package (PyMC, ArviZ, xarray: the cold-start times are in
``docs/generated/cli_startup.md``).

>>> from bellmodels._evidence_methods import DEFAULT_EVIDENCE_METHOD, EVIDENCE_METHODS
>>> DEFAULT_EVIDENCE_METHOD in EVIDENCE_METHODS
True
"""

from __future__ import annotations

EVIDENCE_METHODS: tuple[str, ...] = ("smc", "reverse-smc", "bridge", "nested", "pymc-smc")
"""Estimators :func:`~bellmodels.inference.evidence.estimate_log_evidence` knows (see its module
docstring)."""

DEFAULT_EVIDENCE_METHOD = "smc"
"""The estimator ``bm.compare``, the CLI and the studies use unless told otherwise: the one that
needs no fit, covers every symmetric mode, and holds on the machines at 10^5 trials."""
