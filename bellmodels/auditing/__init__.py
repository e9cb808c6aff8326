"""The shared audit: which of Bell's assumptions a model keeps, and what breaking one costs.

``bm.audit`` is :func:`bellmodels.auditing.report.audit`, re-exported here. The package has
four rooms: :mod:`~bellmodels.auditing.measures` (numbers of ontic tables, vectorised over
draws, and their classification), :mod:`~bellmodels.auditing.programmes` (the convex programmes
for the least measurement dependence a local model needs), :mod:`~bellmodels.auditing.report`
(:func:`audit`) and :mod:`~bellmodels.auditing.results` (what it returns: :class:`ModelAudit`,
:class:`BehaviourAudit`, :class:`DataAudit`, all :class:`AuditReport`).

>>> import bellmodels as bm
>>> bm.audit(bm.models.get("local-polytope")).classification
'local & measurement-independent'
"""

from __future__ import annotations

from bellmodels.auditing.measures import CLASSIFICATIONS, audit_draws, classify, ontic_measures
from bellmodels.auditing.programmes import min_hall_M, min_hall_M_model, min_mi_bits, min_mi_model
from bellmodels.auditing.report import audit
from bellmodels.auditing.results import (
    DATA_CLASSIFICATIONS,
    AuditReport,
    BehaviourAudit,
    DataAudit,
    ModelAudit,
)

__all__ = [
    "CLASSIFICATIONS",
    "DATA_CLASSIFICATIONS",
    "AuditReport",
    "BehaviourAudit",
    "DataAudit",
    "ModelAudit",
    "audit",
    "audit_draws",
    "classify",
    "min_hall_M",
    "min_hall_M_model",
    "min_mi_bits",
    "min_mi_model",
    "ontic_measures",
]
