"""Locality and measurement-dependence numbers of ontic tables, and their classification.

Vectorised over leading axes, so one call measures a single table or a stack of posterior draws
(:func:`audit_draws`). The definitions are those of :mod:`bellmodels.auditing` (parameter and
outcome independence after Jarrett 1984 and Shimony 1986; MI and Hall's M after Hall, PRL 105,
250404 (2010)).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from bellmodels.behaviour import no_signalling_violation
from bellmodels.ontic import OnticTable, OnticTables

DRAW_MEASURES: tuple[str, ...] = (
    "mi_bits",
    "hall_M",
    "hall_M_a",
    "hall_M_b",
    "parameter_independence_violation",
    "outcome_independence_violation",
    "no_signalling",
)
"""The numeric measures :func:`audit_draws` returns per table (beside ``classification``)."""

CLASSIFICATIONS: tuple[str, ...] = (
    "local & measurement-independent",
    "local & measurement-dependent",
    "parameter-dependent (nonlocal)",
    "outcome-dependent (nonlocal)",
    "signalling",
)
"""The classification strings of an ontic-table audit (exact)."""

_LN2 = math.log(2.0)


def _mi_bits(q: np.ndarray) -> np.ndarray:
    """MI in bits of joints q[..., s, lambda] (rows: settings), vectorised over leading axes.

    The terms q log(q / (p(s) r(lambda))), 0 where q = 0 (as ``scipy.special.rel_entr``, written
    out in numpy so that the audit imports no scipy.special: a third of a second at start-up).

    >>> float(_mi_bits(np.array([[0.5, 0.0], [0.0, 0.5]])))  # lambda = the setting: 1 bit
    1.0
    """
    ps = q.sum(axis=-1, keepdims=True)
    r = q.sum(axis=-2, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(q > 0, q * np.log(q / (ps * r)), 0.0)
    return np.maximum(terms.sum(axis=(-2, -1)) / _LN2, 0.0)


def ontic_measures(
    p_lambda: np.ndarray,
    response: np.ndarray,
    setting_probs: np.ndarray,
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
    setting_probs
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
    joint = np.asarray(setting_probs, dtype=float)[:, :, None] * pl
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
    tables: Sequence[OnticTable] | OnticTables,
    setting_probs: Any = None,
    *,
    tol: float = 1e-9,
    support_tol: float = 1e-12,
) -> dict[str, np.ndarray]:
    """The ontic part of :func:`audit` for many tables at once (e.g. one per posterior draw).

    ``tables`` is a list of :class:`~bellmodels.ontic.OnticTable` or, without the cost of
    stacking one Python object per draw, the :class:`~bellmodels.ontic.OnticTables` a model's
    :meth:`~bellmodels.models.HiddenVariableModel.ontic_tables` returns (what the audit of a
    posterior reads). The tables must share a scenario; their lambda alphabets may differ in
    size (a model may list only the lambda values a draw uses): smaller ones are padded with
    lambda values of probability 0, which change no measure. Returns one array per key,
    in the table order: ``mi_bits``, ``hall_M``, ``hall_M_a``, ``hall_M_b``,
    ``parameter_independence_violation``, ``outcome_independence_violation``,
    ``no_signalling`` and ``classification`` (the same numbers and classes :func:`audit` gives
    each table; the behaviour-level statistics and the convex programmes are not computed).
    Vectorised with numpy over the tables, so a whole posterior is audited in one pass.

    >>> from bellmodels import models
    >>> from bellmodels.auditing import audit
    >>> rbm = models.get("rbm-weinstein2017")
    >>> out = audit_draws([rbm.ontic_table()] * 3)
    >>> bool(np.isclose(out["mi_bits"][0], audit(rbm).mi_bits)), str(out["classification"][2])
    (True, 'local & measurement-dependent')
    """
    if isinstance(tables, OnticTables):
        stack = tables
        if not len(stack):
            raise ValueError("audit_draws needs at least one ontic table")
    else:
        tables = list(tables)
        if not tables:
            raise ValueError("audit_draws needs at least one ontic table")
        if any(t.scenario != tables[0].scenario for t in tables):
            raise ValueError("audit_draws needs tables of one scenario")
        stack = OnticTables.from_tables(tables)
    m = ontic_measures(
        stack.p_lambda_values,
        stack.response_values,
        stack.scenario.settings_distribution(setting_probs),
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


__all__ = ["CLASSIFICATIONS", "DRAW_MEASURES", "audit_draws", "classify", "ontic_measures"]
