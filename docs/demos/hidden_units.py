"""Demonstration: how many hidden units does the EPR machine need? (issue #26)

S. Weinstein trained a restricted Boltzmann machine with 4 hidden units on simulated singlet
trials and wrote that it "could be further refined, but there is no point, as it would merely
overfit the data" ("Learning the Einstein-Podolsky-Rosen correlations on a Restricted Boltzmann
Machine", arXiv:1707.03114 (2017), Results). This script reads a run of
``bellmodels/studies/hidden_units.toml`` (the RBM and the conditional RBM of S. Weinstein, arXiv:1807.03910
(2018), with 1 ... 8 hidden units, on delft2015 and on simulated singlet trials; the study fits,
this script fits nothing) and answers with the study's numbers:

- the log evidence (tempered SMC from the prior, which counts the n! 2^n symmetric images of every
  mode) and the PSIS-LOO ELPD against the number of hidden units, with their errors;
- the log Bayes factor and the ELPD difference (its standard error from the paired per-trial
  values, exact over the 16 cells) between neighbouring sizes;
- the maximum-likelihood KL of each size (exact training), and the posterior MI(lambda; settings)
  and Hall's M against the least MI any local model needs for the data's behaviour;
- in words: the size each criterion prefers, by how much, and whether "no point refining" beyond
  4 hidden units holds, for the evidence and for LOO (which can disagree).

Every fit is checked against the diagnostics gate and every evidence against the 0.5 nat bar;
a row that fails either is shown but enters no statement. The evidence of the largest machine at
every data point run is checked against a larger SMC run (twice the particles, twice the HMC
transitions per stage, another seed), computed here and cached in ``STUDY_DIR/evidence_check/``.
Points of the study not run yet are listed as such, never filled in.

Outputs (``--out``): ``demo_hidden_units.md``, ``demo_hidden_units.json``,
``demo_hidden_units.png``. Run::

    bellmodels run hidden_units --workers 1 --no-report --out results/hidden_units
    python docs/demos/hidden_units.py --study-dir results/hidden_units

The sweep costs many CPU hours (``cpu_seconds`` per row in the JSON). ``--carry FILE`` takes
the rows a study directory does not hold yet, and their larger-run checks, from the JSON of an
earlier run of this script (the committed ``docs/generated/demo_hidden_units.json``), so that a
sweep run in parts, on different machines, adds up; the page marks every carried row with † and
the package versions it was computed with. A row is carried only for the same task id (the hash
of its whole task configuration), never in place of one the study directory holds. Without
``--carry`` the page is the study directory's alone.

``--size small`` runs a small version of the study itself (delft2015, 1 and 2 hidden units, few
draws) into ``--study-dir`` (default: a temporary directory): it exercises the pipeline in about
a minute, and its fits are too short to pass the gate, which the page then says.
"""

from __future__ import annotations

import json
import math
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

from docgen import fmt, md_table, parser, provenance, save_figure, write_atomic, write_json

from bellmodels.studies import path as shipped_study

ROOT = Path(__file__).resolve().parents[2]
# the study shipped inside the package, found wherever the package is installed (not beside this
# script: a downloaded notebook or the docs build's copy of docs/ has no bellmodels/ next to it)
STUDY = shipped_study("hidden_units")
STUDY_SOURCE = "bellmodels/studies/hidden_units.toml"
COMMAND = (
    "bellmodels run hidden_units --workers 1 --no-report --out results/hidden_units"
    " && python docs/demos/hidden_units.py --study-dir results/hidden_units"
)
MODELS = ("rbm", "crbm")
WEINSTEIN_N = 4
SE_MAX = 0.5  # bellmodels.inference.evidence.EVIDENCE_SE_MAX
CHECK_SCALE = 2  # the larger run: x2 particles and x2 HMC transitions per stage
SMALL_OVERRIDES = [
    "data.source=dataset",
    *(
        f"models.{m}.{key}"
        for m in MODELS
        for key in (
            "params.n_hidden=[1, 2]",
            "inference.draws=150",
            "inference.evidence_draws=60",
            "inference.evidence_hmc_steps=2",
            "inference.evidence_chains=2",
            "inference_at=[]",  # the study's larger settings at chosen points: not here
        )
    ),
    "inference.tune=150",
]


def _label(data: dict[str, Any]) -> str:
    if data["source"] == "dataset":
        return str(data["dataset"])
    return f"simulated, {int(data['n_trials']):,} trials, V = {float(data['visibility']):g}"


def load_rows(study_file: Path, study_dir: Path, overrides: list[str]) -> list[dict[str, Any]]:
    """One row per (data, machine, n_hidden) of the study file: the task's numbers, or its status
    (``missing``: not run yet; ``failed``: with its error)."""
    from bellmodels.study import load_study_file
    from bellmodels.study.store import collect_summaries

    cfg = load_study_file(study_file, overrides=overrides)
    summaries = collect_summaries(cfg, study_dir)
    rows: dict[str, dict[str, Any]] = {}
    for _coords, tasks in cfg.grid():
        for task in tasks:
            if task.id in rows:
                continue
            s = summaries[task.id]
            data = task.config["data"]
            row = {
                "task": task.id,
                "data": _label(data),
                "data_config": dict(data),
                "base_dir": task.config.get("base_dir", "."),
                "model": task.model,
                "n_hidden": int(task.config["options"]["params"]["n_hidden"]),
                "status": s["status"],
                "inference": task.config["inference"],
                "carried": False,
            }
            if s["status"] == "failed":
                row["error"] = str(s.get("error", ""))[:300]
            if s["status"] == "done":
                row.update(_numbers(s))
                if not row["gate_ok"]:
                    row["chain_means"] = chain_means(study_dir / "tasks" / f"{task.id}.nc")
            rows[task.id] = row
    return list(rows.values())


def _numbers(s: dict[str, Any]) -> dict[str, Any]:
    fit, train = s.get("fit") or {}, s.get("train") or {}
    diag = fit.get("diagnostics") or {}
    ev = fit.get("evidence") or {}
    return {
        "n_trials": int(s["n_trials"]),
        "ml_kl": train.get("kl"),
        "ml_mi_bits": train.get("mi_bits"),
        "min_mi_bits": s["data_audit"].get("min_mi_bits"),
        "data_S": s["data_audit"].get("S"),
        "log_evidence": fit.get("log_evidence"),
        "log_evidence_se": fit.get("log_evidence_se"),
        "evidence_runs": ev.get("repetitions"),
        "evidence_settings": {
            k: ev.get(k) for k in ("evidence_chains", "evidence_draws", "evidence_hmc_steps")
        },
        "elpd_loo": fit.get("elpd_loo"),
        "elpd_se": fit.get("se"),
        "p_loo": fit.get("p_loo"),
        "pareto_k_max": fit.get("pareto_k_max"),
        "loo_cells": fit.get("loo_cells"),
        "cell_counts": fit.get("cell_counts"),
        "S_mean": fit.get("S_mean"),
        "mi_bits_mean": fit.get("mi_bits_mean"),
        "hall_M_mean": fit.get("hall_M_mean"),
        "gate_ok": bool(fit.get("diagnostics_ok")),
        "gate": {k: diag.get(k) for k in ("rhat_max", "ess_bulk_min", "ess_tail_min")}
        | {"divergences": diag.get("divergences"), "reasons": diag.get("reasons")},
        "cpu_seconds": s.get("cpu_seconds"),
        "versions": {k: (s.get("versions") or {}).get(k) for k in ("python", "bellmodels", "pymc")},
    }


def chain_means(path: Path) -> dict[str, list[float]]:
    """Each chain's mean of the total log likelihood and of MI(lambda; settings) in bits: why a
    fit fails the gate (chains that settle in different modes differ by more than their spread).
    """
    import arviz as az

    from bellmodels.inference.diagnostics import _gate_arrays  # the quantities the gate judged

    judged = _gate_arrays(az.from_netcdf(path))
    return {
        name: [float(x) for x in judged[name][:, :, 0].mean(axis=1)]
        for name in ("log_lik_total", "mi_bits")
    }


def carry(
    rows: list[dict[str, Any]], earlier: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The rows with every one the study directory does not hold (``missing``) replaced by the
    done row of the same task id in ``earlier`` (a JSON this script wrote), marked ``carried``;
    and ``earlier``'s larger-run checks of the tasks carried."""
    if earlier.get("size") != "full":
        raise ValueError("--carry: the earlier JSON is of a --size small run, not of the study")
    old = {r["task"]: r for r in earlier.get("rows", []) if r.get("status") == "done"}
    out, taken = [], set()
    for r in rows:
        prev = old.get(r["task"])
        if r["status"] == "missing" and prev is not None:
            if "loo_cells" not in prev:
                raise ValueError(f"--carry: row {r['task']} has no per-cell LOO values")
            r = {**prev, "carried": True, "base_dir": r["base_dir"]}
            taken.add(r["task"])
        out.append(r)
    checks = [c for c in earlier.get("evidence_check", []) if c.get("task") in taken]
    return out, checks


def usable(row: dict[str, Any] | None) -> bool:
    """Whether a row may enter a statement: done, through the gate, evidence error <= 0.5."""
    if row is None or row["status"] != "done" or not row["gate_ok"]:
        return False
    se = row["log_evidence_se"]
    return se is not None and math.isfinite(se) and se <= SE_MAX


def elpd_difference(a: dict[str, Any], b: dict[str, Any]) -> tuple[float, float]:
    """ELPD(a) - ELPD(b) and its standard error from the paired per-trial values (each trial's
    leave-one-out value is its cell's; ``sqrt(N var(d))`` as in ``az.compare``)."""
    ca, cb = np.asarray(a["cell_counts"], float), np.asarray(b["cell_counts"], float)
    if not np.array_equal(ca, cb):
        raise ValueError(f"tasks {a['task']} and {b['task']} were fitted to different counts")
    d = np.asarray(a["loo_cells"], float) - np.asarray(b["loo_cells"], float)
    n = ca.sum()
    mean = float((ca * d).sum() / n)
    var = float((ca * (d - mean) ** 2).sum() / n)
    return float((ca * d).sum()), math.sqrt(n * var)


def _series(rows: list[dict[str, Any]]) -> dict[tuple[str, str], dict[int, dict[str, Any]]]:
    out: dict[tuple[str, str], dict[int, dict[str, Any]]] = {}
    for r in rows:
        out.setdefault((r["data"], r["model"]), {})[r["n_hidden"]] = r
    return out


def neighbours(by_n: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    """log BF(n : n - 1) and ELPD(n) - ELPD(n - 1) where both sizes were run."""
    out = []
    for n in sorted(by_n):
        a, b = by_n[n], by_n.get(n - 1)
        if b is None or a["status"] != "done" or b["status"] != "done":
            continue
        d_elpd, d_se = elpd_difference(a, b)
        out.append(
            {
                "n": n,
                "log_bf": a["log_evidence"] - b["log_evidence"],
                "log_bf_se": math.hypot(a["log_evidence_se"], b["log_evidence_se"]),
                "d_elpd": d_elpd,
                "d_elpd_se": d_se,
                "usable": usable(a) and usable(b),
            }
        )
    return out


def verdict(by_n: dict[int, dict[str, Any]], resolution: float = 0.0) -> dict[str, Any]:
    """The size each criterion prefers among the usable rows, by how much, and Weinstein's
    sentence: does any size above 4 beat 4 by more than two standard errors?

    ``resolution`` is how far the larger-run checks moved an evidence (nats): a log Bayes
    factor below it is not resolved by the estimator at the study's size, whatever its error
    from the spread of the runs says, and counts as a tie."""
    ok = {n: r for n, r in by_n.items() if usable(r)}
    out: dict[str, Any] = {
        "sizes_usable": sorted(ok),
        "sizes_run": sorted(n for n, r in by_n.items() if r["status"] == "done"),
    }
    if len(ok) < 2:
        return out
    best = max(ok, key=lambda n: ok[n]["log_evidence"])
    second = max((n for n in ok if n != best), key=lambda n: ok[n]["log_evidence"])
    out["evidence_best"] = best
    out["evidence_margin"] = ok[best]["log_evidence"] - ok[second]["log_evidence"]
    out["evidence_margin_se"] = math.hypot(
        ok[best]["log_evidence_se"], ok[second]["log_evidence_se"]
    )
    out["evidence_runner_up"] = second
    out["evidence_tie"] = out["evidence_margin"] <= max(2 * out["evidence_margin_se"], resolution)
    # the smallest size the evidence cannot tell from the best: the smallest machine it prefers
    top = ok[best]
    out["evidence_smallest_tied"] = min(
        n
        for n in ok
        if top["log_evidence"] - ok[n]["log_evidence"]
        <= max(2 * math.hypot(top["log_evidence_se"], ok[n]["log_evidence_se"]), resolution)
    )
    out["evidence_best_is_largest_run"] = best == max(out["sizes_run"])
    best_loo = max(ok, key=lambda n: ok[n]["elpd_loo"])
    within = [n for n in sorted(ok) if _within_one_se(ok[n], ok[best_loo])]
    out["loo_best"] = best_loo
    out["loo_smallest_within_1se"] = within[0]
    if WEINSTEIN_N in ok and any(n > WEINSTEIN_N for n in ok):
        w = ok[WEINSTEIN_N]
        above = [n for n in ok if n > WEINSTEIN_N]
        nz = max(above, key=lambda n: ok[n]["log_evidence"])
        bf = ok[nz]["log_evidence"] - w["log_evidence"]
        bf_se = math.hypot(ok[nz]["log_evidence_se"], w["log_evidence_se"])
        nl = max(above, key=lambda n: ok[n]["elpd_loo"])
        dl, dl_se = elpd_difference(ok[nl], w)
        out["refine_evidence"] = {
            "n": nz,
            "log_bf": bf,
            "se": bf_se,
            "holds": bf <= max(2 * bf_se, resolution),
        }
        out["refine_loo"] = {"n": nl, "d_elpd": dl, "se": dl_se, "holds": dl <= 2 * dl_se}
        # LOO's overfitting: larger sizes that predict measurably worse than 4
        out["loo_worse_than_4"] = [n for n in sorted(above) if _predicts_worse(ok[n], w)]
    return out


def _predicts_worse(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether ``a``'s ELPD is below ``b``'s by more than two standard errors."""
    d, se = elpd_difference(a, b)
    return d < -2 * se


def _within_one_se(a: dict[str, Any], best: dict[str, Any]) -> bool:
    if a is best:
        return True
    d, se = elpd_difference(best, a)
    return d <= se


def evidence_check(row: dict[str, Any], study_dir: Path) -> dict[str, Any]:
    """The log evidence of ``row``'s machine again with a larger SMC run (x2 particles, x2 HMC
    transitions per stage, seed 2), cached in ``study_dir/evidence_check/`` (atomic writes)."""
    from bellmodels import models
    from bellmodels.inference import estimate_log_evidence
    from bellmodels.scenario import Scenario
    from bellmodels.study.worker import build_counts

    inf = row["inference"]
    runs = int(inf["evidence_chains"])
    particles = CHECK_SCALE * int(inf["evidence_draws"])
    steps = CHECK_SCALE * int(inf["evidence_hmc_steps"])
    path = study_dir / "evidence_check" / f"{row['task']}-r{runs}-p{particles}-h{steps}.json"
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    counts = build_counts(row["data_config"], row["base_dir"])
    kwargs: dict[str, Any] = {"n_hidden": row["n_hidden"]}
    if counts.scenario != Scenario.chsh():
        kwargs["scenario"] = counts.scenario
    est = estimate_log_evidence(
        models.get(row["model"], **kwargs),
        counts,
        method="smc",
        seed=2,
        evidence_draws=particles,
        evidence_chains=runs,
        evidence_hmc_steps=steps,
    )
    out = {
        "task": row["task"],
        "runs": runs,
        "particles": particles,
        "hmc_steps": steps,
        "seed": 2,
        "log_evidence": float(est.log_evidence),
        "se": float(est.se),
        "repetitions": [float(x) for x in est.repetitions],
        "seconds": float(est.seconds),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps(out, indent=2) + "\n")
    return out


def check_largest(
    rows: list[dict[str, Any]],
    study_dir: Path,
    run: bool,
    carried: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """The larger-run check of the largest machine run at every data point (each machine): the
    largest of the sweep once the run is complete, the largest done before. A carried row's
    check is the one carried with it (``carried``), when there is one."""
    kept = {c["task"]: c for c in carried or [] if "log_evidence" in c}
    out = []
    for (_data, _model), by_n in _series(rows).items():
        done = [n for n, r in by_n.items() if r["status"] == "done"]
        if not done:
            continue
        row = by_n[max(done)]  # the largest machine run so far at this data point
        if row.get("carried") and row["task"] in kept:
            out.append(kept[row["task"]])
            continue
        cached = study_dir / "evidence_check"
        if not run and not any(cached.glob(f"{row['task']}-*.json")):
            out.append({"data": row["data"], "model": row["model"], "n_hidden": row["n_hidden"]})
            continue  # not checked yet: listed as such
        chk = evidence_check(row, study_dir)
        diff = row["log_evidence"] - chk["log_evidence"]
        se = math.hypot(row["log_evidence_se"], chk["se"])
        out.append(
            chk
            | {
                "data": row["data"],
                "model": row["model"],
                "n_hidden": row["n_hidden"],
                "study_log_evidence": row["log_evidence"],
                "study_se": row["log_evidence_se"],
                "difference": diff,
                "difference_se": se,
                "within_3se": abs(diff) <= 3 * se,
                "agrees": abs(diff) <= SE_MAX and chk["se"] <= SE_MAX,
            }
        )
    return out


def _pm(x: Any, se: Any, digits: int = 2) -> str:
    return "n/a" if x is None else f"{fmt(x, digits)} ± {fmt(se, digits)}"


def table(by_n: dict[int, dict[str, Any]]) -> str:
    """One machine at one data point: a row per size."""
    steps = {s["n"]: s for s in neighbours(by_n)}
    rows = []
    for n in sorted(by_n):
        r = by_n[n]
        if r["status"] != "done":
            status = "not run yet" if r["status"] == "missing" else r["status"]
            rows.append([str(n), status, *["–"] * 9])
            continue
        st = steps.get(n)
        gate = "pass" if r["gate_ok"] else "FAIL: " + "; ".join(r["gate"]["reasons"] or [])
        rows.append(
            [
                f"{n} †" if r.get("carried") else str(n),
                fmt(r["ml_kl"], 4),
                _pm(r["log_evidence"], r["log_evidence_se"]),
                _pm(st["log_bf"], st["log_bf_se"]) if st else "–",
                _pm(r["elpd_loo"], r["elpd_se"]),
                _pm(st["d_elpd"], st["d_elpd_se"]) if st else "–",
                fmt(r["p_loo"], 1),
                fmt(r["mi_bits_mean"]),
                fmt(r["hall_M_mean"]),
                fmt(r["S_mean"]),
                gate if usable(r) or not r["gate_ok"] else f"{gate}; evidence se > {SE_MAX}",
            ]
        )
    head = [
        "n",
        "ML KL (nats)",
        "log Z ± se",
        "log BF(n : n−1)",
        "ELPD ± se",
        "ΔELPD(n − (n−1))",
        "p_loo",
        "MI (bits)",
        "Hall M",
        "S",
        "gate",
    ]
    return md_table(head, rows)


def words(data: str, model: str, v: dict[str, Any]) -> str:
    """The answer for one machine at one data point, in words (from :func:`verdict`)."""
    if "evidence_best" not in v:
        return (
            f"- **{model}** on {data}: fewer than two sizes usable ({v['sizes_usable']} of "
            f"{v['sizes_run']} run): no statement."
        )
    text = (
        f"- **{model}** on {data} (sizes usable: {', '.join(map(str, v['sizes_usable']))}): the "
        f"evidence is highest at **{v['evidence_best']} hidden unit(s)**, by log BF = "
        f"{_pm(v['evidence_margin'], v['evidence_margin_se'])} over the runner-up "
        f"({v['evidence_runner_up']}"
        + (": a tie (within two SE or the checks' resolution)" if v["evidence_tie"] else "")
        + ")"
        + (
            ", the largest size run: the evidence may rise beyond it"
            if v.get("evidence_best_is_largest_run")
            else ""
        )
        + f"; the smallest size the evidence cannot tell from it is "
        f"**{v.get('evidence_smallest_tied', v['evidence_best'])}**. LOO's best is "
        f"{v['loo_best']}, and the smallest size "
        f"within one standard error of it is **{v['loo_smallest_within_1se']}**."
    )
    for key, name, stat in (
        ("refine_evidence", "evidence", "log_bf"),
        ("refine_loo", "LOO", "d_elpd"),
    ):
        if key in v:
            r = v[key]
            gain = _pm(r[stat], r["se"])
            text += (
                f" By the {name}, the best size above {WEINSTEIN_N} ({r['n']}) against "
                f'{WEINSTEIN_N}: {gain}: "no point refining" '
                + (
                    "**holds**."
                    if r["holds"]
                    else "**fails** (it gains more than 2 SE"
                    + (" and than the checks' resolution)." if name == "evidence" else ").")
                )
            )
    if v.get("loo_worse_than_4"):
        text += (
            f" Sizes that LOO finds predicting worse than {WEINSTEIN_N} by more than 2 SE "
            f"(overfitting in its sense): {', '.join(map(str, v['loo_worse_than_4']))}."
        )
    return text


def figure(rows: list[dict[str, Any]]) -> Any:
    """Log evidence and ELPD (relative to each panel's best) and posterior MI against n."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = _series(rows)
    datas = list(dict.fromkeys(d for (d, _), by_n in series.items() if _done(by_n)))
    fig, axes = plt.subplots(
        3, max(1, len(datas)), figsize=(4.2 * max(1, len(datas)), 8.4), squeeze=False
    )
    for j, data in enumerate(datas):
        for k, model in enumerate(MODELS):
            by_n = series.get((data, model), {})
            done = _done(by_n)
            if not done:
                continue
            ns = np.array(sorted(done)) + (k - 0.5) * 0.12
            for i, (key, se_key) in enumerate(
                (("log_evidence", "log_evidence_se"), ("elpd_loo", "elpd_se"))
            ):
                y = np.array([by_n[n][key] for n in sorted(done)])
                err = np.array([by_n[n][se_key] for n in sorted(done)])
                ok = np.array([usable(by_n[n]) for n in sorted(done)])
                ref = y.max()
                axes[i, j].errorbar(
                    ns[ok], (y - ref)[ok], err[ok], fmt="o-", color=f"C{k}", capsize=3, label=model
                )
                axes[i, j].plot(ns[~ok], (y - ref)[~ok], "x", color=f"C{k}")
            mi = [by_n[n]["mi_bits_mean"] for n in sorted(done)]
            axes[2, j].plot(ns, mi, "o-", color=f"C{k}", label=f"{model} (posterior mean)")
            axes[2, j].axhline(by_n[done[0]]["min_mi_bits"], color="grey", ls="--", lw=1)
        axes[0, j].set_title(data, fontsize=9)
        axes[0, j].set_ylabel("log Z − max (nats)")
        axes[1, j].set_ylabel("ELPD − max (nats)")
        axes[2, j].set_ylabel("MI(λ; settings) (bits)")
        axes[2, j].set_xlabel("hidden units n")
        axes[0, j].legend(fontsize=7)
        axes[2, j].legend(fontsize=7, title="dashed: least MI of any local model", title_fontsize=7)
    fig.tight_layout()
    return fig


def _done(by_n: dict[int, dict[str, Any]]) -> list[int]:
    return sorted(n for n, r in by_n.items() if r["status"] == "done")


def resolution(checks: list[dict[str, Any]]) -> float:
    """The largest distance between a study's evidence and its larger run (0 if none is done):
    the bias of the study's SMC size that its error from the runs' spread may not show."""
    return max((abs(c["difference"]) for c in checks if "log_evidence" in c), default=0.0)


def markdown(rows: list[dict[str, Any]], checks: list[dict[str, Any]], source: str) -> str:
    """The page fragment: what was run, the answer in words, the tables, the evidence check."""
    series = _series(rows)
    done = [r for r in rows if r["status"] == "done"]
    res = resolution(checks)
    parts = [provenance(COMMAND), _coverage(rows, source), "", "### The answer", ""]
    if res > 0:
        parts += [
            f"The larger SMC runs below moved the largest machines' evidence by up to "
            f"{fmt(res, 2)} nat, more than some of the study's errors (the spread of its runs) "
            "say: a log Bayes factor below that is not resolved at the study's size and is "
            "read as a tie.",
            "",
        ]
    for (data, model), by_n in series.items():
        if _done(by_n):
            parts.append(words(data, model, verdict(by_n, res)))
    parts += ["", "### Every size", ""]
    for (data, model), by_n in series.items():
        if not _done(by_n):
            continue
        r0 = by_n[_done(by_n)[0]]
        parts += [
            f"**{model} on {data}** ({r0['n_trials']:,} trials; data S = {fmt(r0['data_S'])}; "
            f"least MI of any local model for this behaviour: {fmt(r0['min_mi_bits'], 4)} bits)",
            "",
            table(by_n),
        ]
    parts += ["### The evidence of the largest machine against a larger run", ""]
    unchecked = [c for c in checks if "log_evidence" not in c]
    checks = [c for c in checks if "log_evidence" in c]
    if checks:
        parts.append(
            md_table(
                [
                    "data",
                    "machine",
                    "n",
                    "study log Z ± se",
                    "larger run log Z ± se",
                    "settings (runs × particles × HMC)",
                    "difference",
                    "≤ 0.5 nat",
                ],
                [
                    [
                        c["data"],
                        c["model"],
                        str(c["n_hidden"]),
                        _pm(c["study_log_evidence"], c["study_se"]),
                        _pm(c["log_evidence"], c["se"]),
                        f"{c['runs']} × {c['particles']} × {c['hmc_steps']}",
                        _pm(c["difference"], c["difference_se"]),
                        "yes" if c["agrees"] else "NO",
                    ]
                    for c in checks
                ],
            )
        )
    else:
        parts.append(
            "No larger-run check is done yet "
            "(`--no-check` uses only checks already cached in the study directory).\n"
        )
    if unchecked:
        parts.append(
            "Not checked yet (the larger run is not done): "
            + "; ".join(f"{c['model']} n = {c['n_hidden']} on {c['data']}" for c in unchecked)
            + ".\n"
        )
    parts += _unusable(done)
    parts.append(
        f"{len(done)} of {len(rows)} fits done; CPU time of the done fits: "
        f"{sum(r['cpu_seconds'] or 0 for r in done) / 3600:.1f} h.\n"
    )
    carried = [r for r in done if r.get("carried")]
    if carried:
        versions = sorted(
            {
                ", ".join(f"{k} {v}" for k, v in (r.get("versions") or {}).items() if v)
                for r in carried
            }
        )
        parts.append(
            f"† {len(carried)} of the done fits were carried from an earlier run of this script "
            "(`--carry`, the task ids equal: the same task configuration), computed with "
            + "; ".join(versions or ["unrecorded versions"])
            + ". The command at the top reruns them all.\n"
        )
    return "\n".join(parts)


def _unusable(done: list[dict[str, Any]]) -> list[str]:
    """Why each done row that enters no statement does not: for a fit that fails the gate, each
    chain's mean log likelihood and MI (chains in different modes); for an evidence error above
    the bar, the runs' values."""
    out: list[str] = []
    failing = [r for r in done if not r["gate_ok"]]
    if failing:
        out += ["### The fits that fail the gate, chain by chain", ""]
        out.append(
            md_table(
                [
                    "data",
                    "machine",
                    "n",
                    "chains × draws",
                    "first reason",
                    "each chain's mean log likelihood",
                    "each chain's mean MI (bits)",
                ],
                [
                    [
                        r["data"],
                        r["model"],
                        str(r["n_hidden"]),
                        f"{r['inference']['chains']} × {r['inference']['draws']}",
                        (r["gate"].get("reasons") or ["?"])[0],
                        ", ".join(
                            fmt(x, 1) for x in (r.get("chain_means") or {}).get("log_lik_total", [])
                        )
                        or "not kept",
                        ", ".join(
                            fmt(x, 3) for x in (r.get("chain_means") or {}).get("mi_bits", [])
                        )
                        or "not kept",
                    ]
                    for r in failing
                ],
            )
        )
    wide = [r for r in done if r["gate_ok"] and not usable(r)]
    if wide:
        out += [f"### The evidences with an error above {SE_MAX} nat, run by run", ""]
        out.append(
            md_table(
                ["data", "machine", "n", "log Z ± se", "each run's log Z"],
                [
                    [
                        r["data"],
                        r["model"],
                        str(r["n_hidden"]),
                        _pm(r["log_evidence"], r["log_evidence_se"]),
                        ", ".join(fmt(x, 1) for x in r.get("evidence_runs") or []) or "not kept",
                    ]
                    for r in wide
                ],
            )
        )
    return out


def _coverage(rows: list[dict[str, Any]], source: str) -> str:
    """Which rows were run, at what settings, and which are missing."""
    lines = ["", f"From the study `{source}`. Rows run, per data point:", ""]
    by_data: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_data.setdefault(r["data"], []).append(r)
    for data, rs in by_data.items():
        run = {
            m: sorted(r["n_hidden"] for r in rs if r["model"] == m and r["status"] == "done")
            for m in MODELS
        }
        failed = [f"{r['model']} n = {r['n_hidden']}" for r in rs if r["status"] == "failed"]
        text = "; ".join(f"{m} n = {', '.join(map(str, ns)) or 'none'}" for m, ns in run.items())
        lines.append(f"- {data}: {text}" + (f"; failed: {', '.join(failed)}" if failed else ""))
    # the setting most rows were fitted at; _other_settings names the rest
    common = Counter(json.dumps(r["inference"], sort_keys=True, default=str) for r in rows)
    inf = json.loads(common.most_common(1)[0][0])
    lines += [
        "",
        (
            f"Every fit: {inf['chains']} chains × {inf['draws']} draws after {inf['tune']} tuning "
            f"steps (seed {inf['seed']}), PSIS-LOO exact per trial; log evidence by {inf['evidence_method']}"
            f" ({inf['evidence_chains']} runs × {inf['evidence_draws']} particles × "
            f"{inf['evidence_hmc_steps']} HMC transitions per stage; its error is the spread of the "
            "runs)"
            + _other_settings(rows, inf)
            + ". A row enters a statement only if its fit passes the diagnostics gate and its "
            f"evidence error is at most {SE_MAX} nat; log BF and ΔELPD are between neighbouring sizes "
            "(ΔELPD's error from the paired per-trial values)."
        ),
    ]
    return "\n".join(lines)


def _other_settings(rows: list[dict[str, Any]], inf: dict[str, Any]) -> str:
    """``", except ..."``: the rows fitted at other settings (the study's ``inference_at``)."""
    keys = (
        "sampler",
        "chains",
        "draws",
        "evidence_method",
        "evidence_chains",
        "evidence_draws",
        "evidence_hmc_steps",
    )
    other: dict[str, list[str]] = {}
    for r in rows:
        diff = {k: r["inference"].get(k) for k in keys if r["inference"].get(k) != inf.get(k)}
        if diff:
            text = ", ".join(f"{k} = {v}" for k, v in diff.items())
            other.setdefault(text, []).append(f"{r['model']} n = {r['n_hidden']} on {r['data']}")
    return "".join(f"; except {t} for {'; '.join(w)}" for t, w in other.items())


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = parser(__doc__.splitlines()[0])
    p.add_argument(
        "--study-dir",
        type=Path,
        default=None,
        help="output of `bellmodels run hidden_units` (default "
        "results/hidden_units; with --size small a temporary directory)",
    )
    p.add_argument(
        "--carry",
        type=Path,
        default=None,
        help="JSON of an earlier run of this script (e.g. docs/generated/demo_hidden_units.json): "
        "rows the study directory does not hold are taken from it, marked †",
    )
    p.add_argument(
        "--no-check",
        action="store_true",
        help="use only evidence checks already cached in STUDY_DIR/evidence_check",
    )
    args = p.parse_args(argv)
    overrides = SMALL_OVERRIDES if args.size == "small" else []
    study_dir = args.study_dir
    if args.size == "small":
        import bellmodels as bm

        study_dir = study_dir or Path(tempfile.mkdtemp(prefix="hidden_units_small_"))
        bm.run_study(STUDY, study_dir, workers=1, progressbar=False, overrides=overrides)
    study_dir = study_dir or ROOT / "results" / "hidden_units"
    if not (study_dir / "tasks").is_dir():
        raise SystemExit(
            f"{study_dir}/tasks does not exist: run `{COMMAND.split(' && ')[0]}` first"
        )
    rows = load_rows(STUDY, study_dir, overrides)
    carried_checks: list[dict[str, Any]] = []
    if args.carry is not None:
        rows, carried_checks = carry(rows, json.loads(args.carry.read_text(encoding="utf-8")))
    checks = check_largest(rows, study_dir, run=not args.no_check, carried=carried_checks)
    series = _series(rows)
    result = {
        "size": args.size,
        "study": STUDY_SOURCE,
        "overrides": overrides,
        # the per-cell LOO values stay (16 numbers a row): --carry needs them for ΔELPD
        "rows": [{k: v for k, v in r.items() if k != "base_dir"} for r in rows],
        "neighbours": {f"{d} | {m}": neighbours(b) for (d, m), b in series.items()},
        "evidence_resolution": resolution(checks),
        "verdicts": {f"{d} | {m}": verdict(b, resolution(checks)) for (d, m), b in series.items()},
        "evidence_check": checks,
    }
    out = Path(args.out)
    source = STUDY_SOURCE + (f" with {overrides}" if overrides else "")
    write_atomic(out / "demo_hidden_units.md", markdown(rows, checks, source))
    write_json(out / "demo_hidden_units.json", result)
    save_figure(figure(rows), out / "demo_hidden_units.png")
    return result


if __name__ == "__main__":
    main()
