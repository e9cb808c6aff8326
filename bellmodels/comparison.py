"""Compare hidden-variable models on the same counts: LOO, stacking, evidence, audit, gate.

:func:`compare` fits every model (:func:`bellmodels.inference.fit`), summarises each fit once
(:func:`bellmodels.inference.summarize_fit`: its LOO, the diagnostics gate, optionally the log
evidence, the posterior S, MI, Hall's M and classification) and ranks the summaries with
:func:`rank` (:mod:`bellmodels.ranking`: gate-passing fits first, stacking weights of Yao et al.,
Bayesian Analysis 13, 917 (2018)). It computes and returns a :class:`Comparison`; saving is
:meth:`Comparison.save`, and printing is the caller's (``progressbar`` or ``callback``). The
study runner and the report rank with the same :func:`rank`. The result's ``table`` has exactly
the JSON row keys of ``docs/architecture.md``.

Models that declare the same observational family (quantum-singlet, toner-bacon, brans,
hall2010, dlr-one-sided) at the same fit settings are checked to be one model to the data and
fitted once (:mod:`bellmodels.inference.sharing`): each keeps its own fit object (the shared
posterior, its own audit; ``attrs["shared_fit_with"]`` names the model sampled), its own gate
and row, and they tie exactly (the same LOO and evidence).

Example
-------
Fitting takes seconds to minutes, so ``tests/test_compare.py`` checks this (the ranking rule
itself, with a doctest, is :mod:`bellmodels.ranking`'s)::

    import bellmodels as bm
    res = bm.compare(["quantum-singlet", "local-polytope"], bm.datasets.load("delft2015"))
    res.table[["elpd_loo", "elpd_diff", "dse", "weight", "diagnostics_ok"]]
    res.bayes_factor("quantum-singlet", "local-polytope")   # a LogBayesFactor (log_bf, se)
    res.save("out/compare")                                  # the fits and comparison.json
"""

from __future__ import annotations

import copy
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bellmodels import _arviz
from bellmodels._format import fmt_cell as _fmt
from bellmodels._util import (
    COMPARISON_COLUMNS,
    atomic_write,
    draw_seed,
    one_blas_thread,
    renamed_keywords,
    to_jsonable,
    write_json_atomic,
)
from bellmodels.data import Counts
from bellmodels.inference import (
    DEFAULT_EVIDENCE_METHOD,
    EVIDENCE_SE_MAX,
    HDI_PROB,
    EvidenceEstimate,
    FitSummary,
    LogBayesFactor,
    fit,
    log_bayes_factor,
    log_bayes_factors,
    loo,
    resolve_model,
    summarize_fit,
)
from bellmodels.inference.sharing import shared_fit, shared_groups, shared_summary
from bellmodels.ranking import rank, stacking_weights

ROW_KEYS: tuple[str, ...] = COMPARISON_COLUMNS
"""Columns of :attr:`Comparison.table`, in order (the JSON row keys of docs/architecture.md)."""

COMPARISON_FILE = "comparison.json"
"""The table's records in a directory :meth:`Comparison.save` writes (beside one NetCDF per fit)."""

REPR_ROWS = 8
"""Models shown by ``repr(Comparison)``; the rest are counted."""
HTML_COLUMNS: tuple[str, ...] = (
    "model", "elpd_loo", "se", "elpd_diff", "dse", "weight", "p_loo", "pareto_k_max", "log_evidence",
    "log_evidence_se", "S_mean", "mi_bits", "hall_M", "classification", "diagnostics_ok",
)  # fmt: skip
"""Columns of the notebook table of a :class:`Comparison`."""

FIT_OPTION_KEYS: tuple[str, ...] = ("draws", "tune", "chains", "sampler", "target_accept", "init")
"""Keys a model's entry in ``compare(..., fit_options=...)`` may set (passed to ``fit``)."""

FULL_SETTING: dict[str, Any] = {
    "setting": "full", "gate": "rejects", "draws": 1000, "tune": 1000, "chains": 4,
    "evidence_draws": 1000, "evidence_chains": 4,
}  # fmt: skip
""":func:`compare`'s default, for results: a fit that fails the gate is listed last, unweighted."""
QUICK_SETTING: dict[str, Any] = {
    "setting": "quick", "gate": "labels", "draws": 300, "tune": 300, "chains": 2,
    "evidence_draws": 250, "evidence_chains": 4,
}  # fmt: skip
"""``compare(..., quick=True)``, for trying things, not for results: fewer draws and particles
(the evidence error is still the spread of 4 runs), and a gate that labels (``diagnostics_ok``
false) but still weights and ranks a failing fit."""
FIT_SIZES = ("draws", "tune", "chains", "evidence_draws", "evidence_chains")
"""The sizes a setting fixes (``compare``'s keywords of these names override them)."""
SETTING_FILE = "comparison_setting.json"
"""The setting (:data:`FULL_SETTING` or :data:`QUICK_SETTING`, as run) beside ``comparison.json``."""


@dataclass
class Comparison:
    """The result of :func:`compare`: one :class:`~bellmodels.inference.FitSummary` per model,
    ranked.

    Attributes
    ----------
    table
        One row per model, columns :data:`ROW_KEYS`, best first (see the module docstring).
    summaries
        Model name -> its :class:`~bellmodels.inference.FitSummary`, best first.
    fits
        Model name -> ``InferenceData`` of its fit (empty for a comparison of stored summaries).
    loo
        Model name -> ``ELPDData`` (exact per-trial LOO, :func:`bellmodels.inference.loo`);
        when every fit passes the gate, ``az.compare(res.loo)`` gives the table's order, with
        the same ``elpd_diff`` and ``dse`` (ArviZ knows no gate).

    Examples
    --------
    >>> from bellmodels.inference import EvidenceEstimate, FitSummary
    >>> cells = {"good": np.log([0.4, 0.1, 0.1, 0.4]), "flat": np.log([0.25] * 4)}
    >>> res = Comparison.from_summaries([
    ...     FitSummary(m, loo_cells=tuple(c), cell_counts=(40, 10, 10, 40),
    ...                diagnostics={"ok": True}, evidence=EvidenceEstimate(z, 0.1, "smc", (), 0.0))
    ...     for (m, c), z in zip(cells.items(), [-100.0, -104.0])])
    >>> list(res.table["model"]), res.bayes_factor("good", "flat").log_bf
    (['good', 'flat'], 4.0)
    """

    table: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(ROW_KEYS)))
    summaries: dict[str, FitSummary] = field(default_factory=dict)
    fits: dict[str, Any] = field(default_factory=dict)
    loo: dict[str, Any] = field(default_factory=dict)
    setting: dict[str, Any] = field(default_factory=dict)

    @property
    def quick(self) -> bool:
        """Whether this is the quick exploratory setting (:data:`QUICK_SETTING`), not results."""
        return self.setting.get("setting") == "quick"

    @classmethod
    def from_summaries(
        cls,
        summaries: Sequence[FitSummary] | Mapping[str, FitSummary],
        fits: Mapping[str, Any] | None = None,
        loo: Mapping[str, Any] | None = None,
        setting: Mapping[str, Any] | None = None,
    ) -> Comparison:
        """Rank fit summaries (:func:`rank` on their per-cell LOO values and gate verdicts; under
        a ``setting`` whose gate ``"labels"`` every fit is ranked and weighted as if it passed,
        and its row keeps its own ``diagnostics_ok``)."""
        items = list(summaries.values()) if isinstance(summaries, Mapping) else list(summaries)
        by_name = {s.model: s for s in items}
        if len(by_name) != len(items) or not items:
            raise ValueError("a comparison needs at least one summary, each of a distinct model")
        labels = (setting or {}).get("gate") == "labels"
        ranking = rank(
            {n: s.loo_cells for n, s in by_name.items()},
            items[0].cell_counts,
            {n: labels or s.diagnostics_ok for n, s in by_name.items()},
        )
        order = [str(n) for n in ranking.index]
        rows = [_row(by_name[n], ranking.loc[n]) for n in order]
        return cls(
            table=pd.DataFrame(rows, columns=list(ROW_KEYS)).reset_index(drop=True),
            summaries={n: by_name[n] for n in order},
            fits={n: fits[n] for n in order if fits and n in fits},
            loo={n: loo[n] for n in order if loo and n in loo},
            setting=dict(setting or {}),
        )

    @property
    def diagnostics(self) -> dict[str, dict[str, Any]]:
        """Model name -> the diagnostics gate's dict (``ok``, ``reasons``, ...)."""
        return {n: s.diagnostics for n, s in self.summaries.items()}

    @property
    def evidence(self) -> dict[str, EvidenceEstimate]:
        """Model name -> its log evidence (models whose evidence was estimated)."""
        return {n: s.evidence for n, s in self.summaries.items() if s.evidence is not None}

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
        lines += [f"  ({self.setting_note()})"] if self.quick else []
        width = max((len(str(r["model"])) for r in recs), default=0)
        for r in recs[:REPR_ROWS]:
            line = f"  {str(r['model']).ljust(width)}  {_fmt(r['elpd_loo'], 2)} ± "
            line += f"{_fmt(r['se'], 2)}  elpd_diff {_fmt(r['elpd_diff'], 2)} ± {_fmt(r['dse'], 2)}"
            line += f"  weight {_fmt(r['weight'], 2)}"
            line += "" if r["diagnostics_ok"] in (True, None) else "  FAILS the gate"
            line += " (labelled, still weighted)" * (self.quick and r["diagnostics_ok"] is False)
            lines.append(line)
        if len(recs) > REPR_ROWS:
            lines.append(f"  ... and {len(recs) - REPR_ROWS} more (see .table)")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """The table (the columns a reader ranks by) as HTML, for notebooks."""
        cols = [c for c in HTML_COLUMNS if c in self.table.columns]
        table = self.table[cols].to_html(index=False, float_format=lambda x: f"{x:.2f}", na_rep="–")
        note = "best first; fits that fail the diagnostics gate are listed last, unweighted"
        note = self.setting_note() if self.quick else note
        return f"<div><p>Comparison of {len(self.table)} models ({note})</p>{table}</div>"

    def setting_note(self) -> str:
        """One line saying which setting made this comparison (what the quick one means).

        >>> Comparison(setting=QUICK_SETTING).setting_note()[:46]
        'quick exploratory setting (2 chains x 300 draw'
        """
        st = self.setting
        if not st:
            return "setting not recorded (a comparison of stored summaries)"
        sizes = f"{st['chains']} chains x {st['draws']} draws after {st['tune']} tuning steps"
        sizes += f", evidence {st['evidence_chains']} runs x {st['evidence_draws']} particles"
        if not self.quick:
            return f"full setting ({sizes}); fits failing the gate are last and unweighted"
        return (
            f"quick exploratory setting ({sizes}), not for results: fits failing the "
            "diagnostics gate are labelled (diagnostics_ok false) but ranked and weighted"
        )

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
        shaky = [m for m, est in self.evidence.items() if not est.reliable]
        if shaky:
            lines += [
                "",
                f"Evidence unreliable (Monte Carlo error above {EVIDENCE_SE_MAX:g} nat; form no "
                f"Bayes factor from it): {', '.join(shaky)}.",
            ]
        if self.quick:
            lines += ["", self.setting_note()[0].upper() + self.setting_note()[1:] + "."]
        return "\n".join(lines) + "\n"

    def save(self, out_dir: str | os.PathLike[str], *, overwrite: bool = False) -> list[Path]:
        """Write ``out_dir/<model>.nc`` per fit, ``out_dir/comparison.json`` and the setting
        (:data:`SETTING_FILE`), atomically.

        Each fit's attrs carry its table row (``comparison_row``), its summary
        (``fit_summary``, :meth:`~bellmodels.inference.FitSummary.to_dict`), the gate's
        verdict (``diagnostics``) and the setting (``comparison_setting``). Every target is checked before anything is written
        (:func:`check_save_targets`): an existing file is refused unless ``overwrite``.
        Returns the paths written.
        """
        out = check_save_targets(out_dir, list(self.fits), overwrite=overwrite)
        written = []
        for row in self.to_records():
            n = row["model"]
            if n not in self.fits:
                continue
            idata = self.fits[n]
            idata.attrs = dict(idata.attrs) | {
                "comparison_row": json.dumps(row),
                "fit_summary": json.dumps(self.summaries[n].to_dict()),
                "diagnostics": json.dumps(to_jsonable(self.diagnostics[n])),
                "comparison_setting": json.dumps(self.setting),
            }
            path = out / f"{n}.nc"
            atomic_write(path, lambda tmp, idata=idata: _arviz.to_netcdf(idata, str(tmp)))
            written.append(path)
        written.append(write_json_atomic(out / COMPARISON_FILE, self.to_records()))
        written.append(write_json_atomic(out / SETTING_FILE, self.setting))
        return written

    def bayes_factor(self, a: str, b: str, *, allow_unreliable: bool = False) -> LogBayesFactor:
        """log Bayes factor of model ``a`` over ``b`` and its Monte Carlo error.

        The difference of the log evidences (:func:`~bellmodels.inference.log_bayes_factor`:
        runs of the same seed are paired); it depends on the priors (see
        :func:`bellmodels.inference.estimate_log_evidence`). Raises ``ValueError`` when either
        evidence has a Monte Carlo error above :data:`~bellmodels.inference.EVIDENCE_SE_MAX`,
        unless ``allow_unreliable`` (see the class's example).
        """
        ev = self.evidence
        if a not in ev or b not in ev:
            raise ValueError("no evidence for both models: run compare(..., evidence=True)")
        bad = [n for n in (a, b) if not ev[n].reliable]
        if bad and not allow_unreliable:
            raise ValueError(
                f"the log evidence of {bad} has Monte Carlo error above "
                f"{EVIDENCE_SE_MAX} nat, so a Bayes factor from it is unreliable; give the fit "
                "more SMC particles or runs (evidence_draws, evidence_chains), or pass "
                "allow_unreliable=True"
            )
        return log_bayes_factor(ev[a], ev[b])

    def bayes_factors(self) -> pd.DataFrame:
        """log Bayes factors of every row model over every column model, with their errors.

        A DataFrame with a two-level column index (``"log_bf"``, ``"se"``) over the models;
        entries involving an unreliable evidence (:func:`~bellmodels.inference.evidence_reliable`)
        are NaN. The Bayes factors depend on the models' stated priors.
        """
        lbf, se = log_bayes_factors(self.evidence)
        return pd.concat({"log_bf": lbf, "se": se}, axis=1)

    def model_probabilities(self) -> pd.Series:
        """Posterior model probabilities under a uniform prior over the models compared.

        ``p(m | data) = Z_m / sum_k Z_k`` over the models whose evidence is reliable (the others
        are NaN and take no share: their evidence is not known well enough to normalise with).
        """
        ev = self.evidence
        out = pd.Series(np.nan, index=list(ev), name="p_model", dtype=float)
        ok = [n for n, est in ev.items() if est.reliable]
        if ok:
            lz = np.array([ev[n].log_evidence for n in ok])
            out[ok] = np.exp(lz - np.logaddexp.reduce(lz))
        return out


def _row(s: FitSummary, ranked: Any) -> dict[str, Any]:
    """A summary's row of :attr:`Comparison.table` (the ranking's ``elpd_diff``, ``dse``,
    ``weight``; the posterior means of MI and M under the comparison row keys of docs/architecture.md)."""
    ev = s.evidence
    return {
        "model": s.model,
        "elpd_loo": s.elpd_loo,
        "se": s.se,
        **{k: float(ranked[k]) for k in ("elpd_diff", "dse", "weight")},
        "p_loo": s.p_loo,
        "pareto_k_max": s.pareto_k_max,
        "log_evidence": ev.log_evidence if ev else float("nan"),
        "log_evidence_se": ev.se if ev else float("nan"),
        "log_evidence_method": ev.method if ev else None,
        "S_mean": s.S_mean,
        "S_hdi": list(s.S_hdi) if s.S_hdi is not None else None,
        "mi_bits": s.mi_bits_mean,
        "hall_M": s.hall_M_mean,
        "classification": s.classification,
        "diagnostics_ok": s.diagnostics_ok,
    }


def check_save_targets(
    out_dir: str | os.PathLike[str], names: Sequence[str], *, overwrite: bool = False
) -> Path:
    """The directory :meth:`Comparison.save` would write to, checked before any fit is run:
    ``ValueError`` naming a model whose name is not a plain file name or an ``out_dir`` that is
    a file; ``FileExistsError`` naming a target that exists, unless ``overwrite``.

    >>> import tempfile
    >>> check_save_targets(tempfile.mkdtemp(), ["quantum-singlet"]).is_dir()
    True
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ValueError(f"{str(out)!r} exists and is not a directory")
    for n in names:
        if not n or "/" in n or "\\" in n or n.startswith("."):
            raise ValueError(f"model name {n!r} is not a plain file name: cannot save its fit")
    if not overwrite:
        for p in [out / f"{n}.nc" for n in names] + [out / COMPARISON_FILE, out / SETTING_FILE]:
            if p.exists():
                raise FileExistsError(f"{str(p)!r} exists (pass overwrite=True to replace it)")
    return out


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


@renamed_keywords(progress="progressbar")
@one_blas_thread()
def compare(
    models: Sequence[Any],
    counts: Counts,
    *,
    quick: bool = False,
    draws: int | None = None,
    tune: int | None = None,
    chains: int | None = None,
    seed: int | None = None,
    evidence: bool = True,
    out_dir: str | os.PathLike | None = None,
    progressbar: bool = True,
    sampler: str = "auto",
    evidence_method: str = DEFAULT_EVIDENCE_METHOD,
    evidence_draws: int | None = None,
    evidence_chains: int | None = None,
    evidence_hmc_steps: int = 8,
    fit_options: Mapping[str, Mapping[str, Any]] | None = None,
    hdi_prob: float = HDI_PROB,
    callback: Callable[[str], None] | None = None,
) -> Comparison:
    """Fit every model to ``counts`` and compare them: a :class:`Comparison`, best first.

    Each model is fitted (:func:`bellmodels.inference.fit`; equivalent models once, see below)
    and summarised once (:func:`bellmodels.inference.summarize_fit`), the summaries are ranked
    (:func:`rank`) and returned (``.table``, ``.summaries``, ``.fits``, ``.loo``); nothing is
    written or printed (:meth:`Comparison.save`). Each fit's chains run in parallel processes.

    Parameters
    ----------
    models, counts
        Registry names or model instances (distinct names), and the data.
    quick
        The quick exploratory setting (:data:`QUICK_SETTING`: fewer draws and particles, a
        failing fit labelled, not unweighted) for trying things; the default is the full setting
        for results (:data:`FULL_SETTING`). Sizes given below override either's; the result
        records the setting (:attr:`Comparison.setting`).
    draws, tune, chains, sampler, fit_options
        Passed to :func:`bellmodels.inference.fit` (``None``: the setting's); ``fit_options``
        overrides them per model (``{name: {key: value}}``, keys among :data:`FIT_OPTION_KEYS`).
    seed
        Seed of every fit and evidence run (``None`` draws one), the *same* for every model, as
        in a study: common random numbers. Equivalent models are fitted once (module docstring).
    evidence, evidence_method, evidence_draws, evidence_chains, evidence_hmc_steps
        Whether and how to estimate the log evidence (particles, runs, HMC steps per stage:
        :func:`bellmodels.inference.estimate_log_evidence`; ``None``: the setting's).
    out_dir, hdi_prob
        ``.save(out_dir, overwrite=True)`` after the fits; the mass of the HDI of S (``S_hdi``).
    progressbar, callback
        Progress lines go to ``callback`` if given, else to stderr unless ``progressbar=False``.

    Examples
    --------
    Fits take a minute, so ``tests/test_compare.py`` checks this::

        res = compare(["local-polytope", "quantum-singlet"], counts, seed=1, quick=True)
        res.table[["model", "elpd_loo", "dse", "diagnostics_ok"]], res.setting["draws"]  # 300
    """
    instances = _models(models, counts)
    per_model = _check_fit_options(fit_options, [m.name for m in instances])
    if out_dir is not None:
        check_save_targets(out_dir, [m.name for m in instances], overwrite=True)
    s = draw_seed(seed)  # one seed for every model (common random numbers; see ``seed`` above)
    say = callback or (_print_progress if progressbar else _silent)
    setting = _setting(quick, (draws, tune, chains, evidence_draws, evidence_chains))
    if quick:
        say(Comparison(setting=setting).setting_note())
    settings = {k: setting[k] for k in FIT_SIZES[:3]} | {"sampler": sampler}
    how = {k: setting[k] for k in FIT_SIZES[3:]} | {
        "evidence": evidence, "evidence_method": evidence_method,
        "evidence_hmc_steps": evidence_hmc_steps, "hdi_prob": hdi_prob,
    }  # fmt: skip
    opts = {m.name: settings | per_model.get(m.name, {}) for m in instances}
    runs = _fit_all(instances, counts, s, opts, how, say)
    names = [m.name for m in instances]
    fits, loos, summaries = ({n: runs[n][i] for n in names} for i in range(3))
    res = Comparison.from_summaries(summaries, fits=fits, loo=loos, setting=setting)
    for path in res.save(out_dir, overwrite=True) if out_dir is not None else ():
        say(f"wrote {path}")
    return res


def _setting(quick: bool, sizes: Sequence[int | None]) -> dict[str, Any]:
    """:data:`QUICK_SETTING` or :data:`FULL_SETTING` with the :data:`FIT_SIZES` given."""
    given = {k: int(v) for k, v in zip(FIT_SIZES, sizes, strict=True) if v is not None}
    return (QUICK_SETTING if quick else FULL_SETTING) | given


def _fit_all(
    instances: Sequence[Any],
    counts: Counts,
    seed: int,
    opts: Mapping[str, Mapping[str, Any]],
    how: Mapping[str, Any],
    say: Callable[[str], None],
) -> dict[str, tuple[Any, Any, FitSummary]]:
    """Every model's fit, LOO and summary: one fit per observational family at the same fit
    settings (checked numerically first: :func:`~bellmodels.inference.sharing.shared_groups`)."""
    keys = [json.dumps(opts[m.name], sort_keys=True, default=str) for m in instances]
    runs: dict[str, tuple[Any, Any, FitSummary]] = {}
    for group in shared_groups(instances, keys):
        first = group[0].name
        runs[first] = _fit_one(group[0], counts, seed, opts[first], how, say)
        for member in group[1:]:
            runs[member.name] = _share_one(member, counts, first, runs[first], say)
    return runs


def _fit_one(
    model: Any,
    counts: Counts,
    seed: int,
    opts: Mapping[str, Any],
    how: Mapping[str, Any],
    say: Callable[[str], None],
) -> tuple[Any, Any, FitSummary]:
    """One model of :func:`compare`: its fit, its LOO and its :class:`FitSummary`."""
    say(f"fitting {model.name} (seed {seed})")
    idata = fit(model, counts, seed=seed, **opts)
    elpd = loo(idata)
    cores = min(how["evidence_chains"], os.cpu_count() or 1)  # for "pymc-smc"
    summary = summarize_fit(
        model, counts, idata, elpd=elpd, seed=seed, cores=cores, callback=say, **how
    )
    if not summary.diagnostics_ok:
        say(f"{model.name} FAILS the diagnostics gate: {'; '.join(summary.reasons[:3])}")
    return idata, elpd, summary


def _share_one(
    model: Any,
    counts: Counts,
    source: str,
    run: tuple[Any, Any, FitSummary],
    say: Callable[[str], None],
) -> tuple[Any, Any, FitSummary]:
    """A model of :func:`compare` observationally equivalent to ``source``: ``source``'s fit
    (``run``) with its own audit (:func:`~bellmodels.inference.sharing.shared_fit`), the same
    LOO and evidence, its own gate and :class:`FitSummary`."""
    say(f"{model.name} shares the fit of {source} (observationally equivalent); auditing it")
    idata, elpd, summary = run
    own = shared_fit(idata, model)
    mine = shared_summary(model, counts, own, summary, elpd, summary.hdi_prob)
    if not mine.diagnostics_ok:
        say(f"{model.name} FAILS the diagnostics gate: {'; '.join(mine.reasons[:3])}")
    return own, copy.deepcopy(elpd), mine


def _models(models: Sequence[Any] | str, counts: Counts) -> list[Any]:
    """The model instances to compare (checked: Counts data, at least one, distinct names)."""
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
    return instances


def _print_progress(msg: str) -> None:
    """The default progress of :func:`compare`: one line on stderr."""
    print(f"[compare] {msg}", file=sys.stderr, flush=True)


def _silent(msg: str) -> None:
    """No progress."""


__all__ = [
    "COMPARISON_FILE", "FIT_OPTION_KEYS", "FULL_SETTING", "QUICK_SETTING", "ROW_KEYS",
    "SETTING_FILE", "Comparison", "check_save_targets", "compare", "rank", "stacking_weights",
]  # fmt: skip
