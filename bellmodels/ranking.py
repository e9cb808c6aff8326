"""The one ranking rule of fitted models: gate-passing fits first, best ELPD-LOO first.

:func:`rank` is a pure function: it ranks already-computed per-cell LOO values (weighted by the
cell counts) and the diagnostics gate's verdicts, and computes ``elpd_diff``, ``dse`` and
stacking weights (Yao, Vehtari, Simpson & Gelman, Bayesian Analysis 13, 917 (2018):
:func:`stacking_weights`) without ever expanding the counts into per-trial values.
:func:`bellmodels.compare`, the study runner and the report all rank with it.

Ranking rule: fits that pass the diagnostics gate (:func:`bellmodels.inference.diagnostics`)
are ranked first, best ``elpd_loo`` first, and only they receive stacking weights; fits that
fail are listed after them with ``diagnostics_ok = False`` and ``weight`` NaN, their ``elpd_diff``
and ``dse`` still measured against the best sound fit. A failing fit is thus never ranked as if
sound.

Example
-------
>>> import numpy as np
>>> cells = {"good": np.log([0.4, 0.1, 0.1, 0.4]), "flat": np.log([0.25] * 4)}
>>> table = rank(cells, [40, 10, 10, 40], {"good": True, "flat": True})
>>> list(table.index), [round(w, 3) for w in table["weight"]]
(['good', 'flat'], [1.0, 0.0])
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import minimize

from bellmodels.inference.loo import weighted_sum_and_se


def _cells(values: Any, counts: np.ndarray) -> np.ndarray:
    v = np.asarray([np.nan if x is None else x for x in np.ravel(values)], dtype=float)
    if v.shape != counts.shape:
        raise ValueError(f"{v.size} per-cell LOO values for {counts.size} cells")
    if np.any(~np.isfinite(v[counts > 0])):
        raise ValueError("a per-cell LOO value is missing or non-finite in an occupied cell")
    return np.where(counts > 0, v, 0.0)


def stacking_weights(loo_cells: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Stacking weights of K models from per-cell LOO values ``(n_cells, K)`` and cell counts.

    Maximises sum_c n_c log sum_k w_k exp(elpd_ck) over the simplex (Yao, Vehtari, Simpson &
    Gelman, Bayesian Analysis 13, 917 (2018)): the per-trial objective of ``az.compare``'s
    ``method="stacking"``, with every trial of a cell counted once through its count. Hand-written
    because ArviZ takes no frequency weights and expanding the counts to trials would make the
    memory grow with the number of trials. Solved as ArviZ does (the first K - 1 weights free,
    SLSQP from the uniform weights), on the objective divided by N so its scale does not grow
    with the data.

    >>> cells = np.log([[0.5, 0.25], [0.5, 0.75]])
    >>> stacking_weights(cells, np.array([50, 50])).round(3).tolist()
    [1.0, 0.0]
    """
    x = np.asarray(loo_cells, dtype=float)
    n = np.asarray(counts, dtype=float)
    occ = n > 0
    x, n = x[occ], n[occ] / n[occ].sum()
    n_models = x.shape[1]
    if n_models == 1:
        return np.ones(1)
    shift = x.max(axis=1, keepdims=True)  # log-sum-exp: exp() of values <= 0 only
    e = np.exp(x - shift)
    km1 = n_models - 1

    def full(w: np.ndarray) -> np.ndarray:
        return np.concatenate((w, [max(1.0 - float(np.sum(w)), 0.0)]))

    def score(w: np.ndarray) -> float:
        return -float(np.dot(n, np.log(e @ full(w))))

    def grad(w: np.ndarray) -> np.ndarray:
        mix = e @ full(w)
        return -((e[:, :km1] - e[:, km1:]) / mix[:, None]).T @ n

    res = minimize(
        score,
        np.full(km1, 1.0 / n_models),
        jac=grad,
        bounds=[(0.0, 1.0)] * km1,
        constraints=[
            {"type": "ineq", "fun": lambda w: 1.0 - np.sum(w)},
            {"type": "ineq", "fun": np.sum},
        ],
        options={"ftol": 1e-12, "maxiter": 1000},
    )
    return full(res.x)


def rank(
    loo_cells: Mapping[str, Any],
    cell_counts: Any,
    diagnostics_ok: Mapping[str, bool],
) -> pd.DataFrame:
    """The one ranking rule: order fits by ELPD-LOO, gate-passing fits first.

    Parameters
    ----------
    loo_cells
        Model name -> per-cell pointwise LOO values (the ``loo_cells`` of
        :func:`bellmodels.inference.loo`; NaN or None where a cell has no trials).
    cell_counts
        The trials per cell (``cell_counts``), the same cells for every model.
    diagnostics_ok
        Model name -> whether its fit passed the diagnostics gate.

    Returns
    -------
    pandas.DataFrame
        Indexed by model, best first: sound fits (best ``elpd_loo`` first, ties in the input
        order), then failing fits (likewise). Columns ``rank`` (0 = best), ``elpd_loo``, ``se``,
        ``elpd_diff`` and ``dse`` (against the best sound fit, or the best fit when none is sound),
        ``weight`` (stacking over the sound fits only, :func:`stacking_weights`; NaN for the
        others) and ``diagnostics_ok``. Every number comes from the cells weighted by their
        counts, never from a per-trial expansion, and equals what ``az.compare`` gives on the
        expanded trials.

    Examples
    --------
    >>> import numpy as np
    >>> cells = {"a": np.log([0.4, 0.1, 0.1, 0.4]), "b": np.log([0.3, 0.2, 0.2, 0.3])}
    >>> t = rank(cells, [40, 10, 10, 40], {"a": False, "b": True})
    >>> list(t.index), bool(np.isnan(t.loc["a", "weight"])), bool(t.loc["a", "elpd_diff"] < 0)
    (['b', 'a'], True, True)
    """
    n = np.asarray(cell_counts, dtype=np.int64).ravel()
    if n.sum() <= 0:
        raise ValueError("rank needs counts with at least one trial")
    names = list(loo_cells)
    if not names:
        raise ValueError("rank needs at least one model")
    missing = [m for m in names if m not in diagnostics_ok]
    if missing:
        raise ValueError(f"no diagnostics verdict for {missing}")
    x = {m: _cells(loo_cells[m], n) for m in names}
    stats = {m: weighted_sum_and_se(x[m], n) for m in names}
    ok = {m: bool(diagnostics_ok[m]) for m in names}

    def by_elpd(group: list[str]) -> list[str]:
        return sorted(group, key=lambda m: -stats[m][0])  # stable: ties keep the input order

    sound = by_elpd([m for m in names if ok[m]])
    order = sound + by_elpd([m for m in names if not ok[m]])
    ref = order[0]
    weights = dict.fromkeys(names, float("nan"))
    if sound:
        w = stacking_weights(np.column_stack([x[m] for m in sound]), n)
        weights.update(zip(sound, (float(v) for v in w), strict=True))
    rows = []
    for i, m in enumerate(order):
        elpd_diff, dse = weighted_sum_and_se(x[ref] - x[m], n) if m != ref else (0.0, 0.0)
        rows.append(
            {
                "model": m,
                "rank": i,
                "elpd_loo": stats[m][0],
                "se": stats[m][1],
                "elpd_diff": elpd_diff,
                "dse": dse,
                "weight": weights[m],
                "diagnostics_ok": ok[m],
            }
        )
    return pd.DataFrame(rows).set_index("model")


__all__ = ["rank", "stacking_weights"]
