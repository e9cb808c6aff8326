"""What :func:`~bellmodels.auditing.audit` returns: one type per thing audited.

A model's ontic table and a behaviour (observed counts, or an exact p(x_a, x_b | s)) tell
different things. Only a table has hidden variables, so only its audit measures parameter and
outcome independence, MI(lambda; settings) and Hall's M; only counts have sampling error, so
only their audit has standard errors and a test of no-signalling. Each type has just its fields:

- :class:`ModelAudit` (``kind`` ``"ontic"``): an ontic table, or a model's;
- :class:`BehaviourAudit` (``kind`` ``"behaviour"``): an exact behaviour, which shows no
  hidden variable;
- :class:`DataAudit` (``kind`` ``"data"``): observed counts, a behaviour with standard errors.

All three share :class:`AuditReport`'s fields. ``classification`` is always one of a fixed set
of strings: :data:`~bellmodels.auditing.CLASSIFICATIONS` for a table (what it keeps of Bell's
assumptions), :data:`DATA_CLASSIFICATIONS` for a behaviour or data (what the data allow), whose
``verdict`` says the same in a sentence with the numbers behind it (S in standard errors, the
one-sided p-value, the no-signalling test).

>>> import bellmodels as bm
>>> r = bm.audit(bm.datasets.load("delft2015"), compute_min_mi=False)
>>> type(r).__name__, r.classification
('DataAudit', 'compatible with local & measurement-independent')
>>> r.verdict[:43]
'violates the local bound by 2.1 SE (S = 2.4'
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

from bellmodels._format import fmt_significant as fmt
from bellmodels._util import to_jsonable
from bellmodels.auditing._display import report_rows

DATA_CLASSIFICATIONS: tuple[str, ...] = (
    "compatible with local & measurement-independent",
    "nonlocal or measurement-dependent",
    "signalling",
    "undetermined",
)
"""The classifications of a behaviour or data audit (exact): what the behaviour allows. A local
measurement-independent model can produce it; or it needs nonlocality or measurement
dependence (S above the local bound, significantly for data, or outside the local polytope);
or it signals (no-signalling rejected), which no hidden-variable model without signalling or
measurement dependence gives; or a needed setting pair has no trials."""


@dataclass(frozen=True, eq=False, kw_only=True, repr=False)
class AuditReport:
    """The fields every audit has (JSON keys as in ``docs/api/glossary.md``); the result of
    :func:`~bellmodels.auditing.audit` is one of its subclasses.

    ``no_signalling`` is the largest marginal difference (a number); ``no_signalling_ok`` says
    whether it is within ``tol`` (tables, exact behaviours) or whether the likelihood-ratio test
    keeps no-signalling at level ``alpha`` (data). A number that needs a setting pair with no
    trials is ``None``, with a note saying which pair.

    Examples
    --------
    >>> import numpy as np
    >>> from bellmodels import Scenario, OnticTable
    >>> from bellmodels.auditing import audit
    >>> r = audit(OnticTable(np.ones(1), np.full((2, 2, 1, 2, 2), 0.25), Scenario.chsh()))
    >>> isinstance(r, AuditReport), r.kind, sorted(r.to_dict())[:3]
    (True, 'ontic', ['S', 'S_settings', 'S_values'])
    >>> r.to_dict()["classification"]
    'local & measurement-independent'
    """

    kind: ClassVar[str] = ""
    """``"ontic"``, ``"behaviour"`` or ``"data"``: which subclass (also a JSON key)."""

    source: str
    classification: str
    correlators: tuple[tuple[float | None, ...], ...]
    S: float | None
    S_values: tuple[float, ...] | None
    S_settings: tuple[tuple[str, str], tuple[str, str]] | None
    no_signalling: float | None
    no_signalling_ok: bool | None
    min_mi_bits: float | None
    min_hall_M: float | None
    ch_J: float | None
    chained_value: float | None
    chained_local_bound: float | None
    settings_distribution: str
    labels_a: tuple[str, ...]
    labels_b: tuple[str, ...]
    tol: float = 1e-9
    notes: tuple[str, ...] = field(default=())
    detection: dict[str, Any] | None = None
    """Detection efficiency and fair sampling (:mod:`bellmodels.auditing.detection`)."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (tuples -> lists, NaN / inf -> None, numpy scalars -> Python), with
        ``kind`` first.

        >>> import numpy as np
        >>> from bellmodels import Scenario, OnticTable
        >>> from bellmodels.auditing import audit
        >>> table = OnticTable(np.ones(1), np.full((2, 2, 1, 2, 2), 0.25), Scenario.chsh())
        >>> d = audit(table).to_dict()
        >>> d["kind"], d["correlators"], "S_se" in d
        ('ontic', [[0.0, 0.0], [0.0, 0.0]], False)
        """
        return {"kind": self.kind} | {k: to_jsonable(v) for k, v in asdict(self).items()}

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON text (strict JSON: no NaN).

        >>> import numpy as np
        >>> from bellmodels import Scenario, OnticTable
        >>> from bellmodels.auditing import audit
        >>> r = audit(OnticTable(np.ones(1), np.full((2, 2, 1, 2, 2), 0.25), Scenario.chsh()))
        >>> '"classification": "local & measurement-independent"' in r.to_json()
        True
        """
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    def _summary(self) -> list[str]:
        """The numbers of the short ``repr``'s last line."""
        return [] if self.S is None else [f"S = {fmt(self.S)}"]

    def __repr__(self) -> str:
        """Three lines (never the arrays): what was audited, its class, and a few numbers.

        >>> import numpy as np
        >>> from bellmodels import Scenario, OnticTable
        >>> from bellmodels.auditing import audit
        >>> r = audit(OnticTable(np.ones(1), np.full((2, 2, 1, 2, 2), 0.25), Scenario.chsh()))
        >>> print(repr(r))
        <ModelAudit of ontic table>
          classification: local & measurement-independent
          S = 0   MI = 0 bits   Hall M = 0
        """
        head = f"<{type(self).__name__} of {self.source}>"
        return f"{head}\n  classification: {self.classification}\n  " + "   ".join(self._summary())

    def _repr_html_(self) -> str:
        """The rows of ``str(report)`` as an HTML table, for notebooks."""
        import html

        head, rows = self._rows()
        body = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
            f"<td style='text-align:left'>{html.escape(v)}</td></tr>"
            for k, v in rows + [("note", n) for n in self.notes]
        )
        return f"<table><caption>{html.escape(head)}</caption>{body}</table>"

    def __str__(self) -> str:
        head, rows = self._rows()
        width = max(len(r[0]) for r in rows)
        lines = [head] + [f"  {name.ljust(width)}  {value}" for name, value in rows]
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def _rows(self) -> tuple[str, list[tuple[str, str]]]:
        """(heading, [(quantity, value as text)]): what ``str`` and the HTML table show."""
        return report_rows(self)


@dataclass(frozen=True, eq=False, kw_only=True, repr=False)
class ModelAudit(AuditReport):
    """The audit of an ontic table p(lambda | s) p(x_a, x_b | s, lambda), or a model's.

    Besides the behaviour's numbers: the largest violations of parameter and outcome
    independence (Jarrett 1984), MI(lambda; settings) in bits, Hall's M, M_A, M_B and the bound
    min(4, 2 + 3M) on S of a local model (Hall, PRL 105, 250404 (2010)), and the size of the
    lambda alphabet. ``classification`` is one of
    :data:`~bellmodels.auditing.CLASSIFICATIONS`.

    >>> import bellmodels as bm
    >>> r = bm.audit(bm.models.get("hall2010"), compute_min_mi=False)
    >>> type(r).__name__, r.classification, round(r.hall_M, 3), r.respects_hall_bound
    ('ModelAudit', 'local & measurement-dependent', 0.276, True)
    """

    kind: ClassVar[str] = "ontic"
    parameter_independence_violation: float
    outcome_independence_violation: float
    mi_bits: float
    hall_M: float
    hall_M_a: float
    hall_M_b: float
    hall_bound: float
    respects_hall_bound: bool
    n_lambda: int

    def _summary(self) -> list[str]:
        mi, m = f"MI = {fmt(self.mi_bits)} bits", f"Hall M = {fmt(self.hall_M)}"
        return [*super()._summary(), mi, m]


@dataclass(frozen=True, eq=False, kw_only=True, repr=False)
class BehaviourAudit(AuditReport):
    """The audit of an exact behaviour p(x_a, x_b | s): no hidden variable, no sampling error.

    ``classification`` is one of :data:`DATA_CLASSIFICATIONS`; ``verdict`` says it in a
    sentence with the numbers behind it.

    >>> import numpy as np
    >>> from bellmodels import Behaviour, Scenario
    >>> from bellmodels.auditing import audit
    >>> r = audit(Behaviour(np.full((2, 2, 2, 2), 0.25), Scenario.chsh()))
    >>> r.kind, r.classification == r.verdict
    ('behaviour', True)
    """

    kind: ClassVar[str] = "behaviour"
    verdict: str


@dataclass(frozen=True, eq=False, kw_only=True, repr=False)
class DataAudit(BehaviourAudit):
    """The audit of observed counts: an exact behaviour's fields plus what sampling adds.

    The standard errors of S, J and the chained value, the p-value of the likelihood-ratio
    test of no-signalling, and the number of trials; ``verdict`` weighs S against the local
    bound in standard errors (one-sided p at level ``alpha``). An SE or p-value that needs a
    setting pair with no trials is ``None``.

    >>> import bellmodels as bm
    >>> r = bm.audit(bm.datasets.load("delft2015"), compute_min_mi=False)
    >>> r.kind, r.n_trials, round(r.S_se, 2)
    ('data', 245, 0.2)
    """

    kind: ClassVar[str] = "data"
    S_se: float | None
    ch_J_se: float | None
    chained_se: float | None
    no_signalling_p_value: float | None
    n_trials: int

    def _summary(self) -> list[str]:
        text = super()._summary()
        if text and self.S_se is not None:
            text[0] += f" ± {fmt(self.S_se)}"
        return [*text, f"{self.n_trials} trials"]


__all__ = ["DATA_CLASSIFICATIONS", "AuditReport", "BehaviourAudit", "DataAudit", "ModelAudit"]
