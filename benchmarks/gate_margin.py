"""Does the main job pass the diagnostics gate with margin, for several ``inference.seed``?

For every fitted model of ``bellmodels/studies/weinstein2017.toml`` and every seed asked for, run the study's
own task (:func:`bellmodels.study.run_task`: the same data, model construction, RBM training,
draws / tune / chains / sampler / init as ``bellmodels run``; only ``[inference] seed`` is
changed, and, unless ``--evidence``, the SMC evidence is skipped: it does not enter the gate),
one task at a time in this process, and judge each fit with the gate
(:func:`bellmodels.inference.diagnostics`). The gate's bar is bulk and tail ESS >= 400 on S, the
correlators, the log-likelihood, MI and Hall's M, R-hat <= 1.01, no divergence; **with margin**
means ESS >= 1.25 x the bar (500), R-hat <= 1.01 and no divergence (issue #12, item 7).

Writes ``docs/generated/gate_margin.md`` (atomically): per model and seed the minimum bulk and
tail ESS, the maximum R-hat, the divergences, the margin (smallest ESS over the bar; MI and
Hall's M computed on thinned draws are held to the bar divided by the thinning stride, as in the
gate) and pass / fail. Exits 1 if any fit lacks the margin.

    python benchmarks/gate_margin.py                       # seeds 1 2 3, every fitted model
    python benchmarks/gate_margin.py --seeds 2 --models no-signalling --out /tmp/gate
    python benchmarks/gate_margin.py --study-dir out/seed1 --study-dir out/seed2   # read runs
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
# measure the tree this script sits in, not whichever bellmodels the environment installed
sys.path.insert(0, str(ROOT))

from bellmodels.data import write_atomic  # noqa: E402

STUDY = ROOT / "bellmodels" / "studies" / "weinstein2017.toml"
DOC = ROOT / "docs" / "generated" / "gate_margin.md"
MARGIN = 1.25


def study_tasks(study: Path, seed: int, evidence: bool, models: list[str] | None) -> list:
    """The study's fitted tasks with ``[inference] seed`` (and ``evidence``) overridden."""
    from bellmodels.study import load_study_file

    cfg = load_study_file(study)
    cfg = copy.copy(cfg)
    cfg.config = copy.deepcopy(cfg.config)
    cfg.config["inference"]["seed"] = int(seed)
    if not evidence:
        cfg.config["inference"]["evidence"] = False
    tasks = [t for t in cfg.tasks() if t.config["options"].get("fit")]
    if models:
        unknown = sorted(set(models) - {t.model for t in tasks})
        if unknown:
            raise SystemExit(f"not fitted in {study.name}: {unknown}")
        tasks = [t for t in tasks if t.model in models]
    return tasks


def margins(idata) -> dict:
    """Gate numbers of one fit, and its margin: min over gate components of ESS / bar."""
    from bellmodels import _arviz, inference

    try:  # the gate's quantities, wherever the inference package keeps them
        from bellmodels.inference.diagnostics import _gate_arrays
    except ImportError:
        _gate_arrays = inference._gate_arrays
    diag = inference.diagnostics(idata)
    strict = inference.diagnostics(idata, ess_min=MARGIN * inference.ESS_MIN)
    thin = int(idata.attrs.get("audit_thinning", "1"))
    worst, where = np.inf, ""
    for name, arr in _gate_arrays(idata).items():
        bar = inference.ESS_MIN / (thin if name in ("mi_bits", "hall_M") else 1)
        for k in range(arr.shape[-1]):
            x = arr[:, :, k]
            if not np.all(np.isfinite(x)) or np.ptp(x) <= 1e-12 * max(1.0, float(np.abs(x).max())):
                continue
            for kind in ("bulk", "tail"):
                m = _arviz.ess(x, kind) / bar
                if m < worst:
                    label = name if arr.shape[-1] == 1 else f"{name}[{k}]"
                    worst, where = m, f"{kind} {label}"
    settings = idata.attrs.get("sampler_settings", "{}")
    return {
        "ess_bulk_min": diag["ess_bulk_min"],
        "ess_tail_min": diag["ess_tail_min"],
        "rhat_max": diag["rhat_max"],
        "divergences": diag["divergences"],
        "margin": float(worst),
        "weakest": where,
        "thin": thin,
        "gate_ok": bool(diag["ok"]),
        "ok": bool(strict["ok"]),
        "reasons": strict["reasons"],
        "sampler": str(idata.attrs.get("sampler", "")),
        "settings": settings,
    }


def run_seed(
    seed: int, out: Path, evidence: bool, models: list[str] | None, reuse_only: bool = False
) -> list[dict]:
    from bellmodels.study import load_task, run_task

    rows = []
    seed_dir = out / f"seed{seed}"
    for task in study_tasks(STUDY, seed, evidence, models):
        done = (seed_dir / "tasks" / f"{task.id}.nc").is_file()
        if reuse_only and not done:
            print(f"--- seed {seed} {task.model:18s} not run (--reuse-only)", flush=True)
            continue
        t0 = time.perf_counter()
        if not done:
            run_task(task, seed_dir)
        seconds = time.perf_counter() - t0
        _, idata = load_task(seed_dir, task.id)
        row = {"model": task.model, "seed": seed, "seconds": seconds, "reused": done}
        row.update(margins(idata))
        inf = task.config["inference"]
        row["budget"] = f"{inf['chains']} x {inf['draws']} (tune {inf['tune']})"
        rows.append(row)
        flag = "ok " if row["ok"] else "LOW"
        print(
            f"{flag} seed {seed} {task.model:18s} margin {row['margin']:5.2f} ({row['weakest']}) "
            f"R-hat {row['rhat_max']:.4f} div {row['divergences']} "
            f"[{seconds:.0f} s{' reused' if done else ''}]",
            flush=True,
        )
    return rows


def rows_from_study_dir(study_dir: Path) -> list[dict]:
    """The gate rows of every fitted task of a finished ``bellmodels run`` of the main job
    (e.g. one with ``--set inference.seed=2``): the fits the user's own command made."""
    from bellmodels.study import load_task

    rows = []
    for path in sorted((study_dir / "tasks").glob("*.nc")):
        extra, idata = load_task(study_dir, path.stem)
        if idata is None:
            continue
        summary = json.loads(extra.attrs["summary"])
        settings = json.loads(idata.attrs.get("sampler_settings", "{}"))
        row = {
            "model": summary["model"],
            "seed": int(idata.attrs["seed"]),
            "seconds": float(summary["seconds"]),
            "reused": True,
            "budget": f"{settings['chains']} x {settings['draws']} (tune {settings['tune']})",
        }
        row.update(margins(idata))
        rows.append(row)
        flag = "ok " if row["ok"] else "LOW"
        print(
            f"{flag} seed {row['seed']} {row['model']:18s} margin {row['margin']:5.2f} "
            f"({row['weakest']}) R-hat {row['rhat_max']:.4f} div {row['divergences']} "
            f"[{study_dir}]",
            flush=True,
        )
    return rows


def render(rows: list[dict], seeds: list[int], load0: float, evidence: bool, how: str = "") -> str:
    fails = [r for r in rows if not r["ok"]]
    lines = [
        "# Diagnostics gate with margin: the main job for several seeds",
        "",
        f"Every fitted model of `bellmodels/studies/weinstein2017.toml` (100,000 simulated singlet trials) "
        f"refitted with `[inference] seed` = {', '.join(map(str, seeds))} and the study's own "
        + (
            how
            or "settings (the runner's task, one at a time"
            + ("" if evidence else "; SMC evidence skipped, it is not part of the gate")
            + "), by `python benchmarks/gate_margin.py`"
        )
        + f" ({platform.machine()}, Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"load average {load0:.1f} at the start).",
        "",
        "The gate (`bellmodels.inference.diagnostics`): bulk and tail ESS >= 400 on S, the "
        "correlators, the log-likelihood, MI and Hall's M; R-hat <= 1.01; no divergence. "
        f"**Margin** = the smallest ESS / 400 over those quantities (MI and Hall's M audited on "
        f"thinned draws: over 400 / stride, as in the gate); a fit passes here only with margin "
        f">= {MARGIN}, R-hat <= 1.01 and no divergence.",
        "",
        "| model | seed | draws | sampler | min bulk ESS | min tail ESS | max R-hat | "
        "divergences | margin | weakest | pass |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        stride = f" (audit stride {r['thin']})" if r["thin"] > 1 else ""
        lines.append(
            f"| {r['model']} | {r['seed']} | {r['budget']} | {r['sampler']} | "
            f"{r['ess_bulk_min']:.0f} | {r['ess_tail_min']:.0f} | {r['rhat_max']:.4f} | "
            f"{r['divergences']} | {r['margin']:.2f} | {r['weakest']}{stride} | "
            f"{'yes' if r['ok'] else '**no**'} |"
        )
    lines += ["", f"{len(rows) - len(fails)} of the {len(rows)} fits run pass with margin."]
    fitted = [t.model for t in study_tasks(STUDY, seeds[0], evidence, None)]
    for seed in seeds:
        missing = [m for m in fitted if (m, seed) not in {(r["model"], r["seed"]) for r in rows}]
        if missing:
            lines += ["", f"Seed {seed}, not run this time: {', '.join(missing)}."]
    if fails:
        lines += ["", "Short of the margin:", ""]
        lines += [f"- {r['model']}, seed {r['seed']}: {'; '.join(r['reasons'])}" for r in fails]
    lines += [
        "",
        "ESS and R-hat do not depend on the machine's load; the task seconds the script prints do, "
        "and are not recorded here.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3], help="inference seeds")
    ap.add_argument(
        "--out",
        type=Path,
        default=Path("/tmp/bm-gate-margin"),
        help="task output directory (one seed<N>/ per seed; finished tasks are reused)",
    )
    ap.add_argument("--models", default="", help="comma-separated subset of the fitted models")
    ap.add_argument("--evidence", action="store_true", help="also run the SMC evidence")
    ap.add_argument(
        "--reuse-only", action="store_true", help="report the finished tasks in --out, run none"
    )
    ap.add_argument(
        "--study-dir",
        type=Path,
        action="append",
        default=[],
        help="read the fits of a finished `bellmodels run weinstein2017 "
        "[--set inference.seed=N]` output directory instead of running tasks (repeatable)",
    )
    ap.add_argument(
        "--doc",
        type=Path,
        default=DOC,
        help="Markdown output (default docs/generated/gate_margin.md; '-' for none)",
    )
    args = ap.parse_args(argv)
    models = [m for m in args.models.split(",") if m] or None
    load0 = os.getloadavg()[0]
    rows, how = [], ""
    if args.study_dir:
        for d in args.study_dir:
            rows += [r for r in rows_from_study_dir(d) if not models or r["model"] in models]
        rows.sort(key=lambda r: r["seed"])
        args.seeds = sorted({r["seed"] for r in rows})
        how = (
            "settings: the fits of `bellmodels run weinstein2017 --set "
            "inference.seed=N` (evidence included; one output directory per seed), read by "
            "`python benchmarks/gate_margin.py --study-dir DIR1 --study-dir DIR2 ...`"
        )
    else:
        for seed in args.seeds:
            rows += run_seed(seed, args.out, args.evidence, models, args.reuse_only)
    if str(args.doc) != "-":
        write_atomic(args.doc, render(rows, args.seeds, load0, args.evidence, how))
        print(f"wrote {args.doc}")
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
