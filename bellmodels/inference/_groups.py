"""The groups of a fit beside the posterior: the replicated counts, the data and the attributes
that say what made it (:func:`bellmodels.inference.fit` assembles them)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import xarray as xr

from bellmodels._util import versions
from bellmodels.data import Counts
from bellmodels.inference._layout import P_FLOOR, SPREAD_VAR


def posterior_predictive(beh: xr.DataArray, counts: Counts, seed: int) -> xr.Dataset:
    """One replicated count table per draw, with the data's trials per setting pair (its own
    random stream of ``seed``, so the sampler's draws do not move it)."""
    scn = counts.scenario
    rng = np.random.default_rng(np.random.SeedSequence([seed, 1]))
    n_pair = counts.pair_totals()
    p4 = beh.values.reshape(*beh.shape[:2], scn.n_a, scn.n_b, 4)
    p4 = p4 / p4.sum(axis=-1, keepdims=True)
    rep = rng.multinomial(np.broadcast_to(n_pair, p4.shape[:-1]), p4).reshape(beh.shape)
    return xr.Dataset({"counts": xr.DataArray(rep, dims=beh.dims, coords=beh.coords)})


def data_groups(counts: Counts) -> dict[str, xr.Dataset]:
    """``observed_data`` (the counts) and ``constant_data`` (the trials per setting pair)."""
    scn = counts.scenario
    obs = counts.array.copy()
    obs.attrs = {}
    trials = xr.DataArray(
        counts.pair_totals(),
        dims=("setting_a", "setting_b"),
        coords={"setting_a": np.arange(scn.n_a), "setting_b": np.arange(scn.n_b)},
    )
    return {
        "observed_data": xr.Dataset({"counts": obs}),
        "constant_data": xr.Dataset({"trials": trials}),
    }


def fit_attrs(
    model: Any,
    counts: Counts,
    seed: int,
    sampler: str,
    settings: dict[str, Any],
    init: str,
    spread: bool = False,
) -> dict[str, str]:
    """What made the fit, as NetCDF-safe strings: the model, priors, data, sampler and seed
    (``spread``: the likelihood has the post-selected table's setting-pair term)."""
    return {
        "model": model.name,
        "model_describe": json.dumps(model.describe()),
        "priors": json.dumps({n: p.prior_repr for n, p in model.parameters.items()}),
        "scenario": counts.scenario.to_json(),
        "sampler": sampler,
        "sampler_settings": json.dumps(settings),
        "init": init,
        "versions": json.dumps(versions()),
        "seed": str(seed),
        "data_provenance": json.dumps(counts.provenance),
        "n_trials": str(counts.total),
        "likelihood": (
            "one Multinomial per setting pair over the 4 outcome cells, conditional on the "
            f"settings; p clipped to [{P_FLOOR}, 1] and renormalised"
            + (f"; plus sum_s n_s {SPREAD_VAR}(s) (post-selected)" if spread else "")
        ),
    }
