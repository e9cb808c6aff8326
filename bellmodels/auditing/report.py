"""The shared audit: which of Bell's assumptions a model keeps, and what breaking one costs.

``audit(obj)`` reads an :class:`~bellmodels.ontic.OnticTable`, anything with an
``ontic_table()`` method (a model: duck-typed, no model class is imported here), a
:class:`~bellmodels.data.Counts` / :class:`~bellmodels.data.Trials`, or a
:class:`~bellmodels.behaviour.Behaviour`, and returns a
:class:`~bellmodels.auditing.results.ModelAudit` (a table or model), a
:class:`~bellmodels.auditing.results.DataAudit` (counts) or a
:class:`~bellmodels.auditing.results.BehaviourAudit` (an exact behaviour).

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
observed setting frequencies, a classification (one of
:data:`~bellmodels.auditing.results.DATA_CLASSIFICATIONS`) and a ``verdict`` sentence; a data
audit has no hidden-variable fields (there is no lambda to measure).

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

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from bellmodels.auditing.detection import detection_measures
from bellmodels.auditing.measures import CLASSIFICATIONS, classify, ontic_measures
from bellmodels.auditing.programmes import _programmes
from bellmodels.auditing.results import (
    DATA_CLASSIFICATIONS,
    AuditReport,
    BehaviourAudit,
    DataAudit,
    ModelAudit,
)
from bellmodels.behaviour import ALGEBRAIC, LOCAL_BOUND, Behaviour
from bellmodels.ontic import OnticTable


@dataclass(frozen=True)
class _Options:
    """The keywords of :func:`audit` that every kind of audit reads."""

    setting_probs: Any
    tol: float
    alpha: float
    support_tol: float
    compute_min_mi: bool | None
    compute_min_hall_M: bool | None


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
    ModelAudit, DataAudit or BehaviourAudit
        Subclasses of :class:`~bellmodels.auditing.results.AuditReport`, each with only the
        fields its kind has (:mod:`bellmodels.auditing.results`).

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

    opts = _Options(setting_probs, tol, alpha, support_tol, compute_min_mi, compute_min_hall_M)
    if isinstance(obj, OnticTable):
        return _audit_table(obj, opts, "ontic table", ())
    if isinstance(obj, Behaviour):
        return _audit_behaviour(obj, opts, "behaviour")
    if isinstance(obj, (Counts, Trials)):
        return _audit_counts(obj.counts() if isinstance(obj, Trials) else obj, opts)
    if callable(getattr(obj, "ontic_table", None)):
        return _audit_model(obj, params, opts)
    raise TypeError(
        "audit() reads an OnticTable, a model (with .ontic_table()), Counts, Trials or a "
        f"Behaviour; got {type(obj).__name__}"
    )


def _audit_counts(counts: Any, opts: _Options) -> BehaviourAudit:
    """The data audit of a count table, named after its dataset, with its detection measures."""
    name = counts.provenance.get("name") or counts.provenance.get("experiment")
    report = _audit_behaviour(
        Behaviour.from_counts(counts), opts, f"data {name}" if name else "data"
    )
    return replace(report, detection=detection_measures(counts, S=report.S, ch_J=report.ch_J))


def _audit_model(model: Any, params: Mapping[str, Any] | None, opts: _Options) -> ModelAudit:
    """The audit of a model's ontic table at ``params`` (default: its own values)."""
    table = model.ontic_table(params) if params is not None else model.ontic_table()
    if not isinstance(table, OnticTable):
        raise TypeError(f"{model!r}.ontic_table() returned {type(table).__name__}, not OnticTable")
    notes = _declared_behaviour_notes(model, params, table, opts.tol)
    name = getattr(model, "name", type(model).__name__)
    report = _audit_table(table, opts, f"model {name}", notes)
    return replace(report, detection=detection_measures(model, params, tol=opts.tol))


def _declared_behaviour_notes(
    model: Any, params: Mapping[str, Any] | None, table: OnticTable, tol: float
) -> tuple[str, ...]:
    """A note when the model's own ``behaviour()`` is not its ontic table's (a model bug)."""
    if not callable(getattr(model, "behaviour", None)):
        return ()
    declared = np.asarray(model.behaviour(params) if params is not None else model.behaviour())
    if declared.shape != table.behaviour().shape:
        return (
            f"model.behaviour() has shape {declared.shape}, its table gives "
            f"{table.behaviour().shape}",
        )
    gap = float(np.max(np.abs(declared - table.behaviour())))
    if gap > max(tol, 1e-9):
        return (f"model.behaviour() differs from its ontic table's behaviour by {gap:.3g}",)
    return ()


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
    table: OnticTable, opts: _Options, source: str, notes_in: tuple[str, ...]
) -> ModelAudit:
    scn = table.scenario
    ps = scn.settings_distribution(opts.setting_probs)
    b = Behaviour(table.behaviour(), scn, atol=1e-6)
    notes = list(notes_in)
    common = _common(b, notes)
    m = {
        k: float(v)
        for k, v in ontic_measures(
            table.p_lambda_values, table.response_values, ps, opts.support_tol
        ).items()
    }
    chsh = common["chsh"]
    hall_bound = min(ALGEBRAIC, LOCAL_BOUND + 3.0 * m["M"])
    ns = common["no_signalling"]
    cls = str(classify({**m, "ns": ns}, opts.tol))
    if cls == CLASSIFICATIONS[1] and ns > opts.tol:
        notes.append(
            f"the behaviour signals (largest marginal difference {ns:.3g}) although "
            "the hidden variables are local: the signalling comes from measurement "
            "dependence"
        )
    min_mi, min_m = _programmes(b, ps, opts.compute_min_mi, opts.compute_min_hall_M, notes)
    return ModelAudit(
        source=source,
        classification=cls,
        correlators=common["correlators"],
        S=chsh.S,
        S_values=chsh.values,
        S_settings=(chsh.labels_a, chsh.labels_b),
        no_signalling=ns,
        no_signalling_ok=bool(ns <= opts.tol),
        parameter_independence_violation=m["pi"],
        outcome_independence_violation=m["oi"],
        mi_bits=m["mi"],
        hall_M=m["M"],
        hall_M_a=m["M_a"],
        hall_M_b=m["M_b"],
        hall_bound=hall_bound,
        respects_hall_bound=bool(chsh.S <= hall_bound + opts.tol),
        min_mi_bits=min_mi,
        min_hall_M=min_m,
        ch_J=common["ch_J"],
        chained_value=common["chained_value"],
        chained_local_bound=common["chained_local_bound"],
        settings_distribution="uniform" if opts.setting_probs is None else "given",
        labels_a=scn.labels_a,
        labels_b=scn.labels_b,
        n_lambda=table.n_lambda,
        tol=opts.tol,
        notes=tuple(notes),
    )


@dataclass(frozen=True)
class _Sampling:
    """What counts add to a behaviour: standard errors and the no-signalling test."""

    S_se: float | None = None
    ch_J_se: float | None = None
    chained_se: float | None = None
    no_signalling_p_value: float | None = None
    no_signalling_ok: bool | None = None
    signalling: str = ""
    """Why no-signalling is rejected (empty when it is kept or cannot be tested)."""


def _sampling(b: Behaviour, common: dict[str, Any], opts: _Options, notes: list[str]) -> _Sampling:
    """Standard errors and the no-signalling test of a behaviour's counts; for an exact
    behaviour only whether its largest marginal difference is within ``tol``."""
    ns = common["no_signalling"]
    if not b.is_data:
        if ns is None:
            return _Sampling()
        ok = bool(ns <= opts.tol)
        return _Sampling(
            no_signalling_ok=ok, signalling="" if ok else f"largest marginal difference {ns:.3g}"
        )
    chsh = common["chsh"]
    out: dict[str, Any] = {
        "S_se": None if chsh is None else b.chsh_se(chsh.settings_a, chsh.settings_b),
        "ch_J_se": None if common["ch_J"] is None else b.ch_J_se(),
        "chained_se": None if common["chained_value"] is None else b.chained_se(),
    }
    if ns is not None:
        test = b.no_signalling_test()
        ok = bool(test.p_value >= opts.alpha)
        out |= {"no_signalling_p_value": test.p_value, "no_signalling_ok": ok}
        if not ok:
            out["signalling"] = (
                f"no-signalling rejected (G = {test.G:.3g}, df = {test.df}, p = {test.p_value:.2g})"
            )
    if b.scenario.n_a > 2 or b.scenario.n_b > 2:
        notes.append("S is the largest over all 2x2 sub-choices: its SE ignores the selection")
    return _Sampling(**out)


def _verdict(
    chsh: Any, sampling: _Sampling, min_mi: float | None, opts: _Options, notes: list[str]
) -> tuple[str, str]:
    """(classification, verdict): one of :data:`DATA_CLASSIFICATIONS` and the sentence."""
    if chsh is None:
        cls, statement = DATA_CLASSIFICATIONS[3], "undetermined: " + "; ".join(notes[:1])
    elif sampling.S_se is not None:
        cls, statement = _weigh_S(chsh.S, sampling.S_se, opts.alpha)
    elif (min_mi is not None and min_mi <= max(opts.tol, 1e-7)) or (
        min_mi is None and chsh.S <= LOCAL_BOUND + opts.tol
    ):
        cls = statement = DATA_CLASSIFICATIONS[0]
    elif min_mi is not None:
        cls, statement = (
            DATA_CLASSIFICATIONS[1],
            (
                f"outside the local polytope (S = {chsh.S:.4g}): nonlocal, or local with at "
                f"least {min_mi:.3g} bits of measurement dependence"
            ),
        )
    else:
        cls, statement = (
            DATA_CLASSIFICATIONS[1],
            (f"violates the local bound (S = {chsh.S:.4g}): nonlocal or measurement-dependent"),
        )
    if sampling.signalling:
        return DATA_CLASSIFICATIONS[2], f"signalling: {sampling.signalling}; {statement}"
    return cls, statement


def _weigh_S(S: float, se: float, alpha: float) -> tuple[str, str]:
    """(classification, sentence) of S against the local bound in standard errors."""
    if se > 0:
        z = (S - LOCAL_BOUND) / se
    else:  # every correlator is +-1: no sampling error
        z = math.inf if S > LOCAL_BOUND else -math.inf
    p_one = 0.5 * math.erfc(z / math.sqrt(2.0))  # the normal tail, exact (no scipy.stats)
    summary = f"S = {S:.2f} ± {se:.2f}"
    if z > 0 and p_one < alpha:
        return DATA_CLASSIFICATIONS[1], (
            f"violates the local bound by {z:.1f} SE ({summary}, one-sided p = {p_one:.2g}):"
            " nonlocal or measurement-dependent"
        )
    if z > 0:
        return DATA_CLASSIFICATIONS[0], (
            f"violates the local bound by {z:.1f} SE ({summary}, one-sided p = {p_one:.2g}),"
            f" not significant at alpha = {alpha:g}: compatible with local &"
            " measurement-independent"
        )
    return DATA_CLASSIFICATIONS[0], (
        f"compatible with local & measurement-independent ({summary} <= 2)"
    )


def _audit_behaviour(b: Behaviour, opts: _Options, source: str) -> BehaviourAudit:
    notes: list[str] = []
    common = _common(b, notes)
    chsh = common["chsh"]
    sampling = _sampling(b, common, opts, notes)
    kind_ps = "data" if b.is_data else "uniform"
    if opts.setting_probs is not None:
        kind_ps = "given"
    min_mi, min_m = _programmes(
        b, opts.setting_probs, opts.compute_min_mi, opts.compute_min_hall_M, notes
    )
    cls, verdict = _verdict(chsh, sampling, min_mi, opts, notes)
    fields: dict[str, Any] = {
        "source": source,
        "classification": cls,
        "verdict": verdict,
        "correlators": common["correlators"],
        "S": None if chsh is None else chsh.S,
        "S_values": None if chsh is None else chsh.values,
        "S_settings": None if chsh is None else (chsh.labels_a, chsh.labels_b),
        "no_signalling": common["no_signalling"],
        "no_signalling_ok": sampling.no_signalling_ok,
        "min_mi_bits": min_mi,
        "min_hall_M": min_m,
        "ch_J": common["ch_J"],
        "chained_value": common["chained_value"],
        "chained_local_bound": common["chained_local_bound"],
        "settings_distribution": kind_ps,
        "labels_a": b.scenario.labels_a,
        "labels_b": b.scenario.labels_b,
        "tol": opts.tol,
        "notes": tuple(notes),
    }
    if b.counts is None:
        return BehaviourAudit(**fields)
    return DataAudit(
        **fields,
        S_se=sampling.S_se,
        ch_J_se=sampling.ch_J_se,
        chained_se=sampling.chained_se,
        no_signalling_p_value=sampling.no_signalling_p_value,
        n_trials=int(b.counts.sum()),
    )


__all__ = ["AuditReport", "BehaviourAudit", "DataAudit", "ModelAudit", "audit"]
