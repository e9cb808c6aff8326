"""The shared audit: which of Bell's assumptions a model keeps, and what breaking one costs.

``audit(obj)`` reads an :class:`~bellmodels.ontic.OnticTable`, anything with an
``ontic_table()`` method (a model: duck-typed, no model class is imported here), a
:class:`~bellmodels.data.Counts` / :class:`~bellmodels.data.Trials`, or a
:class:`~bellmodels.behaviour.Behaviour`, and returns an :class:`AuditReport`.

For an ontic table p(lambda | s) p(x_a, x_b | s, lambda) it measures

- the behaviour's correlators, CHSH variants, S, CH/Eberhard J and no-signalling;
- parameter independence: the largest |p(x_a | s_a, s_b, lambda) - p(x_a | s_a, s_b', lambda)|
  over lambda with positive probability at both setting pairs, and B's likewise;
- outcome independence: the largest |p(x_a, x_b | s, lambda) - p(x_a | s, lambda) p(x_b | s,
  lambda)| over (s, lambda) with p(lambda | s) > 0 (Jarrett, Nous 18, 569 (1984); Shimony 1986);
- measurement dependence: MI(lambda; S_a, S_b) in bits under p(s), and Hall's
  M = max_{s, s'} sum_lambda |p(lambda | s) - p(lambda | s')| with the one-sided M_A, M_B and the
  relaxed CHSH bound |S| <= min(4, 2 + 3M) of local models (M. J. W. Hall, PRL 105, 250404
  (2010); tight);
- ``min_mi_bits``: the least MI(lambda; settings) any local model needs to reproduce the
  behaviour (Hall, PRA 84, 022102 (2011); Barrett & Gisin, PRL 106, 100406 (2011)), a convex
  programme over the local deterministic strategies (:func:`min_mi_bits`).

and classifies. Locality is a property of the ontic table, so it is decided first: if parameter
and outcome independence both hold, the table is ``"local & measurement-dependent"`` when
p(lambda | s) depends on s (MI or M above ``tol``), else ``"local & measurement-independent"``.
A local table whose p(lambda | s) depends on the settings can produce *signalling* behaviour
(Weinstein's published RBM does, by 0.03 in B's marginal); that is reported as the number
``no_signalling`` with ``no_signalling_ok`` and a note, not as a change of class, because the
hidden variables stay local: the signalling is bought with measurement dependence. A non-local
table is ``"signalling"`` if its behaviour signals, else ``"parameter-dependent (nonlocal)"`` if
parameter independence fails, else ``"outcome-dependent (nonlocal)"``.

For data (counts) it reports what the data show: S with its standard error, J, a
likelihood-ratio test of no-signalling, ``min_mi_bits`` of the observed frequencies under the
observed setting frequencies, and a classification sentence; the ontic-only keys are ``None``.

Example
-------
>>> import numpy as np
>>> from bellmodels import Scenario, OnticTable
>>> from bellmodels.ontic import local_deterministic_strategies
>>> scn = Scenario.chsh()
>>> resp, _ = local_deterministic_strategies(scn)
>>> table = OnticTable(np.full(16, 1 / 16), np.moveaxis(resp, 0, 2), scn)
>>> report = audit(table)
>>> report.classification, report.S, report.mi_bits
('local & measurement-independent', 0.0, 0.0)
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from bellmodels._util import to_jsonable
from bellmodels.auditing._display import fmt, report_rows
from bellmodels.auditing.detection import detection_measures
from bellmodels.auditing.measures import CLASSIFICATIONS, classify, ontic_measures
from bellmodels.auditing.programmes import _programmes
from bellmodels.behaviour import ALGEBRAIC, LOCAL_BOUND, Behaviour
from bellmodels.ontic import OnticTable


@dataclass(frozen=True, eq=False)
class AuditReport:
    """Result of :func:`audit`; JSON keys as in ``DESIGN.md`` (plus a few extra).

    Ontic-only fields (``parameter_independence_violation``, ``outcome_independence_violation``,
    ``mi_bits``, ``hall_M``, ``hall_M_a``, ``hall_M_b``, ``hall_bound``) are ``None`` for data;
    ``S_se``, ``ch_J_se``, ``chained_se`` and ``no_signalling_p_value`` are ``None`` unless the
    audit read counts.
    ``no_signalling`` is the largest marginal difference (a number); ``no_signalling_ok`` says
    whether it is within ``tol`` (tables) or whether the likelihood-ratio test keeps
    no-signalling at level ``alpha`` (data).

    Examples
    --------
    >>> import numpy as np
    >>> from bellmodels import Scenario, OnticTable
    >>> r = audit(OnticTable(np.ones(1), np.full((2, 2, 1, 2, 2), 0.25), Scenario.chsh()))
    >>> sorted(r.to_dict())[:3]
    ['S', 'S_se', 'S_settings']
    >>> r.to_dict()["classification"]
    'local & measurement-independent'
    """

    kind: str
    source: str
    classification: str
    correlators: tuple[tuple[float, ...], ...]
    S: float | None
    S_values: tuple[float, ...] | None
    S_se: float | None
    S_settings: tuple[tuple[str, str], tuple[str, str]] | None
    no_signalling: float | None
    no_signalling_ok: bool | None
    no_signalling_p_value: float | None
    parameter_independence_violation: float | None
    outcome_independence_violation: float | None
    mi_bits: float | None
    hall_M: float | None
    hall_M_a: float | None
    hall_M_b: float | None
    hall_bound: float | None
    respects_hall_bound: bool | None
    min_mi_bits: float | None
    min_hall_M: float | None
    ch_J: float | None
    ch_J_se: float | None
    chained_value: float | None
    chained_local_bound: float | None
    settings_distribution: str
    labels_a: tuple[str, ...]
    labels_b: tuple[str, ...]
    n_trials: int | None = None
    chained_se: float | None = None
    n_lambda: int | None = None
    tol: float = 1e-9
    notes: tuple[str, ...] = field(default=())
    detection: dict[str, Any] | None = None
    """Detection efficiency and fair sampling (:mod:`bellmodels.auditing.detection`)."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (tuples -> lists, NaN / inf -> None, numpy scalars -> Python).

        >>> import numpy as np
        >>> from bellmodels import Scenario, OnticTable
        >>> table = OnticTable(np.ones(1), np.full((2, 2, 1, 2, 2), 0.25), Scenario.chsh())
        >>> d = audit(table).to_dict()
        >>> d["correlators"], d["S_se"]
        ([[0.0, 0.0], [0.0, 0.0]], None)
        """
        return {k: to_jsonable(v) for k, v in asdict(self).items()}

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON text (strict JSON: no NaN).

        >>> import numpy as np
        >>> from bellmodels import Scenario, OnticTable
        >>> r = audit(OnticTable(np.ones(1), np.full((2, 2, 1, 2, 2), 0.25), Scenario.chsh()))
        >>> '"classification": "local & measurement-independent"' in r.to_json()
        True
        """
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    def __repr__(self) -> str:
        """A few lines (never the arrays): what was audited, its class, S, MI and M.

        >>> import numpy as np
        >>> from bellmodels import Scenario, OnticTable
        >>> r = audit(OnticTable(np.ones(1), np.full((2, 2, 1, 2, 2), 0.25), Scenario.chsh()))
        >>> print(repr(r))
        <AuditReport of ontic table>
          classification: local & measurement-independent
          S = 0   MI = 0 bits   Hall M = 0
        """
        nums = [("S", self.S), ("MI", self.mi_bits), ("Hall M", self.hall_M)]
        text = [
            f"{k} = {fmt(v)}" + (" bits" if k == "MI" else "") for k, v in nums if v is not None
        ]
        if self.S_se is not None:
            text[0] += f" ± {fmt(self.S_se)}"
        if self.n_trials is not None:
            text.append(f"{self.n_trials} trials")
        head = f"<AuditReport of {self.source}>"
        return f"{head}\n  classification: {self.classification}\n  " + "   ".join(text)

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


def audit(
    obj: Any,
    setting_probs: Any = None,
    *,
    params: Mapping[str, Any] | None = None,
    tol: float = 1e-9,
    alpha: float = 1e-3,
    support_tol: float = 1e-12,
    compute_min_mi: bool | None = None,
    compute_min_hall_M: bool | None = None,
) -> AuditReport:
    """Audit a model, an ontic table, counts or a behaviour.

    Parameters
    ----------
    obj
        An :class:`~bellmodels.ontic.OnticTable`; anything with ``ontic_table(params)`` (a model);
        a :class:`~bellmodels.data.Counts` or :class:`~bellmodels.data.Trials` (data-level
        audit); or a :class:`~bellmodels.behaviour.Behaviour` (data-level if it holds counts).
    setting_probs
        p(s_a, s_b) for MI and ``min_mi_bits``; default uniform for tables, models and exact
        behaviours, the observed setting frequencies for data.
    params
        Passed to ``obj.ontic_table(params)`` for a model.
    tol
        Tolerance of the classification: a violation (marginal difference, parameter or
        outcome dependence, MI in bits, Hall M) counts only when larger than ``tol``. Raise it
        for tables computed with limited precision.
    alpha
        Level of the data-level tests (no-signalling, S > 2).
    support_tol
        lambda values with p(lambda | s) <= ``support_tol`` count as unsupported at s in the
        parameter- and outcome-independence checks.
    compute_min_mi, compute_min_hall_M
        Whether to solve the convex programmes (:func:`min_mi_bits`, :func:`min_hall_M`);
        ``None`` (default) solves them when they are small enough to take about a second
        (``min_mi_bits`` up to 4 x 4 settings, ``min_hall_M`` up to 3 x 3) and otherwise leaves
        them ``None`` with a note; ``False`` skips, ``True`` forces.

    Returns
    -------
    AuditReport

    Examples
    --------
    A PR box as a one-lambda table is no-signalling and parameter-independent, but not
    outcome-independent:

    >>> import numpy as np
    >>> from bellmodels import Scenario, OnticTable
    >>> resp = np.zeros((2, 2, 1, 2, 2))
    >>> for i in range(2):
    ...     for j in range(2):
    ...         for x in range(2):
    ...             resp[i, j, 0, x, x if i * j == 0 else 1 - x] = 0.5
    >>> r = audit(OnticTable(np.ones(1), resp, Scenario.chsh()), compute_min_mi=False)
    >>> r.classification, r.S, r.outcome_independence_violation
    ('outcome-dependent (nonlocal)', 4.0, 0.25)
    """
    from bellmodels.data import Counts, Trials

    if isinstance(obj, OnticTable):
        return _audit_table(
            obj,
            setting_probs,
            tol,
            support_tol,
            compute_min_mi,
            compute_min_hall_M,
            "ontic table",
            (),
        )
    if isinstance(obj, Behaviour):
        return _audit_behaviour(
            obj, setting_probs, tol, alpha, compute_min_mi, compute_min_hall_M, "behaviour"
        )
    if isinstance(obj, Trials):
        obj = obj.counts()
    if isinstance(obj, Counts):
        src = "data"
        name = obj.provenance.get("name") or obj.provenance.get("experiment")
        if name:
            src = f"data {name}"
        report = _audit_behaviour(
            Behaviour.from_counts(obj),
            setting_probs,
            tol,
            alpha,
            compute_min_mi,
            compute_min_hall_M,
            src,
        )
        found = detection_measures(obj, S=report.S, ch_J=report.ch_J)
        return replace(report, detection=found)
    if callable(getattr(obj, "ontic_table", None)):
        table = obj.ontic_table(params) if params is not None else obj.ontic_table()
        if not isinstance(table, OnticTable):
            raise TypeError(
                f"{obj!r}.ontic_table() returned {type(table).__name__}, not OnticTable"
            )
        notes: list[str] = []
        if callable(getattr(obj, "behaviour", None)):
            declared = np.asarray(obj.behaviour(params) if params is not None else obj.behaviour())
            if declared.shape == table.behaviour().shape:
                gap = float(np.max(np.abs(declared - table.behaviour())))
                if gap > max(tol, 1e-9):
                    notes.append(
                        f"model.behaviour() differs from its ontic table's behaviour by {gap:.3g}"
                    )
            else:
                notes.append(
                    f"model.behaviour() has shape {declared.shape}, its table gives "
                    f"{table.behaviour().shape}"
                )
        name = getattr(obj, "name", type(obj).__name__)
        report = _audit_table(
            table,
            setting_probs,
            tol,
            support_tol,
            compute_min_mi,
            compute_min_hall_M,
            f"model {name}",
            tuple(notes),
        )
        return replace(report, detection=detection_measures(obj, params, tol=tol))
    raise TypeError(
        "audit() reads an OnticTable, a model (with .ontic_table()), Counts, Trials or a "
        f"Behaviour; got {type(obj).__name__}"
    )


def _common(b: Behaviour, notes: list[str]) -> dict[str, Any]:
    """Behaviour-level statistics; any that needs an empty pair becomes None with a note."""
    out: dict[str, Any] = {}

    def attempt(key: str, fn: Any) -> None:
        try:
            out[key] = fn()
        except ValueError as exc:
            out[key] = None
            msg = str(exc)
            if msg not in notes:
                notes.append(msg)

    out["correlators"] = tuple(
        tuple(float(x) for x in row) for row in b.correlators(allow_empty=True)
    )
    attempt("chsh", b.chsh_max)
    attempt("ch_J", b.ch_J)
    attempt("no_signalling", b.no_signalling_violation)
    if b.scenario.n_a == b.scenario.n_b:
        attempt("chained_value", b.chained_value)
        attempt("chained_local_bound", b.chained_local_bound)
    else:
        out["chained_value"] = out["chained_local_bound"] = None
    return out


def _audit_table(
    table: OnticTable,
    setting_probs: Any,
    tol: float,
    support_tol: float,
    compute_min_mi: bool | None,
    compute_min_hall_M: bool | None,
    source: str,
    notes_in: tuple[str, ...],
) -> AuditReport:
    scn = table.scenario
    ps = scn.settings_distribution(setting_probs)
    b = Behaviour(table.behaviour(), scn, atol=1e-6)
    notes = list(notes_in)
    common = _common(b, notes)
    m = {
        k: float(v)
        for k, v in ontic_measures(
            table.p_lambda_values, table.response_values, ps, support_tol
        ).items()
    }
    chsh = common["chsh"]
    hall_bound = min(ALGEBRAIC, LOCAL_BOUND + 3.0 * m["M"])
    ns = common["no_signalling"]
    cls = str(classify({**m, "ns": ns}, tol))
    if cls == CLASSIFICATIONS[1] and ns > tol:
        notes.append(
            f"the behaviour signals (largest marginal difference {ns:.3g}) although "
            "the hidden variables are local: the signalling comes from measurement "
            "dependence"
        )
    min_mi, min_m = _programmes(b, ps, compute_min_mi, compute_min_hall_M, notes)
    return AuditReport(
        kind="ontic",
        source=source,
        classification=cls,
        correlators=common["correlators"],
        S=chsh.S,
        S_values=chsh.values,
        S_se=None,
        S_settings=(chsh.labels_a, chsh.labels_b),
        no_signalling=ns,
        no_signalling_ok=bool(ns <= tol),
        no_signalling_p_value=None,
        parameter_independence_violation=m["pi"],
        outcome_independence_violation=m["oi"],
        mi_bits=m["mi"],
        hall_M=m["M"],
        hall_M_a=m["M_a"],
        hall_M_b=m["M_b"],
        hall_bound=hall_bound,
        respects_hall_bound=bool(chsh.S <= hall_bound + tol),
        min_mi_bits=min_mi,
        min_hall_M=min_m,
        ch_J=common["ch_J"],
        ch_J_se=None,
        chained_value=common["chained_value"],
        chained_local_bound=common["chained_local_bound"],
        settings_distribution="uniform" if setting_probs is None else "given",
        labels_a=scn.labels_a,
        labels_b=scn.labels_b,
        n_lambda=table.n_lambda,
        tol=tol,
        notes=tuple(notes),
    )


def _audit_behaviour(
    b: Behaviour,
    setting_probs: Any,
    tol: float,
    alpha: float,
    compute_min_mi: bool | None,
    compute_min_hall_M: bool | None,
    source: str,
) -> AuditReport:
    scn = b.scenario
    notes: list[str] = []
    common = _common(b, notes)
    chsh = common["chsh"]
    s_se = ch_j_se = ns_p = chained_se = None
    ns_ok: bool | None = None
    ns_reject = False
    ns_text = ""
    if b.is_data:
        if chsh is not None:
            s_se = b.chsh_se(chsh.settings_a, chsh.settings_b)
        if common["ch_J"] is not None:
            ch_j_se = b.ch_J_se()
        if common["chained_value"] is not None:
            chained_se = b.chained_se()
        if common["no_signalling"] is not None:
            test = b.no_signalling_test()
            ns_p = test.p_value
            ns_ok = bool(ns_p >= alpha)
            ns_reject = not ns_ok
            ns_text = f"no-signalling rejected (G = {test.G:.3g}, df = {test.df}, p = {ns_p:.2g})"
        if scn.n_a > 2 or scn.n_b > 2:
            notes.append("S is the largest over all 2x2 sub-choices: its SE ignores the selection")
    elif common["no_signalling"] is not None:
        ns_ok = bool(common["no_signalling"] <= tol)
        ns_reject = not ns_ok
        ns_text = f"largest marginal difference {common['no_signalling']:.3g}"

    kind_ps = "data" if b.is_data else "uniform"
    if setting_probs is not None:
        kind_ps = "given"
    min_mi, min_m = _programmes(b, setting_probs, compute_min_mi, compute_min_hall_M, notes)

    # classification sentence
    if chsh is None:
        statement = "undetermined: " + "; ".join(notes[:1])
    elif s_se is not None:
        if s_se > 0:
            z = (chsh.S - LOCAL_BOUND) / s_se
        else:  # every correlator is +-1: no sampling error
            z = math.inf if chsh.S > LOCAL_BOUND else -math.inf
        from scipy import stats  # on first use: the audit of a model has no standard error

        p_one = float(stats.norm.sf(z))
        summary = f"S = {chsh.S:.2f} ± {s_se:.2f}"
        if z > 0 and p_one < alpha:
            statement = (
                f"violates the local bound by {z:.1f} SE ({summary}, one-sided p = {p_one:.2g}):"
                " nonlocal or measurement-dependent"
            )
        elif z > 0:
            statement = (
                f"violates the local bound by {z:.1f} SE ({summary}, one-sided p = {p_one:.2g}),"
                f" not significant at alpha = {alpha:g}: compatible with local &"
                " measurement-independent"
            )
        else:
            statement = f"compatible with local & measurement-independent ({summary} <= 2)"
    else:
        local = (min_mi is not None and min_mi <= max(tol, 1e-7)) or (
            min_mi is None and chsh.S <= LOCAL_BOUND + tol
        )
        if local:
            statement = "compatible with local & measurement-independent"
        elif min_mi is not None:
            statement = (
                f"outside the local polytope (S = {chsh.S:.4g}): nonlocal, or local with at "
                f"least {min_mi:.3g} bits of measurement dependence"
            )
        else:
            statement = (
                f"violates the local bound (S = {chsh.S:.4g}): nonlocal or measurement-dependent"
            )
    classification = f"signalling: {ns_text}; {statement}" if ns_reject else statement

    return AuditReport(
        kind="data" if b.is_data else "behaviour",
        source=source,
        classification=classification,
        correlators=common["correlators"],
        S=None if chsh is None else chsh.S,
        S_values=None if chsh is None else chsh.values,
        S_se=s_se,
        S_settings=None if chsh is None else (chsh.labels_a, chsh.labels_b),
        no_signalling=common["no_signalling"],
        no_signalling_ok=ns_ok,
        no_signalling_p_value=ns_p,
        parameter_independence_violation=None,
        outcome_independence_violation=None,
        mi_bits=None,
        hall_M=None,
        hall_M_a=None,
        hall_M_b=None,
        hall_bound=None,
        respects_hall_bound=None,
        min_mi_bits=min_mi,
        min_hall_M=min_m,
        ch_J=common["ch_J"],
        ch_J_se=ch_j_se,
        chained_value=common["chained_value"],
        chained_local_bound=common["chained_local_bound"],
        settings_distribution=kind_ps,
        labels_a=scn.labels_a,
        labels_b=scn.labels_b,
        n_trials=int(b.counts.sum()) if b.counts is not None else None,
        chained_se=chained_se,
        tol=tol,
        notes=tuple(notes),
    )


__all__ = ["AuditReport", "audit"]
