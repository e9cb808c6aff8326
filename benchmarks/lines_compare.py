"""The main job on both PyMC / ArviZ lines: the same comparison, evidence within its error, the
same audits.

Reads two finished runs of the same study, one made on each line (for instance
``bellmodels run weinstein2017 --out results/py311`` with Python 3.11 and the same
command with Python >= 3.12 into ``results/py312``), and writes ``docs/generated/lines_main_job.md``
(atomically) with, per model: the rank and ELPD-LOO on each line, the log evidence on each with
its Monte Carlo error and their difference in combined errors, and the audit at the model's
parameters (S, MI, Hall's M, least MI, classification), which must agree to round-off.

- **ranking**: the same order, where models whose ELPDs lie within ``--tie`` nats of each other
  on both lines count as tied (the observationally equivalent models tie exactly, and two fits
  of one model differ by their Monte Carlo error);
- **evidence**: |difference| / combined error within the 3-sigma level (p = 0.0027) of Student's
  t with Welch-Satterthwaite degrees of freedom (each error is the spread of 3-4 runs);
- **audits**: relative difference <= 1e-8, the same classification.

    python benchmarks/lines_compare.py --study-dir results/py311 --study-dir results/py312

Exit code 1 when any of the three fails.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bellmodels.data import write_atomic  # noqa: E402

OUT = ROOT / "docs" / "generated" / "lines_main_job.md"
AUDIT = ("S", "mi_bits", "hall_M", "min_mi_bits")


def read_run(study_dir: Path) -> dict:
    """Line label and per-model numbers of one study run (its first sweep point)."""
    from bellmodels.study import load_study

    ds = load_study(study_dir)
    ds = ds.isel({d: 0 for d in ds.dims if d != "model"})
    rec = json.loads((study_dir / "study.json").read_text())
    import xarray as xr

    versions, runs = {}, {}
    for path in sorted((study_dir / "tasks").glob("*.nc")):
        with xr.open_dataset(path, group="bellmodels", engine="h5netcdf") as t:
            versions = json.loads(t.attrs["versions"])
            summary = json.loads(t.attrs["summary"])
        reps = summary.get("fit", {}).get("evidence", {}).get("repetitions") or []
        runs[summary["model"]] = len(reps)
    rows = {}
    for m in ds["model"].values:
        q = ds.sel(model=m)
        rows[str(m)] = {
            "rank": float(q["rank"]),
            "elpd_loo": float(q["elpd_loo"]),
            "log_evidence": float(q["log_evidence"]),
            "log_evidence_se": float(q["log_evidence_se"]),
            "runs": runs.get(str(m), 0),
            "classification": str(q["classification"].values),
            **{k: float(q[k]) for k in AUDIT},
        }
    line = ", ".join(
        f"{k} {versions[k]}" for k in ("python", "pymc", "arviz", "pytensor") if k in versions
    )
    return {"source": rec["source"], "config": rec["config"], "line": line, "rows": rows}


def _rank(r: float) -> str:
    return "–" if not np.isfinite(r) else str(int(r))


def _evidence(r: dict) -> str:
    if not np.isfinite(r["log_evidence"]):
        return "–"
    return f"{r['log_evidence']:.2f} ± {r['log_evidence_se']:.2f}"


def t_bar(x: dict, y: dict) -> float:
    """The bar |z| must stay under: the 3-sigma two-sided level (p = 0.0027) of Student's t
    with Welch-Satterthwaite degrees of freedom. Each error is the spread of only 3-4 runs, so
    it is itself uncertain (an error from 3 runs is off by a factor 2 one time in ten); against
    a plain 3 the check would fail honest estimates."""
    from scipy import stats

    parts = [(r["log_evidence_se"] ** 2, r["runs"] - 1) for r in (x, y) if r["runs"] > 1]
    if len(parts) < 2 or sum(v for v, _ in parts) == 0:
        return 3.0
    df = sum(v for v, _ in parts) ** 2 / sum(v**2 / d for v, d in parts)
    return float(stats.t.ppf(1 - 0.0027 / 2, df))


def tied_order(rows: dict, other: dict, tie: float) -> list[list[str]]:
    """The fitted models best first, models within ``tie`` nats of the previous on both lines
    merged into one group."""
    fitted = sorted(
        (m for m, r in rows.items() if np.isfinite(r["rank"])), key=lambda m: rows[m]["rank"]
    )
    groups: list[list[str]] = []
    for m in fitted:
        if groups:
            prev = groups[-1][-1]
            close = all(
                abs(run[m]["elpd_loo"] - run[prev]["elpd_loo"]) <= tie for run in (rows, other)
            )
            if close:
                groups[-1].append(m)
                continue
        groups.append([m])
    return [sorted(g) for g in groups]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--study-dir", type=Path, action="append", required=True, help="two runs")
    ap.add_argument(
        "--tie", type=float, default=1.0, help="ELPD difference counted as a tie (nats)"
    )
    ap.add_argument("--out", type=Path, default=OUT, help="Markdown file ('-' for none)")
    args = ap.parse_args(argv)
    if len(args.study_dir) != 2:
        raise SystemExit("give exactly two --study-dir, one per line")
    a, b = (read_run(d) for d in args.study_dir)
    # one study is one configuration, wherever each checkout keeps its file
    if a["config"] != b["config"]:
        raise SystemExit(f"the runs are of different studies: {a['source']} and {b['source']}")
    ra, rb = a["rows"], b["rows"]
    order_a, order_b = tied_order(ra, rb, args.tie), tied_order(rb, ra, args.tie)
    ranking_ok = order_a == order_b
    lines = [
        "<!-- generated by `python benchmarks/lines_compare.py`; do not edit -->",
        "",
        f"# `bellmodels run {a['source']}` on both lines",
        "",
        f"Line A: {a['line']}. Line B: {b['line']}. Same study file, same seeds; each line's "
        "own fits and evidence. *z* = evidence difference over the combined Monte Carlo error, "
        "*bar* = the p = 0.0027 level of Student's t at the errors' Welch degrees of freedom; "
        "audit = the largest relative difference of S, MI, Hall's M and the least MI at the "
        "model's parameters.",
        "",
        "| model | rank A | rank B | ELPD-LOO A | ELPD-LOO B | log evidence A | log evidence B "
        "| z | audit differs | classification |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    ev_ok, audit_ok = True, True
    for m in ra:
        x, y = ra[m], rb[m]
        if np.isfinite(x["log_evidence"]) and np.isfinite(y["log_evidence"]):
            se = math.hypot(x["log_evidence_se"], y["log_evidence_se"])
            diff = x["log_evidence"] - y["log_evidence"]
            z = diff / se if se > 0 else (0.0 if diff == 0 else math.inf)
            bar = t_bar(x, y)
            ev_ok &= abs(z) <= bar
            z_txt = f"{z:+.2f} (bar {bar:.1f})"
        else:
            z_txt = "–"
        rel = max(
            abs(x[k] - y[k]) / max(1.0, abs(x[k])) if np.isfinite(x[k]) else 0.0 for k in AUDIT
        )
        same_class = x["classification"] == y["classification"]
        audit_ok &= rel <= 1e-8 and same_class
        lines.append(
            f"| {m} | {_rank(x['rank'])} | {_rank(y['rank'])} | {x['elpd_loo']:.2f} | "
            f"{y['elpd_loo']:.2f} | {_evidence(x)} | {_evidence(y)} | {z_txt} | {rel:.0e} | "
            f"{x['classification']}{'' if same_class else ' / ' + y['classification']} |"
        )
        print(lines[-1])
    lines += [
        "",
        f"Ranking, best first (models within {args.tie:g} nat of ELPD on both lines tied): "
        + " > ".join("{" + ", ".join(g) + "}" if len(g) > 1 else g[0] for g in order_a)
        + (
            " on both lines."
            if ranking_ok
            else "; line B: "
            + " > ".join("{" + ", ".join(g) + "}" if len(g) > 1 else g[0] for g in order_b)
            + "."
        ),
        "",
        f"Ranking the same: **{'yes' if ranking_ok else 'no'}**; evidence within the bar: "
        f"**{'yes' if ev_ok else 'no'}**; audits equal: **{'yes' if audit_ok else 'no'}**.",
        "",
    ]
    if str(args.out) != "-":
        write_atomic(args.out, "\n".join(lines))
        print(f"wrote {args.out}")
    return 0 if ranking_ok and ev_ok and audit_ok else 1


if __name__ == "__main__":
    sys.exit(main())
