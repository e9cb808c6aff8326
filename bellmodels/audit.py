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
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from scipy import stats
from scipy.special import rel_entr

from bellmodels._callable_module import make_callable
from bellmodels.behaviour import (
    ALGEBRAIC,
    LOCAL_BOUND,
    TSIRELSON,
    Behaviour,
    _solve,
    no_signalling_violation,
)
from bellmodels.ontic import OnticTable, local_deterministic_strategies
from bellmodels.scenario import Scenario

CLASSIFICATIONS: tuple[str, ...] = (
    "local & measurement-independent",
    "local & measurement-dependent",
    "parameter-dependent (nonlocal)",
    "outcome-dependent (nonlocal)",
    "signalling",
)
"""The classification strings of an ontic-table audit (exact)."""

_LN2 = math.log(2.0)


# ---------------------------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------------------------
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

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (tuples -> lists, NaN / inf -> None, numpy scalars -> Python).

        >>> import numpy as np
        >>> from bellmodels import Scenario, OnticTable
        >>> table = OnticTable(np.ones(1), np.full((2, 2, 1, 2, 2), 0.25), Scenario.chsh())
        >>> d = audit(table).to_dict()
        >>> d["correlators"], d["S_se"]
        ([[0.0, 0.0], [0.0, 0.0]], None)
        """
        return {k: _jsonable(v) for k, v in asdict(self).items()}

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON text (strict JSON: no NaN).

        >>> import numpy as np
        >>> from bellmodels import Scenario, OnticTable
        >>> r = audit(OnticTable(np.ones(1), np.full((2, 2, 1, 2, 2), 0.25), Scenario.chsh()))
        >>> '"classification": "local & measurement-independent"' in r.to_json()
        True
        """
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    def __str__(self) -> str:
        rows: list[tuple[str, str]] = [("classification", self.classification)]
        if self.S is not None:
            s = _fmt(self.S)
            if self.S_se is not None:
                s += f" ± {_fmt(self.S_se)}"
            s += f"   (local {LOCAL_BOUND:g}, Tsirelson {TSIRELSON:.4f}, algebraic {ALGEBRAIC:g})"
            rows.append(("S = max_k |S_k|", s))
        if self.S_values is not None:
            rows.append(("S_k (k = 0..3)", "  ".join(_fmt(v) for v in self.S_values)))
        if self.S_settings is not None and (len(self.labels_a) > 2 or len(self.labels_b) > 2):
            rows.append(("CHSH settings", f"{self.S_settings[0]} x {self.S_settings[1]}"))
        cells = []
        for i, la in enumerate(self.labels_a):
            for j, lb in enumerate(self.labels_b):
                cells.append(f"E({la},{lb}) = {_fmt(self.correlators[i][j])}")
        rows.append(("correlators", ";  ".join(cells)))
        if self.ch_J is not None:
            j = _fmt(self.ch_J) + (f" ± {_fmt(self.ch_J_se)}" if self.ch_J_se is not None else "")
            rows.append(("CH/Eberhard J", j + "   (local bound 0)"))
        if self.chained_value is not None and len(self.labels_a) > 2:
            chained = _fmt(self.chained_value)
            if self.chained_se is not None:
                chained += f" ± {_fmt(self.chained_se)}"
            rows.append(
                (
                    "chained Bell value",
                    f"{chained}   (local bound {_fmt(self.chained_local_bound)})",
                )
            )
        if self.no_signalling is not None:
            ns = f"max marginal difference {_fmt(self.no_signalling)}"
            if self.no_signalling_p_value is not None:
                ns += f", LR test p = {self.no_signalling_p_value:.3g}"
            ns += " (holds)" if self.no_signalling_ok else " (VIOLATED)"
            rows.append(("no-signalling", ns))
        for label, value in (
            ("parameter indep. violation", self.parameter_independence_violation),
            ("outcome indep. violation", self.outcome_independence_violation),
        ):
            if value is not None:
                rows.append((label, _fmt(value)))
        if self.mi_bits is not None:
            rows.append(("MI(lambda; settings)", f"{_fmt(self.mi_bits)} bits"))
        if self.hall_M is not None:
            hb = "respected" if self.respects_hall_bound else "NOT respected"
            rows.append(
                (
                    "Hall M / M_A / M_B",
                    f"{_fmt(self.hall_M)} / {_fmt(self.hall_M_a)} / {_fmt(self.hall_M_b)};"
                    f" min(4, 2 + 3M) = {_fmt(self.hall_bound)} ({hb})",
                )
            )
        if self.min_mi_bits is not None:
            rows.append(("least MI a local model needs", f"{_fmt(self.min_mi_bits)} bits"))
        if self.min_hall_M is not None:
            rows.append(("least M a local model needs", _fmt(self.min_hall_M)))
        width = max(len(r[0]) for r in rows)
        head = f"audit of {self.source} ({self.kind}; p(s) {self.settings_distribution})"
        lines = [head] + [f"  {name.ljust(width)}  {value}" for name, value in rows]
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


def _fmt(x: Any) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    return f"{float(x):.4g}" if abs(float(x)) >= 1e-3 or x == 0 else f"{float(x):.3e}"


def _jsonable(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, np.ndarray)):
        return [_jsonable(x) for x in v]
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return float(v) if math.isfinite(float(v)) else None
    return v


# ---------------------------------------------------------------------------------------------
# least measurement dependence of a local model
# ---------------------------------------------------------------------------------------------
def _as_behaviour(behaviour: Any, scenario: Scenario | None) -> Behaviour:
    if isinstance(behaviour, Behaviour):
        return behaviour
    if scenario is None:
        raise ValueError("a behaviour array needs its scenario")
    return Behaviour(behaviour, scenario)


def _settings_probs(b: Behaviour, settings_probs: Any) -> tuple[np.ndarray, str]:
    if settings_probs is not None:
        ps = b.scenario.settings_distribution(settings_probs)
        kind = "given"
    elif b.is_data:
        ps = b.settings_distribution()
        kind = "data"
    else:
        ps = b.scenario.settings_distribution(None)
        kind = "uniform"
    for i, j in np.argwhere((ps > 0) & np.isnan(b.p).any(axis=(2, 3))):
        raise ValueError(
            f"setting pair ({b.scenario.labels_a[i]}, {b.scenario.labels_b[j]}) has zero "
            "trials but positive probability in the settings distribution"
        )
    return ps, kind


def _min_mi_solve(b: Behaviour, ps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Optimal q[s, lambda] = p(s) p(lambda | s) over the supported setting pairs.

    Returns ``(q, support)`` with ``q`` of shape (n_supported, L) and ``support`` the flat
    indices of the setting pairs with p(s) > 0.
    """
    import cvxpy as cp

    resp, _ = local_deterministic_strategies(b.scenario)  # (L, Ka, Kb, 2, 2)
    n_lam = resp.shape[0]
    d = resp.reshape(n_lam, -1, 4)  # (L, S, 4)
    ps_flat = ps.ravel()
    support = np.flatnonzero(ps_flat > 0)
    target = b.p.reshape(-1, 4)[support] * ps_flat[support, None]  # p(s) P(x | s)
    q = cp.Variable((support.size, n_lam), nonneg=True)
    cons = [q[row, :] @ d[:, s, :] == target[row] for row, s in enumerate(support)]
    r = cp.sum(q, axis=0)
    ref = ps_flat[support].reshape(-1, 1) @ cp.reshape(r, (1, n_lam), order="C")
    problem = cp.Problem(cp.Minimize(cp.sum(cp.rel_entr(q, ref))), cons)
    _solve(problem)
    qv = np.clip(np.asarray(q.value, dtype=float), 0.0, None)
    # remove solver-level infeasibility: rescale each strategy group to the exact target
    for row, s in enumerate(support):
        group = d[:, s, :].argmax(axis=1)  # outcome index of each strategy at s
        for o in range(4):
            sel = group == o
            have = qv[row, sel].sum()
            if target[row, o] == 0:
                qv[row, sel] = 0.0
            elif have > 0:
                qv[row, sel] *= target[row, o] / have
            else:  # numerically empty group: spread evenly (cannot happen at an exact optimum)
                qv[row, sel] = target[row, o] / sel.sum()
    return qv, support


def _mi_bits(q: np.ndarray) -> np.ndarray:
    """MI in bits of joints q[..., s, lambda] (rows: settings), vectorised over leading axes."""
    ps = q.sum(axis=-1, keepdims=True)
    r = q.sum(axis=-2, keepdims=True)
    return np.maximum(rel_entr(q, ps * r).sum(axis=(-2, -1)) / _LN2, 0.0)


def min_mi_bits(
    behaviour: Any, scenario: Scenario | None = None, settings_probs: Any = None
) -> float:
    """The least MI(lambda; settings), in bits, of any local model reproducing ``behaviour``.

    Local here means parameter- and outcome-independent; every such model is (after
    coarse-graining lambda) a mixture of the local deterministic strategies
    D_lambda(x_a, x_b | s) (Fine, PRL 48, 291 (1982)) with weights p(lambda | s) that may depend
    on the settings. With q[s, lambda] = p(s) p(lambda | s) the programme is

        minimise   sum_{s, lambda} q log( q / (p(s) r(lambda)) ),   r = sum_s q
        subject to sum_lambda q[s, lambda] D_lambda(x | s) = p(s) P(x | s),  q >= 0,

    jointly convex (relative entropy is jointly convex, ``r`` affine); solved with cvxpy
    (Clarabel, SCS as fallback). It is always feasible: every behaviour, even a signalling one,
    has a local measurement-dependent model (choose, at each s, strategies that output each x
    with probability P(x | s)); with p(s) > 0 everywhere the value is 0 exactly when the
    behaviour lies in the local polytope. Restricting lambda to the deterministic strategies
    loses nothing: a local model with stochastic responses maps to one over strategies through a
    channel lambda -> lambda' that does not depend on s, and MI can only shrink along the
    Markov chain s -> lambda -> lambda' (data-processing inequality). The framing is Hall's
    (PRL 105, 250404 (2010); PRA 84, 022102 (2011)) and Barrett & Gisin's (PRL 106, 100406
    (2011)). Hand-posed on cvxpy: no library ships this programme.

    Parameters
    ----------
    behaviour
        A :class:`~bellmodels.behaviour.Behaviour`, or a ``(K_a, K_b, 2, 2)`` array with
        ``scenario``.
    scenario
        Needed when ``behaviour`` is an array.
    settings_probs
        p(s_a, s_b) (see :meth:`Scenario.settings_distribution`); default the data's setting
        frequencies for a behaviour from counts, else uniform. Setting pairs with p(s) = 0 do
        not constrain the model.

    Returns
    -------
    float
        Bits (solver accuracy about 1e-8).

    Examples
    --------
    >>> import numpy as np
    >>> from bellmodels import Scenario
    >>> min_mi_bits(np.full((2, 2, 2, 2), 0.25), Scenario.chsh()) < 1e-7
    True
    """
    b = _as_behaviour(behaviour, scenario)
    ps, _ = _settings_probs(b, settings_probs)
    q, _ = _min_mi_solve(b, ps)
    return float(_mi_bits(q))


def min_mi_model(
    behaviour: Any, scenario: Scenario | None = None, settings_probs: Any = None
) -> OnticTable:
    """The local deterministic-strategy table attaining :func:`min_mi_bits`.

    p(lambda | s) = q[s, lambda] / p(s) on the setting pairs with p(s) > 0 (elsewhere the
    marginal r(lambda), which leaves MI unchanged but does not reproduce the behaviour there).

    Examples
    --------
    >>> import numpy as np
    >>> from bellmodels import Scenario
    >>> t = min_mi_model(np.full((2, 2, 2, 2), 0.25), Scenario.chsh())
    >>> t.n_lambda, bool(np.allclose(t.behaviour(), 0.25))
    (16, True)
    """
    b = _as_behaviour(behaviour, scenario)
    ps, _ = _settings_probs(b, settings_probs)
    q, support = _min_mi_solve(b, ps)
    resp, labels = local_deterministic_strategies(b.scenario)
    r = q.sum(axis=0)
    r = r / r.sum()
    cond = np.tile(r, (ps.size, 1))
    cond[support] = q / q.sum(axis=1, keepdims=True)
    return OnticTable(
        cond.reshape(b.scenario.n_a, b.scenario.n_b, -1),
        np.moveaxis(resp, 0, 2),
        b.scenario,
        lam_labels=labels,
    )


def _min_hall_M_solve(b: Behaviour) -> tuple[float, np.ndarray]:
    """Optimal M and p(lambda | s) (n_settings, L) of the least-M local model."""
    import cvxpy as cp

    b._require(b._all_pairs(), "the least Hall M")
    resp, _ = local_deterministic_strategies(b.scenario)
    n_lam = resp.shape[0]
    d = resp.reshape(n_lam, -1, 4)
    n_s = d.shape[1]
    target = b.p.reshape(-1, 4)
    c = cp.Variable((n_s, n_lam), nonneg=True)
    m = cp.Variable()
    cons = [c[s, :] @ d[:, s, :] == target[s] for s in range(n_s)]
    first, second = np.triu_indices(n_s, k=1)
    sel = np.zeros((first.size, n_s))
    sel[np.arange(first.size), first] = 1.0
    sel[np.arange(first.size), second] = -1.0
    cons.append(cp.sum(cp.abs(sel @ c), axis=1) <= m)
    problem = cp.Problem(cp.Minimize(m), cons)
    _solve(problem)
    cond = np.clip(np.asarray(c.value, dtype=float), 0.0, None)
    cond /= cond.sum(axis=1, keepdims=True)
    return float(max(float(m.value), 0.0)), cond


def min_hall_M(behaviour: Any, scenario: Scenario | None = None) -> float:
    """The least Hall M of any local model reproducing ``behaviour`` (a linear programme).

    minimise M subject to sum_lambda p(lambda | s) D_lambda(x | s) = P(x | s), p(lambda | s) >= 0
    and sum_lambda |p(lambda | s) - p(lambda | s')| <= M for every two setting pairs, over the
    local deterministic strategies D_lambda (Hall, PRL 105, 250404 (2010); the L1 distance, like
    MI, only shrinks under the coarse-graining to strategies). By Hall's bound the
    result is at least (S - 2) / 3. Solved with cvxpy; every setting pair is needed. Cost grows
    as (number of setting pairs)^2 2^(K_a + K_b): about 0.5 s for 3 x 3 settings, 20 s for 4 x 4.

    Examples
    --------
    >>> import numpy as np
    >>> from bellmodels import Scenario
    >>> min_hall_M(np.full((2, 2, 2, 2), 0.25), Scenario.chsh()) < 1e-7
    True
    """
    return _min_hall_M_solve(_as_behaviour(behaviour, scenario))[0]


def min_hall_M_model(behaviour: Any, scenario: Scenario | None = None) -> OnticTable:
    """The local deterministic-strategy table attaining :func:`min_hall_M`.

    Examples
    --------
    >>> import numpy as np
    >>> from bellmodels import Scenario
    >>> t = min_hall_M_model(np.full((2, 2, 2, 2), 0.25), Scenario.chsh())
    >>> bool(np.allclose(t.behaviour(), 0.25, atol=1e-7))
    True
    """
    b = _as_behaviour(behaviour, scenario)
    _, cond = _min_hall_M_solve(b)
    resp, labels = local_deterministic_strategies(b.scenario)
    return OnticTable(
        cond.reshape(b.scenario.n_a, b.scenario.n_b, -1),
        np.moveaxis(resp, 0, 2),
        b.scenario,
        lam_labels=labels,
        atol=1e-6,
    )


# ---------------------------------------------------------------------------------------------
# ontic-table measures
# ---------------------------------------------------------------------------------------------
def ontic_measures(
    p_lambda: np.ndarray,
    response: np.ndarray,
    settings_probs: np.ndarray,
    support_tol: float = 1e-12,
) -> dict[str, np.ndarray]:
    """Locality and measurement-dependence numbers of ontic tables, vectorised over draws.

    Parameters
    ----------
    p_lambda
        ``(..., K_a, K_b, L)``: p(lambda | s) of one table or of a stack of them (e.g. one per
        posterior draw, leading axes ``(chain, draw)``).
    response
        ``(..., K_a, K_b, L, 2, 2)``: p(x_a, x_b | s, lambda), same leading axes.
    settings_probs
        ``(K_a, K_b)``: p(s) for MI.
    support_tol
        lambda values with p(lambda | s) <= ``support_tol`` are unsupported at s (parameter and
        outcome independence are judged only where lambda occurs).

    Returns
    -------
    dict of arrays with the leading shape: ``pi``, ``oi`` (largest parameter- and
    outcome-independence violations), ``mi`` (MI(lambda; S_a, S_b) in bits), ``M``, ``M_a``,
    ``M_b`` (Hall's measurement-dependence distances) and ``ns`` (the behaviour's largest
    no-signalling violation, see :func:`bellmodels.behaviour.no_signalling_violation`).

    Example
    -------
    Two copies of a measurement-independent table and of one that routes lambda by A's setting:

    >>> import numpy as np
    >>> resp = np.full((2, 2, 2, 2, 2), 0.25)
    >>> pl = np.stack([np.full((2, 2, 2), 0.5), np.array([[[1, 0], [1, 0]], [[0, 1], [0, 1]]])])
    >>> m = ontic_measures(pl, np.stack([resp, resp]), np.full((2, 2), 0.25))
    >>> m["mi"].round(6).tolist(), m["M"].tolist(), m["M_a"].tolist(), m["M_b"].tolist()
    ([0.0, 1.0], [0.0, 2.0], [0.0, 2.0], [0.0, 0.0])
    """
    pl = np.asarray(p_lambda, dtype=float)
    resp = np.asarray(response, dtype=float)
    ka, kb, n_lam = pl.shape[-3:]
    lead = pl.shape[:-3]
    supp = pl > support_tol
    marg_a = resp.sum(axis=-1)  # (..., Ka, Kb, L, 2): p(x_a | s, lambda)
    marg_b = resp.sum(axis=-2)  # (..., Ka, Kb, L, 2): p(x_b | s, lambda)
    pa, pb = marg_a[..., 1], marg_b[..., 1]
    # parameter independence, A: same s_a, two values of s_b, lambda supported at both
    diff_a = np.abs(pa[..., :, :, None, :] - pa[..., :, None, :, :])  # (..., Ka, Kb, Kb, L)
    mask_a = supp[..., :, :, None, :] & supp[..., :, None, :, :]
    diff_b = np.abs(pb[..., :, None, :, :] - pb[..., None, :, :, :])  # (..., Ka, Ka, Kb, L)
    mask_b = supp[..., :, None, :, :] & supp[..., None, :, :, :]
    last4 = (-4, -3, -2, -1)
    # differences are >= 0, so a masked-out entry set to 0 never wins the max
    pi = np.maximum(
        np.where(mask_a, diff_a, 0.0).max(axis=last4), np.where(mask_b, diff_b, 0.0).max(axis=last4)
    )
    # outcome independence
    prod = marg_a[..., :, None] * marg_b[..., None, :]
    oi_cell = np.abs(resp - prod).max(axis=(-2, -1))  # (..., Ka, Kb, L)
    oi = np.where(supp, oi_cell, 0.0).max(axis=(-3, -2, -1))
    # measurement dependence
    joint = np.asarray(settings_probs, dtype=float)[:, :, None] * pl
    mi = _mi_bits(joint.reshape(*lead, ka * kb, n_lam))
    flat = pl.reshape(*lead, ka * kb, n_lam)
    dist = np.abs(flat[..., :, None, :] - flat[..., None, :, :]).sum(axis=-1)
    dist = dist.reshape(*lead, ka, kb, ka, kb)
    m_a = np.diagonal(dist, axis1=-3, axis2=-1).max(axis=(-3, -2, -1))  # same s_b
    m_b = np.diagonal(dist, axis1=-4, axis2=-2).max(axis=(-3, -2, -1))  # same s_a
    beh = np.einsum("...abl,...ablxy->...abxy", pl, resp)
    return {
        "pi": pi,
        "oi": oi,
        "mi": mi,
        "M": dist.max(axis=last4),
        "M_a": m_a,
        "M_b": m_b,
        "ns": no_signalling_violation(beh),
    }


def classify(measures: Mapping[str, Any], tol: float = 1e-9) -> np.ndarray:
    """The classification of ontic tables from their :func:`ontic_measures` (vectorised).

    Locality first: parameter and outcome independence both within ``tol`` make a table
    ``"local & measurement-dependent"`` when MI or M exceeds ``tol``, else ``"local &
    measurement-independent"``; a non-local table is ``"signalling"`` if its behaviour signals,
    else ``"parameter-dependent (nonlocal)"`` if parameter independence fails, else
    ``"outcome-dependent (nonlocal)"`` (see the module docstring).

    >>> classify({"pi": 0.0, "oi": 0.0, "mi": 0.3, "M": 1.0, "ns": 0.0}).item()
    'local & measurement-dependent'
    """
    pi, oi, mi, m_all, ns = (
        np.asarray(measures[k], dtype=float) for k in ("pi", "oi", "mi", "M", "ns")
    )
    local = (pi <= tol) & (oi <= tol)
    return np.select(
        [local & ((mi > tol) | (m_all > tol)), local, ns > tol, pi > tol],
        [CLASSIFICATIONS[1], CLASSIFICATIONS[0], CLASSIFICATIONS[4], CLASSIFICATIONS[2]],
        default=CLASSIFICATIONS[3],
    )


def audit_draws(
    tables: Sequence[OnticTable],
    settings_probs: Any = None,
    *,
    tol: float = 1e-9,
    support_tol: float = 1e-12,
) -> dict[str, np.ndarray]:
    """The ontic part of :func:`audit` for many tables at once (e.g. one per posterior draw).

    The tables must share a scenario; their lambda alphabets may differ in size (a model may
    list only the lambda values a draw uses): smaller ones are padded with lambda values of
    probability 0, which change no measure. Returns one array per key,
    in the table order: ``mi_bits``, ``hall_M``, ``hall_M_a``, ``hall_M_b``,
    ``parameter_independence_violation``, ``outcome_independence_violation``,
    ``no_signalling`` and ``classification`` (the same numbers and classes :func:`audit` gives
    each table; the behaviour-level statistics and the convex programmes are not computed).
    Vectorised with numpy: a 10,000-draw posterior of 16-lambda tables takes a fraction of a
    second, where one :func:`audit` per draw takes seconds.

    >>> from bellmodels import models
    >>> rbm = models.get("rbm-weinstein2017")
    >>> out = audit_draws([rbm.ontic_table()] * 3)
    >>> bool(np.isclose(out["mi_bits"][0], audit(rbm).mi_bits)), str(out["classification"][2])
    (True, 'local & measurement-dependent')
    """
    tables = list(tables)
    if not tables:
        raise ValueError("audit_draws needs at least one ontic table")
    scn = tables[0].scenario
    if any(t.scenario != scn for t in tables):
        raise ValueError("audit_draws needs tables of one scenario")
    n_lam = max(t.n_lambda for t in tables)

    def padded(arr: np.ndarray, fill: float) -> np.ndarray:
        width = [(0, 0)] * arr.ndim
        width[2] = (0, n_lam - arr.shape[2])
        return np.pad(arr, width, constant_values=fill)

    m = ontic_measures(
        np.stack([padded(t.p_lambda_values, 0.0) for t in tables]),
        np.stack([padded(t.response_values, 0.25) for t in tables]),
        scn.settings_distribution(settings_probs),
        support_tol,
    )
    return {
        "mi_bits": m["mi"],
        "hall_M": m["M"],
        "hall_M_a": m["M_a"],
        "hall_M_b": m["M_b"],
        "parameter_independence_violation": m["pi"],
        "outcome_independence_violation": m["oi"],
        "no_signalling": m["ns"],
        "classification": classify(m, tol),
    }


# ---------------------------------------------------------------------------------------------
# audit
# ---------------------------------------------------------------------------------------------
def audit(
    obj: Any,
    settings_probs: Any = None,
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
    settings_probs
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
            settings_probs,
            tol,
            support_tol,
            compute_min_mi,
            compute_min_hall_M,
            "ontic table",
            (),
        )
    if isinstance(obj, Behaviour):
        return _audit_behaviour(
            obj, settings_probs, tol, alpha, compute_min_mi, compute_min_hall_M, "behaviour"
        )
    if isinstance(obj, Trials):
        obj = obj.counts()
    if isinstance(obj, Counts):
        src = "data"
        name = obj.provenance.get("name") or obj.provenance.get("experiment")
        if name:
            src = f"data {name}"
        return _audit_behaviour(
            Behaviour.from_counts(obj),
            settings_probs,
            tol,
            alpha,
            compute_min_mi,
            compute_min_hall_M,
            src,
        )
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
        return _audit_table(
            table,
            settings_probs,
            tol,
            support_tol,
            compute_min_mi,
            compute_min_hall_M,
            f"model {name}",
            tuple(notes),
        )
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


_MIN_MI_SIZE = 5_000  # K_a K_b 2^(K_a + K_b) variables: 4 x 4 settings (4096) take about 1 s
_MIN_M_SIZE = 5_000  # pairs x strategies in the LP: 3 x 3 (2304) ~0.5 s, 4 x 4 (30720) ~20 s


def _programmes(
    b: Behaviour,
    settings_probs: Any,
    compute_min_mi: bool | None,
    compute_min_hall_M: bool | None,
    notes: list[str],
) -> tuple[float | None, float | None]:
    """min_mi_bits and min_hall_M, each solved when asked / small enough (auto)."""
    ka, kb = b.scenario.n_a, b.scenario.n_b
    n_s, n_lam = ka * kb, 2 ** (ka + kb)
    min_mi = min_m = None
    if compute_min_mi is None:
        compute_min_mi = n_s * n_lam <= _MIN_MI_SIZE
        if not compute_min_mi:
            notes.append("min_mi_bits skipped (large scenario); pass compute_min_mi=True")
    if compute_min_mi:
        try:
            min_mi = min_mi_bits(b, settings_probs=settings_probs)
        except ValueError as exc:
            notes.append(str(exc))
    if compute_min_hall_M is None:
        compute_min_hall_M = n_s * (n_s - 1) // 2 * n_lam <= _MIN_M_SIZE
        if not compute_min_hall_M:
            notes.append("min_hall_M skipped (large scenario); pass compute_min_hall_M=True")
    if compute_min_hall_M:
        try:
            min_m = min_hall_M(b)
        except ValueError as exc:
            if str(exc) not in notes:
                notes.append(str(exc))
    return min_mi, min_m


def _audit_table(
    table: OnticTable,
    settings_probs: Any,
    tol: float,
    support_tol: float,
    compute_min_mi: bool | None,
    compute_min_hall_M: bool | None,
    source: str,
    notes_in: tuple[str, ...],
) -> AuditReport:
    scn = table.scenario
    ps = scn.settings_distribution(settings_probs)
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
        settings_distribution="uniform" if settings_probs is None else "given",
        labels_a=scn.labels_a,
        labels_b=scn.labels_b,
        n_lambda=table.n_lambda,
        tol=tol,
        notes=tuple(notes),
    )


def _audit_behaviour(
    b: Behaviour,
    settings_probs: Any,
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
    if settings_probs is not None:
        kind_ps = "given"
    min_mi, min_m = _programmes(b, settings_probs, compute_min_mi, compute_min_hall_M, notes)

    # classification sentence
    if chsh is None:
        statement = "undetermined: " + "; ".join(notes[:1])
    elif s_se is not None:
        if s_se > 0:
            z = (chsh.S - LOCAL_BOUND) / s_se
        else:  # every correlator is +-1: no sampling error
            z = math.inf if chsh.S > LOCAL_BOUND else -math.inf
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


# ``bellmodels.audit`` is both this module and DESIGN.md's ``bm.audit(obj)``: calling the module
# calls :func:`audit` (see bellmodels/_callable_module.py for why).
make_callable(__name__, audit)
