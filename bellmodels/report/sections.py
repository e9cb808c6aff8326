"""The sections of a study report, read from the results store (:mod:`bellmodels.study.store`):
``DIR/report.md``, ``DIR/report.html`` and ``DIR/figures/*.png`` (:func:`write_report`).

The model comparison is the ranking the runner stored in ``results.nc``
(:func:`bellmodels.comparison.rank`): nothing is refitted and no LOO is recomputed here.

Example
-------
>>> from bellmodels.report import write_report

On a finished study (``tests/study/test_study.py`` checks the report of small ones)::

    write_report("out/weinstein2017")
    # -> PosixPath('out/weinstein2017/report.md')
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from bellmodels._util import COMPARISON_COLUMNS, correlators, write_atomic
from bellmodels.inference.evidence import (
    EVIDENCE_SE_MAX,
    evidence_reliable,
)
from bellmodels.inference.summary import FitSummary
from bellmodels.report.bayes_factors import bayes_factor_section
from bellmodels.report.document import Document, _fmt, save_figure
from bellmodels.report.sweeps import _coords_text, _md_section, _sweep_section
from bellmodels.study.store import load_study, load_task, read_task_summary, task_path

MAX_POINT_SECTIONS = 4
"""Sweep points with their own figures; larger sweeps get sweep figures and pivot tables."""


def write_report(out_dir: str | os.PathLike[str]) -> Path:
    """Write ``report.md``, ``report.html`` and ``figures/*.png`` for a study directory.

    Parameters
    ----------
    out_dir
        A directory written by :func:`bellmodels.study.run_study` (holds ``results.nc``).

    Returns
    -------
    pathlib.Path
        The Markdown report.

    Examples
    --------
    On a finished study (``tests/study/test_study.py`` checks the report of small ones)::

        write_report("out/weinstein2017")
        # -> PosixPath('out/weinstein2017/report.md')
    """
    out = Path(out_dir)
    ds = load_study(out)
    info = json.loads(ds.attrs["config"])
    config = info["config"]
    axes = [a["name"] for a in info["axes"]]
    fig_dir = out / "figures"
    fig_dir.mkdir(exist_ok=True)
    for old in fig_dir.glob("*.png"):
        old.unlink()
    figures = config.get("report", {}).get("figures", True)

    doc = Document()
    title = config["study"].get("title") or f"Study {config['study']['name']}"
    doc.h(1, title)
    if config["study"].get("description"):
        doc.p(config["study"]["description"])
    for note in json.loads(ds.attrs.get("input_changes", "[]")):
        doc.p(f"**Note:** {note}.")
    _setup_section(doc, ds, config, info)
    from bellmodels.significance import report_table  # one shipped dataset: its p-values

    if (sig := report_table(config["data"], info["axes"])) is not None:
        doc.h(2, sig[0])
        doc.table(sig[1], sig[2])
    models = [str(m) for m in ds["model"].values]
    from bellmodels.plots import model_colors

    colors = model_colors(models)
    points = list(np.ndindex(*[ds.sizes[a] for a in axes])) if axes else [()]
    _failures(doc, ds, axes, points)

    if len(points) <= MAX_POINT_SECTIONS:
        for k, idx in enumerate(points):
            _point_section(doc, ds, out, axes, idx, k, colors, figures, fig_dir)
    else:
        _sweep_section(doc, ds, out, axes, points, colors, figures, fig_dir)
    if figures:
        _md_section(doc, ds, out, axes, points, colors, fig_dir, config)
    _provenance(doc, ds)

    md = out / "report.md"
    for path, text in ((md, doc.markdown()), (out / "report.html", doc.html(title))):
        write_atomic(path, text)
    return md


def results_markdown(out_dir: str | os.PathLike[str], heading_level: int = 2) -> str:
    """The report's results sections of a study run (comparison, Bayes factors, gate, audit at
    every sweep point), as Markdown without figures: for pages that show a study's tables.

    On a finished run (``tests/study/test_study.py`` checks it on a small one)::

        md = results_markdown("out/real_data")
    """
    out = Path(out_dir)
    ds = load_study(out)
    info = json.loads(ds.attrs["config"])
    axes = [a["name"] for a in info["axes"]]
    models = [str(m) for m in ds["model"].values]
    from bellmodels.plots import model_colors

    colors = model_colors(models)
    doc = Document()
    points = list(np.ndindex(*[ds.sizes[a] for a in axes])) if axes else [()]
    for k, idx in enumerate(points):
        _point_section(doc, ds, out, axes, idx, k, colors, False, out / "figures")
    text = doc.markdown()
    shift = heading_level - 2  # the report's result sections are level 2
    if shift:
        text = "\n".join(
            ("#" * shift + line) if line.startswith("#") else line for line in text.splitlines()
        )
    return text


def _setup_section(doc: Document, ds: Any, config: dict[str, Any], info: dict[str, Any]) -> None:
    # swept data fields hold the first point's value here: name the sweep instead
    swept = {a["key"][5:] for a in info["axes"] if a["key"].startswith("data.")}
    data = {k: "(swept, see below)" if k in swept else v for k, v in config["data"].items()}
    inf = config["inference"]
    doc.h(2, "Set-up")
    if data["source"] == "simulate":
        src = (
            f"simulated spin-singlet trials (`simulate_singlet`): n_trials = {data.get('n_trials', data.get('trials'))}, "
            f"visibility = {data['visibility']}, seed = {data['seed']}, scenario "
            f"{data['scenario']}, settings uniform unless given"
        )
    elif data["source"] == "dataset":
        one = f"shipped dataset `{data['dataset']}`"
        src = "shipped datasets, one per sweep point (see below)" if "dataset" in swept else one
    else:
        src = f"file `{data['path']}`"
    doc.p(f"**Data**: {src}.")
    doc.p("**Models**: " + ", ".join(f"`{m}`" for m in ds["model"].values) + ".")
    if inf.get("fit", True):
        doc.p(
            f"**Inference** (PyMC): draws = {inf['draws']}, tune = {inf['tune']}, chains = "
            f"{inf['chains']}, seed = {inf['seed']}, sampler = {inf['sampler']}, evidence = "
            f"{inf['evidence']}. Each model is also audited at its parameters (its defaults, the "
            "published values, or the maximum-likelihood values when trained)."
        )
    else:
        doc.p("**Inference**: none (audit only).")
    opts = config["models"].get("options") or {}
    if opts:
        doc.p("**Model options**: " + "; ".join(f"`{m}`: {json.dumps(o)}" for m, o in opts.items()))
    if info["axes"]:
        doc.p(
            "**Sweep axes**: "
            + "; ".join(f"`{a['key']}` = {a['values']}" for a in info["axes"])
            + f" ({int(np.prod([len(a['values']) for a in info['axes']]))} points)."
        )
    secs = ds.attrs.get("tasks_seconds")
    if secs is not None:
        doc.p(f"**Wall time of the tasks**: {float(secs):.1f} s.")


def _failures(doc: Document, ds: Any, axes: list[str], points: list[tuple[int, ...]]) -> None:
    rows = []
    for idx in points:
        for j, m in enumerate(ds["model"].values):
            status = str(ds["status"].values[(*idx, j)])
            if status and status != "done":
                coords = _coords_text(ds, axes, idx)
                rows.append([m, coords, status, str(ds["error"].values[(*idx, j)])[:300]])
    if rows:
        doc.h(2, "Failed tasks")
        doc.p("These tasks did not finish; re-run the study to retry them.")
        doc.table(["model", "point", "status", "error"], rows)


def _task_ids(ds: Any, idx: tuple[int, ...]) -> dict[str, str]:
    return {
        str(m): str(ds["task"].values[(*idx, j)])
        for j, m in enumerate(ds["model"].values)
        if str(ds["status"].values[(*idx, j)]) == "done"
    }


def _point_section(
    doc: Document,
    ds: Any,
    out: Path,
    axes: list[str],
    idx: tuple[int, ...],
    k: int,
    colors: dict[str, Any],
    figures: bool,
    fig_dir: Path,
) -> None:
    sel = {a: i for a, i in zip(axes, idx, strict=True)}
    pt = ds.isel(sel) if sel else ds
    label = _coords_text(ds, axes, idx)
    doc.h(2, "Results" + (f" at {label}" if sel else ""))
    s, se = float(pt["data_S"]), float(pt["data_S_se"])
    doc.p(
        f"Data: {int(pt['n_trials']) if np.isfinite(pt['n_trials']) else '?'} trials, "
        f"S = {_fmt(s)} ± {_fmt(se)} (local bound 2, Tsirelson 2√2 = 2.828)."
    )
    task_ids = _task_ids(ds, idx)
    rows = _stored_ranking(pt, task_ids)

    # comparison table
    if rows:
        doc.h(3, "Model comparison (PSIS-LOO, best first)")
        doc.p(
            "`elpd_diff`: ELPD difference to the best model (in nats, with its SE `dse`); `weight`: "
            "stacking weight; `log_evidence`: log marginal likelihood of the ordered trials "
            "(tempered SMC from the prior unless the study says otherwise) with its "
            "Monte Carlo error; "
            "`S_mean` and `S 94% HDI`: posterior of the model's CHSH value; `diag ok`: the "
            "diagnostics gate (R-hat, ESS, divergences) passed."
        )
        # the comparison's own column names up to log_evidence, then shorter display labels
        hdr = [
            *COMPARISON_COLUMNS[: COMPARISON_COLUMNS.index("log_evidence") + 1],
            "log_ev_se",
            "S_mean",
            "S 94% HDI",
            "diag ok",
        ]
        body = []
        for m, r in sorted(rows.items(), key=lambda kv: kv[1]["rank"]):
            q = pt.sel(model=m)
            ok = float(q["diagnostics_ok"])
            body.append(
                [
                    m,
                    r["elpd_loo"],
                    r["se"],
                    r["elpd_diff"],
                    r["dse"],
                    r["weight"],
                    r["p_loo"],
                    float(q["pareto_k_max"]),
                    float(q["log_evidence"]),
                    float(q["log_evidence_se"]),
                    float(q["S_mean"]),
                    f"[{_fmt(q['S_hdi_low'])}, {_fmt(q['S_hdi_high'])}]",
                    "–" if not np.isfinite(ok) else bool(ok),
                ]
            )
        doc.table(hdr, body)
        for group in _equivalent_groups(rows):
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
        bayes_factor_section(doc, pt, rows, out, task_ids)
        not_fitted = [
            str(m)
            for m in pt["model"].values
            if str(m) not in rows and pt.sel(model=m)["status"].item() == "done"
        ]
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
        _diagnostics_table(doc, out, task_ids, rows)

    # audit table
    doc.h(3, "Audit (at each model's parameters)")
    doc.p(
        "Which of Bell's assumptions each model keeps, read from its ontic table alone: `MI` = "
        "MI(λ; settings) in bits; `Hall M` = largest L1 distance between p(λ | pair) for two "
        "setting pairs; `Hall bound` = min(4, 2 + 3M), the largest S a local model with that M "
        "can reach; `PI viol.` / `OI viol.` = largest violation of parameter / outcome "
        "independence; `min MI` = least MI any local model needs for this model's behaviour. "
        "The columns marked `post.` are posterior means from the PyMC fit (the parameters "
        "above are the model's defaults, the published values, or the maximum-likelihood "
        "values when trained)."
    )
    hdr = [
        "model",
        "family",
        "classification",
        "S",
        "MI (bits)",
        "Hall M",
        "Hall bound",
        "min MI",
        "PI viol.",
        "OI viol.",
        "CH J",
        "S post.",
        "MI post.",
        "Hall M post.",
    ]
    body = []
    for m in pt["model"].values:
        q = pt.sel(model=m)
        if q["status"].item() != "done":
            continue
        body.append(
            [
                str(m),
                q["family"].item(),
                q["classification"].item(),
                float(q["S"]),
                float(q["mi_bits"]),
                float(q["hall_M"]),
                float(q["hall_bound"]),
                float(q["min_mi_bits"]),
                float(q["parameter_independence_violation"]),
                float(q["outcome_independence_violation"]),
                float(q["ch_J"]),
                float(q["S_mean"]),
                float(q["mi_bits_mean"]),
                float(q["hall_M_mean"]),
            ]
        )
    doc.table(hdr, body)
    if not figures or not task_ids:
        return

    from bellmodels import plots
    from bellmodels.data import Counts

    tag = f"p{k}" if sel else "main"
    extras: dict[str, Any] = {}
    fits: dict[str, Any] = {}
    for m, tid in task_ids.items():
        extras[m], fits[m] = load_task(out, tid)
    first = next(iter(extras.values()))
    counts = Counts(first["counts"])
    scn = counts.scenario

    corr = {}
    for m, ex in extras.items():
        idata = fits[m]
        if idata is not None and "correlators" in idata.posterior:
            c = np.asarray(idata.posterior["correlators"])
            c = c.reshape(-1, *c.shape[2:])
            lo, hi = np.quantile(c, [0.03, 0.97], axis=0)
            corr[m] = {"mean": c.mean(axis=0), "lo": lo, "hi": hi}
        else:
            b = np.asarray(ex["behaviour"])
            corr[m] = {"mean": correlators(b)}
    f = plots.plot_correlators(scn, counts.values, corr, colors=colors)
    rel = save_figure(f, fig_dir, f"correlators_{tag}.png")
    doc.fig(
        rel,
        "Correlators E per setting pair against θ = angle_a − angle_b: data (black squares, ±1 "
        "SE) and each model (posterior mean with 94% interval when fitted, else at its "
        "parameters); grey lines: the singlet −cos θ and the local sawtooth. Lower panel: "
        "(model − data) / SE.",
    )

    samples = {}
    for m in task_ids:
        idata = fits[m]
        if idata is not None and "S" in idata.posterior:
            samples[m] = np.asarray(idata.posterior["S"]).ravel()
        else:
            samples[m] = np.array([float(pt.sel(model=m)["S"])])
    f = plots.plot_S_posterior(samples, data_S=s, data_S_se=se, colors=colors)
    rel = save_figure(f, fig_dir, f"S_posterior_{tag}.png")
    doc.fig(
        rel,
        "CHSH S per model. Left: posterior mean and 94% interval on the whole range, against "
        "the local bound 2, Tsirelson's 2√2 and the algebraic 4 (diamonds: models not fitted, "
        "at their parameters). Right: zoom on the data (gold: S ± 2 SE) with the posterior "
        "draws as violins; models off the zoom are named at its edge.",
    )

    tables = {}
    for m, ex in extras.items():
        lam = json.loads(ex.attrs.get("lam_labels", "[]"))
        p = np.asarray(ex["p_lambda"])
        if p.shape[2] <= 64 and p.shape[2] > 1:
            tables[m] = (p, lam or list(range(p.shape[2])))
    if tables:
        f = plots.plot_p_lambda(tables, scn)
        rel = save_figure(f, fig_dir, f"p_lambda_{tag}.png")
        doc.fig(
            rel,
            "p(λ | setting pair) for the models with a finite λ (at their parameters). Identical "
            "rows = measurement independence; the RBM's 16 hidden states have rows that differ: "
            "its λ depends on the settings (Weinstein 2017).",
        )

    if len(rows) > 1:
        f = plots.plot_compare(_ranking_frame(rows))
        rel = save_figure(f, fig_dir, f"compare_{tag}.png")
        doc.fig(
            rel,
            "Left: ArviZ plot_compare (ELPD-LOO ± SE per model). Right: each model's ELPD "
            "difference to the best ± its SE, on a symmetric-log axis.",
        )

    diag_models = [m for m in task_ids if fits[m] is not None]
    if diag_models:
        doc.h(3, "Diagnostics")
        doc.p(
            "Rank plots of the invariant quantities (S, MI, Hall M: the parameters themselves "
            "are not identified for every model, e.g. the RBM's hidden units permute), the NUTS "
            "energy plot, and the posterior predictive check of the 16 counts, per model."
        )
    for m in diag_models:
        idata = fits[m]
        f = plots.plot_diagnostics(idata, counts.values, scn, title=m)
        rel = save_figure(f, fig_dir, f"diagnostics_{tag}_{m}.png")
        doc.fig(rel, f"{m}: rank plots, energy plot, posterior predictive check.")


def _stored_ranking(pt: Any, task_ids: dict[str, str]) -> dict[str, dict[str, Any]]:
    """The ranking of the fitted models at one point, as the runner stored it in the store."""
    rows = {}
    for m in task_ids:
        q = pt.sel(model=m)
        if not np.isfinite(float(q["rank"])):
            continue  # audited only
        rows[m] = {
            "rank": int(q["rank"]),
            "elpd_loo": float(q["elpd_loo"]),
            "se": float(q["se"]),
            "elpd_diff": float(q["elpd_diff"]),
            "dse": float(q["dse"]),
            "weight": float(q["weight"]),
            "p_loo": float(q["p_loo"]),
        }
    return rows


def _ranking_frame(rows: dict[str, dict[str, Any]]) -> Any:
    import pandas as pd

    return pd.DataFrame.from_dict(rows, orient="index").sort_values("rank")


def _equivalent_groups(rows: dict[str, dict[str, Any]]) -> list[list[str]]:
    """Models whose LOO results agree to 1e-9 (the same likelihood and prior)."""
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


def _diagnostics_table(
    doc: Document, out: Path, task_ids: dict[str, str], rows: dict[str, dict[str, Any]]
) -> None:
    """Why each fit passed or failed the diagnostics gate (from the task summaries)."""
    body = []
    for m in sorted(rows, key=lambda k: rows[k]["rank"]):
        record = read_task_summary(task_path(out, task_ids[m])).get("fit") or {}
        fit = FitSummary.from_dict(record, model=m)
        d, reasons = fit.diagnostics, fit.reasons
        body.append(
            [
                m,
                bool(d.get("ok", False)),
                d.get("rhat_max"),
                d.get("ess_bulk_min"),
                d.get("ess_tail_min"),
                d.get("divergences"),
                "; ".join(str(r) for r in reasons[:4]) + (" …" if len(reasons) > 4 else ""),
            ]
        )
    if body:
        doc.h(3, "Diagnostics gate")
        doc.p(
            "Judged on the invariant quantities (S, correlators, total log likelihood, MI, "
            "Hall M), never on raw weights that a model does not identify."
        )
        doc.table(
            ["model", "ok", "R-hat max", "ESS bulk min", "ESS tail min", "divergences", "reasons"],
            body,
        )


def _provenance(doc: Document, ds: Any) -> None:
    doc.h(2, "Provenance")
    wall = ds["seconds"].values
    if np.isfinite(wall).any() and "cpu_seconds" in ds:
        models = [str(m) for m in ds["model"].values]
        flat_w = wall.reshape(-1, len(models))
        flat_c = ds["cpu_seconds"].values.reshape(-1, len(models))
        rows = [
            [m, float(np.nansum(flat_w[:, j])), float(np.nansum(flat_c[:, j]))]
            for j, m in enumerate(models)
        ]
        doc.p(
            "Time per model, summed over sweep points (wall: as the task saw it on this "
            "machine; CPU: the task's own process). Tasks shared by several points count once "
            "per point."
        )
        doc.table(["model", "wall (s)", "CPU (s)"], rows)
    versions = json.loads(ds.attrs.get("versions", "{}") or "{}")
    if versions:
        doc.table(["package", "version"], sorted(versions.items()))
    doc.p(
        "Results: `results.nc` (load with `bellmodels.load_study(DIR)`); one NetCDF per task in "
        "`tasks/` (the InferenceData of the fit plus a `bellmodels` group with the audit, the "
        "model's behaviour and ontic table, the resolved configuration and these versions)."
    )
    doc.code(json.dumps(json.loads(ds.attrs["config"])["config"], indent=2))


__all__ = ["MAX_POINT_SECTIONS", "write_report"]
