"""The evidence estimators side by side on every fit of study runs: estimate, error, agreement, time.

Reads the tasks a study stored (``bellmodels run STUDY --out DIR`` keeps each task's NetCDF, with
the task's configuration and its forward-SMC evidence) and, for each fitted model at each sweep
point, adds SMC run backwards from the fit's NUTS draws (``"reverse-smc"``), bridge sampling
on the same draws (``"bridge"``) and nested sampling from the prior (``"nested"``, dynesty: the
estimator that shares no code with the others; ``pip install 'bellmodels[nested]'``), with the
SMC sizes the study used for that model (:func:`bellmodels.inference.estimate_log_evidence`).
Prints one row per fit and writes ``docs/generated/evidence_benchmark.md`` (atomically) with:

- each estimator's log evidence, its error (the spread of independent repetitions; for bridge
  plus the proposal sensitivity) and seconds;
- forward minus reverse SMC, in nats and in units of the combined error (bidirectional Monte
  Carlo: forward sits below log Z and reverse above it in expectation, so the gap bounds what
  either misses); bridge and nested sampling minus forward SMC in combined errors;
- whether every error meets the 0.5-nat target and the two SMC directions agree (|z| <= 3).

    python benchmarks/evidence.py --study-dir results/weinstein2017
    python benchmarks/evidence.py --study-dir out/weinstein2017 --study-dir out/real_data
    python benchmarks/evidence.py --study-dir out/weinstein2017 --models rbm,quantum-singlet
    python benchmarks/evidence.py --study-dir out/evidence_20k --models rbm,crbm --nested 1000x6

Exit code 1 if some forward and reverse estimates disagree (|z| > 3), nested sampling and forward
SMC disagree (|z| > 3), or an error misses the target.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "generated" / "evidence_benchmark.md"


def _data_label(data: dict) -> str:
    if data.get("source") == "dataset":
        return str(data["dataset"])
    if data.get("source") == "simulate":
        return f"{int(data['trials']):,} simulated (V = {data.get('visibility', 1.0)})"
    return str(data.get("path"))


def _run_command(study_dir: Path) -> str:
    """The command that made a study run, from its ``study.json`` (file and seed)."""
    rec = json.loads((study_dir / "study.json").read_text())
    seed = rec["config"]["inference"]["seed"]
    return f"bellmodels run {rec['source']}" + (
        f" --set inference.seed={seed}" if seed != 1 else ""
    )


def _z(a, b) -> float:
    return (a.log_evidence - b.log_evidence) / math.hypot(a.se, b.se)


def _own_error(est) -> float:
    """dynesty's own error of the mean of a nested-sampling estimate's runs."""
    own = est.details["dynesty_logzerr"]
    return math.sqrt(sum(e * e for e in own)) / len(own)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--study-dir", action="append", required=True, help="`bellmodels run` output")
    ap.add_argument("--models", default="", help="comma-separated subset (default: every fit)")
    ap.add_argument("--no-bridge", action="store_true", help="skip bridge sampling")
    ap.add_argument(
        "--reverse-min",
        default="1000x20",
        help="least particles x HMC steps of the reverse runs (default 1000x20: with fewer moves "
        "the particles do not reach the prior's low-likelihood region as the target widens, and "
        "the reverse estimate sits high; on the Dirichlet closed form of "
        "tests/inference/test_evidence.py 1000x8 was 0.19 nat (3.5 SE) high, 1000x20 within "
        "its error)",
    )
    ap.add_argument(
        "--nested",
        default="0x0",
        help="live points x runs of nested sampling (default 0x0: not run; e.g. 1000x6). Its "
        "error is the spread of the runs; dynesty's own error is printed beside it",
    )
    ap.add_argument("--out", default=str(OUT), help="Markdown file to write")
    args = ap.parse_args(argv)

    import xarray as xr

    from bellmodels.data import write_atomic
    from bellmodels.inference import (
        EVIDENCE_SE_MAX,
        EvidenceEstimate,
        estimate_log_evidence,
        load_fit,
    )
    from bellmodels.study.worker import build_counts

    wanted = [m for m in args.models.split(",") if m]
    min_particles, min_hmc = (int(x) for x in args.reverse_min.split("x"))
    nested_live, nested_runs = (int(x) for x in args.nested.split("x"))
    methods = ["reverse-smc"] + ([] if args.no_bridge else ["bridge"])
    methods += ["nested"] if nested_live and nested_runs else []
    rows = []
    # observationally equivalent models (same data, same stored forward runs under one seed) have
    # the same posterior too: their reverse-SMC and bridge values are computed once
    done: dict[tuple, dict] = {}
    for study_dir in map(Path, args.study_dir):
        for path in sorted((study_dir / "tasks").glob("*.nc")):
            with xr.open_dataset(path, group="bellmodels", engine="h5netcdf") as ds:
                task = json.loads(ds.attrs["task"])
                summary = json.loads(ds.attrs["summary"])
            cfg, fit = task["config"], summary.get("fit") or {}
            if (wanted and task["model"] not in wanted) or "evidence" not in fit:
                continue
            inf = cfg["inference"]
            if fit["evidence"]["log_evidence_method"] != "smc":
                print(f"{path.name}: its evidence is not forward SMC; skipped", file=sys.stderr)
                continue
            counts = build_counts(cfg["data"], cfg.get("base_dir", "."))
            model, idata = load_fit(path)
            ev = fit["evidence"]
            res = {
                "smc": (
                    EvidenceEstimate(
                        ev["log_evidence"],
                        ev["log_evidence_se"],
                        "smc",
                        tuple(ev["repetitions"]),
                        ev["seconds"],
                    ),
                    ev["seconds"],
                )
            }
            key = (json.dumps(cfg["data"], sort_keys=True), tuple(ev["repetitions"]))
            rev = (
                max(int(inf["evidence_draws"]), min_particles),
                max(int(inf["evidence_hmc_steps"]), min_hmc),
            )
            for method in methods:
                if key in done:
                    res[method] = done[key][method]
                    continue
                t0 = time.perf_counter()
                nested = method == "nested"
                est = estimate_log_evidence(
                    model,
                    counts,
                    idata,
                    method=method,
                    seed=int(inf["seed"]),
                    evidence_draws=nested_live if nested else rev[0],
                    evidence_chains=nested_runs if nested else int(inf["evidence_chains"]),
                    evidence_hmc_steps=rev[1],
                )
                res[method] = (est, time.perf_counter() - t0)
            done.setdefault(key, res)
            label = _data_label(cfg["data"])
            sizes = (
                inf["evidence_chains"],
                inf["evidence_draws"],
                inf["evidence_hmc_steps"],
                *rev,
            )
            rows.append((label, task["model"], sizes, res))
            f, r = res["smc"][0], res["reverse-smc"][0]
            print(
                f"{label:28s} {task['model']:16s} smc {f.log_evidence:.2f} ± {f.se:.2f}  "
                f"reverse {r.log_evidence:.2f} ± {r.se:.2f}  z = {_z(f, r):+.2f}"
                + (
                    ""
                    if args.no_bridge
                    else f"  bridge {res['bridge'][0].log_evidence:.2f} ± {res['bridge'][0].se:.2f}"
                )
                + (
                    f"  nested {res['nested'][0].log_evidence:.2f} ± {res['nested'][0].se:.2f}"
                    f" (dynesty's own: {_own_error(res['nested'][0]):.2f})"
                    if "nested" in res
                    else ""
                ),
                flush=True,
            )

    lines = [
        "# Evidence: tempered SMC forward and backward, bridge and nested sampling, on the same fits",
        "",
        "Generated by `python benchmarks/evidence.py "
        + " ".join(f"--study-dir {Path(d).name}" for d in args.study_dir)
        + "` on the runs "
        + ", ".join(f"`{Path(d).name}` = `{_run_command(Path(d))}`" for d in args.study_dir)
        + f", on {platform.machine()} (Python {platform.python_version()}). Forward SMC is the "
        "estimate each study stored (tempered from the prior); reverse SMC runs backwards from the "
        f"fit's NUTS draws, as many runs, with at least {args.reverse_min} particles x HMC "
        "steps; bridge sampling uses the same draws"
        + (
            f"; nested sampling (dynesty) runs {nested_runs} times with {nested_live} live points "
            "from the prior"
            if "nested" in methods
            else "; nested sampling was not run (`--nested LIVExRUNS`)"
        )
        + ". Each error is "
        "the spread of independent repetitions (SMC and nested sampling: the runs; bridge: 8 "
        "blocks of draws, plus the proposal sensitivity); beside nested sampling's, the mean of "
        "dynesty's own errors combined for the mean of the runs. "
        f"Target: error <= {EVIDENCE_SE_MAX} nat; forward and reverse (and nested and forward) "
        "agree within 3 combined errors. Forward sits below log Z in expectation and reverse "
        "above it, so a small gap bounds what either run misses. Times are wall seconds on a "
        "shared machine.",
        "",
        "| data | model | forward: runs x particles x HMC | forward SMC | se | s | reverse: "
        "particles x HMC | reverse SMC | se "
        "| s | forward - reverse | z | bridge | se | z (bridge - forward) | nested | se "
        "| dynesty's own se | s | z (nested - forward) | target | agree |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    bad = []
    for label, m, sizes, res in rows:
        (f, tf), (r, tr) = res["smc"], res["reverse-smc"]
        z = _z(f, r)
        ests = [f, r] + ([] if args.no_bridge else [res["bridge"][0]])
        target = all(e.se <= EVIDENCE_SE_MAX for e in ests[:2])
        agree = abs(z) <= 3
        if "nested" in res:
            n, tn = res["nested"]
            target = target and n.se <= EVIDENCE_SE_MAX
            agree = agree and abs(_z(n, f)) <= 3
            nested_cells = (
                f"| {n.log_evidence:.2f} | {n.se:.2f} | {_own_error(n):.2f} | {tn:.0f} "
                f"| {_z(n, f):+.1f} "
            )
        else:
            nested_cells = "| — | — | — | — | — "
        if not (target and agree):
            bad.append((label, m))
        if args.no_bridge:
            bridge = "| — | — | — "
        else:
            b = res["bridge"][0]
            bridge = f"| {b.log_evidence:.2f} | {b.se:.2f} | {_z(b, f):+.1f} "
        lines.append(
            f"| {label} | {m} | {sizes[0]} x {sizes[1]} x {sizes[2]} | {f.log_evidence:.2f} | "
            f"{f.se:.2f} | {tf:.0f} | {sizes[3]} x {sizes[4]} | {r.log_evidence:.2f} | "
            f"{r.se:.2f} | {tr:.0f} | "
            f"{f.log_evidence - r.log_evidence:+.2f} | {z:+.2f} {bridge}{nested_cells}| "
            f"{'yes' if target else '**no**'} | {'yes' if agree else '**no**'} |"
        )
    write_atomic(Path(args.out), "\n".join(lines) + "\n")
    print(f"wrote {args.out}")
    if bad:
        print(f"disagree or miss the target: {bad}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
