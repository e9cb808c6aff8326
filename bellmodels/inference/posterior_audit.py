"""The audit of a posterior: one ontic table per draw, audited all at once.

:func:`fit` calls :func:`_audit_posterior` to store MI and Hall's M per draw (group
``audit_posterior``); :func:`invariant_draws` reads them back with S.
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from typing import Any

import numpy as np
import xarray as xr

from bellmodels import _arviz

AUDIT_TIME_BUDGET = 10.0
"""Seconds the per-draw audit may take before the draws are thinned (see :func:`fit`)."""

_PROBE_DRAWS = 3
"""Draws whose tables are built first, timed, to judge the thinning (after one untimed table,
which absorbs a process's one-time costs). On so few draws a vectorised ``ontic_tables`` is
mostly its fixed cost, so the probe overestimates the rest; a loop (the default of
``ontic_tables``) is timed per table."""


def _audit_posterior(
    model: Any, posterior: xr.Dataset, max_draws: int | None
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Per-draw audit (MI, Hall M, classification) of the posterior ontic tables.

    The draws' ontic tables from one call of the model's
    :meth:`~bellmodels.models.HiddenVariableModel.ontic_tables` (vectorised over the draws for
    the shipped models, a loop of ``ontic_table`` for the others;
    ``benchmarks/ontic_batch.py``), then :func:`bellmodels.auditing.audit_draws` on the stack.
    Returns arrays ``(chain, draw)`` for ``mi_bits`` and ``hall_M`` and attrs describing what
    was done. The draws are thinned if the tables would take longer than
    :data:`AUDIT_TIME_BUDGET` to build, judged from the time per draw of that same call on the
    first :data:`_PROBE_DRAWS` draws (``attrs``: the stride and that time); the probe's tables
    are audited, not built again.
    """
    from bellmodels.auditing import audit_draws

    n_chain, n_draw = posterior.sizes["chain"], posterior.sizes["draw"]
    values = {n: posterior[n].values for n in model.parameters}
    n_probe = min(_PROBE_DRAWS, n_draw)
    # one untimed table first: a process's first call pays one-time costs (Numba's import and
    # cache load) that would read as a per-draw cost and thin the draws for nothing
    model.ontic_tables({n: v[0, :1] for n, v in values.items()})
    t0 = time.perf_counter()
    probe = model.ontic_tables({n: v[0, :n_probe] for n, v in values.items()})
    per = (time.perf_counter() - t0) / n_probe
    step = 1
    if max_draws is not None and max_draws < n_draw:
        step = math.ceil(n_draw / max_draws)
    elif per * n_chain * n_draw > AUDIT_TIME_BUDGET:
        step = math.ceil(per * n_chain * n_draw / AUDIT_TIME_BUDGET)
    idx = np.arange(0, n_draw, step)
    done = idx[idx < n_probe]  # chain 0's audited draws the probe built: the first ones
    rest = {  # every other audited draw, in (chain, draw) order
        n: v[:, idx].reshape(n_chain * idx.size, *v.shape[2:])[done.size :]
        for n, v in values.items()
    }
    parts = [audit_draws(probe[done])]
    if n_chain * idx.size > done.size:
        parts.append(audit_draws(model.ontic_tables(rest)))
    out = {k: np.concatenate([part[k] for part in parts]) for k in parts[0]}
    classes = Counter(str(c) for c in out["classification"])
    attrs = {
        "audit": "bellmodels.audit.audit_draws of the ontic table of each posterior draw",
        "audit_thinning": str(step),
        "audit_seconds_per_draw": f"{per:.4g}",
        "classification_counts": json.dumps(dict(classes)),
        "classification": classes.most_common(1)[0][0],
    }
    shape = (n_chain, idx.size)
    return {
        "mi_bits": out["mi_bits"].reshape(shape),
        "hall_M": out["hall_M"].reshape(shape),
        "_audit_draws": idx,
    }, attrs


def invariant_draws(idata: Any) -> xr.Dataset:
    """S, MI and Hall's M per posterior draw, on one ``(chain, draw)`` grid.

    MI and M live in the group ``audit_posterior`` (dims ``chain, draw``; fits saved before it
    always existed kept them in ``posterior``, or in ``audit_posterior`` with dim ``audit_draw``
    when thinned); this returns them with ``S`` at the same draws, whichever it was, so that
    summaries and plots of the audit never miss a thinned fit. Variables a fit lacks (no ontic
    table, no S) are left out. ``az.summary(invariant_draws(fit))`` summarises all three.

    A fit takes seconds to minutes, so ``tests/inference/test_inference.py`` checks this::

        ds = invariant_draws(idata)
        float(ds["mi_bits"].mean())
        # -> 1.09
    """
    post = _arviz.group(idata, "posterior")
    out = xr.Dataset({k: post[k] for k in ("S", "mi_bits", "hall_M") if k in post})
    if _arviz.has_group(idata, "audit_posterior"):
        aud = _arviz.group(idata, "audit_posterior")
        if "audit_draw" in aud.dims:
            aud = aud.rename({"audit_draw": "draw"})
        idx = aud["draw"].values
        out = out.sel(draw=idx) if "S" in out else xr.Dataset()
        out = out.assign({k: aud[k] for k in ("mi_bits", "hall_M") if k in aud})
    return out


__all__ = ["AUDIT_TIME_BUDGET", "invariant_draws"]
