"""Compare hidden-variable models on the same counts: LOO, stacking, evidence, audit, gate.

:func:`compare` fits every model (:func:`bellmodels.inference.fit`), computes the exact
per-trial PSIS-LOO from counts (:func:`bellmodels.inference.loo`), hands the expanded pointwise
values to ``az.compare`` (stacking weights, Yao et al., Bayesian Analysis 13, 917 (2018)),
optionally estimates the log evidence by SMC, and joins the audit's posterior MI, Hall's M and
classification. The result's ``table`` has exactly the JSON row keys of ``DESIGN.md``.

Ranking rule: fits that pass the diagnostics gate (:func:`bellmodels.inference.diagnostics`)
are ranked first, best ``elpd_loo`` first, and only they receive stacking weights; fits that
fail are listed after them with ``diagnostics_ok = False`` and ``weight`` NaN, their ``d_loo``
and ``dse`` still measured against the best sound fit. A failing fit is thus never ranked as if
sound.

Example
-------
>>> import bellmodels as bm                                                    # doctest: +SKIP
>>> counts = bm.simulate_singlet(bm.Scenario.chsh(), n=20_000, seed=0).counts()  # doctest: +SKIP
>>> res = bm.compare(["local-polytope", "quantum-singlet"], counts, seed=1)      # doctest: +SKIP
>>> res.table["model"].iloc[0]                                                  # doctest: +SKIP
'quantum-singlet'
"""

from __future__ import annotations

import json
import math
import os
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bellmodels import _arviz
from bellmodels._callable_module import make_callable
from bellmodels.data import Counts
from bellmodels.inference import (
    EVIDENCE_SE_MAX,
    diagnostics,
    evidence_reliable,
    fit,
    invariant_draws,
    log_evidence,
    loo,
    resolve_model,
)

ROW_KEYS: tuple[str, ...] = (
    "model",
    "elpd_loo",
    "se",
    "d_loo",
    "dse",
    "weight",
    "p_loo",
    "pareto_k_max",
    "log_evidence",
    "log_evidence_se",
    "S_mean",
    "S_hdi",
    "mi_bits",
    "hall_M",
    "classification",
    "diagnostics_ok",
)
"""Columns of :attr:`Comparison.table`, in order (the JSON row keys of DESIGN.md)."""

HDI_PROB = 0.94

FIT_OPTION_KEYS: tuple[str, ...] = ("draws", "tune", "chains", "sampler", "target_accept", "init")
"""Keys a model's entry in ``compare(..., fit_options=...)`` may set (passed to ``fit``)."""


@dataclass
class Comparison:
    """The result of :func:`compare`.

    Attributes
    ----------
    table
        One row per model, columns :data:`ROW_KEYS`, best first (see the module docstring).
    fits
        Model name -> ``InferenceData`` of its fit.
    loo
        Model name -> ``ELPDData`` (exact per-trial LOO).
    diagnostics
        Model name -> the gate's dict.
    evidence
        Model name -> ``(log_evidence, se)`` (empty when ``evidence=False``).
    """

    table: pd.DataFrame
    fits: dict[str, Any] = field(default_factory=dict)
    loo: dict[str, Any] = field(default_factory=dict)
    diagnostics: dict[str, dict] = field(default_factory=dict)
    evidence: dict[str, tuple[float, float]] = field(default_factory=dict)

    def to_records(self) -> list[dict[str, Any]]:
        """The table as JSON-ready dicts (NaN -> None, numpy scalars -> Python).

        >>> res.to_records()[0]["model"]   # doctest: +SKIP
        'quantum-singlet'
        """
        return [{k: _jsonable(row[k]) for k in ROW_KEYS} for _, row in self.table.iterrows()]

    def to_markdown(self, digits: int = 2) -> str:
        """The table as a GitHub-flavoured Markdown table (hand-formatted: no extra dependency).

        Evidence whose Monte Carlo error exceeds :data:`~bellmodels.inference.EVIDENCE_SE_MAX`
        is named in a line under the table: no Bayes factor should be read from it.

        >>> print(res.to_markdown())   # doctest: +SKIP
        """
        lines = [
            "| " + " | ".join(ROW_KEYS) + " |",
            "|" + "|".join("---" for _ in ROW_KEYS) + "|",
        ]
        for rec in self.to_records():
            lines.append("| " + " | ".join(_fmt(rec[k], digits) for k in ROW_KEYS) + " |")
        shaky = [m for m, (_, se) in self.evidence.items() if not evidence_reliable(se)]
        if shaky:
            lines += [
                "",
                f"Evidence unreliable (Monte Carlo error above {EVIDENCE_SE_MAX:g} nat; form no "
                f"Bayes factor from it): {', '.join(shaky)}.",
            ]
        return "\n".join(lines) + "\n"

    def bayes_factor(
        self, a: str, b: str, *, allow_unreliable: bool = False
    ) -> tuple[float, float]:
        """log Bayes factor of model ``a`` over ``b`` and its Monte Carlo error.

        The difference of the SMC log evidences; it depends on the priors (see
        :func:`bellmodels.inference.log_evidence`). Raises ``ValueError`` when either evidence
        has a Monte Carlo error above :data:`~bellmodels.inference.EVIDENCE_SE_MAX` (the SMC
        chains disagree), unless ``allow_unreliable``.

        >>> res.bayes_factor("quantum-singlet", "local-polytope")   # doctest: +SKIP
        (3201.7, 0.6)
        """
        if a not in self.evidence or b not in self.evidence:
            raise ValueError("no evidence for both models: run compare(..., evidence=True)")
        (la, sa), (lb, sb) = self.evidence[a], self.evidence[b]
        bad = [n for n, se in ((a, sa), (b, sb)) if not evidence_reliable(se)]
        if bad and not allow_unreliable:
            raise ValueError(
                f"the SMC log evidence of {bad} has Monte Carlo error above "
                f"{EVIDENCE_SE_MAX} nat (its chains disagree), so a Bayes factor from it is "
                "unreliable; raise evidence_draws / evidence_chains, or pass "
                "allow_unreliable=True"
            )
        return la - lb, math.hypot(sa, sb)


def _jsonable(v: Any) -> Any:
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return None if not np.isfinite(v) else float(v)
    return v


def _fmt(v: Any, digits: int) -> str:
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "**no**"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    if isinstance(v, list):
        return "[" + ", ".join(_fmt(x, digits) for x in v) + "]"
    return str(v)


def _write_atomic_netcdf(idata: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        _arviz.to_netcdf(idata, tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _audit_means(idata: Any) -> tuple[float | None, float | None]:
    inv = invariant_draws(idata)
    if "mi_bits" not in inv:
        return None, None
    return float(inv["mi_bits"].mean()), float(inv["hall_M"].mean())


def _check_fit_options(
    fit_options: Mapping[str, Mapping[str, Any]] | None, names: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """``fit_options`` validated: known models, known keys (errors name the model and key)."""
    out: dict[str, dict[str, Any]] = {}
    for name, opts in (fit_options or {}).items():
        if name not in names:
            raise ValueError(f"fit_options names model {name!r}, which is not compared: {names}")
        unknown = sorted(set(opts) - set(FIT_OPTION_KEYS))
        if unknown:
            raise ValueError(
                f"fit_options[{name!r}] has unknown key(s) {unknown}; allowed: {FIT_OPTION_KEYS}"
            )
        out[name] = dict(opts)
    return out


def _pairwise(ref: Any, other: Any) -> tuple[float, float]:
    """d_loo and dse of ``other`` against ``ref`` from the expanded pointwise values (as ArviZ)."""
    diff = ref["loo_i"].values - other["loo_i"].values
    return float(diff.sum()), float(math.sqrt(diff.size * np.var(diff)))


def compare(
    models: Sequence[Any],
    counts: Counts,
    *,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    seed: int | None = None,
    evidence: bool = True,
    out_dir: str | os.PathLike | None = None,
    progress: bool = True,
    sampler: str = "auto",
    evidence_draws: int = 2000,
    evidence_chains: int = 4,
    fit_options: Mapping[str, Mapping[str, Any]] | None = None,
) -> Comparison:
    """Fit every model to ``counts`` and compare them; best first.

    Parameters
    ----------
    models
        Registry names or model instances (at least one; names must be distinct).
    counts
        The data.
    draws, tune, chains, sampler
        Passed to :func:`bellmodels.inference.fit`.
    seed
        Seed of every fit and evidence run (``None`` draws one). Every model gets the *same*
        seed, as in a study: common random numbers, so models that predict the same behaviour
        (quantum-singlet and hall2010, say) get identical fits and tie exactly, and a difference
        between models is never Monte Carlo noise from different streams. A rerun with the same
        seed gives the same table.
    evidence
        Also estimate the log evidence by SMC (``evidence_draws`` x ``evidence_chains``).
    out_dir
        If given, each fit is written there as ``<model>.nc`` (atomically), with the model's LOO,
        evidence and diagnostics in its attrs.
    progress
        One line per step on stderr.
    fit_options
        Per-model overrides of the fit's settings, model name -> ``{key: value}`` with keys among
        :data:`FIT_OPTION_KEYS` (e.g. ``{"rbm": {"draws": 3000}}``): the machines' MI mixes
        slowest and needs more draws than the explicit models to pass the gate.

    Returns
    -------
    Comparison
        ``.table`` (columns :data:`ROW_KEYS`), ``.fits``, ``.loo``, ``.diagnostics``,
        ``.evidence``; ``.to_records()``, ``.to_markdown()``, ``.bayes_factor(a, b)``.

    Notes
    -----
    Fits run one after the other in this process; each fit's chains run in parallel processes
    (PyMC), which already uses both cores of a small machine. (Parallel *models* would need
    processes with separate PyTensor compile directories, as in :mod:`bellmodels.study`.)

    Examples
    --------
    >>> res = compare(["local-polytope", "quantum-singlet"], counts, seed=1)  # doctest: +SKIP
    >>> res.table[["model", "elpd_loo", "dse", "diagnostics_ok"]]            # doctest: +SKIP
    """
    if not isinstance(counts, Counts):
        raise ValueError(f"counts must be a bellmodels Counts table, got {type(counts).__name__}")
    if isinstance(models, str):
        models = [m.strip() for m in models.split(",") if m.strip()]
    instances = [resolve_model(m, counts) for m in models]
    if not instances:
        raise ValueError("compare needs at least one model")
    names = [m.name for m in instances]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"model names must be distinct; repeated: {dupes}")
    # one seed for every model (common random numbers; see ``seed`` above)
    s = int(np.random.SeedSequence().entropy % (2**31 - 1)) if seed is None else int(seed)

    def say(msg: str) -> None:
        if progress:
            print(f"[compare] {msg}", file=sys.stderr, flush=True)

    per_model = _check_fit_options(fit_options, names)
    res = Comparison(table=pd.DataFrame(columns=list(ROW_KEYS)))
    for model, name in zip(instances, names, strict=True):
        say(f"fitting {name} (seed {s})")
        opts = {"draws": draws, "tune": tune, "chains": chains, "sampler": sampler}
        opts |= per_model.get(name, {})
        idata = fit(model, counts, seed=s, **opts)
        res.fits[name] = idata
        res.loo[name] = loo(idata)
        res.diagnostics[name] = diagnostics(idata)
        if evidence:
            say(f"evidence of {name} (SMC)")
            # the chains in parallel, like the fits' (SMC's default here is one process)
            mean, se, _ = log_evidence(
                model,
                counts,
                draws=evidence_draws,
                chains=evidence_chains,
                seed=s,
                cores=min(evidence_chains, os.cpu_count() or 1),
            )
            res.evidence[name] = (mean, se)
        d = res.diagnostics[name]
        if not d["ok"]:
            say(f"{name} FAILS the diagnostics gate: {'; '.join(d['reasons'][:3])}")

    sound = [n for n in names if res.diagnostics[n]["ok"]]
    unsound = [n for n in names if n not in sound]
    rows: list[dict[str, Any]] = []
    ref = None
    if sound:
        table = _arviz.compare({n: res.loo[n] for n in sound}, seed=s)
        ref = table.index[0]
        for n in table.index:
            rows.append(
                {
                    "model": n,
                    "d_loo": float(table.loc[n, "elpd_diff"]),
                    "dse": float(table.loc[n, "dse"]),
                    "weight": float(table.loc[n, "weight"]),
                }
            )
    if ref is None:
        ref = max(unsound, key=lambda n: float(res.loo[n]["elpd_loo"]))
    for n in sorted(unsound, key=lambda n: -float(res.loo[n]["elpd_loo"])):
        dl, ds = _pairwise(res.loo[ref], res.loo[n])
        rows.append({"model": n, "d_loo": dl, "dse": ds, "weight": float("nan")})

    for row in rows:
        n = row["model"]
        idata, elpd = res.fits[n], res.loo[n]
        k_cells = np.asarray(elpd["pareto_k_cells"], dtype=float)
        s = idata.posterior["S"].values if "S" in idata.posterior else None
        mi, hm = _audit_means(idata)
        ev = res.evidence.get(n, (float("nan"), float("nan")))
        row.update(
            {
                "elpd_loo": float(elpd["elpd_loo"]),
                "se": float(elpd["se"]),
                "p_loo": float(elpd["p_loo"]),
                "pareto_k_max": float(np.nanmax(k_cells)),
                "log_evidence": ev[0],
                "log_evidence_se": ev[1],
                "S_mean": float(s.mean()) if s is not None else float("nan"),
                "S_hdi": list(_arviz.hdi(s, HDI_PROB)) if s is not None else None,
                "mi_bits": mi,
                "hall_M": hm,
                "classification": idata.attrs.get("classification"),
                "diagnostics_ok": bool(res.diagnostics[n]["ok"]),
            }
        )
    res.table = pd.DataFrame(rows, columns=list(ROW_KEYS)).reset_index(drop=True)

    if out_dir is not None:
        out = Path(out_dir)
        for row in res.to_records():
            n = row["model"]
            idata = res.fits[n]
            idata.attrs = dict(idata.attrs) | {
                "comparison_row": json.dumps(row),
                "diagnostics": json.dumps(res.diagnostics[n]),
            }
            _write_atomic_netcdf(idata, out / f"{n}.nc")
            say(f"wrote {out / (n + '.nc')}")
    return res


__all__ = ["FIT_OPTION_KEYS", "ROW_KEYS", "Comparison", "compare"]


# ``bellmodels.compare`` is both this module and DESIGN.md's ``bm.compare(models, counts)``:
# calling the module calls :func:`compare` (see bellmodels/_callable_module.py for why).
make_callable(__name__, compare)
