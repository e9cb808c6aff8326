"""The results of one sweep point, as named sections: the data, the model comparison, the
audit, the figures, and the diagnostics (one summary table, each model's plots collapsed).

Every number is read from the results store (``results.nc``, :func:`~bellmodels.study.store.
load_study`) and the task files (:func:`~bellmodels.study.store.load_task`): nothing is refitted
and no LOO or audit is recomputed here.

>>> from bellmodels.report.document import Document
>>> doc = Document()
>>> audit_section(doc, [])   # no model finished: the table is empty
>>> doc.blocks[0]
('h', (3, 'Audit'))
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bellmodels._util import COMPARISON_COLUMNS, correlators
from bellmodels.inference.evidence import EVIDENCE_SE_MAX, evidence_reliable
from bellmodels.inference.summary import FitSummary
from bellmodels.report.bayes_factors import bayes_factor_section
from bellmodels.report.document import Document, _fmt, save_figure
from bellmodels.study.store import load_task, read_task_summary, task_path

AUDIT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("S (params)", "S"),
    ("S (posterior mean)", "S_mean"),
    ("MI (params)", "mi_bits"),
    ("MI (posterior mean)", "mi_bits_mean"),
    ("Hall M (params)", "hall_M"),
    ("Hall M (posterior mean)", "hall_M_mean"),
    ("Hall bound", "hall_bound"),
    ("min MI", "min_mi_bits"),
    ("PI viol.", "parameter_independence_violation"),
    ("OI viol.", "outcome_independence_violation"),
    ("CH J", "ch_J"),
)
"""The audit table's numeric columns: ``(header, results.nc variable)``. Each number at the
model's parameters stands beside its posterior mean, so a model whose defaults say little (the
local polytope's S = 0) reads next to what the data made of it."""


def audit_row(q: Any) -> list[Any]:
    """One model's audit row from its slice of ``results.nc``: name, family, classification
    (at its parameters), then :data:`AUDIT_COLUMNS`."""
    head = [str(q["model"].item()), q["family"].item(), q["classification"].item()]
    return head + [float(q[var]) for _, var in AUDIT_COLUMNS]


def audit_section(doc: Document, models: Sequence[Any]) -> None:
    """The audit table: which of Bell's assumptions each model keeps and what it pays."""
    doc.h(3, "Audit")
    doc.p(
        "Which of Bell's assumptions each model keeps, read from its ontic table alone: `MI` = "
        "MI(λ; settings) in bits; `Hall M` = largest L1 distance between p(λ | pair) for two "
        "setting pairs; `Hall bound` = min(4, 2 + 3M), the largest S a local model with that M "
        "can reach; `PI viol.` / `OI viol.` = largest violation of parameter / outcome "
        "independence; `min MI` = least MI any local model needs for this model's behaviour. "
        "`(params)`: at the model's parameters (its defaults, the published values, or the "
        "maximum-likelihood values when trained), as are the classification and the columns "
        "after them; `(posterior mean)`: the mean over the PyMC posterior (– when not "
        "fitted)."
    )
    doc.table(
        ["model", "family", "classification", *(h for h, _ in AUDIT_COLUMNS)],
        [audit_row(q) for q in models],
    )


FIGURE_GROUPS: dict[str, list[str] | None] = {
    "posterior": ["S", "correlators", "mi_bits", "hall_M"],
    "audit_posterior": None,
    "sample_stats": ["energy"],
    "posterior_predictive": ["counts"],
}
"""What the figures read of each fit (S, correlators, the invariants' rank plots, the energy plot,
the predictive check): not the raw parameters or the per-cell arrays of every draw."""


def point_section(
    doc: Document,
    pt: Any,
    out: Path,
    heading: str,
    tag: str,
    colors: dict[str, Any],
    fig_dir: Path | None,
) -> None:
    """The results at one point ``pt`` (``results.nc`` at that point): figures into
    ``fig_dir`` named ``*_{tag}.png`` unless ``fig_dir`` is None."""
    doc.h(2, heading)
    s, se = float(pt["data_S"]), float(pt["data_S_se"])
    n = int(pt["n_trials"]) if np.isfinite(pt["n_trials"]) else "?"
    doc.p(f"Data: {n} trials, S = {_fmt(s)} ± {_fmt(se)} (local bound 2, Tsirelson 2√2 = 2.828).")
    task_ids = {
        str(m): str(pt["task"].sel(model=m).item())
        for m in pt["model"].values
        if str(pt["status"].sel(model=m).item()) == "done"
    }
    rows = stored_ranking(pt, task_ids)
    if rows:
        comparison_section(doc, pt, out, task_ids, rows)
    audit_section(doc, [pt.sel(model=m) for m in task_ids])
    loaded = (
        {m: load_task(out, tid, FIGURE_GROUPS) for m, tid in task_ids.items()} if fig_dir else {}
    )
    if fig_dir is not None and loaded:
        _figures(doc, pt, loaded, colors, fig_dir, tag, rows)
    if rows:
        diagnostics_section(doc, out, task_ids, rows, loaded, fig_dir, tag)


def stored_ranking(pt: Any, task_ids: dict[str, str]) -> dict[str, dict[str, Any]]:
    """The ranking of the fitted models at one point, as the runner stored it in the store."""
    rows = {}
    for m in task_ids:
        q = pt.sel(model=m)
        if not np.isfinite(float(q["rank"])):
            continue  # audited only
        rows[m] = {k: float(q[k]) for k in ("elpd_loo", "se", "elpd_diff", "dse", "weight")}
        rows[m]["p_loo"] = float(q["p_loo"])
        rows[m]["rank"] = int(q["rank"])
    return rows


def comparison_section(
    doc: Document,
    pt: Any,
    out: Path,
    task_ids: dict[str, str],
    rows: dict[str, dict[str, Any]],
) -> None:
    """The ranking by PSIS-LOO with evidence and S, the notes on it, and the Bayes factors."""
    doc.h(3, "Model comparison (PSIS-LOO, best first)")
    doc.p(
        "`elpd_diff`: ELPD difference to the best model (in nats, with its SE `dse`); `weight`: "
        "stacking weight; `log_evidence`: log marginal likelihood of the ordered trials "
        "(tempered SMC from the prior unless the study says otherwise) with its "
        "Monte Carlo error; `S_mean` and `S 94% HDI`: posterior of the model's CHSH value; "
        "`diag ok`: the diagnostics gate (R-hat, ESS, divergences) passed."
    )
    # the comparison's own column names up to log_evidence, then shorter display labels
    hdr = [*COMPARISON_COLUMNS[: COMPARISON_COLUMNS.index("log_evidence") + 1]]
    doc.table([*hdr, "log_ev_se", "S_mean", "S 94% HDI", "diag ok"], _comparison_rows(pt, rows))
    _comparison_notes(doc, pt, rows)
    _shared_fits(doc, out, task_ids, rows)
    bayes_factor_section(doc, pt, rows, out, task_ids)
    _not_fitted(doc, pt, out, task_ids, rows)


def _comparison_rows(pt: Any, rows: dict[str, dict[str, Any]]) -> list[list[Any]]:
    body = []
    for m, r in sorted(rows.items(), key=lambda kv: kv[1]["rank"]):
        q = pt.sel(model=m)
        ok = float(q["diagnostics_ok"])
        loo = [r[k] for k in ("elpd_loo", "se", "elpd_diff", "dse", "weight", "p_loo")]
        ev = [float(q[k]) for k in ("pareto_k_max", "log_evidence", "log_evidence_se", "S_mean")]
        hdi = f"[{_fmt(q['S_hdi_low'])}, {_fmt(q['S_hdi_high'])}]"
        body.append([m, *loo, *ev, hdi, "–" if not np.isfinite(ok) else bool(ok)])
    return body


def _comparison_notes(doc: Document, pt: Any, rows: dict[str, dict[str, Any]]) -> None:
    """Observationally equivalent models, and evidence too uncertain for a Bayes factor."""
    for group in equivalent_groups(rows):
        doc.p(
            "**Observationally equivalent**: "
            + ", ".join(f"`{m}`" for m in group)
            + " give the same behaviour for the same parameter values under the same "
            "priors, so their fits, LOO and evidence agree to every digit: the data cannot "
            "tell them apart, only the audit below can (they keep different assumptions)."
        )
    shaky = [
        m
        for m in rows
        if np.isfinite(float(pt.sel(model=m)["log_evidence"]))
        and not evidence_reliable(float(pt.sel(model=m)["log_evidence_se"]))
    ]
    if shaky:
        doc.p(
            "**Unreliable evidence**: the log evidence of "
            + ", ".join(f"`{m}`" for m in shaky)
            + f" has a Monte Carlo error above {EVIDENCE_SE_MAX:g} nat (the spread of "
            "independent SMC runs or bridge blocks; for bridge sampling also how far the "
            "estimate moves when its proposal is widened), so no Bayes factor is formed "
            "from it; rank these models by LOO, or rerun with more SMC particles."
        )


def _shared_fits(doc: Document, out: Path, task_ids: dict[str, str], rows: dict[str, Any]) -> None:
    """Which models were not sampled but share the fit of an observationally equivalent one
    (``shared_fit_with`` in their task summary: :mod:`bellmodels.study.jobs`)."""
    shared: dict[str, list[str]] = {}
    for m in rows:
        source = read_task_summary(task_path(out, task_ids[m])).get("shared_fit_with")
        if source:
            shared.setdefault(str(source["model"]), []).append(m)
    for source, members in shared.items():
        doc.p(
            "**Fitted once**: "
            + ", ".join(f"`{m}`" for m in members)
            + f" {'shares' if len(members) == 1 else 'share'} the fit of `{source}` (one sampler run and one evidence estimate; each "
            "model declares the same observational family, checked numerically before sharing), "
            "so their LOO and evidence are equal by construction; each is audited on its own."
        )


def _not_fitted(
    doc: Document, pt: Any, out: Path, task_ids: dict[str, str], rows: dict[str, Any]
) -> None:
    """Models audited only: as the study file asks, or because the data are a table the model
    cannot describe (the reason its task stored)."""
    not_fitted = [m for m in task_ids if m not in rows]
    refused = {
        m: read_task_summary(task_path(out, task_ids[m])).get("not_fitted") for m in not_fitted
    }
    asked = [m for m in not_fitted if not refused[m]]
    if asked:
        doc.p(
            "Not fitted (audited only, as the study file asks): "
            + ", ".join(f"`{m}`" for m in asked)
            + "."
        )
    if any(refused.values()):
        doc.p("Not fitted because the data are a kind of table the model cannot describe:")
        doc.table(["model", "reason"], [[m, r] for m, r in refused.items() if r])


def equivalent_groups(rows: dict[str, dict[str, Any]]) -> list[list[str]]:
    """Models whose LOO results agree to 1e-9 (the same likelihood and prior).

    >>> r = {"elpd_loo": -10.0, "p_loo": 1.0}
    >>> equivalent_groups({"a": r, "b": dict(r), "c": {"elpd_loo": -12.0, "p_loo": 1.0}})
    [['a', 'b']]
    """
    groups: list[list[str]] = []
    for m, r in rows.items():
        for g in groups:
            ref = rows[g[0]]
            if all(
                abs(r[k] - ref[k]) <= 1e-9 * max(1.0, abs(ref[k])) for k in ("elpd_loo", "p_loo")
            ):
                g.append(m)
                break
        else:
            groups.append([m])
    return [g for g in groups if len(g) > 1]


def _figures(
    doc: Document,
    pt: Any,
    loaded: dict[str, tuple[Any, Any]],
    colors: dict[str, Any],
    fig_dir: Path,
    tag: str,
    rows: dict[str, dict[str, Any]],
) -> None:
    """Correlators, S, p(lambda | settings) and, with two fitted models or more, the comparison."""
    from bellmodels import plots
    from bellmodels.data import Counts

    doc.h(3, "Figures")
    counts = Counts(next(iter(loaded.values()))[0]["counts"])
    corr = _correlator_summaries(loaded)
    f = plots.plot_correlators(counts.scenario, counts.values, corr, colors=colors)
    doc.fig(
        save_figure(f, fig_dir, f"correlators_{tag}.png"),
        "Correlators E per setting pair against θ = angle_a − angle_b: data (black squares, ±1 "
        "SE) and each model (posterior mean with 94% interval when fitted, else at its "
        "parameters); grey lines: the singlet −cos θ and the local sawtooth. Lower panel: "
        "(model − data) / SE.",
    )
    samples = {
        m: np.asarray(idata.posterior["S"]).ravel()
        if idata is not None and "S" in idata.posterior
        else np.array([float(pt.sel(model=m)["S"])])
        for m, (_, idata) in loaded.items()
    }
    s, se = float(pt["data_S"]), float(pt["data_S_se"])
    f = plots.plot_S_posterior(samples, data_S=s, data_S_se=se, colors=colors)
    doc.fig(
        save_figure(f, fig_dir, f"S_posterior_{tag}.png"),
        "CHSH S per model. Left: posterior mean and 94% interval on the whole range, against "
        "the local bound 2, Tsirelson's 2√2 and the algebraic 4 (diamonds: models not fitted, "
        "at their parameters). Right: zoom on the data (gold: S ± 2 SE) with the posterior "
        "draws as violins; models off the zoom are named at its edge.",
    )
    tables = _lambda_tables(loaded)
    if tables:
        doc.fig(
            save_figure(
                plots.plot_p_lambda(tables, counts.scenario), fig_dir, f"p_lambda_{tag}.png"
            ),
            "p(λ | setting pair) for the models with a finite λ (at their parameters). Identical "
            "rows = measurement independence; the RBM's 16 hidden states have rows that differ: "
            "its λ depends on the settings (Weinstein 2017).",
        )
    if len(rows) > 1:
        import pandas as pd

        frame = pd.DataFrame.from_dict(rows, orient="index").sort_values("rank")
        doc.fig(
            save_figure(plots.plot_compare(frame), fig_dir, f"compare_{tag}.png"),
            "Left: ArviZ plot_compare (ELPD-LOO ± SE per model). Right: each model's ELPD "
            "difference to the best ± its SE, on a symmetric-log axis.",
        )


def _correlator_summaries(loaded: dict[str, tuple[Any, Any]]) -> dict[str, dict[str, Any]]:
    """Each model's correlators: posterior mean and 94% interval when fitted, else at its
    parameters (from the behaviour its task stored)."""
    corr: dict[str, dict[str, Any]] = {}
    for m, (ex, idata) in loaded.items():
        if idata is not None and "correlators" in idata.posterior:
            c = np.asarray(idata.posterior["correlators"])
            c = c.reshape(-1, *c.shape[2:])
            lo, hi = np.quantile(c, [0.03, 0.97], axis=0)
            corr[m] = {"mean": c.mean(axis=0), "lo": lo, "hi": hi}
        else:
            corr[m] = {"mean": correlators(np.asarray(ex["behaviour"]))}
    return corr


def _lambda_tables(loaded: dict[str, tuple[Any, Any]]) -> dict[str, tuple[np.ndarray, Any]]:
    """p(lambda | settings) and lambda's labels of the models with 2 to 64 values of lambda."""
    tables = {}
    for m, (ex, _) in loaded.items():
        lam = json.loads(ex.attrs.get("lam_labels", "[]"))
        p = np.asarray(ex["p_lambda"])
        if 1 < p.shape[2] <= 64:
            tables[m] = (p, lam or list(range(p.shape[2])))
    return tables


def diagnostics_section(
    doc: Document,
    out: Path,
    task_ids: dict[str, str],
    rows: dict[str, dict[str, Any]],
    loaded: dict[str, tuple[Any, Any]],
    fig_dir: Path | None,
    tag: str,
) -> None:
    """The diagnostics gate of every fit in one table (from the task summaries), then each
    model's rank, energy and posterior predictive plots, collapsed until opened."""
    doc.h(3, "Diagnostics gate")
    doc.p(
        "Judged on the invariant quantities (S, correlators, total log likelihood, MI, "
        "Hall M), never on raw weights that a model does not identify."
    )
    gate = [_gate_row(m, out, task_ids[m]) for m in sorted(rows, key=lambda k: rows[k]["rank"])]
    doc.table(
        ["model", "ok", "R-hat max", "ESS bulk min", "ESS tail min", "divergences", "reasons"], gate
    )
    fitted = [m for m in task_ids if loaded.get(m, (None, None))[1] is not None]
    if fig_dir is None or not fitted:
        return
    doc.p(
        "Per model (open to see): rank plots of the invariant quantities (S, MI, Hall M: the "
        "parameters themselves are not identified for every model, e.g. the RBM's hidden units "
        "permute), the NUTS energy plot, and the posterior predictive check of the 16 counts."
    )
    from bellmodels import plots
    from bellmodels.data import Counts

    counts = Counts(next(iter(loaded.values()))[0]["counts"])
    for m in fitted:
        f = plots.plot_diagnostics(loaded[m][1], counts.values, counts.scenario, title=m)
        rel = save_figure(f, fig_dir, f"diagnostics_{tag}_{m}.png")
        verdict = {r[0]: "passes" if r[1] else "fails" for r in gate}.get(m, "not judged")
        with doc.details(f"{m} ({verdict} the gate): rank plots, energy, predictive check"):
            doc.fig(rel, f"{m}: rank plots, energy plot, posterior predictive check.")


def _gate_row(model: str, out: Path, task_id: str) -> list[Any]:
    """One fit's gate: passed or not, R-hat, ESS, divergences and the first reasons."""
    record = read_task_summary(task_path(out, task_id)).get("fit") or {}
    fit = FitSummary.from_dict(record, model=model)
    d, reasons = fit.diagnostics, fit.reasons
    why = "; ".join(str(r) for r in reasons[:4]) + (" …" if len(reasons) > 4 else "")
    keys = ("rhat_max", "ess_bulk_min", "ess_tail_min", "divergences")
    return [model, bool(d.get("ok", False)), *(d.get(k) for k in keys), why]


__all__ = [
    "AUDIT_COLUMNS",
    "audit_row",
    "audit_section",
    "comparison_section",
    "diagnostics_section",
    "equivalent_groups",
    "point_section",
    "stored_ranking",
]
