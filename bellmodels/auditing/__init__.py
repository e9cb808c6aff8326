"""The shared audit: which of Bell's assumptions a model keeps, and what breaking one costs.

``bm.audit`` is :func:`bellmodels.auditing.report.audit`, re-exported here. The package has
three rooms: :mod:`~bellmodels.auditing.measures` (numbers of ontic tables, vectorised over
draws, and their classification), :mod:`~bellmodels.auditing.programmes` (the cvxpy programmes
for the least measurement dependence a local model needs) and
:mod:`~bellmodels.auditing.report` (the :class:`AuditReport` and :func:`audit`).

>>> import bellmodels as bm
>>> bm.audit(bm.models.get("local-polytope")).classification
'local & measurement-independent'
"""

from __future__ import annotations

from bellmodels.auditing.measures import CLASSIFICATIONS, audit_draws, classify, ontic_measures
from bellmodels.auditing.programmes import min_hall_M, min_hall_M_model, min_mi_bits, min_mi_model
from bellmodels.auditing.report import AuditReport, audit

__all__ = [
    "CLASSIFICATIONS",
    "AuditReport",
    "audit",
    "audit_draws",
    "classify",
    "min_hall_M",
    "min_hall_M_model",
    "min_mi_bits",
    "min_mi_model",
    "ontic_measures",
]
