"""Compare hidden-variable models on the same counts: LOO, stacking, evidence, audit, gate.

Two layers. :func:`rank` is a pure function: it ranks already-computed per-cell LOO values
(weighted by the cell counts) and the diagnostics gate's verdicts, and computes ``elpd_diff``,
``dse`` and stacking weights (Yao et al., Bayesian Analysis 13, 917 (2018)) without ever
expanding the counts into per-trial values. :func:`compare` fits every model
(:func:`bellmodels.inference.fit`), computes each fit's LOO once
(:func:`bellmodels.inference.loo`), optionally estimates the log evidence (tempered SMC or bridge sampling), ranks with
:func:`rank` and joins the audit's posterior MI, Hall's M and classification. The study runner
and the report use the same :func:`rank`. The result's ``table`` has exactly the JSON row keys of
``DESIGN.md``.

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

import json
import math
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import minimize

from bellmodels import _arviz
from bellmodels._format import fmt_cell as _fmt
from bellmodels._util import (
    COMPARISON_COLUMNS,
    atomic_write,
    draw_seed,
    renamed_keywords,
    to_jsonable,
)
from bellmodels.data import Counts
from bellmodels.inference import (
    DEFAULT_EVIDENCE_METHOD,
    EVIDENCE_SE_MAX,
    EvidenceEstimate,
    LogBayesFactor,
    diagnostics,
    estimate_log_evidence,
    evidence_reliable,
    fit,
    invariant_draws,
    log_bayes_factor,
    log_bayes_factors,
    loo,
    resolve_model,
)
from bellmodels.inference.loo import weighted_sum_and_se

ROW_KEYS: tuple[str, ...] = COMPARISON_COLUMNS
"""Columns of :attr:`Comparison.table`, in order (the JSON row keys of DESIGN.md)."""

HDI_PROB = 0.94

REPR_ROWS = 8
"""Models shown by ``repr(Comparison)``; the rest are counted."""
HTML_COLUMNS: tuple[str, ...] = (
    "model", "elpd_loo", "se", "elpd_diff", "dse", "weight", "p_loo", "pareto_k_max", "log_evidence",
    "log_evidence_se", "S_mean", "mi_bits", "hall_M", "classification", "diagnostics_ok",
)  # fmt: skip
"""Columns of the notebook table of a :class:`Comparison`."""

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
        Model name -> ``ELPDData`` (exact per-trial LOO, :func:`bellmodels.inference.loo`);
        when every fit passes the gate, ``az.compare(res.loo)`` gives the table's order, with
        the same ``elpd_diff`` and ``dse`` (ArviZ knows no gate).
    diagnostics
        Model name -> the gate's dict.
    evidence
        Model name -> ``(log_evidence, se)`` (empty when ``evidence=False``).
    evidence_estimates
        Model name -> the full :class:`~bellmodels.inference.EvidenceEstimate` (method,
        repetitions, diagnostics).
    """

    table: pd.DataFrame
    fits: dict[str, Any] = field(default_factory=dict)
    loo: dict[str, Any] = field(default_factory=dict)
    diagnostics: dict[str, dict] = field(default_factory=dict)
    evidence: dict[str, tuple[float, float]] = field(default_factory=dict)
    evidence_estimates: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        """A few lines: one per model (at most :data:`REPR_ROWS`), never the fits or arrays.

        >>> row = {k: None for k in ROW_KEYS} | {"model": "quantum-singlet", "elpd_loo": -293.5,
        ...        "se": 8.7, "elpd_diff": 0.0, "dse": 0.0, "weight": 1.0, "diagnostics_ok": True}
        >>> print(repr(Comparison(pd.DataFrame([row], columns=list(ROW_KEYS)))))
        <Comparison of 1 model, best first: elpd_loo ± se, elpd_diff ± dse, weight>
          quantum-singlet  -293.50 ± 8.70  elpd_diff 0.00 ± 0.00  weight 1.00
        """
        recs = self.to_records()
        head = f"<Comparison of {len(recs)} model{'s' * (len(recs) != 1)}, best first: "
        lines = [head + "elpd_loo ± se, elpd_diff ± dse, weight>"]
        width = max((len(str(r["model"])) for r in recs), default=0)
        for r in recs[:REPR_ROWS]:
            line = f"  {str(r['model']).ljust(width)}  {_fmt(r['elpd_loo'], 2)} ± "
            line += f"{_fmt(r['se'], 2)}  elpd_diff {_fmt(r['elpd_diff'], 2)} ± {_fmt(r['dse'], 2)}"
            line += f"  weight {_fmt(r['weight'], 2)}"
            line += "" if r["diagnostics_ok"] in (True, None) else "  FAILS the gate"
            lines.append(line)
        if len(recs) > REPR_ROWS:
            lines.append(f"  ... and {len(recs) - REPR_ROWS} more (see .table)")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """The table (the columns a reader ranks by) as HTML, for notebooks."""
        cols = [c for c in HTML_COLUMNS if c in self.table.columns]
        table = self.table[cols].to_html(index=False, float_format=lambda x: f"{x:.2f}", na_rep="–")
        note = "best first; fits that fail the diagnostics gate are listed last, unweighted"
        return f"<div><p>Comparison of {len(self.table)} models ({note})</p>{table}</div>"

    def to_records(self) -> list[dict[str, Any]]:
        """The table as JSON-ready dicts (NaN -> None, numpy scalars -> Python).

        >>> row = {k: None for k in ROW_KEYS} | {"model": "quantum-singlet", "elpd_loo": -1.5}
        >>> res = Comparison(pd.DataFrame([row], columns=list(ROW_KEYS)))
        >>> rec = res.to_records()[0]
        >>> rec["model"], rec["elpd_loo"]
        ('quantum-singlet', -1.5)
        """
        return [{k: to_jsonable(row[k]) for k in ROW_KEYS} for _, row in self.table.iterrows()]

    def to_markdown(self, digits: int = 2) -> str:
        """The table as a GitHub-flavoured Markdown table (hand-formatted: no extra dependency).

        Evidence whose Monte Carlo error exceeds :data:`~bellmodels.inference.EVIDENCE_SE_MAX`
        is named in a line under the table: no Bayes factor should be read from it.

        >>> row = {k: None for k in ROW_KEYS} | {"model": "quantum-singlet", "elpd_loo": -1.5}
        >>> res = Comparison(pd.DataFrame([row], columns=list(ROW_KEYS)))
        >>> line = res.to_markdown().splitlines()[2]        # header, rule, then the rows
        >>> [cell.strip() for cell in line.split("|")[1:3]]
        ['quantum-singlet', '-1.50']
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

    def bayes_factor(self, a: str, b: str, *, allow_unreliable: bool = False) -> LogBayesFactor:
        """log Bayes factor of model ``a`` over ``b`` and its Monte Carlo error.

        The difference of the log evidences; it depends on the priors (see
        :func:`bellmodels.inference.estimate_log_evidence`). Raises ``ValueError`` when either
        evidence has a Monte Carlo error above :data:`~bellmodels.inference.EVIDENCE_SE_MAX`,
        unless ``allow_unreliable``.

        >>> res = Comparison(pd.DataFrame(columns=list(ROW_KEYS)),
        ...                  evidence={"quantum-singlet": (-100.0, 0.3), "local-polytope": (-104.0, 0.4)})
        >>> res.bayes_factor("quantum-singlet", "local-polytope")
        LogBayesFactor(log_bf=4.0, se=0.5)
        """
        if a not in self.evidence or b not in self.evidence:
            raise ValueError("no evidence for both models: run compare(..., evidence=True)")
        bad = [n for n in (a, b) if not evidence_reliable(self.evidence[n][1])]
        if bad and not allow_unreliable:
            raise ValueError(
                f"the log evidence of {bad} has Monte Carlo error above "
                f"{EVIDENCE_SE_MAX} nat, so a Bayes factor from it is unreliable; give the fit "
                "more SMC particles or runs (evidence_draws, evidence_chains), or pass "
                "allow_unreliable=True"
            )
        est = self._estimates()
        return log_bayes_factor(est[a], est[b])

    def _estimates(self) -> dict[str, EvidenceEstimate]:
        """Every model's evidence as an estimate: the stored one (its runs pair with another's
        of the same seed), else ``(value, se)`` alone (errors then add in quadrature)."""
        return {
            n: self.evidence_estimates.get(n) or EvidenceEstimate(v, se, "given", (), math.nan)
            for n, (v, se) in self.evidence.items()
        }

    def bayes_factors(self) -> pd.DataFrame:
        """log Bayes factors of every row model over every column model, with their errors.

        A DataFrame with a two-level column index (``"log_bf"``, ``"se"``) over the models;
        entries involving an unreliable evidence (:func:`~bellmodels.inference.evidence_reliable`)
        are NaN. The Bayes factors depend on the models' stated priors.

        >>> res = Comparison(pd.DataFrame(columns=list(ROW_KEYS)),
        ...                  evidence={"quantum-singlet": (-100.0, 0.3), "local-polytope": (-104.0, 0.4)})
        >>> float(res.bayes_factors()["log_bf"].loc["quantum-singlet", "local-polytope"])
        4.0
        """
        lbf, se = log_bayes_factors(self._estimates())
        return pd.concat({"log_bf": lbf, "se": se}, axis=1)

    def model_probabilities(self) -> pd.Series:
        """Posterior model probabilities under a uniform prior over the models compared.

        ``p(m | data) = Z_m / sum_k Z_k`` over the models whose evidence is reliable (the others
        are NaN and take no share: their evidence is not known well enough to normalise with).

        >>> res = Comparison(pd.DataFrame(columns=list(ROW_KEYS)),
        ...                  evidence={"quantum-singlet": (-100.0, 0.3), "local-polytope": (-104.0, 0.4)})
        >>> p = res.model_probabilities()
        >>> p.idxmax(), round(float(p["local-polytope"]), 4)
        ('quantum-singlet', 0.018)
        """
        out = pd.Series(np.nan, index=list(self.evidence), name="p_model", dtype=float)
        ok = [n for n, (_, se) in self.evidence.items() if evidence_reliable(se)]
        if ok:
            lz = np.array([self.evidence[n][0] for n in ok])
            out[ok] = np.exp(lz - np.logaddexp.reduce(lz))
        return out


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


@renamed_keywords(progress="progressbar")
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
    progressbar: bool = True,
    sampler: str = "auto",
    evidence_method: str = DEFAULT_EVIDENCE_METHOD,
    evidence_draws: int = 1000,
    evidence_chains: int = 4,
    evidence_hmc_steps: int = 8,
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
    evidence, evidence_method
        Also estimate the log evidence, by ``"smc"`` tempered from the prior with HMC moves
        (default), ``"reverse-smc"`` back from the fit's draws, ``"bridge"`` sampling on the
        draws or ``"pymc-smc"`` (:func:`bellmodels.inference.estimate_log_evidence`).
    evidence_draws, evidence_chains, evidence_hmc_steps
        Particles, independent runs (the Monte Carlo error is their spread) and HMC transitions
        per stage of the SMC methods.
    out_dir
        If given, each fit is written there as ``<model>.nc`` (atomically), with the model's LOO,
        evidence and diagnostics in its attrs.
    progressbar
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
    Two fits take a minute, so ``tests/test_compare.py`` checks this::

        res = compare(["local-polytope", "quantum-singlet"], counts, seed=1)
        res.table[["model", "elpd_loo", "dse", "diagnostics_ok"]]
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
    s = draw_seed(seed)

    def say(msg: str) -> None:
        if progressbar:
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
            say(f"evidence of {name} ({evidence_method})")
            est = estimate_log_evidence(
                model,
                counts,
                idata,
                method=evidence_method,
                seed=s,
                evidence_draws=evidence_draws,
                evidence_chains=evidence_chains,
                evidence_hmc_steps=evidence_hmc_steps,
                cores=min(evidence_chains, os.cpu_count() or 1),
            )
            res.evidence[name] = (est.log_evidence, est.se)
            res.evidence_estimates[name] = est
        d = res.diagnostics[name]
        if not d["ok"]:
            say(f"{name} FAILS the diagnostics gate: {'; '.join(d['reasons'][:3])}")

    ranking = rank(
        {n: res.loo[n]["loo_cells"] for n in names},
        res.loo[names[0]]["cell_counts"],
        {n: res.diagnostics[n]["ok"] for n in names},
    )
    rows: list[dict[str, Any]] = [
        {"model": n, **{k: float(ranking.loc[n, k]) for k in ("elpd_diff", "dse", "weight")}}
        for n in ranking.index
    ]
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
                "log_evidence_method": evidence_method if n in res.evidence else None,
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
            atomic_write(
                out / f"{n}.nc", lambda tmp, idata=idata: _arviz.to_netcdf(idata, str(tmp))
            )
            say(f"wrote {out / (n + '.nc')}")
    return res


__all__ = ["FIT_OPTION_KEYS", "ROW_KEYS", "Comparison", "compare", "rank", "stacking_weights"]
